"""The structured interior point (cvx_core.solvers.ipm) and the whole-program solver built on it
(cvx_core.solvers.interior), against cvxpy + Clarabel on the same patterns."""
import numpy as np
import pytest

from cvx_core import add_bias, fit_convex, make_activation, sample_patterns
from cvx_core.solvers.interior import polish, solve_interior
from cvx_core.solvers.blocks import solve_design
from cvx_core.solvers.ipm import _TRTRI_MIN, _lower_inverse, soc_apply, soc_inv_prod, soc_max_step, soc_scaling
from cvx_core.model import make_loss


def _interior_points(rng, k, d):
    a1 = rng.standard_normal((k, d))
    a0 = np.linalg.norm(a1, axis=1) + rng.uniform(0.01, 2.0, k)
    return a0, a1


def test_nesterov_todd_scaling_maps_s_and_z_to_the_same_point():
    rng = np.random.default_rng(0)
    s0, s1 = _interior_points(rng, 50, 4)
    z0, z1 = _interior_points(rng, 50, 4)
    eta, w0, w1 = soc_scaling(s0, s1, z0, z1)
    l_from_z = soc_apply(eta, w0, w1, z0, z1)
    l_from_s = soc_apply(eta, w0, w1, s0, s1, inverse=True)
    np.testing.assert_allclose(l_from_z[0], l_from_s[0], rtol=1e-10)
    np.testing.assert_allclose(l_from_z[1], l_from_s[1], rtol=1e-9, atol=1e-12)
    # W^-1 undoes W
    b0, b1 = soc_apply(eta, w0, w1, *soc_apply(eta, w0, w1, z0, z1), inverse=True)
    np.testing.assert_allclose(b0, z0, rtol=1e-10)
    np.testing.assert_allclose(b1, z1, rtol=1e-9, atol=1e-12)
    # l o x = r solved by the inverse Jordan product
    r0, r1 = rng.standard_normal(50), rng.standard_normal((50, 4))
    x0, x1 = soc_inv_prod(s0, s1, r0, r1)
    np.testing.assert_allclose(s0 * x0 + np.einsum("ij,ij->i", s1, x1), r0, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(s0[:, None] * x1 + x0[:, None] * s1, r1, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("k", [_TRTRI_MIN - 1, _TRTRI_MIN, 40])
def test_lower_inverse_inverts_every_block(k):
    rng = np.random.default_rng(k)
    A = rng.standard_normal((7, k, k))
    L = np.linalg.cholesky(A @ A.transpose(0, 2, 1) + 1e-3 * np.eye(k))  # some badly conditioned
    Li = _lower_inverse(L)
    np.testing.assert_allclose(Li @ L, np.broadcast_to(np.eye(k), L.shape), atol=1e-8)
    np.testing.assert_allclose(np.triu(Li, 1), 0.0, atol=1e-12)  # lower triangular


def test_lower_inverse_refuses_a_singular_block():
    L = np.broadcast_to(np.eye(_TRTRI_MIN), (3, _TRTRI_MIN, _TRTRI_MIN)).copy()
    L[2, 5, 5] = 0.0
    with pytest.raises(np.linalg.LinAlgError, match="block 2"):
        _lower_inverse(L)


def test_max_step_stops_on_the_cone_boundary():
    rng = np.random.default_rng(1)
    u0, u1 = _interior_points(rng, 200, 3)
    v0, v1 = rng.standard_normal(200), 3 * rng.standard_normal((200, 3))
    a = soc_max_step(u0, u1, v0, v1)
    finite = np.isfinite(a)
    assert finite.sum() > 100 and np.all(a > 0)
    p0, p1 = u0[finite] + a[finite] * v0[finite], u1[finite] + a[finite][:, None] * v1[finite]
    assert np.all(np.abs(p0 - np.linalg.norm(p1, axis=1)) <= 1e-9 * (1 + np.abs(p0)))
    # just before the step the point is inside, just after outside
    q = 0.999 * a[finite]
    assert np.all(u0[finite] + q * v0[finite] >= np.linalg.norm(u1[finite] + q[:, None] * v1[finite], axis=1))
    # directions that never leave the cone give inf
    assert np.all(np.isinf(soc_max_step(u0, u1, np.ones(200), np.zeros((200, 3)))))


def _program(seed, n, dim, P, activation):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, dim))
    Xb = add_bias(X, True)
    y = np.sign(rng.standard_normal(n))
    D = sample_patterns(Xb, P, seed=seed)
    return X, Xb, y, D, make_activation(activation, 0.2)


