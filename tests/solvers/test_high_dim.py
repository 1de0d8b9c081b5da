"""The working set of blocks beyond the plane (cvx_core.solvers.high_dim and .blocks)."""
import numpy as np
import pytest

from cvx_core import fit_convex, sample_patterns
from cvx_core.model import add_bias, make_activation, make_loss
from cvx_core.solvers.blocks import solve_design

from reference import RefProblem


def every_block(Xb, D, act):
    """Both signs of every pattern as blocks: coefficients C (2P, n) and row signs (2P, n)."""
    bi = np.repeat(np.arange(len(D)), 2)
    bs = np.tile([1, -1], len(D))
    return bs[:, None] * act.slopes(D[bi]), np.where(D[bi], 1.0, -1.0)


def xor_program(seed, n, d, P, pattern_seed):
    """A seeded xor-like classification problem with every block of P sampled ReLU patterns:
    (rng, X, Xb, y, D, C, sgn) as :func:`every_block` gives them."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    Xb = add_bias(X, True)
    y = np.sign(X[:, 0] * X[:, 1] + 0.3)
    D = sample_patterns(Xb, P, seed=pattern_seed)
    return (rng, X, Xb, y, D, *every_block(Xb, D, make_activation("relu")))


def test_auto_in_higher_dimension_matches_the_reference_on_random_programs():
    """Random sizes, activations, losses, targets and beta (seeded): solver="auto" takes the
    working set of blocks, certifies, reproduces its objective with the recovered network and
    agrees with cvxpy + Clarabel on the same patterns."""
    gen = np.random.default_rng(123)
    for trial in range(9):
        n, d, P = int(gen.integers(15, 80)), int(gen.integers(3, 9)), int(gen.integers(10, 80))
        activation = ["relu", "leaky", "abs"][trial % 3]
        loss = ["squared", "logistic", "hinge"][(trial // 3) % 3]
        rng = np.random.default_rng(trial)
        X = rng.standard_normal((n, d))
        y = np.sign(X[:, 0] * X[:, 1] + 0.3 * X[:, 2]) if loss != "squared" or trial % 2 else rng.standard_normal(n)
        D = sample_patterns(add_bias(X, True), P, seed=trial)
        beta = float(10 ** gen.uniform(-2.5, 0)) * (1 if loss == "squared" else 3)
        f = fit_convex(X, y, beta, activation=activation, leak=0.2, loss=loss, patterns=D)
        ref = fit_convex(X, y, beta, activation=activation, leak=0.2, loss=loss, patterns=D, solver="clarabel")
        assert f.solver == "working-set" and f.status == "optimal" and f.gap <= 1e-6, (trial, f.status, f.gap)
        assert f.objective <= ref.objective * (1 + 1e-6) + 1e-12, trial
        assert f.objective >= ref.lower_bound - 1e-9 * abs(ref.objective), trial
        assert f.network.objective(X, y, beta, loss) == pytest.approx(f.objective, rel=1e-9), trial


@pytest.mark.parametrize("loss", ["squared", "logistic", "hinge"])
def test_solve_design_matches_an_independent_model(loss):
    """The interior point on a fixed set of blocks (every cone row imposed) against cvxpy +
    Clarabel on the same restricted program (RefProblem on those patterns)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 5))
    Xb = add_bias(X, True)
    y = np.sign(X[:, 0] - X[:, 1] ** 2 + 0.5) if loss != "squared" else X[:, 0] * X[:, 2]
    act = make_activation("relu")
    D = sample_patterns(Xb, 8, seed=1)
    C, sgn = every_block(Xb, D, act)
    A = C[:, :, None] * Xb[None]
    beta = 0.3
    res = solve_design(A, Xb, sgn, y, beta, make_loss(loss))
    assert res.status in ("Solved", "AlmostSolved")
    assert np.min(sgn * (res.Z @ Xb.T)) >= -1e-9 * np.abs(res.Z).max()
    ref = RefProblem(Xb, y, D, 1.0, 0.0, loss).solve(beta)
    assert ref.lower - 1e-9 <= res.objective <= ref.upper * (1 + 1e-6)


