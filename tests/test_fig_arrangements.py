"""Tests of the Arrangements figure builders (pure functions, no browser)."""
import numpy as np
import pytest

from cvx_core import add_bias, enumerate_patterns
from cvx_core import geometry as geo
from pages.common.figures import arrangements as fa


@pytest.fixture(scope="module")
def setup():
    X = np.random.default_rng(7).uniform(-1, 1, (9, 2))
    Xb = add_bias(X, True)
    E = enumerate_patterns(Xb)
    pics = geo.arrangement_pictures(Xb)
    index = [geo.match_patterns(p.patterns, E) for p in pics]
    return X, Xb, E, pics, index


def _traces(fig, meta):
    return [t for t in fig.data if t.meta == meta]


def _marker_colours(trace):
    """The colour plotly draws for each marker: its numeric code looked up in the colorscale."""
    scale = [c for _, c in trace.marker.colorscale]
    lo, hi = trace.marker.cmin, trace.marker.cmax
    codes = np.asarray(trace.marker.color, dtype=float)
    return np.asarray(scale)[np.rint((codes - lo) / (hi - lo) * (len(scale) - 1)).astype(int)]


def _n_polys(trace):
    return int(np.sum(np.isnan(np.asarray(trace.x, dtype=float))))


def test_pattern_text_and_bins():
    D = np.array([[1] * 12 + [0] * 3, [0] * 15], dtype=bool)
    txt = fa.pattern_text(D, group=5, per_line=10)
    assert txt[0] == "11111 11111<br>11000"
    np.testing.assert_array_equal(fa.activation_bins(D, 4), [3, 0])


def test_cells_drawn_equal_patterns(setup):
    X, Xb, E, pics, index = setup
    fig = fa.arrangement_figure(pics, index)
    anchors = _traces(fig, "anchors")
    assert len(anchors) == 2
    assert sum(len(t.x) for t in anchors) == sum(p.n_cells for p in pics)
    assert sum(_n_polys(t) for t in _traces(fig, "cells")) == sum(p.n_cells for p in pics)
    # hover index of every cell is its row in the engine's enumeration, and every pattern appears
    idx = np.concatenate([np.asarray(t.customdata)[:, 0].astype(int) for t in anchors])
    assert set(idx.tolist()) == set(range(len(E)))
    for t, pic, ix in zip(anchors, pics, index):
        for c, txt, D in zip(t.customdata, t.text, pic.patterns):
            assert txt == "<br>" + fa.pattern_text(D[None])[0] and c[1] == D.sum()
            np.testing.assert_array_equal(E[int(c[0])], D)


def test_colours_per_pattern(setup):
    _, _, _, pics, index = setup
    fig = fa.arrangement_figure(pics, index)
    for t, pic in zip(_traces(fig, "anchors"), pics):
        expect = np.asarray(fa.BIN_COLOURS)[fa.activation_bins(pic.patterns)]
        np.testing.assert_array_equal(_marker_colours(t), expect)
        # equal patterns (the same cell in both slices) get equal colours
        same = pic.patterns.sum(axis=1) == pic.patterns.sum(axis=1)[0]
        assert len(set(_marker_colours(t)[same])) == 1
    # cells of one fill trace share a colour, and there is one fill trace per colour used
    fills = _traces(fig, "cells")
    for pic_no, pic in enumerate(pics):
        used = set(fa.cell_colours(pic.patterns))
        own = [t for t in fills if t.xaxis == ("x" if pic_no == 0 else "x2")]
        assert {t.fillcolor for t in own} == used
    found = [np.arange(p.n_cells) % 3 == 0 for p in pics]
    fig = fa.arrangement_figure(pics, index, found=found)
    for t, f, pic in zip(_traces(fig, "anchors"), found, pics):
        np.testing.assert_array_equal(_marker_colours(t), np.where(f, fa.FOUND, fa.MISSED))
        np.testing.assert_array_equal(fa.cell_colours(pic.patterns, f), np.where(f, fa.FOUND, fa.MISSED))
        assert all(("missed" in s) != bool(ff) for s, ff in zip(t.text, f))


