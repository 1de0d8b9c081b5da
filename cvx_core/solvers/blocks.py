"""A primal-dual interior point for group-lasso programs with cone rows, any loss, any design.

Over blocks ``j = 1..m`` with designs ``A_j (n, d)`` and shared row vectors ``R (r, d)``,

    min_{z_j, t_j}  L( sum_j A_j z_j , y ) + beta sum_j t_j
    s.t.            ||z_j|| <= t_j,    sgn_jk R_k' z_j >= 0   (sgn_jk != 0),

for the squared, logistic and hinge losses. The plain program of docs/math.md section 3 is
``A_j = s_j S_{i_j} Xb`` with the data rows as ``R``; a convolutional network's block sums its
patches (``A_j = sum_k S^k_j X_k``) and its rows are the patch vectors.

Primal-dual path following with Nesterov-Todd scaling and Mehrotra's predictor-corrector (the
method of CVXOPT's ``coneqp``, L. Vandenberghe 2010); the Newton matrix ``H + E' Dh E`` (``H``
block diagonal, one (d+1) x (d+1) block per cone, cone rows a d x d update each) is solved
through one n x n Cholesky factor by :class:`cvx_core.solvers.ipm.NewtonSystem`. The loss
enters only through a diagonal ``Dh`` over the samples:

* squared and logistic: the loss is a smooth objective; each iteration linearises the
  gradient ``E'grad L`` and takes ``Dh = diag(L'')`` (a primal-dual method for a convex smooth
  objective under conic constraints, as CVXOPT's ``cp``);
* hinge: slacks ``xi >= 0``, ``xi + y * f >= 1`` (two orthants per sample), eliminated from the
  Newton system, which leaves ``Dh = da db / (da + db)`` of their scalings.

At a point with small residuals the duality gap ``s'u`` bounds the suboptimality, and the dual
vector ``lambda = -grad L(f)`` (hinge: ``y * u_b``) is the certificate's candidate: the
pricing over all patterns (:mod:`.high_dim`) decides.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Loss
from ..threads import cover_scipy
from .ipm import (STALL, STEP, TAU, NewtonSystem, block_kernels, soc_apply, soc_inv_prod,
                  soc_inverse_square, soc_max_step, soc_scaling)

_BACKTRACK = 6  # halvings of a smooth loss's step at most
# steps are damped only this far from the optimum: near it Newton's full steps converge fast
_DAMP_ABOVE = 1e-2
# the Gram product in single precision (half the time) while the relative gap or residual is
# above this; nearer the optimum K is too ill-conditioned for it (see NewtonSystem.solve)
_SINGLE_ABOVE = 1e-2
# the Newton solves are refined against the exact operator only this near the optimum:
# before, one solve's rounding (~1e-12 relative) is far below what the step needs (loose
# solves took the same iterations to 1e-9 of the same objectives without it)
_REFINE_BELOW = 1e-4
_WEIGHTED_ABOVE = 1e-3  # relative gap above which each family of pairs is centred at its own mean
_SINGLE_MIN_WORK = 1e8  # n^2 m (d+1), the Gram product's multiply-adds
_EARLY = 0.1  # the relative gap of the iterate kept to restart a program with more rows


@dataclass
class DesignResult:
    Z: np.ndarray  # (m, d) blocks
    yhat: np.ndarray  # (n,) predictions sum_j A_j z_j
    lam: np.ndarray  # (n,) dual vector
    objective: float
    status: str  # "Solved", "AlmostSolved", "MaxIterations" or "NumericalError"
    iterations: int
    gap: float  # relative complementarity gap at the returned point
    residual: float  # largest relative primal or dual residual there
    state: tuple = ()  # the last iterate, to resume the same program at a tighter tolerance
    row_active: np.ndarray | None = None  # (m, r) bool: imposed rows whose multiplier exceeds their slack
    block_dual: np.ndarray | None = None  # (m,) ||z1_j|| / z0_j of each cone's multiplier (-> 1 on active blocks)
    early: tuple | None = None  # the first iterate at relative gap <= _EARLY, to restart a changed program from


class _Design:
    """The blocks' designs as ``E = [A_1 .. A_m]`` (n, m d), with the loss curvature's square
    root ``w`` applied in the products :class:`NewtonSystem` uses (``predict`` and ``Et``)."""

    def __init__(self, A):
        self.m, self.n, self.d = A.shape
        self.A = A
        self.E = np.ascontiguousarray(A.transpose(1, 0, 2).reshape(self.n, -1))
        self.w = np.ones(self.n)

    def raw_predict(self, Z):
        return self.E @ Z.ravel()

    def raw_Et(self, v):
        return (v @ self.E).reshape(self.m, self.d)

    def predict(self, Z):
        return self.w * self.raw_predict(Z)

    def Et(self, v):
        return self.raw_Et(self.w * v)

    def columns(self, Wz, a, k, dtype=np.float64):
        """``F = [A_j Wz_j]`` for blocks ``a .. a+k``, with the curvature's root ``w``: (n, k d)."""
        F = np.einsum("jnd,jde->nje", self.A[a:a + k], Wz, optimize=True)
        return (F.reshape(self.n, -1) * self.w[:, None]).astype(dtype, copy=False)

    def ray_columns(self, js, V):
        return np.einsum("pnd,pd->np", self.A[js], V) * self.w[:, None]

    def square_norm(self):
        return float(np.sum(self.A ** 2))