def test_solve_design_leaves_unimposed_rows_free():
    """sgn = 0 drops a row: with no rows imposed the program is the plain group lasso (gated
    ReLU), whose optimum is at most the constrained one."""
    rng = np.random.default_rng(0)
    X = add_bias(rng.standard_normal((25, 3)), True)
    y = rng.standard_normal(25)
    D = sample_patterns(X, 5, seed=0)
    A = D[:, :, None] * X[None]
    loss = make_loss("squared")
    full = solve_design(A, X, np.where(D, 1.0, -1.0), y, 0.2, loss)
    free = solve_design(A, X, np.zeros_like(D, dtype=float), y, 0.2, loss)
    assert free.objective < full.objective - 1e-6
    assert np.min(np.where(D, 1.0, -1.0) * (free.Z @ X.T)) < 0  # some row it no longer respects


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_a_stalled_interior_point_is_finished_by_newton(loss):
    """The interior point alone stalls near a relative gap of 1e-8 here (6e-8 to 3e-7); asked for
    1e-10, the working set hands its point to Newton's method on the support and tight rows,
    whose dual vector then certifies to that tolerance over every pattern given (1e-15 to
    1e-12, depending on the BLAS threads' rounding)."""
    from cvx_core.solvers.high_dim import solve_high_dim

    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 6))
    Xb = add_bias(X, True)
    y = np.sign(X[:, 0] * X[:, 1] + 0.2) if loss == "logistic" else X[:, 0] * X[:, 1]
    D = sample_patterns(Xb, 100, seed=0)
    res = solve_high_dim(Xb, y, D, 0.5, make_activation("relu"), make_loss(loss), tol=1e-10)
    assert res.status == "optimal"
    assert res.objective - res.lower_bound <= 1e-10 * res.objective


def test_batched_pricing_agrees_with_cell_values():
    """The pricing's all-compiled cell values: the same cells above beta, with the same exact
    values and maximisers, as :func:`cell_values` with ``floor = beta``, and the same maximum."""
    from cvx_core.certificates.cells import cell_values, project_onto_cell
    from cvx_core.solvers.pricing import batched_cell_values

    rng = np.random.default_rng(5)
    Xb = add_bias(rng.standard_normal((60, 7)), True)
    D = sample_patterns(Xb, 90, seed=2)
    act = make_activation("relu")
    lam = rng.standard_normal(60)
    G = (act.slopes(D) * lam) @ Xb
    vals = np.array([[project_onto_cell(Xb, np.where(Di, 1.0, -1.0), s * g)[0] for s in (1, -1)]
                     for Di, g in zip(D, G)])  # every cell's exact value
    beta = float(np.quantile(vals, 0.8))
    ref = cell_values(Xb, D, lam, act, threshold=beta, floor=beta)
    got = batched_cell_values(Xb, D, lam, act, threshold=beta)
    above = ref.exact & (ref.values > beta)
    assert above.sum() >= 10
    assert np.array_equal(above, got.exact & (got.values > beta))
    assert np.allclose(got.values[above], vals[above], rtol=1e-10)
    assert np.allclose(got.directions[above], ref.directions[above], atol=1e-8)
    assert got.max == pytest.approx(vals.max(), rel=1e-10)
    rest = ~got.exact
    assert np.all(vals[rest] <= beta * (1 + 1e-12))  # the rest: below beta
    assert np.all(got.values[rest] >= vals[rest] * (1 - 1e-12) - 1e-12)  # upper bounds


@pytest.mark.parametrize("loss", ["logistic", "hinge"])
def test_masked_designs_solve_the_same_program(loss):
    """Designs given as ``(C, X)`` (products through X, never formed) give the program of the
    formed designs ``C[j][:, None] * X``: the same objective and dual vector."""
    rng = np.random.default_rng(7)
    Xb = add_bias(rng.standard_normal((40, 5)), True)
    y = np.sign(Xb[:, 0] * Xb[:, 1] + 0.2)
    act = make_activation("leaky", 0.2)
    D = sample_patterns(Xb, 6, seed=4)
    C, sgn = every_block(Xb, D, act)
    formed = solve_design(C[:, :, None] * Xb[None], Xb, sgn, y, 0.2, make_loss(loss))
    masked = solve_design((C, Xb), Xb, sgn, y, 0.2, make_loss(loss))
    assert masked.status in ("Solved", "AlmostSolved") and formed.status in ("Solved", "AlmostSolved")
    assert masked.objective == pytest.approx(formed.objective, rel=1e-8)
    assert np.allclose(masked.yhat, formed.yhat, atol=1e-6)


