"""The exact sphere certificate agrees with per-cell SOCP duality (NNLS) and brute force."""
import numpy as np
import pytest

from cvx_core import add_bias, enumerate_patterns, make_activation
from cvx_core.certificates.cells import cell_values
from cvx_core.certificates.sphere import SphereCertifier


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name", ["relu", "leaky", "abs"])
def test_sphere_max_equals_cellwise_max(bias, name):
    rng = np.random.default_rng(hash((bias, name)) % 2**32)
    Xb = add_bias(rng.uniform(-1, 1, (12, 2)), bias)
    D = enumerate_patterns(Xb)
    act = make_activation(name)
    lam = rng.standard_normal(12)
    cert, u, s = SphereCertifier(Xb, D, act).max(lam)
    assert cert == pytest.approx(cell_values(Xb, D, lam, act).max, rel=1e-10)
    assert s * act(Xb @ u) @ lam == pytest.approx(cert, rel=1e-10)  # attained at u
    U = rng.standard_normal((100_000, Xb.shape[1]))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    assert np.abs(act(U @ Xb.T) @ lam).max() <= cert * (1 + 1e-12)


def test_one_dimensional_with_bias():
    rng = np.random.default_rng(1)
    Xb = add_bias(rng.uniform(-1, 1, (9, 1)), True)
    D = enumerate_patterns(Xb)
    act = make_activation("relu")
    lam = rng.standard_normal(9)
    cert, _, _ = SphereCertifier(Xb, D, act).max(lam)
    assert cert == pytest.approx(cell_values(Xb, D, lam, act).max, rel=1e-10)


def test_interior_candidates_are_exactly_the_cells_containing_their_gradient():
    """The single-precision screen in ``candidates`` loses no interior candidate."""
    rng = np.random.default_rng(7)
    Xb = add_bias(rng.uniform(-1, 1, (25, 2)), True)
    D = enumerate_patterns(Xb)
    act = make_activation("relu")
    sc = SphereCertifier(Xb, D, act)
    for _ in range(5):
        lam = rng.standard_normal(25)
        c = sc.candidates(lam, threshold=0.0)
        G = (act.slopes(D) * lam) @ Xb  # g_D for every cell
        expect = set()
        for i, g in enumerate(G):
            if not np.any(g):  # e.g. the all-inactive ReLU cell: value 0, never a candidate
                continue
            for s in (1, -1):
                z = s * (Xb @ g)
                if np.all(np.where(D[i], z, -z) >= -1e-12 * np.linalg.norm(g) * np.linalg.norm(Xb, axis=1).max()):
                    expect.add((i, s))
        got = {(int(i), int(s)) for i, s in zip(c.cell, c.signs) if i >= 0}
        assert got == expect


def test_max_is_remembered_without_aliasing():
    rng = np.random.default_rng(3)
    Xb = add_bias(rng.uniform(-1, 1, (10, 2)), True)
    sc = SphereCertifier(Xb, enumerate_patterns(Xb), make_activation("relu"))
    lam = rng.standard_normal(10)
    cert, u, s = sc.max(lam)
    u[:] = 0.0  # the caller's copy
    cert2, u2, s2 = sc.max(lam)
    assert (cert2, s2) == (cert, s) and np.linalg.norm(u2) == pytest.approx(1.0)
    assert sc.max(-lam)[0] == pytest.approx(cert if s == -1 else sc.candidates(-lam).max)