class _MaskedDesign(_Design):
    """The designs ``A_j = diag(c_j) X`` of the plain program (a pattern's slopes times the
    data): products through ``X`` (n, d) and ``C`` (m, n) without forming the n x m d map
    (memory-bound products with it were ~1 ms each at n = 426, m = 180, d = 31; these are
    small GEMMs)."""

    def __init__(self, C, X):
        self.C = np.ascontiguousarray(C, dtype=float)
        self.X = np.ascontiguousarray(X, dtype=float)
        self.m, self.n = self.C.shape
        self.d = self.X.shape[1]
        self.w = np.ones(self.n)

    def raw_predict(self, Z):
        return np.einsum("mn,mn->n", self.C, Z @ self.X.T)

    def raw_Et(self, v):
        return (self.C * v) @ self.X

    def columns(self, Wz, a, k, dtype=np.float64):
        d = self.d
        V = np.ascontiguousarray(Wz.transpose(1, 0, 2), dtype=dtype).reshape(d, -1)  # one copy
        XV = (self.X.astype(dtype, copy=False) @ V).reshape(self.n, k, d)  # (n, k, d)
        XV *= (self.C[a:a + k].T * self.w[:, None]).astype(dtype, copy=False)[:, :, None]
        return XV.reshape(self.n, -1)

    def ray_columns(self, js, V):
        return (self.X @ V.T) * self.C[js].T * self.w[:, None]

    def square_norm(self):
        return float((self.C ** 2).sum(axis=0) @ (self.X ** 2).sum(axis=1))


def smooth_loss(loss: Loss, f, y):
    """Value, gradient and curvature of a smooth loss at ``f``."""
    if loss.name == "squared":
        r = f - y
        return 0.5 * float(r @ r), r, np.ones_like(f)
    m = y * f
    p = 0.5 * (1.0 + np.tanh(-0.5 * m))  # sigma(-m) without overflow
    return float(np.sum(np.logaddexp(0.0, -m))), -y * p, p * (1.0 - p)