def test_pricing_skips_the_working_sets_cells_with_a_valid_bound():
    """Skipped cells keep an upper bound (never exact), the others are priced as without
    skipping, and ``max`` still bounds cert(lambda) from above (a valid, weaker certificate)."""
    from cvx_core.solvers.pricing import batched_cell_values

    rng = np.random.default_rng(6)
    Xb = add_bias(rng.standard_normal((50, 6)), True)
    D = sample_patterns(Xb, 60, seed=3)
    act = make_activation("relu")
    lam = rng.standard_normal(50)
    full = batched_cell_values(Xb, D, lam, act, threshold=0.0)  # every cell exact
    beta = float(np.quantile(full.values, 0.7))
    skip = np.zeros((60, 2), bool)
    top = np.argsort(-full.values, axis=None)[:8]  # the largest cells, the maximum among them
    skip.flat[top] = True
    got = batched_cell_values(Xb, D, lam, act, threshold=beta, skip=skip)
    ref = batched_cell_values(Xb, D, lam, act, threshold=beta)
    assert not got.exact[skip].any()
    assert np.all(got.values[skip] >= full.values[skip] * (1 - 1e-12))
    keep = ~skip & ref.exact & (ref.values > beta)
    assert keep.sum() >= 5 and np.all(got.exact[keep]) and np.allclose(got.values[keep], ref.values[keep])
    assert got.max >= full.max * (1 - 1e-12)


def test_a_restart_with_more_rows_solves_the_new_program():
    """A loose solve with half of each block's rows, restarted (high_dim._restart) from its
    iterate at gap 0.1 with every row imposed, reaches the optimum of the program with every
    row, as a cold solve does, and holds the new rows."""
    from cvx_core.solvers.high_dim import _restart

    rng, X, Xb, y, D, C, full = xor_program(8, 40, 4, 10, 2)
    half = np.where(rng.random(full.shape) < 0.5, full, 0.0)
    loss = make_loss("hinge")
    first = solve_design((C, Xb), Xb, half, y, 0.5, loss, tol=1e-3)
    assert first.early is not None
    assert np.min(full * (first.Z @ Xb.T)) < -1e-3 * np.abs(first.Z).max()  # the new rows matter
    keep = np.ones(len(C), bool)
    warm = solve_design((C, Xb), Xb, full, y, 0.5, loss, resume=_restart(first.early, keep, half, full, Xb),
                        pres_tol=1e-8)
    cold = solve_design((C, Xb), Xb, full, y, 0.5, loss)
    assert warm.status in ("Solved", "AlmostSolved")
    assert warm.objective == pytest.approx(cold.objective, rel=1e-6)
    assert np.min(full * (warm.Z @ Xb.T)) >= -1e-7 * np.abs(warm.Z).max()


def test_the_initial_point_does_not_let_the_rows_dominate_mu():
    """CVXOPT's shift gives each homogeneous cone row as much complementarity as a whole
    second-order cone; with every row of every block imposed the rows then carried ~99 % of
    the initial gap. The initial point scales the rows' slacks and multipliers to the cones'
    total, stays interior, and the solve still agrees with a cold solve's optimum."""
    from cvx_core.solvers.blocks import _MaskedDesign, _initial_point, smooth_loss
    from cvx_core.solvers.ipm import TAU, NewtonSystem

    _, X, Xb, y, D, C, sgn = xor_program(11, 90, 6, 12, 5)
    M = sgn != 0
    P = _MaskedDesign(C, Xb)
    system = NewtonSystem(P, TAU)
    Router = (Xb[:, :, None] * Xb[:, None, :]).reshape(len(Xb), -1)
    _, g0, h0 = smooth_loss(make_loss("logistic"), np.zeros(len(y)), y)
    T, Z, s0, s1, S, z0, z1, U = _initial_point(P, system, Xb, sgn, M, M.astype(float), Router, y, 1.0, g0, h0,
                                                False)
    cones = s0 @ z0 + np.sum(s1 * z1)
    rows = np.sum(S[M] * U[M])
    assert rows <= cones * (1 + 1e-12)
    assert np.all(S[M] > 0) and np.all(U[M] > 0)
    assert np.all(s0 > np.linalg.norm(s1, axis=1)) and np.all(z0 > np.linalg.norm(z1, axis=1))
    res = solve_design((C, Xb), Xb, sgn, y, 1.0, make_loss("logistic"))
    ref = RefProblem(Xb, y, D, 1.0, 0.0, "logistic").solve(1.0)
    assert res.status in ("Solved", "AlmostSolved")
    assert ref.lower - 1e-9 <= res.objective <= ref.upper * (1 + 1e-6)