def test_selection_point_direction_and_norms(setup):
    X, Xb, E, pics, index = setup
    p = int(index[0][3])
    norms = [np.c_[np.arange(pc.n_cells, dtype=float), np.zeros(pc.n_cells)] for pc in pics]
    fig = fa.arrangement_figure(pics, index, norms=norms, selected=p, point=2, direction=[0.3, -0.2, 0.5])
    sel = _traces(fig, "selected")
    n_slices_with_p = sum(int(np.sum(ix == p)) for ix in index)
    assert len(sel) == n_slices_with_p >= 1
    np.testing.assert_allclose(np.asarray(sel[0].x, dtype=float), pics[0].rings[3][:, 0])
    assert len(_traces(fig, "point")) == 2  # the point's line in both slices
    d = _traces(fig, "direction")
    assert len(d) == 1 and np.allclose([d[0].x[0], d[0].y[0]], [0.6, -0.4])  # u_xy / |u_bias|
    only_minus = int(np.setdiff1d(index[1], index[0])[0])  # a bounded cell of the u_bias = -1 slice
    sel = _traces(fa.arrangement_figure(pics, index, selected=only_minus), "selected")
    assert len(sel) == 1 and sel[0].showlegend and sel[0].xaxis == "x2"
    live = _traces(fig, "live")
    assert sum(len(t.x) for t in live) == sum(pc.n_cells - 1 for pc in pics)  # norm 0 for cell 0 only


def test_large_arrangement_uses_one_trace(setup):
    _, _, _, pics, index = setup
    fig = fa.arrangement_figure(pics, index, max_filled=10)
    assert not _traces(fig, "cells")
    assert len(_traces(fig, "lines")) == 2
    anchors = _traces(fig, "anchors")
    assert all(t.type == "scattergl" for t in anchors)
    fig = fa.arrangement_figure(pics, index, max_filled=10, labels=False)  # many cells: no pattern text
    assert all(set(t.text) == {""} and "%{text}" in t.hovertemplate for t in _traces(fig, "anchors"))
    assert sum(len(t.x) for t in anchors) == sum(p.n_cells for p in pics)


def test_zonotope_vertices_are_patterns(setup):
    X, Xb, E, pics, index = setup
    Z = geo.zonotope_vertices(Xb, E)
    u = np.array([0.2, -0.7, 0.4])
    v = geo.vertex_of_direction(Xb, E, u)
    labels = fa.pattern_text(E)
    fig = fa.zonotope_figure(Z, triangles=geo.zonotope_triangles(Z), labels=labels, selected_vertex=v, direction=u)
    vert = _traces(fig, "vertices")[0]
    for i in (0, 5, len(E) - 1):
        assert int(vert.customdata[i]) == i and vert.hovertext[i] == labels[i]
        np.testing.assert_allclose([vert.x[i], vert.y[i], vert.z[i]], Xb.T @ E[i])
    star = _traces(fig, "argmax")[0]
    np.testing.assert_allclose([star.x[0], star.y[0], star.z[0]], Xb.T @ ((Xb @ u) >= 0))
    # planar zonotope: the boundary visits every vertex once
    E2 = enumerate_patterns(X)
    Z2 = geo.zonotope_vertices(X, E2)
    order = geo.zonotope_polygon(X, E2)
    fig = fa.zonotope_figure(Z2, order=order, found=np.arange(len(E2)) < 4)
    assert len(_traces(fig, "zonotope")[0].x) == len(E2) + 1
    np.testing.assert_array_equal(_marker_colours(_traces(fig, "vertices")[0])[:5], [fa.FOUND] * 4 + [fa.MISSED])


