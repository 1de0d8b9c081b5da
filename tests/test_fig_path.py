"""Tests for pages/common/fig_path.py: the figures show exactly the path's numbers."""
import numpy as np
import plotly.graph_objects as go
import pytest

from cvx_core.datasets import load_dataset
from cvx_core.path import regularization_path
from pages.common.figures import path as F


@pytest.fixture(scope="module")
def cls():
    d = load_dataset("spiral", 16, 0.0, 0, 0.25)
    return d, regularization_path(d.X, d.y, n_betas=6, min_ratio=0.02, X_test=d.X_test, y_test=d.y_test)


@pytest.fixture(scope="module")
def reg():
    d = load_dataset("regression1d", 12, 0.1, 0, 0.0)
    return d, regularization_path(d.X, d.y, n_betas=5, min_ratio=0.01)


def _curves(fig, name):
    tr = next(t for t in fig.data if t.name == name)
    xs, ys = np.array(tr.x, dtype=float), np.array(tr.y, dtype=float)
    cut = np.flatnonzero(np.isnan(xs))
    return tr, np.split(ys, cut), cut


def test_path_figure_one_curve_per_neuron(cls):
    _, path = cls
    fig = F.path_figure(path, selected=3)
    ids, norms = path.ever_active(), path.neuron_norms()
    for s, name in ((1, "v_i (alpha > 0)"), (-1, "w_i (alpha < 0)")):
        tr, pieces, _ = _curves(fig, name)
        cols = [j for j in range(len(ids)) if ids[j][1] == s]
        pieces = [p[~np.isnan(p)] for p in pieces if np.any(~np.isnan(p))]
        assert len(pieces) == len(cols)
        for p, j in zip(pieces, cols):
            assert np.allclose(p, norms[:, j])
        texts = [t for t in tr.text if t]
        for j in cols:
            assert any(f"pattern #{ids[j][0]}" in t and path.pattern_label(int(ids[j][0]), 48) in t for t in texts)
    count = next(t for t in fig.data if t.name == "active neurons")
    assert list(count.y) == path.n_neurons.tolist() and count.yaxis == "y2"
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis.autorange == "reversed"


def test_path_figure_marks_active_set_changes_and_selection(cls):
    _, path = cls
    fig = F.path_figure(path, selected=3)
    ch = next(t for t in fig.data if t.name == "active set changes")
    xs = sorted({x for x in ch.x if x is not None}, reverse=True)
    assert np.allclose(xs, path.betas[path.active_set_changes()])
    sel = next(t for t in fig.data if t.name == "selected beta")
    assert len(sel.y) == path.n_neurons[3] and np.allclose(sel.x, path.betas[3])
    assert fig.layout.shapes[0].x0 == pytest.approx(path.betas[3])
    assert not F.path_figure(path).layout.shapes


def test_loss_figure_marks_best_and_one_se(cls):
    _, path = cls
    fig = F.loss_figure(path, selected=2)
    best = next(t for t in fig.data if t.name.startswith("best"))
    one = next(t for t in fig.data if t.name == "one-SE choice")
    assert best.x[0] == pytest.approx(path.betas[path.best_index])
    assert one.x[0] == pytest.approx(path.betas[path.one_se_index])
    test = next(t for t in fig.data if t.name == "test loss")
    assert np.allclose(test.error_y.array, path.test_loss_se)
    assert any(t.name == "test accuracy" for t in fig.data)


def test_loss_figure_regression_without_test(reg):
    _, path = reg
    fig = F.loss_figure(path)
    assert [t.name for t in fig.data] == ["train loss"]


def test_line_in_box():
    pts = F._line_in_box(np.array([1.0, 0.0, -0.5]))
    assert np.allclose(pts[:, 0], 0.5) and pts[:, 1].min() == pytest.approx(F.BOX[0])
    assert F._line_in_box(np.array([0.0, 0.0, 1.0])) is None
    assert F._line_in_box(np.array([1.0, 1.0, 10.0])) is None  # misses the box


def test_fit_figure_2d_neuron_lines(cls):
    d, path = cls
    k = path.n_betas - 1
    fig = F.fit_figure(path, k, d.X, d.y, d.X_test, d.y_test)
    lines = [t for t in fig.data if t.name and t.name[0] in "vw" and t.name[1:].isdigit()]
    net = path.network(k)
    crossing = [u for u in net.U if F._line_in_box(u) is not None]
    assert len(lines) == len(crossing) > 0
    names = {F.neuron_name(int(i), int(s)) for i, s in path.neuron_ids[k]}
    for t in lines:
        assert t.name in names
        i, s = int(t.name[1:]), 1 if t.name[0] == "v" else -1
        j = [tuple(r) for r in path.neuron_ids[k].tolist()].index((i, s))
        xy1 = np.c_[np.array(t.x), np.array(t.y), np.ones(len(t.x))]
        assert np.allclose(xy1 @ net.U[j], 0, atol=1e-9)  # the line is where the neuron switches
    widths = {t.name: t.line.width for t in lines}
    norms = {F.neuron_name(int(i), int(s)): path.group_norms[k, i, 0 if s > 0 else 1] for i, s in path.neuron_ids[k]}
    order = sorted(widths, key=norms.get)
    assert [widths[n] for n in order] == sorted(widths.values())
    # data points are drawn above the neuron lines
    names_in_order = [t.name for t in fig.data]
    assert names_in_order.index("train y=+1") > max(names_in_order.index(t.name) for t in lines)


def test_fit_figure_1d_contributions_sum_to_prediction(reg):
    d, path = reg
    k = path.n_betas - 1
    fig = F.fit_figure(path, k, d.X, d.y)
    parts = [t for t in fig.data if t.name and t.name[0] in "vw" and t.name[1:].isdigit()]
    assert len(parts) == path.n_neurons[k] > 0
    xs = np.array(parts[0].x)
    total = sum(np.array(t.y) for t in parts)
    assert np.allclose(total, path.network(k).predict(xs[:, None]))


def test_animation_figure_frames(cls, reg):
    d, path = cls
    fig = F.animation_figure(path, d.X, d.y, n_grid=20)
    assert len(fig.frames) == path.n_betas
    m = max(1, int(path.n_neurons.max()))
    for k, fr in enumerate(fig.frames):
        assert len(fr.data) == len(fr.traces) == 2 + m
        assert f"{path.n_neurons[k]} active neurons" in fr.layout.title.text
    assert np.all(np.array(fig.frames[0].data[0].z) == 0)  # zero network at beta_max
    assert len(fig.layout.sliders[0].steps) == path.n_betas
    d1, p1 = reg
    f1 = F.animation_figure(p1, d1.X, d1.y)
    xs = np.array(f1.frames[-1].data[0].x)
    assert np.allclose(f1.frames[-1].data[0].y, p1.network(p1.n_betas - 1).predict(xs[:, None]))
    assert isinstance(f1, go.Figure)