def test_a_stalled_tight_solve_is_retried_without_its_inactive_blocks(monkeypatch):
    """When the tight continuation stalls (here made to, by handing back a loose point), the
    cold solve that follows drops the blocks below 1e-3 of the largest norm (they make the
    normal equations degenerate near the optimum); the fit still certifies over every pattern."""
    from dataclasses import replace

    from cvx_core.solvers import high_dim
    from cvx_core.solvers.ipm import predict

    real = high_dim.solve_design
    calls = []

    def stalling(A, R, sgn, y, beta, loss, **kw):
        if kw.get("tol") == high_dim._TIGHT and kw.get("resume") and not calls:
            # a loose point whose small blocks sit where a stall leaves the inactive ones
            res = real(A, R, sgn, y, beta, loss, tol=1e-2)
            zn = np.linalg.norm(res.Z, axis=1)
            small = zn < 0.05 * zn.max()
            Z = np.where(small[:, None], 1e-4 * res.Z, res.Z)
            res = replace(res, Z=Z, yhat=predict(A[1], A[0], Z))
            calls.append(("stalled", sgn.shape[0], res.Z))
            return res
        res = real(A, R, sgn, y, beta, loss, **kw)
        if calls:
            calls.append(("after", sgn.shape[0], res.Z))
        return res

    monkeypatch.setattr(high_dim, "solve_design", stalling)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((80, 6))
    Xb = add_bias(X, True)
    y = np.sign(X[:, 0] * X[:, 1] + 0.2)
    D = sample_patterns(Xb, 100, seed=0)
    res = high_dim.solve_high_dim(Xb, y, D, 2.0, make_activation("relu"), make_loss("hinge"), tol=5e-7)
    assert calls and calls[0][0] == "stalled" and calls[1][0] == "after"
    zn = np.linalg.norm(calls[0][2], axis=1)
    kept = int(np.sum(zn > 1e-3 * zn.max()))
    assert calls[1][1] == kept < calls[0][1]
    assert res.status == "optimal" and res.objective - res.lower_bound <= 5e-7 * res.objective


def test_a_search_round_enters_one_pattern_of_each_close_group():
    """Of patterns within _NEAR samples of a better one, only the best enters; the rest wait
    for pricing (they stay in D). Distant patterns all enter, whatever their order."""
    from cvx_core.solvers.high_dim import _NEAR, _diverse

    rng = np.random.default_rng(0)
    n = 60
    base = rng.random((3, n)) < 0.5
    base[1, :30] = ~base[0, :30]  # the three groups are > 2 * _NEAR samples apart
    base[2, 30:] = ~base[0, 30:]
    P, values = [], []
    for g in range(3):
        for k in range(4):  # each group: its centre and three patterns 1-3 samples off (<= 6 apart)
            p = base[g].copy()
            p[rng.choice(n, k, replace=False)] ^= True
            P.append(p)
            values.append(10.0 * (3 - g) - k if g != 1 else 10.0 * (3 - g) + k)  # group 1: worst first
    P, values = np.array(P), np.array(values)
    kept = _diverse(P, values)
    assert kept == [0, 7, 8]  # the best of each group (group 1's best is its last)
    assert _diverse(P, values, near=0) == list(range(12))  # distinct patterns: all enter
    far, near = base[0].copy(), base[0].copy()
    far[: _NEAR + 1] ^= True
    near[: _NEAR] ^= True
    assert _diverse(np.array([base[0], far, near]), np.array([3.0, 2.0, 1.0])) == [0, 1]


