"""Tests for the SGD-page figure builders (pure functions, no browser)."""
import numpy as np
import plotly.graph_objects as go
import pytest

import cvx_core
from cvx_core.datasets import make_dataset
from cvx_core.sgd import train_runs, train_sgd
from cvx_core.stationary import analyse_stationary
from pages.common.figures.sgd import (
    certificate_figure,
    AT_OPTIMUM,
    final_gaps_table,
    gap_meaning,
    objective_curves_figure,
    pattern_figure,
    sensitivity_figure,
    side_by_side_figure,
    symlog,
)

BETA = 0.05


@pytest.fixture(scope="module")
def setup():
    X, y = make_dataset("moons", 12, 0.0, 0)
    runs = train_runs(X, y, BETA, seeds=(0, 1), lrs=(0.01, 100.0), width=4, steps=100, init_scale=3.0)
    return X, y, runs


def test_side_by_side_shares_one_colour_scale(setup):
    X, y, runs = setup
    f1, f2 = runs[0].network.predict, runs[1].network.predict
    fig = side_by_side_figure(X, y, {"a": f1, "b": f2}, n_grid=30)
    heat = [t for t in fig.data if isinstance(t, go.Heatmap)]
    assert len(heat) == 2 and all(t.coloraxis == "coloraxis" for t in heat)
    zmax = max(np.abs(np.asarray(t.z)).max() for t in heat)
    assert fig.layout.coloraxis.cmax == pytest.approx(zmax) and fig.layout.coloraxis.cmin == pytest.approx(-zmax)
    assert [a.text for a in fig.layout.annotations] == ["a", "b"]
    # the panels show each network's own predictions
    pts = np.c_[np.asarray(heat[0].x)[3], np.asarray(heat[0].y)[5]]
    assert np.asarray(heat[0].z)[5, 3] == pytest.approx(f1(pts)[0])


def test_side_by_side_regression():
    X, y = make_dataset("regression1d", 10, 0.0, 0)
    h = train_sgd(X, y, BETA, width=3, steps=20)
    fig = side_by_side_figure(X, y, {"sgd": h.network.predict}, regression=True)
    line = [t for t in fig.data if t.name == "sgd"][0]
    np.testing.assert_allclose(line.y, h.network.predict(np.asarray(line.x)[:, None]))


def test_objective_curves_with_optimum_and_divergence(setup):
    _, _, runs = setup
    fig = objective_curves_figure(runs, p_star=0.5, highlight=runs[0])
    names = [t.name for t in fig.data]
    assert sum("diverged" in n for n in names) == 2  # lr=100 diverges for both seeds
    assert names[-1].startswith("live run")
    assert any(s.line.dash == "dash" and s.y0 == 0.5 for s in fig.layout.shapes)
    assert fig.layout.yaxis.type == "log"
    tr = fig.data[0]
    np.testing.assert_allclose(tr.y, runs[0].objective[np.asarray(tr.x)])
    np.testing.assert_allclose(tr.customdata, (np.asarray(tr.y) - 0.5) / 0.5)
    assert objective_curves_figure(runs).layout.shapes == ()


def test_final_gaps_table(setup):
    _, _, runs = setup
    df = final_gaps_table(runs, 0.5, tol=1e-2)
    assert len(df) == 4
    assert df["final objective"].tolist() == [h.final_objective for h in runs]
    np.testing.assert_allclose(df["gap to p* (relative)"], (df["final objective"] - 0.5) / 0.5)
    assert df["status"].str.startswith("diverged").sum() == 2
    assert df["stationarity"].tolist() == [h.stationarity for h in runs]
    meaning = df["what the gap means"]
    assert meaning[df["status"].str.startswith("diverged")].str.startswith("diverged").all()
    assert meaning[~df["status"].str.startswith("diverged")].str.startswith("unfinished").all()  # 100 steps