def _initial_point(P, system, R, SR, M, Mf, Router, y, beta, g0, h0, hinge):
    """CVXOPT's initial point: one Newton solve with identity scalings, shifted into the cones."""
    m, n, d = P.m, P.n, P.d
    P.w = np.sqrt(h0)
    system.factor(np.broadcast_to(np.eye(d + 1), (m, d + 1, d + 1)), (Mf @ Router).reshape(m, d, d))
    rhs = np.zeros((m, d + 1))
    rhs[:, 0] = -beta
    rhs[:, 1:] = -P.raw_Et(g0)
    x = system.solve(rhs)
    T, Z = x[:, 0].copy(), x[:, 1:].copy()
    S = SR * (Z @ R.T)
    s0, s1, z0, z1, U = T.copy(), Z.copy(), -T, -Z, -S
    a_s = max(np.max(np.linalg.norm(s1, axis=1) - s0, initial=-np.inf), np.max(-S[M], initial=-np.inf))
    a_z = max(np.max(np.linalg.norm(z1, axis=1) - z0, initial=-np.inf), np.max(-U[M], initial=-np.inf))
    if a_s >= 0:
        s0, S = s0 + 1 + a_s, S + 1 + a_s
    if a_z >= 0:
        z0, U = z0 + 1 + a_z, U + 1 + a_z
    # the shift gives each of the ~3d homogeneous rows per block as much complementarity as a
    # whole cone; scaled down to the cones' total, the rows no longer dominate mu (cold solves
    # of the search's working sets: about 30 % fewer iterations, every loss)
    g_soc = s0 @ z0 + np.einsum("ij,ij->", s1, z1)
    g_rows = float(np.sum(S[M] * U[M]))
    if g_rows > g_soc > 0:
        c = np.sqrt(g_soc / g_rows)
        S, U = S * c, U * c
    S = np.where(M, S, 1.0)
    U = np.where(M, U, 0.0)
    if hinge:
        f = P.raw_predict(Z)
        xi = np.maximum(1.0 - y * f, 0.0) + 1.0
        sa, sb = xi.copy(), xi + y * f - 1.0
        ua, ub = np.full(n, 0.5), np.full(n, 0.5)
    rest = (xi, sa, ua, sb, ub) if hinge else ()
    return (T, Z, s0, s1, S, z0, z1, U, *rest)


def _damped(P, loss, y, f, comb, alpha, z0, z1, U, SR, R, beta, q_norm, bound):
    """The step length for a smooth loss: ``alpha`` halved (a few times at most) while the dual
    residual at the new point, with the loss's true gradient there, exceeds ``bound``. Newton's
    linearisation of the logistic gradient can be far off for long steps, and undamped such
    steps send the iterates away (objective 300 -> 20 000, 100 iterations without converging)."""
    dZ, dz0, dz1, dU = comb[1], comb[5], comb[6], comb[7]
    dF = P.raw_predict(dZ)
    for _ in range(_BACKTRACK):
        _, g, _ = smooth_loss(loss, f + alpha * dF, y)
        rT = z0 + alpha * dz0 - beta
        rZ = z1 + alpha * dz1 + ((U + alpha * dU) * SR) @ R - P.raw_Et(g)
        if np.sqrt(rT @ rT + np.sum(rZ ** 2)) / (1.0 + q_norm) <= bound:
            break
        alpha *= 0.5
    return alpha