def _blocks(seed, n, P, activation):
    """Both signs' blocks of P sampled cells: (Xb, y, C (2P, n), sgn (2P, n))."""
    X, Xb, y, D, act = _program(seed, n, 2, P, activation)
    bi = np.repeat(np.arange(len(D)), 2)
    return Xb, y, np.tile([1, -1], len(D))[:, None] * act.slopes(D[bi]), np.where(D[bi], 1.0, -1.0)


def _reference(Xb, C, y, beta, rows_of):
    """cvxpy + Clarabel on the same blocks: ``rows_of(j)`` the (k, d) cone rows of block j."""
    import cvxpy as cp

    Z = cp.Variable((C.shape[0], Xb.shape[1]))
    pred = cp.sum(cp.multiply(C, Z @ Xb.T), axis=0)
    cons = [rows_of(j) @ Z[j] >= 0 for j in range(C.shape[0]) if len(rows_of(j))]
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(pred - y) + beta * cp.sum(cp.norm(Z, axis=1))), cons)
    prob.solve(solver="CLARABEL")
    return prob.value


def _objective(Xb, C, y, beta, Z):
    yhat = np.einsum("jk,kj->k", C, Xb @ Z.T)
    return 0.5 * np.sum((yhat - y) ** 2) + beta * np.linalg.norm(Z, axis=1).sum(), yhat


@pytest.mark.parametrize("activation", ["relu", "leaky", "abs"])
@pytest.mark.parametrize("seed", [0, 1])
def test_solve_design_matches_the_reference_on_the_same_blocks(activation, seed):
    Xb, y, C, sgn = _blocks(seed, 25, 12, activation)
    beta = [0.05, 0.01][seed]
    rng = np.random.default_rng(seed)
    R = rng.uniform(size=C.shape) < 0.5  # a subset of each block's cone rows
    res = solve_design(C[:, :, None] * Xb[None], Xb, np.where(R, sgn, 0.0), y, beta, make_loss("squared"),
                       tol=1e-10)
    assert res.status in ("Solved", "AlmostSolved")
    ref = _reference(Xb, C, y, beta, lambda j: sgn[j, R[j]][:, None] * Xb[R[j]])
    assert _objective(Xb, C, y, beta, res.Z)[0] == pytest.approx(ref, rel=1e-6)
    slack = np.where(R, sgn * (res.Z @ Xb.T), 0.0)
    assert slack.min() >= -1e-7 * np.linalg.norm(res.Z, axis=1).max()


@pytest.mark.parametrize("activation", ["relu", "leaky", "abs"])
@pytest.mark.parametrize("seed", [0, 1])
def test_solve_rows_matches_the_reference_with_rows_in_any_order(activation, seed):
    """The row-list interior point (loose rounds of 2-D working sets) on random blocks with a
    few cone rows each (some blocks with none), rows shuffled: the reference's objective to
    its tolerance, every imposed row satisfied, the same predictions for another row order."""
    from cvx_core.solvers.ipm import solve_rows

    Xb, y, C, sgn = _blocks(seed, 30, 15, activation)
    beta = [0.05, 0.005][seed]
    rng = np.random.default_rng(seed)
    rows = [rng.choice(30, size=int(rng.integers(0, 5)), replace=False) for _ in C]
    jr = np.concatenate([np.full(len(r), j) for j, r in enumerate(rows)]).astype(int)
    ks = np.concatenate(rows).astype(int)
    A = sgn[jr, ks][:, None] * Xb[ks]
    perm = rng.permutation(len(jr))
    res = solve_rows(Xb, C, A[perm], jr[perm], y, beta, tol=1e-8)
    assert res.status in ("Solved", "AlmostSolved") and any(len(r) == 0 for r in rows)
    obj, yhat = _objective(Xb, C, y, beta, res.Z)
    assert obj == pytest.approx(_reference(Xb, C, y, beta, lambda j: A[jr == j]), rel=1e-6)
    slack = np.einsum("rd,rd->r", A, res.Z[jr])
    assert slack.min() >= -1e-7 * np.linalg.norm(res.Z, axis=1).max()
    again = solve_rows(Xb, C, A, jr, y, beta, tol=1e-8)  # the predictions are unique, not Z
    np.testing.assert_allclose(_objective(Xb, C, y, beta, again.Z)[1], yhat, atol=1e-5 * np.abs(y).max())