def test_screening_merges_parallel_blocks_of_one_sign_and_leaves_out_tiny_ones():
    from cvx_core.solvers.high_dim import _screened

    u = np.array([1.0, 2.0, 2.0]) / 3.0
    Z = np.array([[0.0, 0.0, 5.0],  # the largest block
                  2.0 * u, 1.0 * u,  # one neuron split between two cells (same sign)
                  3.0 * u,  # the same direction with the other sign: a different neuron
                  [1e-4, 0.0, 0.0]])  # below 1e-3 of the largest
    bs = np.array([1, 1, 1, -1, 1])
    idx, Zs = _screened(bs, Z)
    assert idx.tolist() == [0, 1, 3]
    assert np.allclose(Zs, [Z[0], 3.0 * u, 3.0 * u])
    assert Z[1] == pytest.approx(2.0 * u)  # the caller's blocks are not changed


def _split_optimum():
    """A certified logistic optimum whose largest neuron is then split in half between its
    cell and a copy of that cell, with two tiny blocks added: the degenerate point (one neuron
    over two blocks, inactive blocks left at 1e-5) that a stalled interior point hands the
    polish when a neuron's ray lies on the boundary of neighbouring cells."""
    from cvx_core.solvers.high_dim import solve_high_dim

    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 6))
    Xb = add_bias(X, True)
    y = np.sign(X[:, 0] * X[:, 1] + 0.2)
    D = sample_patterns(Xb, 100, seed=0)
    act, loss, beta = make_activation("relu"), make_loss("logistic"), 0.5
    opt = solve_high_dim(Xb, y, D, beta, act, loss, tol=1e-10)
    assert opt.status == "optimal"
    j = int(np.argmax(np.linalg.norm(opt.Z, axis=1)))
    D2 = np.vstack([D, D[opt.blocks_i[j]]])
    small = [k for k in range(len(D)) if k not in set(opt.blocks_i.tolist())][:2]
    bi = np.r_[opt.blocks_i, len(D), small]
    bs = np.r_[opt.blocks_s, opt.blocks_s[j], 1, -1]
    Z = np.vstack([opt.Z, 0.5 * opt.Z[j], 1e-5 * rng.standard_normal((2, Xb.shape[1]))])
    Z[j] *= 0.5
    return Xb, y, D2, act, loss, beta, bi, bs, Z, opt


def _count_polishes(monkeypatch, high_dim) -> list:
    """The support size of every polish run from now on."""
    sizes = []
    real = high_dim._polish_on
    monkeypatch.setattr(high_dim, "_polish_on", lambda *a: sizes.append(len(a[-1])) or real(*a))
    return sizes


def test_the_polish_finishes_a_split_neuron_on_the_screened_support(monkeypatch):
    from cvx_core.solvers import high_dim

    Xb, y, D, act, loss, beta, bi, bs, Z, opt = _split_optimum()
    sizes = _count_polishes(monkeypatch, high_dim)
    gap, bi2, bs2, Z2, lam, cert, obj, lb, u = high_dim._polish(Xb, y, D, act, loss, beta, bi, bs, Z, 1e-10)
    assert sizes == [len(opt.Z)]  # one polish, on the original neurons
    assert gap <= 1e-10 * obj and obj == pytest.approx(opt.objective, rel=1e-10)
    assert len(Z2) == len(opt.Z)


def test_a_screened_polish_that_does_not_certify_falls_back_to_every_block(monkeypatch):
    from cvx_core.solvers import high_dim

    Xb, y, D, act, loss, beta, bi, bs, Z, opt = _split_optimum()
    monkeypatch.setattr(high_dim, "_PRUNE", 0.9)  # screening now leaves out active neurons
    sizes = _count_polishes(monkeypatch, high_dim)
    gap, *_, obj, lb, u = high_dim._polish(Xb, y, D, act, loss, beta, bi, bs, Z, 1e-10)
    assert sizes[0] < len(opt.Z) and sizes[1] == len(Z)
    assert gap <= 1e-10 * obj and obj == pytest.approx(opt.objective, rel=1e-10)


def test_row_basis_spans_the_design_and_is_none_at_full_rank():
    from cvx_core.solvers.high_dim import row_basis

    rng = np.random.default_rng(8)
    Xb = add_bias(rng.standard_normal((30, 6)), True)
    assert row_basis(Xb) is None  # full rank 7
    Xp = np.c_[Xb, np.zeros(30), Xb @ rng.standard_normal(7)]  # a zero feature and a combination
    B = row_basis(Xp)
    assert B.shape == (9, 7)
    np.testing.assert_allclose(B.T @ B, np.eye(7), atol=1e-12)
    np.testing.assert_allclose(Xp @ B @ B.T, Xp, atol=1e-12)
    assert row_basis(np.c_[Xb[:, :3], np.zeros((30, 4))]) is None  # rank 3: left to the full design