def test_gap_meaning_tells_unfinished_spurious_and_optimal_apart():
    X, y = make_dataset("xor", 10, 0.0, 0)
    p_star = cvx_core.fit_convex(X, y, BETA).objective
    (h,) = train_runs(X, y, BETA, lrs=(0.05,), width=6, optimizer="adam", steps=6000, lr_halflife=500, tol=1e-3,
                      report_every=100)
    assert h.stationary and h.stationarity <= 1e-3
    gap = (h.final_objective - p_star) / p_star
    assert gap_meaning(h, p_star, 1e-3).startswith("stationary at the global optimum" if gap <= AT_OPTIMUM
                                                   else "stationary above p*")
    assert gap_meaning(h, h.final_objective / (1 + 10 * AT_OPTIMUM), 1e-3).startswith("stationary above p*")
    assert gap_meaning(h, h.final_objective, 1e-3).startswith("stationary at the global optimum")
    assert gap_meaning(h, p_star, h.stationarity / 2).startswith("unfinished")


def test_sensitivity_grid(setup):
    _, _, runs = setup
    fig = sensitivity_figure(runs, p_star=0.5, convex_time=1.25)
    grid, const = [t for t in fig.data if isinstance(t, go.Heatmap)]
    Z = np.asarray(grid.z, dtype=float)
    assert Z.shape == (2, 2)
    assert Z[0, 0] == pytest.approx(runs[0].final_objective) and Z[0, 1] == pytest.approx(runs[1].final_objective)
    assert np.all(np.isnan(Z[1]))  # diverged row
    assert "diverged" in grid.text[1][0]
    assert const.z[0][0] == 0.5 and "1.25 s" in const.text[0][0]
    assert fig.layout.coloraxis.cmin == pytest.approx(0.5)
    one = sensitivity_figure(runs[:2])
    assert len([t for t in one.data if isinstance(t, go.Heatmap)]) == 1


def test_pattern_figure_marks_kinks():
    P = np.array([[True, False, True], [False, False, True]])
    kinks = np.zeros((3, 2), bool)
    kinks[1, 0] = True
    fig = pattern_figure(P, ["n0", "n1"], kinks, np.full((3, 2), 0.5))
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), P.astype(float))
    marks = fig.data[1]
    assert list(marks.x) == [1] and list(marks.y) == ["n0"]
    assert len(pattern_figure(P, ["n0", "n1"]).data) == 1


def test_certificate_figure_angle_and_sphere():
    X, y = make_dataset("blobs", 12, 0.0, 0)
    h = train_sgd(X, y, BETA, width=4, optimizer="gd", lr=0.02, steps=3000, bias=False)
    a = analyse_stationary(h.network, X, y, BETA)
    fig = certificate_figure(a.curve, a.certificate.certificate)
    curve = [t for t in fig.data if t.name == "c(u) / beta"][0]
    np.testing.assert_allclose(curve.customdata, a.curve.values / BETA)
    np.testing.assert_allclose(curve.y, symlog(a.curve.values / BETA))
    star = fig.data[-1]
    assert "most violated" in star.name  # this stationary point is not global (cert > 1)
    hb = train_sgd(X, y, BETA, width=4, steps=200)
    ab = analyse_stationary(hb.network, X, y, BETA)
    sph = certificate_figure(ab.curve, ab.certificate.certificate)
    heat = sph.data[0]
    assert isinstance(heat, go.Heatmap) and np.asarray(heat.z).shape == ab.curve.values.shape
    np.testing.assert_allclose(heat.customdata, ab.curve.values / BETA)


def test_symlog_is_monotone_and_linear_in_the_band():
    v = np.linspace(-500, 500, 2001)
    s = symlog(v)
    assert np.all(np.diff(s) > 0)
    np.testing.assert_allclose(symlog([-1, -0.3, 0, 0.7, 1]), [-1, -0.3, 0, 0.7, 1])
    assert symlog(100.0) == pytest.approx(3.0)