@pytest.mark.parametrize("activation", ["relu", "leaky", "abs"])
def test_interior_certifies_the_whole_program(activation):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 5))
    y = np.sign(X[:, 0] * X[:, 1] + 0.3 * X[:, 2])
    D = sample_patterns(add_bias(X, True), 50, seed=0)
    f = fit_convex(X, y, 0.3, activation=activation, leak=0.2, patterns=D, solver="interior")
    ref = fit_convex(X, y, 0.3, activation=activation, leak=0.2, patterns=D, solver="clarabel")
    assert f.status == "optimal" and f.gap <= 5e-7, (f.status, f.gap)
    assert f.objective == pytest.approx(ref.objective, rel=1e-6)
    # the gap is certified: the lower bound lies below the reference's objective
    assert f.lower_bound <= ref.objective * (1 + 1e-9)
    assert f.n_neurons <= X.shape[0]


def test_polish_drops_blocks_that_are_not_in_the_optimum():
    """Seeded with the optimum's blocks plus spurious ones, Newton's method on the support
    returns the optimum itself (the spurious blocks leave)."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 4))
    y = np.sign(X[:, 0] * X[:, 1])
    Xb = add_bias(X, True)
    D = sample_patterns(Xb, 40, seed=0)
    act = make_activation("relu")
    res = solve_interior(Xb, y, D, 0.5, act, make_loss("squared"))
    assert res.status == "optimal"
    C_all = np.tile([1, -1], len(D))[:, None] * act.slopes(D[np.repeat(np.arange(len(D)), 2)])
    sgn_all = np.where(D[np.repeat(np.arange(len(D)), 2)], 1.0, -1.0)
    opt = 2 * res.blocks_i + (res.blocks_s < 0)
    extra = np.setdiff1d(np.arange(2 * len(D)), opt)[:5]
    idx = np.concatenate([opt, extra])
    Z0 = np.zeros((idx.size, Xb.shape[1]))
    Z0[: opt.size] = res.Z
    # spurious blocks: small feasible points of their cells (projected random directions)
    from cvx_core.certificates.cells import project_onto_cell as _project_cell

    for k, j in enumerate(extra):
        Z0[opt.size + k] = 1e-3 * _project_cell(Xb, sgn_all[j], rng.standard_normal(Xb.shape[1]))[1]
    keep = np.linalg.norm(Z0, axis=1) > 0
    tight = sgn_all[idx[keep]] * (Z0[keep] @ Xb.T) <= 1e-9 * np.linalg.norm(Z0[keep], axis=1)[:, None]
    out = polish(Xb, y, C_all[idx[keep]], sgn_all[idx[keep]], Z0[keep], tight, 0.5)
    assert out is not None
    Zp, kept = out
    assert set(idx[keep][kept]) == set(opt)
    yhat = np.einsum("jk,kj->k", C_all[idx[keep][kept]], Xb @ Zp.T)
    obj = 0.5 * np.sum((yhat - y) ** 2) + 0.5 * np.linalg.norm(Zp, axis=1).sum()
    assert obj == pytest.approx(res.objective, rel=1e-9)


def test_interior_in_higher_dimension_matches_the_reference_on_random_programs():
    """Random sizes, activations, targets and beta (seeded): solver="interior" certifies and
    agrees with cvxpy + Clarabel. Trial 6 once lost a block to an NNLS projection in the final
    pruning (objective 2.2x the reference)."""
    gen = np.random.default_rng(123)
    for trial in range(8):
        n, d, P = int(gen.integers(15, 80)), int(gen.integers(3, 9)), int(gen.integers(10, 80))
        beta = float(10 ** gen.uniform(-3, 0))
        activation = ["relu", "leaky", "abs"][trial % 3]
        rng = np.random.default_rng(trial)
        X = rng.standard_normal((n, d))
        y = np.sign(X[:, 0] * X[:, 1] + 0.3 * X[:, 2]) if trial % 2 else rng.standard_normal(n)
        D = sample_patterns(add_bias(X, True), P, seed=trial)
        f = fit_convex(X, y, beta, activation=activation, leak=0.2, patterns=D, solver="interior")
        ref = fit_convex(X, y, beta, activation=activation, leak=0.2, patterns=D, solver="clarabel")
        assert f.solver == "interior" and f.status == "optimal" and f.gap <= 5e-7, (trial, f.status, f.gap)
        assert f.objective == pytest.approx(ref.objective, rel=1e-6), trial


def test_solve_rows_asked_past_its_accuracy_reports_instead_of_raising(monkeypatch):
    """Every working-set program of an n = 60 path, solved again at tol 1e-10 (below where
    solve_rows stalls): a step that divides by zero must end as a reported status with the
    best iterate (the compiled kernels use IEEE division; with Python's, one of these programs
    raised ZeroDivisionError), and that iterate is as good as the loose solve's."""
    from cvx_core.solvers import ipm
    from cvx_core.solvers import small_program as solver
    from cvx_core.datasets import make_dataset
    from cvx_core.path import regularization_path

    programs = []
    solve = ipm.solve_rows

    def record(*args, **kw):
        programs.append(args)
        return solve(*args, **kw)

    monkeypatch.setattr(solver, "solve_rows", record)
    X, y = make_dataset("spiral", 60)
    regularization_path(X, y, n_betas=40, min_ratio=1e-4)
    assert len(programs) > 40
    for Xb, C, A, jr, yy, beta in programs:
        res = solve(Xb, C, A, jr, yy, beta, tol=1e-10)
        assert res.status in ("Solved", "AlmostSolved", "NumericalError", "MaxIterations")
        assert np.all(np.isfinite(res.Z)) and max(res.gap, res.residual) <= 1e-6, (res.status, res.gap)