@pytest.mark.parametrize("loss", ["squared", "logistic", "hinge"])
def test_a_rank_deficient_design_is_solved_in_its_row_space_exactly(loss, monkeypatch):
    """Data with a zero feature and a combination of the others (rank 6 of 8 columns), solved
    in the row space: cvxpy + Clarabel's optimum over the same patterns in all 8 coordinates, no
    weight on the zero feature; and with the zero feature alone, the unpadded data's optimum."""
    import cvx_core.solvers.high_dim as hd

    dims = []
    inner = hd._solve_high_dim
    monkeypatch.setattr(hd, "_solve_high_dim", lambda Xb, *a: dims.append(Xb.shape[1]) or inner(Xb, *a))
    rng = np.random.default_rng(9)
    X = rng.standard_normal((40, 5))
    y = rng.standard_normal(40) if loss == "squared" else np.sign(X[:, 0] * X[:, 1] + 0.2)
    Xp = np.c_[X, np.zeros(40), X @ rng.standard_normal(5)]
    D = sample_patterns(add_bias(X, True), 60, seed=1)
    beta = 0.1 if loss == "squared" else 0.3
    f = fit_convex(Xp, y, beta, loss=loss, patterns=D)
    assert dims == [6]  # the working set ran in the 6 row-space coordinates, not all 8
    ref = fit_convex(Xp, y, beta, loss=loss, patterns=D, solver="clarabel")
    assert f.solver == "working-set" and f.status == "optimal" and f.gap <= 1e-6
    assert f.objective == pytest.approx(ref.objective, rel=1e-6)
    assert f.objective >= ref.lower_bound - 1e-9 * abs(ref.objective)
    assert np.abs(f.network.U[:, 5]).max() <= 1e-10 * np.abs(f.network.U).max()
    assert f.network.objective(Xp, y, beta, loss) == pytest.approx(f.objective, rel=1e-9)
    # a zero feature alone changes nothing (it only adds norm to a weight)
    plain = fit_convex(X, y, beta, loss=loss, patterns=D)
    zero = fit_convex(Xp[:, :6], y, beta, loss=loss, patterns=D)
    assert zero.objective == pytest.approx(plain.objective, rel=1e-6)


def test_a_pattern_search_on_a_rank_deficient_design_certifies_over_what_it_found():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((40, 5))
    y = np.sign(X[:, 0] * X[:, 1] + 0.2)
    Xp = np.c_[X, np.zeros(40), X[:, :2].sum(axis=1)]
    f = fit_convex(Xp, y, 0.3, loss="logistic", patterns="search", seed=2)
    assert f.status == "optimal" and f.gap <= 1e-6 and f.info["pattern_search"]["rounds"] >= 1
    assert np.abs(f.network.U[:, 5]).max() <= 1e-10 * np.abs(f.network.U).max()
    assert f.network.objective(Xp, y, 0.3, "logistic") == pytest.approx(f.objective, rel=1e-9)


def test_the_search_also_runs_in_rounds_whose_solution_violated_rows(monkeypatch):
    """A round whose solution violated cone rows still searches (its dual vector prices as
    validly), while the last objective test asked for more; the fit certifies as before."""
    from cvx_core.solvers import high_dim

    events = []
    real_rows, real_find = high_dim._Rows.add_violated, high_dim.Search.find
    monkeypatch.setattr(high_dim._Rows, "add_violated",
                        lambda self, *a: events.append(("rows", real_rows(self, *a))) or events[-1][1])
    monkeypatch.setattr(high_dim.Search, "find", lambda self, *a: events.append(("search", None)) or real_find(self, *a))
    rng = np.random.default_rng(11)
    X = rng.standard_normal((120, 8))
    y = np.tanh(X[:, 0] - X[:, 1] * X[:, 2]) + 0.1 * rng.standard_normal(120)
    f = fit_convex(X, y, 0.5, patterns="search", seed=3)
    assert f.status == "optimal" and f.gap <= 1e-6
    after_violation = [b for a, b in zip(events, events[1:]) if a == ("rows", True)]
    assert ("search", None) in after_violation  # rows imposed 3 d = 24 of 120: violations happen