class _Cones:
    """The cones' and cone rows' algebra of :func:`solve_design`: NumPy (:mod:`.ipm`'s
    ``soc_*`` and the array expressions below), or the compiled loops of
    :mod:`cvx_core.kernels.blocks` when they are loaded (the same numbers to rounding, without
    a hundred small array calls per iteration)."""

    def __init__(self, kern):
        self.kern = kern

    def scaling(self, s0, s1, z0, z1):
        """``(eta, w0, w1, l0, l1, Wi2)``: the Nesterov-Todd scalings, ``lam = W z``, ``W^-2``."""
        k = self.kern
        if k is None:
            eta, w0, w1 = soc_scaling(s0, s1, z0, z1)
            return (eta, w0, w1, *soc_apply(eta, w0, w1, z0, z1), soc_inverse_square(eta, w0, w1))
        m, d = s1.shape
        eta, w0, w1, l0, l1 = np.empty(m), np.empty(m), np.empty((m, d)), np.empty(m), np.empty((m, d))
        k.nt_scaling(s0, s1, z0, z1, eta, w0, w1)
        k.apply_w(eta, w0, w1, z0, z1, False, l0, l1)
        Wi2 = np.empty((m, d + 1, d + 1))
        k.inverse_square(eta, w0, w1, Wi2)
        return eta, w0, w1, l0, l1, Wi2

    def apply(self, eta, w0, w1, a0, a1, inverse=False):
        if self.kern is None:
            return soc_apply(eta, w0, w1, a0, a1, inverse=inverse)
        o0, o1 = np.empty(a1.shape[0]), np.empty(a1.shape)
        self.kern.apply_w(eta, w0, w1, a0, a1, inverse, o0, o1)
        return o0, o1

    def inv_prod(self, l0, l1, r0, r1):
        if self.kern is None:
            return soc_inv_prod(l0, l1, r0, r1)
        x0, x1 = np.empty(l1.shape[0]), np.empty(l1.shape)
        self.kern.soc_inv_prod(l0, l1, r0, r1, x0, x1)
        return x0, x1

    def max_step(self, s0, s1, z0, z1, ds0, ds1, dz0, dz1, pairs):
        """Largest step keeping both cones' points and every ``(v, dv)`` of ``pairs`` feasible."""
        k = self.kern
        if k is None:
            a = np.min(soc_max_step(np.concatenate([s0, z0]), np.vstack([s1, z1]),
                                     np.concatenate([ds0, dz0]), np.vstack([ds1, dz1])), initial=np.inf)
        else:
            a = min(k.soc_step(s0, s1, ds0, ds1), k.soc_step(z0, z1, dz0, dz1))
        for v, dv in pairs:
            if k is not None and v.ndim == 2:
                a = min(a, k.ray_step(v, dv))
                continue
            neg = dv < 0
            if neg.any():
                a = min(a, float(np.min(-v[neg] / dv[neg])))
        return a

    # the cone rows, (m, n) arrays of which the mask M marks the imposed entries

    def rows_residual(self, SR, XZ, S, U, M, Mf):
        """``rzR = sgn x'z - S`` (imposed rows) and the rows' complementarity ``sum S U``."""
        if self.kern is None:
            return (SR * XZ - S) * Mf, float(np.einsum("ij,ij->", S * Mf, U))
        rzR = np.empty(S.shape)
        return rzR, self.kern.rows_residual(SR, XZ, S, U, M, rzR)

    def rows_scaling(self, S, U, M):
        """``(U / S, sqrt(S U), sqrt(S / U))`` on the imposed rows (0, 0, 1 elsewhere)."""
        if self.kern is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(M, U / S, 0.0)
            return ratio, np.sqrt(S * U), np.where(M, np.sqrt(S / np.where(M, U, 1.0)), 1.0)
        out = np.empty(S.shape), np.empty(S.shape), np.empty(S.shape)
        self.kern.rows_scaling(S, U, M, *out)
        return out

    def rows_rhs(self, rsR, lR, wR, rzR, SR, ratio, M):
        """``qR = rsR / lR`` and ``sgn ratio (rzR - wR qR)`` (the rows' part of the right side)."""
        if self.kern is None:
            qR = np.where(M, rsR / np.where(M, lR, 1.0), 0.0)
            return qR, SR * ratio * (rzR - wR * qR)
        qR, T = np.empty(M.shape), np.empty(M.shape)
        self.kern.rows_rhs(rsR, lR, wR, rzR, SR, ratio, M, qR, T)
        return qR, T

    def rows_step(self, rzR, SR, dZR, M, Mf, qR, wR):
        """The rows' ``dS = rzR + sgn x'dz`` and ``dU = (qR - dS / wR) / wR``."""
        if self.kern is None:
            dS = (rzR + SR * dZR) * Mf
            return dS, np.where(M, (qR - dS / wR) / wR, 0.0)
        dS, dU = np.empty(M.shape), np.empty(M.shape)
        self.kern.rows_step(rzR, SR, dZR, M, qR, wR, dS, dU)
        return dS, dU

    def rows_gap(self, S, dS, U, dU, a):
        """The rows' complementarity ``sum (S + a dS)(U + a dU)`` after a step ``a``."""
        if self.kern is None:
            return float(np.vdot(S + a * dS, U + a * dU))
        return self.kern.rows_gap(S, dS, U, dU, a)