@pytest.mark.parametrize("spread", [1.0, 1e6])
def test_newton_system_single_precision_gram_solves_as_the_double_one(spread):
    """A single-precision Gram product, refined against the exact operator, solves the Newton
    system to the double one's accuracy; on badly conditioned blocks (eigenvalues spread over
    ``spread``**2) it either still does or falls back to the double product for good."""
    from cvx_core.solvers.blocks import _MaskedDesign
    from cvx_core.solvers.ipm import TAU, NewtonSystem

    rng = np.random.default_rng(11)
    n, d, m = 50, 6, 9
    X = add_bias(rng.standard_normal((n, d - 1)), True)
    C = (rng.random((m, n)) < 0.5).astype(float)
    B = rng.standard_normal((m, d + 1, d + 1))
    scale = np.logspace(0, np.log10(spread), d + 1)
    Wi2 = (B * scale) @ (B * scale).transpose(0, 2, 1) + 1e-3 * np.eye(d + 1)
    Q = np.zeros((m, d, d))
    r = rng.standard_normal((m, d + 1))
    H = Wi2.copy()

    def apply(P, x):  # (H + E'E) x with the exact operator
        out = np.einsum("jab,jb->ja", H, x)
        out[:, 1:] += P.raw_Et(P.raw_predict(x[:, 1:]))
        return out

    out = {}
    for single in (False, True):
        P = _MaskedDesign(C, X)
        system = NewtonSystem(P, TAU)
        system.factor(Wi2, Q, single=single)
        x = system.solve(r)
        out[single] = (x, np.linalg.norm(apply(P, x) - r) / np.linalg.norm(r), system.single_ok)
    (xd, rd, _), (xs, rs, kept) = out[False], out[True]
    if kept:  # the single factor sufficed: as accurate as asked
        assert rs <= 1e-10
    else:  # it fell back: the double factor's own solution
        assert np.array_equal(xs, xd)
    assert rs <= max(1e-10, 2 * rd)
    if spread == 1.0:
        assert kept and rd <= 1e-12