@pytest.mark.parametrize("name", ["relu", "abs"])
def test_pattern_index_finds_rows_and_facets_like_a_dictionary(name):
    from cvx_core.certificates.arrangement import PatternIndex

    rng = np.random.default_rng(3)
    Xb = add_bias(rng.standard_normal((14, 2)), True)
    act = make_activation(name)
    D = enumerate_patterns(Xb)
    if act.symmetric:  # the solver keeps one of each pair {D, ~D}, the one with bit 0 set
        D = D[D[:, 0]]
    index = PatternIndex(D, act.symmetric, Xb)
    rows = {r.tobytes(): i for i, r in enumerate(D)}

    def normal(p):
        return ~p if act.symmetric and not p[0] else p

    for i in range(D.shape[0]):
        assert index.find(D[i]) == i
        if act.symmetric:
            assert index.find(~D[i]) == i
        flipped = np.repeat(D[i][None], D.shape[1], axis=0)
        flipped[np.arange(D.shape[1]), np.arange(D.shape[1])] ^= True
        expected = [k for k in range(D.shape[1]) if normal(flipped[k]).tobytes() in rows]
        np.testing.assert_array_equal(index.facets(D[i]), expected)
        assert 2 <= len(expected) <= D.shape[1]  # a cone in R^3 has at least two facets
    n_absent = 0
    for p in rng.random((200, D.shape[1])) < 0.5:  # most random sign patterns are not cells
        if normal(p).tobytes() not in rows:
            assert index.find(p) == -1
            n_absent += 1
    assert n_absent > 100


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spread_selection_equals_the_one_by_one_greedy_rule(seed):
    from cvx_core.solvers.pricing import spread as _spread

    rng = np.random.default_rng(seed)
    U = rng.standard_normal((700, 3))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    signs = rng.choice([-1, 1], size=700)
    cos_min, limit = np.cos(0.2), 150
    expected = []
    for k in range(len(U)):  # the rule: keep unless a kept direction of the same sign is within the cap
        if len(expected) >= limit:
            break
        if any(signs[j] == signs[k] and U[j] @ U[k] > cos_min for j in expected):
            continue
        expected.append(k)
    got = _spread(U, signs, limit, cos_min, chunk=16)
    np.testing.assert_array_equal(got, expected)
    assert 0 < len(got) <= limit
    assert len(_spread(U, signs, 5, cos_min)) == 5