def test_data_space_and_curves(setup):
    X, Xb, E, pics, index = setup
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    U = np.array([[1.0, 0.0, 0.1], [0.0, 1.0, -0.2], [1.0, 1.0, 0.0]])
    g = geo.neuron_geometry(U, True, 1.25)
    act = E[4]
    fig = fa.data_space_figure(X, y, geometry=g, alpha=np.array([1.0, -1.0, 2.0]), family=[1], activated=act,
                               cell_line=geo.neuron_segments(U[:1], True, 1.25)[0], point=0)
    assert sum(_n_polys(t) for t in _traces(fig, "regions")) == g.n_regions == 7
    assert len(_traces(fig, "family")) == 1
    ringed = _traces(fig, "activated")[0]
    np.testing.assert_array_equal(ringed.customdata, np.flatnonzero(act))
    fig = fa.counts_figure([3, 5], [8, 22], [8, 22], [30.0, 80.0], current_n=5)
    assert list(fig.data[2].y) == [8, 22]
    fig = fa.coverage_figure([1, 10], [2, 9], 22, current_N=10)
    assert fig.layout.shapes[0].y0 == 22
    fig = fa.ratio_figure([4, 16], [1.5, 1.1], [3.0, 1.2], [-0.1, 0.9])
    assert np.isnan(fig.data[2].y[0]) and fig.data[2].y[1] == 0.9
    fig = fa.data_space_figure_1d(X[:, 0], y, predict=lambda x: x[:, 0], kinks=[0.2, 5.0], activated=act)
    assert len(fig.layout.shapes) == 1  # the kink outside the box is not drawn


def test_direction_as_overlay_matches_the_drawn_direction(setup):
    """A live chart draws u over the figure: the overlay traces are the ones the figure would
    hold, and the figure keeps only u's legend entry."""
    X, Xb, E, pics, index = setup
    u = [0.3, -0.2, -0.5]
    full = _traces(fa.arrangement_figure(pics, index, direction=u), "direction")
    over = fa.direction_traces(pics, u)
    assert len(over) == len(full) == 1
    assert over[0]["xaxis"] == full[0].xaxis == "x2"  # u_bias < 0: the u_bias = -1 slice
    np.testing.assert_allclose([over[0]["x"][0], over[0]["y"][0]], [0.6, -0.4])
    base = fa.arrangement_figure(pics, index, direction_legend=True)
    entry = _traces(base, "direction")
    assert len(entry) == 1 and entry[0].x == (None,) and entry[0].name == full[0].name
    assert _traces(fa.arrangement_figure(pics, index), "direction") == []


def test_direction_ray_on_wedges():
    X = np.random.default_rng(3).uniform(-1, 1, (7, 2))
    Xb = add_bias(X[:, :1], True)  # 1-D data with bias: 2 weight coordinates, wedges
    pics = geo.arrangement_pictures(Xb)
    (t,) = fa.direction_traces(pics, [3.0, 4.0])
    assert t["mode"] == "lines+markers" and t["x"][0] == t["y"][0] == 0.0
    np.testing.assert_allclose(np.arctan2(t["y"][1], t["x"][1]), np.arctan2(4.0, 3.0))
    np.testing.assert_allclose(np.hypot(t["x"][1], t["y"][1]), pics[0].extent)


def test_zonotope_marks_as_overlay_match_the_drawn_ones(setup):
    X, Xb, E, pics, index = setup
    Z = geo.zonotope_vertices(Xb, E)
    u = np.array([0.2, -0.5, 0.8])
    v = int(geo.vertex_of_direction(Xb, E, u))
    full = fa.zonotope_figure(Z, triangles=geo.zonotope_triangles(Z), selected_vertex=v, direction=u)
    over = fa.zonotope_direction_traces(Z, v, u)
    drawn = [t for t in full.data if t.meta in ("argmax", "direction")]
    assert [t["meta"] for t in over] == [t.meta for t in drawn] == ["argmax", "direction"]
    for o, t in zip(over, drawn):
        np.testing.assert_allclose(np.array([o["x"], o["y"], o["z"]], float), np.array([t.x, t.y, t.z], float))
        assert not o["showlegend"]
    np.testing.assert_allclose([over[0]["x"][0], over[0]["y"][0], over[0]["z"][0]], Z[v])
    tip = np.array([over[1]["x"][1], over[1]["y"][1], over[1]["z"][1]]) - Z.mean(axis=0)
    np.testing.assert_allclose(tip / np.linalg.norm(tip), u / np.linalg.norm(u))
    base = fa.zonotope_figure(Z, triangles=geo.zonotope_triangles(Z), direction_legend=True)
    entries = [t for t in base.data if t.meta in ("argmax", "direction")]
    assert len(entries) == 2 and all(t.x == (None,) for t in entries)
