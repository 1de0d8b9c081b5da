"""A structured interior-point method for the group-lasso program with cone rows (squared loss).

Solves, for blocks ``j = 1..m`` with coefficient rows ``C_j (n,)`` and cone-row signs
``sgn_j (n,)`` on a row mask ``R_j`` (the rows imposed for block j),

    min_{z_j, t_j}  1/2 || sum_j C_j * (X z_j) - y ||^2 + beta sum_j t_j
    s.t.            ||z_j|| <= t_j,    sgn_jk x_k' z_j >= 0   (k in R_j),

i.e. the group lasso with cone constraints of docs/math.md section 3 on a working set (``C_j`` =
``s_j`` times the slopes of block j's pattern, ``sgn_j = 2 D_j - 1``).

Primal-dual path following with Nesterov-Todd scaling and Mehrotra's predictor-corrector
(the method of CVXOPT's ``coneqp``, L. Vandenberghe 2010). What makes it fast here is the
structure of each Newton system

    (H + E'E) dx = r,

where ``H`` is block diagonal (each block's second-order cone and its cone rows only touch
that block's d + 1 coordinates: (d+1) x (d+1) blocks) and ``E = [C_j * X]`` is the n x m d
prediction map. By the Woodbury identity one dense n x n Cholesky factorisation of
``I + E H^-1 E'`` (one BLAS product of the n x m d factor with itself) solves it; a generic
sparse LDL of the same KKT system pays for the dense coupling with fill. Cone rows cost only
a d x d update per row (``sum_k w_jk x_k x_k'``), so every row of every cell can be imposed
and no constraint generation is needed.

Accuracy: near the optimum each active block's ``H_j`` has a tiny eigenvalue (along its ray)
that a low-rank correction restores (see ``factor``), but these normal equations still stall
near a relative gap of 1e-8 (a dense solve of the same systems stalls there too; Clarabel's
quasi-definite KKT system does not). :mod:`cvx_core.solvers.interior` therefore uses this method to
find the optimum's structure and finishes with Newton's method on it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import blas, cho_factor, cho_solve, lapack, solve_triangular

_CHUNK_COLS = 4096  # columns of E per product when forming I + E H^-1 E'
STEP = 0.99  # fraction of the step to the boundary
TAU = 1e-6  # eigenvalues of H_j below tau * diag(E'E) are corrected by a low-rank update
STALL = 3  # iterations without a better iterate before stopping
_REFINE = 2  # iterative refinement steps per Newton solve


@dataclass
class IPMResult:
    Z: np.ndarray  # (m, d)
    status: str  # "Solved", "AlmostSolved", "MaxIterations" or "NumericalError"
    iterations: int
    gap: float  # relative complementarity gap s'z / objective at the returned point
    residual: float  # largest relative primal or dual residual there
    row_active: np.ndarray | None = None  # (m, n) bool: cone rows whose multiplier exceeds their slack
    block_dual: np.ndarray | None = None  # (m,) ||v_j|| / tau_j of each cone's multiplier (-> 1 on active blocks)


def soc_scaling(s0, s1, z0, z1):
    """Nesterov-Todd scaling of second-order cones (one per row): ``W z = W^-1 s = lam``.

    Returns ``(eta, w0, w1)`` with ``W = eta [[w0, w1'], [w1, I + w1 w1' / (1 + w0)]]``.
    """
    sJs = np.maximum(s0 * s0 - np.einsum("ij,ij->i", s1, s1), 1e-300)
    zJz = np.maximum(z0 * z0 - np.einsum("ij,ij->i", z1, z1), 1e-300)
    rs, rz = np.sqrt(sJs), np.sqrt(zJz)
    sb0, sb1 = s0 / rs, s1 / rs[:, None]
    zb0, zb1 = z0 / rz, z1 / rz[:, None]
    gamma = np.sqrt(np.maximum((1.0 + sb0 * zb0 + np.einsum("ij,ij->i", sb1, zb1)) / 2.0, 1e-300))
    w0 = (sb0 + zb0) / (2 * gamma)
    w1 = (sb1 - zb1) / (2 * gamma)[:, None]
    eta = np.sqrt(rs / rz)
    return eta, w0, w1


def soc_apply(eta, w0, w1, a0, a1, inverse=False):
    """``W a`` (or ``W^-1 a``) for the scalings of :func:`soc_scaling`."""
    w1a1 = np.einsum("ij,ij->i", w1, a1)
    if inverse:
        b0 = w0 * a0 - w1a1
        b1 = a1 + ((w1a1 / (1 + w0)) - a0)[:, None] * w1
        return b0 / eta, b1 / eta[:, None]
    b0 = w0 * a0 + w1a1
    b1 = a1 + ((w1a1 / (1 + w0)) + a0)[:, None] * w1
    return eta * b0, eta[:, None] * b1


def soc_inverse_square(eta, w0, w1):
    """``W^-2 = eta^-2 (2 J w w' J - J)`` of each cone, (m, d+1, d+1)."""
    m, d = w1.shape
    Wi2 = np.empty((m, d + 1, d + 1))
    Wi2[:, 0, 0] = 2 * w0 * w0 - 1
    Wi2[:, 0, 1:] = -2 * w0[:, None] * w1
    Wi2[:, 1:, 0] = Wi2[:, 0, 1:]
    Wi2[:, 1:, 1:] = 2 * w1[:, :, None] * w1[:, None, :] + np.eye(d)
    Wi2 /= (eta * eta)[:, None, None]
    return Wi2


def soc_inv_prod(l0, l1, r0, r1):
    """``x`` with ``l o x = r`` (Jordan product of the second-order cone)."""
    l1r1 = np.einsum("ij,ij->i", l1, r1)
    det = l0 * l0 - np.einsum("ij,ij->i", l1, l1)
    x0 = (l0 * r0 - l1r1) / det
    x1 = (r1 - x0[:, None] * l1) / l0[:, None]
    return x0, x1


def soc_max_step(u0, u1, v0, v1):
    """Largest ``a >= 0`` with ``u + a v`` in the cone (``u`` interior); ``inf`` if unbounded."""
    a = v0 * v0 - np.einsum("ij,ij->i", v1, v1)
    b = u0 * v0 - np.einsum("ij,ij->i", u1, v1)
    c = np.maximum(u0 * u0 - np.einsum("ij,ij->i", u1, u1), 0.0)
    out = np.full(u0.shape, np.inf)
    disc = b * b - a * c
    real = disc >= 0
    sq = np.sqrt(np.where(real, disc, 0.0))
    # roots of a t^2 + 2 b t + c = 0 in the stable pair form q / a and c / q
    q = -(b + np.where(b >= 0, sq, -sq))
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = np.where(a != 0, q / a, np.inf)
        r2 = np.where(q != 0, c / q, np.inf)
    for r in (r1, r2):
        ok = real & (r > 0)
        out = np.where(ok, np.minimum(out, r), out)
    # the linear case a = 0: one root -c / (2 b)
    lin = (a == 0) & (b < 0)
    out = np.where(lin, np.minimum(out, -c / (2 * np.where(lin, b, -1.0))), out)
    # a point leaving through the apex (u0 + t v0 = 0) is caught by the roots; guard anyway
    neg = v0 < 0
    out = np.where(neg, np.minimum(out, -u0 / np.where(neg, v0, -1.0)), out)
    return out


def _mehrotra_step(direction, l0, l1, lR, scaling, state, gap, mu, rows):
    """One predictor-corrector step (Mehrotra) of :func:`solve_blocks` (solve_rows' is compiled,
    :func:`cvx_core.kernels.rows.step`).

    ``direction(rs0, rs1, rsR)`` returns the search direction (dT, dZ, ds0, ds1, dS, dz0, dz1,
    dU) for a complementarity right-hand side; ``state`` = (T, Z, s0, s1, S, z0, z1, U) is
    updated in place. ``rows`` masks the imposed cone rows of the dense (m, n) row arrays.
    Returns the step length, or None when the direction is not finite (the state is then
    unchanged).
    """
    eta, w0, w1 = scaling
    _, _, s0, s1, S, z0, z1, U = state

    def max_step(ds0, ds1, dS, dz0, dz1, dU):
        # both cone families at once (one call each for the cones and the rows)
        a = np.min(soc_max_step(np.concatenate([s0, z0]), np.vstack([s1, z1]),
                                 np.concatenate([ds0, dz0]), np.vstack([ds1, dz1])), initial=np.inf)
        for v, dv in ((S, dS), (U, dU)):  # the rows (dense (m, n): no concatenated copies)
            neg = dv < 0
            if neg.any():
                a = min(a, float(np.min(-v[neg] / dv[neg])))
        return a

    # predictor (affine scaling): rs = -lam o lam
    ll0 = l0 * l0 + np.einsum("ij,ij->i", l1, l1)
    ll1 = 2 * l0[:, None] * l1
    llR = lR * lR
    aff = direction(-ll0, -ll1, -llR)
    a_aff = min(1.0, max_step(*aff[2:]))
    _, _, ds0, ds1, dS, dz0, dz1, dU = aff
    gap_aff = (np.vdot(s0 + a_aff * ds0, z0 + a_aff * dz0) + np.vdot(s1 + a_aff * ds1, z1 + a_aff * dz1)
               + np.vdot(S + a_aff * dS, U + a_aff * dU))
    sigma = min(1.0, max(0.0, gap_aff / gap)) ** 3
    # corrector: rs = -lam o lam - (W^-1 ds_a) o (W dz_a) + sigma mu e; on the cone rows
    # (W^-1 dS) o (W dU) is dS dU
    A0, A1 = soc_apply(eta, w0, w1, ds0, ds1, inverse=True)
    B0, B1 = soc_apply(eta, w0, w1, dz0, dz1)
    c0 = A0 * B0 + np.einsum("ij,ij->i", A1, B1)
    c1 = A0[:, None] * B1 + B0[:, None] * A1
    rR = -llR - dS * dU + sigma * mu
    comb = direction(-ll0 - c0 + sigma * mu, -ll1 - c1, np.where(rows, rR, 0.0))
    alpha = min(1.0, STEP * max_step(*comb[2:]))
    if not np.isfinite(alpha) or not all(np.all(np.isfinite(v)) for v in comb):
        return None
    for x, dx in zip(state, comb):
        x += alpha * dx
    return alpha


def predict(X, C, Z):
    """Predictions ``sum_j C_j * (X z_j)`` of blocks ``Z (m, d)`` with coefficients ``C (m, n)``."""
    return np.einsum("mn,nm->n", C, X @ Z.T)


def _unfinished_status(status: str, score: float, accept: float) -> str:
    """The status of a run that stopped before its tolerance: "AlmostSolved" (its best iterate
    is returned) when that iterate's larger of relative gap and residual is at most
    ``accept``, else the reason it stopped. Each method says what it accepts and why."""
    return "AlmostSolved" if score <= accept else status


class _Blocks:
    """The data of one program and the products with ``E`` (``C_j * X``) and the cone rows."""

    def __init__(self, X, C, sgn, R, y):
        self.X, self.C, self.y = X, C, y
        self.n, self.d = X.shape
        self.m = C.shape[0]
        self.R = R
        self.SR = np.where(R, sgn, 0.0)  # signs on imposed rows, 0 elsewhere
        self.Xouter = (X[:, :, None] * X[:, None, :]).reshape(self.n, -1)
        self.nrows = int(R.sum())

    def predict(self, Z):
        return predict(self.X, self.C, Z)

    def Et(self, w):
        """``E' w`` as (m, d)."""
        return (self.C * w) @ self.X

    def columns(self, Vs, a, k):
        """``[E_j Vs_j]`` for blocks ``a..a+k`` laid out (n, k (d+1)) (``Vs`` (k, d+1, d+1))."""
        d = self.d
        # one product: no transposed copy
        F = self.X @ Vs[:, 1:, :].transpose(1, 0, 2).reshape(d, k * (d + 1))
        F *= np.repeat(self.C[a:a + k].T, d + 1, axis=1)
        return F

    def ray_columns(self, js, V):
        """``E_j v`` for block ``js[p]`` and z-part ``V[p]``, as (n, p)."""
        return (self.C[js] * (V @ self.X.T)).T


class NewtonSystem:
    """The Newton systems ``(H + E'E) x = r`` of one program: ``H`` block diagonal (one
    (d+1) x (d+1) block per cone, from the scaling), ``E'E`` dense through the n x n matrix
    ``K = I + F F'`` factored once per iteration.

    Near the optimum each active block's ``H_j`` has one tiny eigenvalue (the direction along
    its ray, which only ``E'E`` curves), so ``H^-1`` in the Woodbury formula would cancel
    catastrophically. Eigenvalues below ``tau`` are raised to ``tau`` (``H_big``, whose inverse
    is bounded) and restored by a second, low-rank Woodbury correction
    ``H = H_big - V diag(tau - ev) V'`` over those few directions; its capacitance matrix
    ``diag(1/(tau - ev) - 1/tau) + (E V / tau)' K^-1 (E V / tau)`` is formed without
    cancellation.
    """

    def __init__(self, P: "_Blocks", tau: float):
        self.P, self.tau = P, tau
        self.fac = None

    def factor(self, Wi2, Q):
        """Factor ``H + E'E``: ``Wi2`` (m, d+1, d+1) the cones' scaled inverses, ``Q`` (m, d, d)
        the cone rows' ``sum_k w_jk x_k x_k'``."""
        P, tau = self.P, self.tau
        m, d, n = P.m, P.d, P.n
        H = Wi2.copy()
        H[:, 1:, 1:] += Q
        ev, V = np.linalg.eigh(H)
        Vs = V / np.sqrt(np.maximum(ev, tau))[:, None, :]  # H_big^-1/2
        Hinv = Vs @ Vs.transpose(0, 2, 1)
        K = np.eye(n, order="F")
        step = max(1, _CHUNK_COLS // (d + 1))
        for a in range(0, m, step):
            k = min(step, m - a)
            F = P.columns(Vs[a:a + k], a, k)
            K = blas.dsyrk(1.0, F, beta=1.0, c=K, lower=1, overwrite_c=1)  # K += F F' (lower half)
        LK = np.linalg.cholesky(K)
        js, ks = np.nonzero(ev < tau)
        low = None
        if js.size:
            Vl = V[js, :, ks]  # (p, d+1) the raised directions
            B = P.ray_columns(js, Vl[:, 1:]) / tau  # (n, p) = E H_big^-1 V
            Wb = solve_triangular(LK, B, lower=True, check_finite=False)
            lam = np.maximum(ev[js, ks], 0.0)  # H is PSD: a negative eigenvalue is rounding
            cap = Wb.T @ Wb
            cap[np.diag_indices_from(cap)] += lam / (tau * (tau - lam))
            cap[np.diag_indices_from(cap)] += 1e-15 * np.max(np.diag(cap), initial=0.0)
            try:
                cc = cho_factor(cap, lower=True, check_finite=False)
            except np.linalg.LinAlgError:
                # near the optimum the correction can be numerically singular: its
                # pseudo-inverse (eigenvalues below 1e-14 of the largest dropped) instead
                w, Q = np.linalg.eigh(cap)
                keep = w > 1e-14 * max(w.max(initial=0.0), 1e-300)
                cc = (Q[:, keep] / w[keep]) @ Q[:, keep].T
            low = (js, Vl, cc)
        self.fac = (H, Hinv, (LK, True), low)

    def _woodbury(self, r):
        """``(H_big + E'E)^-1 r``."""
        _, Hinv, cK, _ = self.fac
        P = self.P
        a = np.einsum("jab,jb->ja", Hinv, r)
        w = cho_solve(cK, P.predict(a[:, 1:]), check_finite=False)
        b = r.copy()
        b[:, 1:] -= P.Et(w)
        return np.einsum("jab,jb->ja", Hinv, b)

    def _once(self, r):
        """``(H + E'E)^-1 r`` by the two Woodbury steps."""
        x = self._woodbury(r)
        low = self.fac[3]
        if low is None:
            return x
        js, Vl, cc = low
        c = np.einsum("pa,pa->p", Vl, x[js])
        yv = cc @ c if isinstance(cc, np.ndarray) else cho_solve(cc, c, check_finite=False)
        r2 = np.zeros_like(r)
        np.add.at(r2, js, Vl * yv[:, None])
        return x + self._woodbury(r2)

    def solve(self, r):
        """``(H + E'E)^-1 r`` for r (m, d+1), with iterative refinement against ``H`` itself
        (stopped when a step no longer halves the residual)."""
        H = self.fac[0]
        P = self.P
        x = self._once(r)
        res = x_prev = None
        for _ in range(_REFINE):
            Ax = np.einsum("jab,jb->ja", H, x)
            Ax[:, 1:] += P.Et(P.predict(x[:, 1:]))
            e = r - Ax
            en = np.linalg.norm(e)
            if res is not None and en > 0.5 * res:
                x = x_prev
                break
            res, x_prev = en, x
            x = x + self._once(e)
        return x


def solve_blocks(X, C, sgn, R, y, beta, *, tol: float = 1e-10, max_iter: int = 100) -> IPMResult:
    """Solve the program of the module docstring.

    Parameters
    ----------
    X : ndarray (n, d)
    C : ndarray (m, n)
        Coefficient of each block on each sample (``s_j`` times the activation slopes).
    sgn : ndarray (m, n)
        +-1: the side of sample k's hyperplane on which block j's cell lies.
    R : ndarray of bool (m, n)
        The cone rows imposed for each block.
    y : ndarray (n,)
    beta : float
    tol : float
        Relative tolerance on the complementarity gap and the residuals.
    """
    P = _Blocks(np.asarray(X, float), np.asarray(C, float), np.asarray(sgn, float),
                np.asarray(R, bool), np.asarray(y, float))
    beta = float(beta)
    m, d = P.m, P.d
    Rf = P.R.astype(float)
    nu = m + P.nrows  # degree of the cone
    q_norm = np.sqrt(beta * beta * m + np.sum(P.Et(P.y) ** 2))
    tau = TAU * max(1.0, float(np.mean(P.C ** 2) * np.sum(P.X ** 2)) / d)  # ~ diag of E'E

    # ---- initial point (CVXOPT's): the least-squares solve with W = I, shifted into the cones
    system = NewtonSystem(P, tau)
    Wi2 = np.broadcast_to(np.eye(d + 1), (m, d + 1, d + 1))
    system.factor(Wi2, (Rf @ P.Xouter).reshape(m, d, d))
    rhs = np.zeros((m, d + 1))
    rhs[:, 0] = -beta
    rhs[:, 1:] = P.Et(P.y)
    x = system.solve(rhs)
    T, Z = x[:, 0].copy(), x[:, 1:].copy()
    XZ = (Z @ P.X.T)  # (m, n)
    s0, s1 = T.copy(), Z.copy()  # s = -G x
    S = P.SR * XZ
    z0, z1 = -T, -Z  # z = G x
    U = -S

    # one common shift per cone family and variable, as in CVXOPT (over both families)
    a_s = max(np.max(np.linalg.norm(s1, axis=1) - s0, initial=-np.inf), np.max(-S[P.R], initial=-np.inf))
    a_z = max(np.max(np.linalg.norm(z1, axis=1) - z0, initial=-np.inf), np.max(-U[P.R], initial=-np.inf))
    if a_s >= 0:
        s0 = s0 + 1 + a_s
        S = S + 1 + a_s
    if a_z >= 0:
        z0 = z0 + 1 + a_z
        U = U + 1 + a_z
    S = np.where(P.R, S, 1.0)
    U = np.where(P.R, U, 0.0)

    status = "MaxIterations"
    gap_rel = res_rel = np.inf
    best = None
    since_best = 0
    it = 0
    for it in range(1, max_iter + 1):
        XZ = Z @ P.X.T
        res = np.einsum("mn,mn->n", P.C, XZ) - P.y
        # residuals: r_x = -(P x + q + G' z), r_z = -(G x + s)
        rxT = z0 - beta
        rxZ = z1 + (U * P.SR) @ P.X - P.Et(res)
        rzT = T - s0
        rzZ = Z - s1
        rzR = (P.SR * XZ - S) * Rf
        pobj = 0.5 * res @ res + beta * T.sum()
        gap = s0 @ z0 + np.einsum("ij,ij->", s1, z1) + np.einsum("ij,ij->", S, U)
        pres = np.sqrt(rzT @ rzT + np.sum(rzZ ** 2) + np.sum(rzR ** 2)) / (1.0 + np.sqrt(T @ T + np.sum(Z ** 2)))
        dres = np.sqrt(rxT @ rxT + np.sum(rxZ ** 2)) / (1.0 + q_norm)
        gap_rel = gap / max(abs(pobj), 1e-300)
        res_rel = max(pres, dres)
        if best is None or max(gap_rel, res_rel) < best[0]:
            best = (max(gap_rel, res_rel), Z.copy(), gap_rel, res_rel, P.R & (U > S),
                    np.linalg.norm(z1, axis=1) / np.maximum(z0, 1e-300))
            since_best = 0
        else:
            since_best += 1
            if since_best >= STALL and best[0] < 1e-5:  # rounding limits the accuracy: keep the best iterate
                break
        if gap_rel <= tol and res_rel <= tol:
            status = "Solved"
            break
        mu = gap / nu

        # ---- scaling
        eta, w0, w1 = soc_scaling(s0, s1, z0, z1)
        l0, l1 = soc_apply(eta, w0, w1, z0, z1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(P.R, U / S, 0.0)  # W^-2 of the cone rows
        lR = np.sqrt(S * U)
        wR = np.where(P.R, np.sqrt(S / np.where(P.R, U, 1.0)), 1.0)  # W of the cone rows
        Wi2 = soc_inverse_square(eta, w0, w1)
        try:
            system.factor(Wi2, (ratio @ P.Xouter).reshape(m, d, d))
        except (np.linalg.LinAlgError, ValueError):
            status = "NumericalError"
            break

        def direction(rs0, rs1, rsR):
            """Search direction for the complementarity right-hand side ``rs`` (lambda space)."""
            q0, q1 = soc_inv_prod(l0, l1, rs0, rs1)
            qR = np.where(P.R, rsR / np.where(P.R, lR, 1.0), 0.0)
            Wq0, Wq1 = soc_apply(eta, w0, w1, q0, q1)
            xi0, xi1 = rzT - Wq0, rzZ - Wq1
            xiR = rzR - wR * qR
            # rhs = r_x + G' W^-2 xi  (G = -I on the cones, -sgn x_k' on the rows)
            v0 = np.einsum("jb,jb->j", Wi2[:, 0, :], np.column_stack([xi0, xi1]))
            v1 = np.einsum("jab,jb->ja", Wi2[:, 1:, :], np.column_stack([xi0, xi1]))
            r = np.empty((m, d + 1))
            r[:, 0] = rxT - v0
            r[:, 1:] = rxZ - v1 - (P.SR * ratio * xiR) @ P.X
            dx = system.solve(r)
            dT, dZ = dx[:, 0], dx[:, 1:]
            ds0, ds1 = rzT + dT, rzZ + dZ
            dS = (rzR + P.SR * (dZ @ P.X.T)) * Rf
            # dz = W^-1 (q - W^-1 ds)
            a0, a1 = soc_apply(eta, w0, w1, ds0, ds1, inverse=True)
            dz0, dz1 = soc_apply(eta, w0, w1, q0 - a0, q1 - a1, inverse=True)
            with np.errstate(divide="ignore", invalid="ignore"):
                dU = np.where(P.R, (qR - dS / wR) / wR, 0.0)
            return dT, dZ, ds0, ds1, dS, dz0, dz1, dU

        alpha = _mehrotra_step(direction, l0, l1, lR, (eta, w0, w1),
                               (T, Z, s0, s1, S, z0, z1, U), gap, mu, P.R)
        if alpha is None or alpha < 1e-10:
            status = "NumericalError"
            break
    score, Zb, g, r, act_rows, bdual = best
    if status != "Solved":
        # it only has to find the optimum's structure (interior.py polishes the point)
        status = _unfinished_status(status, score, max(1e3 * tol, 1e-7))
        Z, gap_rel, res_rel = Zb, g, r
    return IPMResult(Z, status, it, float(gap_rel), float(res_rel), act_rows, bdual)


def solve_rows(X, C, A, jr, y, beta, *, tol: float = 1e-6, max_iter: int = 60) -> IPMResult:
    """The program of the module docstring with few cone rows per block, given as a list.

    For working sets of cells with known facets (design matrices with at most 3 columns): row
    ``r`` imposes ``A_r' z_{jr_r} >= 0`` (``A_r = sgn x_k``, a facet normal of block ``jr_r``).
    The same primal-dual method as :func:`solve_blocks`, with the row terms held per row
    instead of as (m, n) masks, ``t`` eliminated block by block (the Newton matrix on ``z`` is
    ``S + E'E`` with each ``S_j`` only d x d), and ``I + E S^-1 E'`` formed by one BLAS
    product of an n x m d factor: per iteration one n x n Cholesky factorisation and loops
    over the blocks and rows, compiled (:mod:`cvx_core.kernels.rows`: as NumPy the method is
    mostly call overhead). Near
    the optimum (relative gap below 1e-3) each Newton solve is refined against the exact
    operator; there is no low-rank correction, so it stalls near a relative gap of 1e-8: meant
    for the loose rounds of the working-set solver (tol ~1e-6), whose accurate rounds stay with
    Clarabel. Rows may come in any order; blocks may have none.
    """
    from ..kernels import rows as kernel  # compiled on first use (numba), then cached on disk

    X = np.ascontiguousarray(X, dtype=float)
    C = np.ascontiguousarray(C, dtype=float)
    y = np.ascontiguousarray(y, dtype=float)
    jr = np.asarray(jr, np.int64)
    beta = float(beta)
    n, d = X.shape
    m, R = C.shape[0], len(jr)
    order = np.argsort(jr, kind="stable")  # rows grouped by block, for segment sums
    A = np.ascontiguousarray(np.asarray(A, float).reshape(R, d)[order])
    jr = jr[order]
    starts = np.zeros(m + 1, np.int64)
    np.cumsum(np.bincount(jr, minlength=m), out=starts[1:])

    E = kernel.prediction_map(X, C)
    work = (np.empty((m, d + 1, d + 1)), np.empty((m, d, d)), np.empty((m, d, d)),
            np.empty((m, d, d)), np.empty((n, m * d)))  # W^-2, row Hessians, S^-1, S^-1/2, factor
    F = work[4]

    def gram_factor():  # Cholesky factor of I + F F' (one dsyrk: no copy of F, half a GEMM)
        K = blas.dsyrk(1.0, F.T, beta=1.0, c=np.eye(n, order="F"), trans=1, lower=1)
        LK, info = lapack.dpotrf(K, lower=1, clean=0)
        return LK if info == 0 else None

    LK = gram_factor() if kernel.initial_factor(E, A, starts, work) else None
    if LK is None:
        return IPMResult(np.zeros((m, d)), "NumericalError", 0, np.inf, np.inf)
    state = kernel.initial_point(E, A, jr, y, beta, _REFINE, work, LK)
    scaling = (np.empty(m), np.empty(m), np.empty((m, d)), np.empty(m), np.empty((m, d)))
    Z = state[1]
    rx = (np.empty(m), np.empty((m, d)))
    rz = (np.empty(m), np.empty((m, d)), np.empty(R))
    Ety = y @ E
    q_norm = np.sqrt(beta * beta * m + Ety @ Ety)
    status = "MaxIterations"
    best = None
    it = 0
    for it in range(1, max_iter + 1):
        pobj, gap, nrz, ntz, nrx = kernel.residuals(E, A, jr, y, beta, state, rx, rz)
        gap_rel = gap / max(abs(pobj), 1e-300)
        res_rel = max(nrz / (1.0 + ntz), nrx / (1.0 + q_norm))
        score = max(gap_rel, res_rel)
        if best is None or score < best[0]:
            best = (score, Z.copy(), gap_rel, res_rel)
        if gap_rel <= tol and res_rel <= tol:
            status = "Solved"
            break
        # the factor loses accuracy as the gap closes (S_j singular along active rays); until
        # then the refinement changes nothing measurable
        LK = gram_factor() if kernel.scale(A, starts, E, state, scaling, work) else None
        alpha = -1.0 if LK is None else kernel.step(
            E, A, jr, state, rx, rz, gap, gap / (m + R), _REFINE if gap_rel < 1e-3 else 0, STEP,
            scaling, work, LK)
        if alpha < 1e-10:  # -1: a factorisation failed or the direction was not finite
            status = "NumericalError"
            break
    score, Zb, g, r = best
    if status != "Solved":
        # a loose round's point: its certificate is checked over all cells anyway
        status = _unfinished_status(status, score, 10 * tol)
        Z, gap_rel, res_rel = Zb, g, r
    return IPMResult(Z, status, it, float(gap_rel), float(res_rel))