def solve_design(A, R, sgn, y, beta, loss: Loss, *, tol: float = 1e-9, max_iter: int = 100,
                 resume: tuple = (), pres_tol: float | None = None) -> DesignResult:
    """Solve the program of the module docstring.

    Parameters
    ----------
    A : ndarray (m, n, d), or a pair ``(C, X)`` of arrays (m, n) and (n, d)
        Block j's design: the predictions are ``sum_j A[j] @ z_j``; a pair stands for
        ``A[j] = C[j][:, None] * X`` (the plain program's masked designs, never formed).
    R : ndarray (r, d)
        The cone rows' vectors.
    sgn : ndarray (m, r)
        +1 or -1 where block j imposes ``sgn R_k' z_j >= 0``, 0 where it imposes nothing.
    y : ndarray (n,)
    beta : float
    loss : Loss
    tol : float
        Relative tolerance on the complementarity gap and the residuals.
    resume : tuple, optional
        ``state`` of an earlier result for the same program (a looser tolerance), or an
        iterate adapted to this one (:func:`cvx_core.solvers.high_dim._restart`): the
        iterations continue from there instead of from a new initial point.
    pres_tol : float, optional
        A tighter tolerance on the primal residual alone (a restarted point starts outside
        its new rows).
    """
    cover_scipy()  # its factorisations call scipy's BLAS (loaded here on a process's first fit)
    P = _MaskedDesign(*A) if isinstance(A, tuple) else _Design(np.asarray(A, float))
    R = np.asarray(R, float)
    y = np.asarray(y, float)
    m, n, d = P.m, P.n, P.d
    SR = np.asarray(sgn, float)
    M = SR != 0
    Mf = M.astype(float)
    Router = (R[:, :, None] * R[:, None, :]).reshape(R.shape[0], -1)
    hinge = loss.name == "hinge"
    beta = float(beta)
    nrows = int(M.sum())
    nu = m + nrows + (2 * n if hinge else 0)
    tau = TAU * max(1.0, P.square_norm() / (m * d))  # ~ diag of E'E
    kern = block_kernels()
    system = NewtonSystem(P, tau, kern)
    cones = _Cones(kern)

    f0 = np.zeros(n)
    if hinge:
        g0, h0 = -y, np.full(n, 0.5)
    else:
        _, g0, h0 = smooth_loss(loss, f0, y)
    if resume:
        T, Z, s0, s1, S, z0, z1, U = resume[:8]
        if hinge:
            xi, sa, ua, sb, ub = resume[8:]
    else:
        T, Z, s0, s1, S, z0, z1, U, *rest = _initial_point(P, system, R, SR, M, Mf, Router, y, beta, g0, h0, hinge)
        if hinge:
            xi, sa, ua, sb, ub = rest
    # dual residuals relative to beta: kappa - 1 in the certificate is their size over beta
    q_norm = beta * np.sqrt(m)

    # single precision pays only on large products (its refinement costs more solves)
    big = float(n) * n * m * (d + 1) > _SINGLE_MIN_WORK
    status = "MaxIterations"
    best = early = None
    since_best = 0
    it = 0
    for it in range(1, max_iter + 1):
        f = P.raw_predict(Z)
        XZ = Z @ R.T
        rxT = z0 - beta
        rxZ = z1 + (U * SR) @ R
        rzT, rzZ = T - s0, Z - s1
        rzR, gap_rows = cones.rows_residual(SR, XZ, S, U, M, Mf)
        gap_soc = s0 @ z0 + np.einsum("ij,ij->", s1, z1)
        gap = gap_soc + gap_rows
        if hinge:
            rxZ += P.raw_Et(y * ub)
            rxX = ua + ub - 1.0
            rza, rzb = xi - sa, xi + y * f - 1.0 - sb
            pobj = float(xi.sum()) + beta * T.sum()
            gap_hinge = sa @ ua + sb @ ub
            gap += gap_hinge
            pres2 = rza @ rza + rzb @ rzb
            dres2 = rxX @ rxX
            lam = y * ub
        else:
            lval, g, h = smooth_loss(loss, f, y)
            rxZ -= P.raw_Et(g)
            pobj = lval + beta * T.sum()
            pres2 = dres2 = 0.0
            lam = -g
        pres = np.sqrt(rzT @ rzT + np.sum(rzZ ** 2) + np.sum(rzR ** 2) + pres2) / (1.0 + np.sqrt(T @ T + np.sum(Z ** 2)))
        dres = np.sqrt(rxT @ rxT + np.sum(rxZ ** 2) + dres2) / (1.0 + q_norm)
        gap_rel = gap / max(abs(pobj), 1e-300)
        res_rel = max(pres, dres)
        score = max(gap_rel, res_rel)
        if best is None or score < best[0]:
            best = (score, Z.copy(), f.copy(), lam.copy(), pobj, gap_rel, res_rel, M & (U > S),
                    np.linalg.norm(z1, axis=1) / np.maximum(z0, 1e-300))
            since_best = 0
        else:
            since_best += 1
            if since_best >= STALL and best[0] < 1e-5:
                break
        if early is None and gap_rel <= _EARLY:
            early = tuple(np.array(v, copy=True) for v in
                          ((T, Z, s0, s1, S, z0, z1, U) + ((xi, sa, ua, sb, ub) if hinge else ())))
        if gap_rel <= tol and res_rel <= tol and (pres_tol is None or pres <= pres_tol):
            status = "Solved"
            break
        # centring targets per family of pairs, each at its own mean complementarity (a weighted
        # central path): the initial point gives each cone as much as all k of its rows
        # together, and one common mu asked the cones to shed that factor k at once, so
        # their steps bounded the iterations. Near the optimum one common mu again: there the
        # weighted targets broke a large program's tight continuation (NumericalError at 1e-4)
        if gap_rel > _WEIGHTED_ABOVE:
            mu_soc = gap_soc / m
            mu_rows = gap_rows / nrows if nrows else 0.0
            mu_hinge = gap_hinge / (2 * n) if hinge else 0.0
        else:
            mu_soc = mu_rows = mu_hinge = gap / nu

        # ---- scalings
        eta, w0, w1, l0, l1, Wi2 = cones.scaling(s0, s1, z0, z1)
        ratio, lR, wR = cones.rows_scaling(S, U, M)
        if hinge:
            da, db = ua / sa, ub / sb
            la, lb = np.sqrt(sa * ua), np.sqrt(sb * ub)
            wa, wb = np.sqrt(sa / ua), np.sqrt(sb / ub)
            h = da * db / (da + db)
        P.w = np.sqrt(h)
        try:
            system.factor(Wi2, (ratio @ Router).reshape(m, d, d), single=big and score > _SINGLE_ABOVE and system.single_ok,
                          refine=score <= _REFINE_BELOW)
        except (np.linalg.LinAlgError, ValueError):
            status = "NumericalError"
            break

        def direction(rs0, rs1, rsR, rsa=None, rsb=None):
            q0, q1 = cones.inv_prod(l0, l1, rs0, rs1)
            qR, TR = cones.rows_rhs(rsR, lR, wR, rzR, SR, ratio, M)
            Wq0, Wq1 = cones.apply(eta, w0, w1, q0, q1)
            xi0, xi1 = rzT - Wq0, rzZ - Wq1
            v = np.einsum("jab,jb->ja", Wi2, np.column_stack([xi0, xi1]))
            r = np.empty((m, d + 1))
            r[:, 0] = rxT - v[:, 0]
            r[:, 1:] = rxZ - v[:, 1:] - TR @ R
            if hinge:
                qa, qb = rsa / la, rsb / lb
                xia, xib = rza - wa * qa, rzb - wb * qb
                rX = rxX - da * xia - db * xib
                # xi eliminated: dxi = (rX - db y E dz) / (da + db)
                r[:, 1:] -= P.raw_Et(y * db * xib + db * y * rX / (da + db))
            dx = system.solve(r)
            dT, dZ = dx[:, 0], dx[:, 1:]
            ds0, ds1 = rzT + dT, rzZ + dZ
            dS, dU = cones.rows_step(rzR, SR, dZ @ R.T, M, Mf, qR, wR)
            a0, a1 = cones.apply(eta, w0, w1, ds0, ds1, inverse=True)
            dz0, dz1 = cones.apply(eta, w0, w1, q0 - a0, q1 - a1, inverse=True)
            out = [dT, dZ, ds0, ds1, dS, dz0, dz1, dU]
            if hinge:
                dF = y * P.raw_predict(dZ)
                dX = (rX - db * dF) / (da + db)
                dsa, dsb = rza + dX, rzb + dX + dF
                out += [dX, dsa, (qa - dsa / wa) / wa, dsb, (qb - dsb / wb) / wb]
            return out

        def max_step(dd):
            ds0, ds1, dS, dz0, dz1, dU = dd[2:8]
            pairs = [(S, dS), (U, dU)]
            if hinge:
                pairs += [(sa, dd[9]), (ua, dd[10]), (sb, dd[11]), (ub, dd[12])]
            return cones.max_step(s0, s1, z0, z1, ds0, ds1, dz0, dz1, pairs)

        # predictor: rs = -lam o lam
        ll0 = l0 * l0 + np.einsum("ij,ij->i", l1, l1)
        ll1 = 2 * l0[:, None] * l1
        extra = (-(la * la), -(lb * lb)) if hinge else ()
        aff = direction(-ll0, -ll1, -(lR * lR), *extra)
        a_aff = min(1.0, max_step(aff))
        cur = [sa, ua, sb, ub] if hinge else []
        daff = aff[9:] if hinge else []
        gap_aff = (np.vdot(s0 + a_aff * aff[2], z0 + a_aff * aff[5]) + np.vdot(s1 + a_aff * aff[3], z1 + a_aff * aff[6])
                   + cones.rows_gap(S, aff[4], U, aff[7], a_aff)
                   + sum(np.vdot(cur[i] + a_aff * daff[i], cur[i + 1] + a_aff * daff[i + 1]) for i in range(0, len(cur), 2)))
        sigma = min(1.0, max(0.0, gap_aff / gap)) ** 3
        A0, A1 = cones.apply(eta, w0, w1, aff[2], aff[3], inverse=True)
        B0, B1 = cones.apply(eta, w0, w1, aff[5], aff[6])
        c0 = A0 * B0 + np.einsum("ij,ij->i", A1, B1)
        c1 = A0[:, None] * B1 + B0[:, None] * A1
        rR = np.where(M, -(lR * lR) - aff[4] * aff[7] + sigma * mu_rows, 0.0)
        if hinge:
            extra = (-(la * la) - aff[9] * aff[10] + sigma * mu_hinge, -(lb * lb) - aff[11] * aff[12] + sigma * mu_hinge)
        comb = direction(-ll0 - c0 + sigma * mu_soc, -ll1 - c1, rR, *extra)
        alpha = min(1.0, STEP * max_step(comb))
        if not np.isfinite(alpha) or alpha < 1e-10 or not all(np.all(np.isfinite(v)) for v in comb):
            status = "NumericalError"
            break
        # the squared loss's gradient is affine: its linearised step is exact (the dual residual
        # shrinks by 1 - alpha) and never needs the damping's check
        if loss.name == "logistic" and max(dres, gap_rel) > _DAMP_ABOVE:
            alpha = _damped(P, loss, y, f, comb, alpha, z0, z1, U, SR, R, beta, q_norm, max(dres, gap_rel))
        T, Z, s0, s1, S, z0, z1, U = (v + alpha * dv for v, dv in zip((T, Z, s0, s1, S, z0, z1, U), comb[:8]))
        if hinge:
            xi, sa, ua, sb, ub = (v + alpha * dv for v, dv in zip((xi, sa, ua, sb, ub), comb[8:]))
    score, Zb, fb, lamb, pobj, g, r, active, bdual = best
    if status != "Solved":
        status = "AlmostSolved" if score <= max(1e3 * tol, 1e-6) else status
    last = (T, Z, s0, s1, S, z0, z1, U) + ((xi, sa, ua, sb, ub) if hinge else ())
    return DesignResult(Zb, fb, lamb, float(pobj), status, it, float(g), float(r), last, active, bdual, early)