def test_compiled_block_factors_agree_with_lapack_and_flag_what_they_cannot_prove():
    from cvx_core.kernels.blocks import block_inverse_factors

    rng = np.random.default_rng(5)
    m, k, tau = 12, 7, 1e-6
    A = rng.standard_normal((m, k, k))
    H = A @ A.transpose(0, 2, 1) + 1e-2 * np.eye(k)
    H[3] = -np.eye(k)  # no Cholesky factor
    H[7] = np.diag(np.r_[1e-9, np.ones(k - 1)])  # an eigenvalue below tau: trace(H^-1) > 1 / tau
    Vs, Hinv, near = np.empty_like(H), np.empty_like(H), np.zeros(m, bool)
    block_inverse_factors(H, tau, Vs, Hinv, near)
    assert np.flatnonzero(near).tolist() == [3, 7]
    ok = ~near
    np.testing.assert_allclose(Hinv[ok], np.linalg.inv(H[ok]), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(Vs[ok] @ Vs[ok].transpose(0, 2, 1), Hinv[ok], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.tril(Vs[ok], -1), 0.0)  # L^-T is upper triangular


def test_compiled_cone_algebra_agrees_with_numpy():
    from cvx_core.kernels.blocks import ray_step, soc_inv_prod as inv_prod

    rng = np.random.default_rng(6)
    l0, l1 = _interior_points(rng, 40, 5)
    r0, r1 = rng.standard_normal(40), rng.standard_normal((40, 5))
    x0, x1 = np.empty(40), np.empty((40, 5))
    inv_prod(l0, l1, r0, r1, x0, x1)
    e0, e1 = soc_inv_prod(l0, l1, r0, r1)
    np.testing.assert_allclose(x0, e0, rtol=1e-12)
    np.testing.assert_allclose(x1, e1, rtol=1e-12, atol=1e-14)
    v, dv = rng.uniform(0.1, 1.0, (6, 9)), rng.standard_normal((6, 9))
    neg = dv < 0
    assert ray_step(v, dv) == pytest.approx(np.min(-v[neg] / dv[neg]), rel=1e-15)
    assert ray_step(v, np.abs(dv)) == np.inf


@pytest.mark.parametrize("loss", ["squared", "logistic", "hinge"])
def test_solve_design_takes_the_same_steps_with_and_without_the_compiled_kernels(loss, monkeypatch):
    import cvx_core.solvers.blocks as blocks
    import cvx_core.solvers.ipm as ipm

    assert ipm.block_kernels() is not None  # conftest loaded them
    Xb, y, C, sgn = _blocks(3, 30, 10, "leaky")
    R = np.random.default_rng(3).uniform(size=C.shape) < 0.4
    args = ((C, Xb), Xb, np.where(R, sgn, 0.0), y, 0.05, make_loss(loss))
    # a tolerance both routes reach well before their stall level (~1e-8 here), where rounding
    # decides between "Solved" and "AlmostSolved"
    compiled = solve_design(*args, tol=3e-8)
    monkeypatch.setattr(ipm, "block_kernels", lambda: None)
    monkeypatch.setattr(blocks, "block_kernels", lambda: None)
    plain = solve_design(*args, tol=3e-8)
    assert compiled.status == plain.status == "Solved"
    assert compiled.iterations == plain.iterations
    assert compiled.objective == pytest.approx(plain.objective, rel=1e-10)
    np.testing.assert_allclose(compiled.Z, plain.Z, rtol=1e-5, atol=1e-6 * np.abs(plain.Z).max())