def test_the_search_asks_its_objective_test_once_per_feasible_round():
    from cvx_core.solvers.high_dim import Search

    s = Search(np.eye(3), make_activation("relu"), 1.0, 0, n_random=4, max_rounds=3, tol=1e-3)
    assert s.going()  # before any test: a first round may search
    assert s.wants(10.0) and s.going()
    assert not s.wants(9.999) and not s.going()  # improved by less than 1e-3: stop
    assert s.wants(9.0) and s.going()  # a later feasible round that improved enough resumes
    s.rounds = 3
    assert not s.going() and not s.wants(1.0)  # rounds spent


def test_a_cold_searched_fit_starts_from_the_sphere_search_at_the_zero_network(monkeypatch):
    """Before any working-set solve, a cold searched fit searches at the zero network's dual
    vector, and its first working set (24 blocks at most) holds the search's patterns first,
    then sampled ones; a warm start (blocks given) solves first."""
    from cvx_core.solvers import high_dim

    events = []
    real_find, real_solve = high_dim.Search.find, high_dim.solve_design

    def find(self, D, lam, Z, signs):
        events.append(("search", len(D), len(Z)))
        return real_find(self, D, lam, Z, signs)

    def solve(A, *a, **k):
        events.append(("solve", A[0] != 0))
        return real_solve(A, *a, **k)

    monkeypatch.setattr(high_dim.Search, "find", find)
    monkeypatch.setattr(high_dim, "solve_design", solve)
    rng, X, Xb, y, D, *_ = xor_program(12, 60, 6, 30, 4)
    act, loss = make_activation("relu"), make_loss("logistic")
    search = high_dim.Search(Xb, act, 0.3, 0, n_random=16, max_rounds=6, tol=1e-3)
    res = high_dim.solve_high_dim(Xb, y, D, 0.3, act, loss, search=search)
    assert res.status == "optimal"
    assert events[0] == ("search", len(D), 0)  # at the zero network: no blocks yet
    first = events[1]
    assert first[0] == "solve"  # ... whose blocks start with patterns the search found
    sampled = [row.tobytes() in {r.tobytes() for r in D} for row in first[1]]
    assert len(sampled) <= 24 and not sampled[0] and sampled == sorted(sampled)
    grown = res.patterns
    assert len(grown) > len(D) and np.array_equal(grown[:len(D)], D)

    events.clear()
    warm = (res.blocks_i, res.blocks_s, res.Z)
    search = high_dim.Search(Xb, act, 0.3, 0, n_random=16, max_rounds=6, tol=1e-3)
    again = high_dim.solve_high_dim(Xb, y, grown, 0.3, act, loss, warm=warm, search=search)
    assert events[0][0] == "solve" and again.status == "optimal"
    assert again.objective <= res.objective * (1 + 1e-6)


def test_the_final_polish_runs_only_when_the_gap_asked_for_is_not_yet_met(monkeypatch):
    """At the engine's own tolerance a stalled point already within the reporting tolerance
    (OPTIMAL_GAP) is kept as it is (optimal, no Newton rounds); a caller asking for a tighter
    tolerance gets the polish."""
    from cvx_core.solvers import high_dim

    calls = []
    real = high_dim._polish
    monkeypatch.setattr(high_dim, "_polish", lambda *a, **k: calls.append(1) or real(*a, **k))
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 6))
    Xb = add_bias(X, True)
    y = np.sign(X[:, 0] * X[:, 1] + 0.2)
    D = sample_patterns(Xb, 100, seed=0)
    args = (Xb, y, D, 0.5, make_activation("relu"), make_loss("logistic"))
    asked = high_dim.solve_high_dim(*args, tol=1e-10)  # the interior point stalls above 1e-10
    assert calls and asked.status == "optimal" and asked.objective - asked.lower_bound <= 1e-10 * asked.objective
    calls.clear()
    # the same request as the engine's own tolerance, with a reporting tolerance above the stall
    monkeypatch.setattr(high_dim, "GAP_TOL", 1e-10)
    monkeypatch.setattr(high_dim, "OPTIMAL_GAP", 1e-5)
    kept = high_dim.solve_high_dim(*args, tol=1e-10)
    gap = (kept.objective - kept.lower_bound) / kept.objective
    assert not calls and kept.status == "optimal" and 1e-10 < gap <= 1e-5