def test_chunked_screen_equals_one_product():
    """SphereCertifier._screen works in chunks of cells; same minima and maxima as the whole
    (P, n) product, for all cells and for a subset, across chunk boundaries."""
    rng = np.random.default_rng(4)
    Xb = add_bias(rng.uniform(-1, 1, (12, 2)), True)
    D = enumerate_patterns(Xb)
    S = SphereCertifier(Xb, D, make_activation("relu"))
    G = rng.standard_normal((len(D), 3)).astype(np.float32)
    SX = (G @ S.Xb32.T) * S.sgn32
    lo, hi = S._screen(G, chunk=7)
    np.testing.assert_allclose(lo, SX.min(axis=1), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(hi, SX.max(axis=1), rtol=1e-6, atol=1e-6)
    rows = rng.choice(len(D), 20, replace=False)
    lo, hi = S._screen(G[rows], rows, chunk=6)
    np.testing.assert_allclose(lo, SX[rows].min(axis=1), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(hi, SX[rows].max(axis=1), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_closed_form_cone_projection_equals_the_nnls(d):
    """cone_projection_norms (all cones at once, candidates on faces) against the NNLS of
    _project_cell on random nonempty cones, padded to different row counts, and on vectors
    inside, outside and opposite the cone."""
    from cvx_core.certificates.cells import cone_projection_norms, project_onto_cell as _project_cell

    rng = np.random.default_rng(d)
    f_max, p = 6, 120
    N = np.zeros((p, f_max, d))
    mask = np.zeros((p, f_max), dtype=bool)
    V = np.empty((p, d))
    expected = np.empty(p)
    for j in range(p):
        f = int(rng.integers(1, f_max + 1))
        w = rng.standard_normal(d)  # an interior direction makes the cone nonempty
        rows = rng.standard_normal((f, d))
        sgn = np.where(rows @ w >= 0, 1.0, -1.0)
        N[j, :f], mask[j, :f] = sgn[:, None] * rows, True
        V[j] = rng.choice([1.0, -1.0, 0.1]) * w + rng.standard_normal(d) * rng.uniform(0.01, 3)
        expected[j] = _project_cell(rows, sgn, V[j])[0]
    got = cone_projection_norms(N, mask, V)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert np.sum(got == 0) > 0 and np.sum(got < np.linalg.norm(V, axis=1) - 1e-9) > p // 4


def test_closed_form_cone_projection_on_the_cells_of_an_arrangement():
    """The cells' own facets (as the working-set solver passes them) give the same projection
    norms as the NNLS over all n rows of each cell."""
    from cvx_core.certificates.cells import cone_projection_norms, project_onto_cell as _project_cell
    from cvx_core.certificates.arrangement import PatternIndex

    rng = np.random.default_rng(7)
    Xb = add_bias(rng.uniform(-1, 1, (15, 2)), True)
    D = enumerate_patterns(Xb)
    index = PatternIndex(D, False, Xb)
    cells = rng.choice(len(D), 40, replace=False)
    facets = [index.cell_facets(int(i)) for i in cells]
    f = max(len(r) for r in facets)
    N, mask = np.zeros((len(cells), f, 3)), np.zeros((len(cells), f), dtype=bool)
    for j, (i, r) in enumerate(zip(cells, facets)):
        N[j, :len(r)], mask[j, :len(r)] = np.where(D[i, r], 1.0, -1.0)[:, None] * Xb[r], True
    G = rng.standard_normal((len(cells), 3))
    expected = [_project_cell(Xb, np.where(D[i], 1.0, -1.0), g)[0] for i, g in zip(cells, G)]
    np.testing.assert_allclose(cone_projection_norms(N, mask, G), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["relu", "leaky", "abs"])
def test_facets_from_vertices_are_the_flip_neighbours(name):
    """Every cell's facet list (found around the vertices) is exactly the set of rows whose
    flip gives another cell, and candidates() with the facets (facet screen, phi at vertices
    from the cells) returns the same candidates as the screen over all rows."""
    from cvx_core.patterns import canonical_symmetric
    from cvx_core.certificates.arrangement import PatternIndex

    act = make_activation(name)
    rng = np.random.default_rng(11)
    Xb = add_bias(rng.uniform(-1, 1, (14, 2)), True)
    D = enumerate_patterns(Xb)
    D = canonical_symmetric(D) if act.symmetric else D
    S = SphereCertifier(Xb, D, act)
    F = S.facets
    assert F is not None and F.ptr[-1] == len(F.row)
    index = PatternIndex(D, act.symmetric, Xb)
    for c in range(len(D)):
        np.testing.assert_array_equal(F.row[F.ptr[c]:F.ptr[c + 1]], index.facets(D[c]))
        # the rays are the polygon's vertices: unit, in the cell, on two of its facets
        R = F.rays[F.ray_ptr[c]:F.ray_ptr[c + 1]]
        assert len(R) == F.ptr[c + 1] - F.ptr[c]
        slack = F.X[F.ptr[c]:F.ptr[c + 1]] @ R.T
        np.testing.assert_allclose(np.linalg.norm(R, axis=1), 1.0)
        assert np.all(slack >= -1e-9) and np.all(np.sum(np.abs(slack) <= 1e-9, axis=0) == 2)
    for threshold in (0.05, 3.0, None):  # most cells examined, some, only those above the max
        lam = rng.standard_normal(14)
        a = S.candidates(lam, threshold=threshold)
        S.facets = None  # the screen over all n rows and phi = HV lambda
        b = S.candidates(lam, threshold=threshold)
        S.facets = F
        oa, ob = np.lexsort((a.cell, a.signs, a.values)), np.lexsort((b.cell, b.signs, b.values))
        np.testing.assert_allclose(a.values[oa], b.values[ob], rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(a.cell[oa], b.cell[ob])
        np.testing.assert_array_equal(a.signs[oa], b.signs[ob])


def test_facets_fall_back_when_the_arrangement_is_not_simple():
    """Three collinear points put three circles through one vertex, a repeated point two equal
    circles: the vertex construction is not valid there and the full screen is used, with the
    same maximum as the per-cell certificate."""
    pts = [[0.0, 0.0], [0.5, 0.5], [-0.5, -0.5], [0.9, -0.3], [-0.7, 0.8], [0.2, -0.9]]
    for X in (np.array(pts), np.array(pts + [pts[3]])):
        Xb = add_bias(X, True)
        D = enumerate_patterns(Xb)
        S = SphereCertifier(Xb, D, make_activation("relu"))
        assert S.facets is None
        lam = np.random.default_rng(0).standard_normal(len(X))
        cv = cell_values(Xb, D, lam, make_activation("relu"))
        assert S.max(lam)[0] == pytest.approx(cv.max, rel=1e-9)


def test_tie_break_with_known_rays_equals_the_generic_projection():
    """_best_adjacent with the cells' facets and rays picks a cell of largest own maximum (NNLS
    over all rows), as it does with the rows found by the pattern index (rays from cross
    products), on the face candidates of a real certificate."""
    from cvx_core.certificates.arrangement import arrangement_geometry as geometry
    from cvx_core.solvers.pricing import best_adjacent as _best_adjacent

    rng = np.random.default_rng(5)
    Xb = add_bias(rng.uniform(-1, 1, (25, 2)), True)
    D = enumerate_patterns(Xb)
    act = make_activation("relu")
    index, S = geometry(Xb, D, act)
    assert S.facets is not None
    lam = rng.standard_normal(25)
    c = S.candidates(lam)
    ties = []
    for k in np.flatnonzero(c.cell < 0)[:300]:
        cells = index.adjacent(Xb, c.directions[k])
        if len(cells) > 1:
            ties.append((int(c.signs[k]), c.directions[k], cells))
    assert len(ties) > 50
    a = _best_adjacent(Xb, D, lam, act, index, ties, S.facets)
    b = _best_adjacent(Xb, D, lam, act, index, ties, None)
    from cvx_core.certificates.cells import project_onto_cell as _project_cell

    def value(i, s):  # the cell's own maximum, by the NNLS over all its rows
        return _project_cell(Xb, np.where(D[i], 1.0, -1.0), s * (act.slopes(D[i]) * lam) @ Xb)[0]

    for (s, _, cells), (ia, _, _), (ib, _, _) in zip(ties, a, b):
        best = max(value(i, s) for i in cells)
        assert value(ia, s) == pytest.approx(best, rel=1e-10) and value(ib, s) == pytest.approx(best, rel=1e-10)
    assert sum(ia == ib for (ia, _, _), (ib, _, _) in zip(a, b)) >= len(ties) - 3  # exact ties aside


@pytest.mark.parametrize("name", ["relu", "leaky", "abs"])
def test_chained_predictions_pose_the_same_program(name, monkeypatch):
    """The working-set program with the predictions written through running sums along a tour
    of the points (used for large working sets) has the same optimum and the same lambda as
    with the dense prediction rows; the tour changes few blocks between neighbours."""
    import cvx_core.solvers.small_program as S
    from cvx_core.certificates.arrangement import arrangement_geometry
    from cvx_core.model import make_loss
    from cvx_core.patterns import canonical_symmetric

    act = make_activation(name, 0.2)
    rng = np.random.default_rng(8)
    X = rng.uniform(-1, 1, (24, 2))
    Xb = add_bias(X, True)
    y = np.sign(X[:, 0] * X[:, 1])
    D = enumerate_patterns(Xb)
    D = canonical_symmetric(D) if act.symmetric else D
    index, _ = arrangement_geometry(Xb, D, act)
    bi = np.repeat(rng.choice(len(D), 30, replace=False), 2)
    bs = np.tile([1, -1], 30)
    rows = [index.cell_facets(int(i)) for i in bi]
    loss = make_loss("squared")
    runs = []
    for chain_min in (10**12, 0):
        monkeypatch.setattr(S, "_CHAIN_MIN", chain_min)
        Z, lam, st = S.solve_small(Xb, y, D, act, loss, 0.01, bi, bs, rows, None, 1e-10)
        assert st == "Solved"
        runs.append((S.program_objective(Xb, y, D, act, loss, 0.01, bi, bs, Z)[0], lam))
    assert runs[1][0] == pytest.approx(runs[0][0], rel=1e-8)
    np.testing.assert_allclose(runs[1][1], runs[0][1], atol=1e-7)
    tour = S._tour(D[bi])
    assert sorted(tour) == list(range(24))
    changes = np.sum(D[bi][:, tour[1:]] != D[bi][:, tour[:-1]])
    assert changes < 0.5 * np.sum(D[bi])  # far fewer entries than the dense prediction rows


@pytest.mark.parametrize("d", [2, 3])
def test_compiled_cone_projection_equals_the_nnls(d):
    """cone_kernel.project (Lawson-Hanson, compiled) against scipy's NNLS in _project_cell:
    random sign patterns (mostly cones that are only the apex or thin), the cells of sampled
    directions, and points given twice (dependent columns)."""
    from cvx_core import sample_patterns
    from cvx_core.certificates.cells import project_onto_cell as _project_cell
    from cvx_core.kernels.cones import project

    rng = np.random.default_rng(d)
    for n in (5, 30, 200):
        Xb = add_bias(rng.uniform(-1, 1, (n, d - 1)), True)
        Xb[n // 2:n // 2 + 3] = Xb[:3]
        D = np.vstack([rng.random((150, n)) < 0.5, sample_patterns(Xb, 150, seed=n)])
        G = rng.standard_normal((len(D), d))
        s = rng.choice([-1.0, 1.0], len(D))
        vals, P = project(Xb, D, s, G)
        for i in range(len(D)):
            v, p = _project_cell(Xb, np.where(D[i], 1.0, -1.0), s[i] * G[i])
            assert vals[i] == pytest.approx(v, rel=1e-9, abs=1e-12)
            np.testing.assert_allclose(P[i], p, atol=1e-9 * (1 + np.abs(p).max()))
        assert np.sum(vals < 1e-12) > 0 and np.sum((vals > 1e-12) & (vals < np.linalg.norm(G, axis=1) - 1e-9)) > 10


def test_cell_values_in_compiled_chunks_equal_one_nnls_per_cell(monkeypatch):
    """The batched projection (chunks of 64 in order of the upper bound) gives the same
    certificate values as one NNLS per cell: the exact maximum and every cell above a
    threshold."""
    from cvx_core import sample_patterns
    from cvx_core.certificates import cells as certificate

    rng = np.random.default_rng(5)
    Xb = add_bias(rng.uniform(-1, 1, (60, 2)), True)
    D = sample_patterns(Xb, 600, seed=0)
    act = make_activation("relu")
    lam = rng.standard_normal(60)
    for threshold in (None, 0.0, 0.05 * np.abs(lam).sum()):
        batched = cell_values(Xb, D, lam, act, threshold=threshold)
        monkeypatch.setattr(certificate, "_CHUNK", 10**9)
        single = cell_values(Xb, D, lam, act, threshold=threshold)
        monkeypatch.undo()
        assert batched.max == pytest.approx(single.max, rel=1e-10)
        both = batched.exact & single.exact
        assert threshold is None or both.sum() > 64
        np.testing.assert_allclose(batched.values[both], single.values[both], rtol=1e-9, atol=1e-12)
        if threshold is not None:
            above = single.exact & (single.values > threshold)
            assert np.all(batched.exact[above])


def test_facets_by_lp_are_the_flip_neighbours_of_every_cell():
    """The LP + polar-hull facets of a cell (used for sampled patterns) are exactly the rows
    whose flip gives another cell of the arrangement, for every cell of two small exact
    arrangements (random points, and points on a grid: collinear points, so several
    hyperplanes meet in one line and a cell's corner has more than two rows through it)."""
    from cvx_core.certificates.arrangement import PatternIndex
    from cvx_core.solvers.cone_rows import facets_by_lp as _facets_by_lp

    rng = np.random.default_rng(7)
    for Xb in (add_bias(rng.standard_normal((16, 2)), True),
               add_bias(np.vstack([rng.integers(-2, 3, (10, 2)), [[0.5, 0.25]]]).astype(float), True)):
        D = enumerate_patterns(Xb)
        index = PatternIndex(D, False, Xb)
        n_missing = 0
        for i in range(D.shape[0]):
            f = _facets_by_lp(Xb, D[i])
            if f is None:
                n_missing += 1
                continue
            np.testing.assert_array_equal(f, index.facets(D[i]))
        assert n_missing == 0


def test_cell_values_with_a_floor_are_exact_above_it_and_bounded_below():
    """``floor``: pricing only asks which cells exceed beta. Cells above the floor get their
    exact values; the others an upper bound no larger than the floor."""
    from cvx_core import sample_patterns

    rng = np.random.default_rng(2)
    Xb = add_bias(rng.standard_normal((80, 5)), True)
    D = sample_patterns(Xb, 300, seed=0)
    act = make_activation("relu")
    lam = rng.standard_normal(80)
    full = cell_values(Xb, D, lam, act, threshold=0.0)
    assert full.exact.all()
    floor = float(np.quantile(full.values, 0.9))
    cut = cell_values(Xb, D, lam, act, threshold=floor, floor=floor)
    above = full.values > floor * (1 + 1e-9)
    assert above.sum() > 10 and np.all(cut.exact[above])
    np.testing.assert_allclose(cut.values[above], full.values[above], rtol=1e-9)
    bounded = ~cut.exact
    assert bounded.sum() > 0  # the floor saved projections
    assert np.all(cut.values[bounded] >= full.values[bounded] * (1 - 1e-9))
    assert np.all(cut.values[bounded] <= floor * (1 + 1e-12))
    assert cut.max == pytest.approx(full.max, rel=1e-10)


@pytest.mark.parametrize("d", [2, 5, 12])
def test_numpy_cell_projection_equals_the_reference_nnls(d):
    """project_polar (Lawson-Hanson in numpy, which replaced scipy's nnls) against the test
    suite's reference projection (scipy's NNLS with a KKT check, else cvxpy + Clarabel):
    random cells, points given twice, collinear points, a zero row, vectors inside and outside;
    the projection lies in the cone and its residual is in the polar (Moreau)."""
    from cvx_core.certificates.polar import project_polar
    from reference import _nnls_projection

    rng = np.random.default_rng(100 + d)
    for trial in range(60):
        n = int(rng.integers(1, 40))
        X = rng.standard_normal((n, d))
        if trial % 4 == 1:
            X[n // 2:] = X[:n - n // 2]  # every point twice
        elif trial % 4 == 2:
            X = np.outer(rng.standard_normal(n), rng.standard_normal(d))  # rank 1
        elif trial % 4 == 3:
            X[0] = 0.0
        sgn = np.where(rng.random(n) < 0.5, 1.0, -1.0)
        A = sgn[:, None] * X
        z = rng.standard_normal(d) * rng.choice([1e-3, 1.0, 1e3])
        value, p = project_polar(A, z)
        ref = _nnls_projection(A.T, z)
        scale = np.linalg.norm(z) * max(np.abs(A).max(), 1.0)
        assert value == pytest.approx(np.linalg.norm(ref), rel=1e-8, abs=1e-10 * scale)
        np.testing.assert_allclose(p, ref, atol=1e-8 * (1 + np.abs(ref).max()))
        assert np.all(A @ p >= -1e-9 * scale)  # in the cone
        assert abs(p @ (p - z)) <= 1e-9 * np.linalg.norm(z) ** 2 + 1e-300  # z - p is orthogonal to p


def test_cell_projection_lands_exactly_in_a_thin_cell():
    """A cell with two opposite rows (coincident patches of noise-free signals) is a hyperplane;
    a vector 1e-14 off it must come back exactly in the cell (up to rounding), or pruning
    rejects the block and zeroes it (a CNN fit ended 47 % above its optimum that way)."""
    from cvx_core.certificates.polar import project_polar
    from cvx_core.recovery import make_feasible
    from cvx_core.tolerances import ROUNDING

    a = np.array([1.0, -1.0, 1.0, -1.0])
    rest = np.array([[-1.0, -1.0, -1.0, -1.0], [-1.0, -1.0, 1.0, 1.0], [-1.0, -1.0, -1.0, 1.0]])
    A = np.vstack([rest, a, -a])
    z = np.array([-0.0637765736712, -0.0637765736735, 0.0127553147278, 0.0127553147301])
    z = z - (a @ z) / (a @ a) * a - 3.7e-15 * a  # just outside the plane a'u = 0
    assert (A @ z).min() < -ROUNDING * 2 * np.linalg.norm(z)
    _, p = project_polar(A, z)
    assert (A @ p).min() >= -ROUNDING * 2 * np.linalg.norm(p)
    np.testing.assert_allclose(make_feasible(A, np.ones(len(A)), z), p, atol=1e-15)
