"""Tests of cvx_core.geometry: drawn cells = enumerated patterns, zonotope vertices = patterns."""
import numpy as np
import pytest

from cvx_core import add_bias, cover_count, enumerate_patterns, sample_patterns
from cvx_core import geometry as geo
from cvx_core.datasets import make_dataset


def _keys(D):
    return set(geo.pattern_keys(D))


@pytest.fixture(scope="module")
def X12():
    return np.random.default_rng(3).uniform(-1, 1, (12, 2))


def test_wedges_are_the_enumerated_patterns(X12):
    Xb = X12  # no bias: lines through the origin
    pic = geo.arrangement_wedges(Xb)
    E = enumerate_patterns(Xb)
    assert pic.n_cells == len(E) == 2 * len(X12) == cover_count(12, 2)
    assert _keys(pic.patterns) == _keys(E)
    assert len(_keys(pic.patterns)) == pic.n_cells  # one cell per pattern, no repeats


def test_bias_slices_union_is_the_enumerated_patterns(X12):
    Xb = add_bias(X12, True)
    plus, minus = geo.arrangement_pictures(Xb)
    E = enumerate_patterns(Xb)
    n = len(X12)
    # a generic line arrangement of n lines has 1 + n + C(n, 2) faces
    assert plus.n_cells == minus.n_cells == 1 + n + n * (n - 1) // 2
    assert len(_keys(plus.patterns)) == plus.n_cells
    union = geo.distinct_patterns([plus, minus])
    assert _keys(union) == _keys(E)
    assert len(union) == cover_count(n, 3)
    # the cells in both slices are exactly those crossing u_bias = 0, whose patterns are the
    # 2n wedges of X without bias
    shared = _keys(plus.patterns) & _keys(minus.patterns)
    assert shared == _keys(geo.arrangement_wedges(X12).patterns)
    assert len(shared) == 2 * n


def test_anchor_patterns_and_cell_containment(X12):
    Xb = add_bias(X12, True)
    pic = geo.arrangement_slice(Xb, -1)
    U = pic.directions()
    assert np.all(U[:, 2] == -1)
    np.testing.assert_array_equal((U @ Xb.T) >= 0, pic.patterns)
    # every ring vertex lies in the closed cell of its pattern: (2D - I) Xb u >= -tol
    for ring, D in zip(pic.rings, pic.patterns):
        vals = (np.c_[ring, -np.ones(len(ring))] @ Xb.T) * np.where(D, 1.0, -1.0)
        assert vals.min() > -1e-7 * max(1.0, pic.extent)


@pytest.mark.parametrize("name", ["moons", "xor", "circles"])
def test_datasets_match_engine_count(name):
    X, _ = make_dataset(name, 24, 0.0, 1)
    for bias in (False, True):
        Xb = add_bias(X, bias)
        E = enumerate_patterns(Xb)
        pics = geo.arrangement_pictures(Xb)
        assert _keys(geo.distinct_patterns(pics)) == _keys(E)
        assert np.all(geo.match_patterns(geo.distinct_patterns(pics), E) >= 0)


def test_degenerate_data_duplicates_and_collinear():
    # two repeated points and three collinear points: fewer cells than Cover's count
    X = np.array([[0.5, 0.2], [0.5, 0.2], [-0.3, 0.7], [0.1, -0.4], [0.2, -0.8], [0.3, -1.2]])
    Xb = add_bias(X, True)
    E = enumerate_patterns(Xb)
    assert len(E) < cover_count(len(X), 3)
    assert _keys(geo.distinct_patterns(geo.arrangement_pictures(Xb))) == _keys(E)


def test_match_patterns_and_symmetric():
    D = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 1]], dtype=bool)
    ref = np.array([[0, 1, 0], [1, 1, 1]], dtype=bool)
    np.testing.assert_array_equal(geo.match_patterns(D, ref), [-1, 0, 1])
    np.testing.assert_array_equal(geo.match_patterns(D, ref, symmetric=True), [0, 0, 1])


def test_zonotope_vertex_is_pattern_of_direction(X12):
    rng = np.random.default_rng(0)
    for bias in (False, True):
        Xb = add_bias(X12, bias)
        E = enumerate_patterns(Xb)
        for u in rng.standard_normal((25, Xb.shape[1])):
            v = geo.vertex_of_direction(Xb, E, u)
            np.testing.assert_array_equal(E[v], (Xb @ u) >= 0)


def test_planar_zonotope_is_a_2n_gon(X12):
    E = enumerate_patterns(X12)
    order = geo.zonotope_polygon(X12, E)
    assert len(order) == len(E) == 2 * len(X12)
    assert sorted(order.tolist()) == list(range(len(E)))  # every pattern is a vertex
    Z = geo.zonotope_vertices(X12, E)[order]
    # consecutive vertices differ by one generator +-x_k (edges of a zonotope)
    steps = np.diff(np.vstack([Z, Z[:1]]), axis=0)
    for s in steps:
        assert np.min(np.minimum(np.linalg.norm(X12 - s, axis=1), np.linalg.norm(X12 + s, axis=1))) < 1e-9


def test_zonotope_3d_hull_uses_every_vertex(X12):
    Xb = add_bias(X12, True)
    E = enumerate_patterns(Xb)
    tri = geo.zonotope_triangles(geo.zonotope_vertices(Xb, E))
    assert set(np.unique(tri)) == set(range(len(E)))


def test_coverage_counts_match_sample_patterns(X12):
    Xb = add_bias(X12, True)
    Ns = [1, 3, 10, 50, 400]
    counts = geo.coverage_counts(Xb, Ns, seed=5)
    expect = [len(sample_patterns(Xb, N, seed=5)) for N in Ns]
    np.testing.assert_array_equal(counts, expect)
    assert np.all(np.diff(counts) >= 0) and counts[-1] <= cover_count(12, 3)
    with pytest.raises(ValueError):
        geo.coverage_counts(Xb, [0, 4])


def test_neuron_geometry_regions():
    # two neurons: x1 = 0 (active right) and x2 = 0.5 (active above), with bias
    U = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, -0.5]])
    g = geo.neuron_geometry(U, True, 1.25)
    assert g.n_regions == 4
    counts = sorted(g.region_active.sum(axis=1).tolist())
    assert counts == [0, 1, 1, 2]
    np.testing.assert_allclose(np.sort(g.segments[0][:, 1]), [-1.25, 1.25])
    # the active strip of neuron 0 lies on x1 >= 0
    assert g.active_rings[0][:, 0].min() >= -1e-12
    segs = geo.neuron_segments(np.array([[1.0, 1.0, 5.0]]), True, 1.25)  # misses the box
    assert np.all(np.isnan(segs))
    np.testing.assert_allclose(geo.kinks_1d(np.array([[2.0, -1.0]]), True), [0.5])


def test_input_validation():
    with pytest.raises(ValueError, match="columns"):
        geo.arrangement_pictures(np.ones((4, 4)))
    with pytest.raises(ValueError, match="sign"):
        geo.arrangement_slice(np.ones((4, 3)), 0)
    with pytest.raises(ValueError, match="finite"):
        geo.arrangement_wedges(np.array([[np.nan, 1.0]]))
