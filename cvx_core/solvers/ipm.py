"""The pieces of the structured interior-point methods, and the row-list method.

The group lasso with cone constraints of docs/math.md section 3, for blocks ``j = 1..m``,

    min_{z_j, t_j}  L( sum_j E_j z_j , y ) + beta sum_j t_j
    s.t.            ||z_j|| <= t_j,    sgn_jk r_k' z_j >= 0   (the rows imposed on block j),

is solved by primal-dual path following with Nesterov-Todd scaling and Mehrotra's
predictor-corrector (the method of CVXOPT's ``coneqp``, L. Vandenberghe 2010). What makes it
fast here is the structure of each Newton system

    (H + E' Dh E) dx = r,

where ``H`` is block diagonal (each block's second-order cone and its cone rows only touch
that block's d + 1 coordinates: (d+1) x (d+1) blocks), ``E = [E_1 .. E_m]`` is the n x m d
prediction map and ``Dh`` the loss's curvature over the samples. By the Woodbury identity one
dense n x n Cholesky factorisation of ``I + Dh^1/2 E H^-1 E' Dh^1/2`` (one BLAS product of the
n x m d factor with itself) solves it (:class:`NewtonSystem`); a generic sparse LDL of the
same KKT system pays for the dense coupling with fill. Cone rows cost only a d x d update per
row, so every row of every cell can be imposed.

Here: the second-order-cone algebra (``soc_*``), :class:`NewtonSystem`, and
:func:`solve_rows`, the squared-loss method with few rows per block given as a list (compiled
loops, for the plane's working sets). :func:`cvx_core.solvers.blocks.solve_design` is the
method for any design and loss.

Accuracy: near the optimum each active block's ``H_j`` has a tiny eigenvalue (along its ray)
that a low-rank correction restores (see ``factor``), but these normal equations still stall
near a relative gap of 1e-8 to 1e-6 (a dense solve of the same systems stalls there too;
Clarabel's quasi-definite KKT system does not); Newton's method on the optimum's structure
(:func:`cvx_core.solvers.interior.polish`) finishes where it matters.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# scipy.linalg is imported where it is used: the dashboard's first page solves without it, and
# importing scipy costs a fresh server ~0.15 s (cvx_core/sparse.py)

_CHUNK_COLS = 4096  # columns of E per product when forming I + E H^-1 E'
STEP = 0.99  # fraction of the step to the boundary
TAU = 1e-6  # eigenvalues of H_j below tau * diag(E'E) are corrected by a low-rank update
STALL = 3  # iterations without a better iterate before stopping
_REFINE = 2  # iterative refinement steps per Newton solve
_REFINE_SINGLE = 4  # the same with a single-precision Gram product (each step ~1e-7 cond(K))
_REFINED = 1e-13  # relative residual at which refinement stops (double rounding: ~1e-14)
_SINGLE_RES = 1e-10  # relative residual a refined single-precision solve must reach (double: ~1e-13)


@dataclass
class IPMResult:
    Z: np.ndarray  # (m, d)
    status: str  # "Solved", "AlmostSolved", "MaxIterations" or "NumericalError"
    iterations: int
    gap: float  # relative complementarity gap s'z / objective at the returned point
    residual: float  # largest relative primal or dual residual there


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


def predict(X, C, Z):
    """Predictions ``sum_j C_j * (X z_j)`` of blocks ``Z (m, d)`` with coefficients ``C (m, n)``."""
    return np.einsum("mn,nm->n", C, X @ Z.T)


def _unfinished_status(status: str, score: float, accept: float) -> str:
    """The status of a run that stopped before its tolerance: "AlmostSolved" (its best iterate
    is returned) when that iterate's larger of relative gap and residual is at most
    ``accept``, else the reason it stopped. Each method says what it accepts and why."""
    return "AlmostSolved" if score <= accept else status


# block order below which the compiled per-block factor beats LAPACK's batched calls (at 66
# LAPACK's blocked loops win)
_COMPILED_FACTOR_MAX = 33


def block_kernels():
    """The compiled kernels of the blocks' interior point (:mod:`cvx_core.kernels.blocks`) when
    the engine's kernels are already loaded in this process, else None (the NumPy route: a page
    that never priced a cell does not pay for importing numba)."""
    from .. import kernels

    if not (kernels.loaded() and kernels.available()):
        return None
    from ..kernels import blocks

    return blocks


_TRTRI_MIN = 16  # block order from which LAPACK's triangular inverse per block beats NumPy's batched inv


def _lower_inverse(L: np.ndarray) -> np.ndarray:
    """Inverses of the nonsingular lower-triangular blocks ``L`` (m, k, k). From k = 16 by
    LAPACK's triangular inverse, one block at a time: NumPy's batched inverse is a general LU
    per block (m = 116, k = 66: 6.6 against 1.8 ms; k = 32: 1.8 against 0.7 ms; below k = 12
    the per-call overhead loses)."""
    if L.shape[-1] < _TRTRI_MIN:
        return np.tril(np.linalg.inv(L))  # an LU with pivoting leaves rounding above the diagonal
    from scipy.linalg.lapack import dtrtri

    out = np.empty_like(L)
    for j in range(len(L)):
        inv, info = dtrtri(L[j].T, lower=0)  # L' is upper triangular and Fortran-ordered: no copy
        if info:
            raise np.linalg.LinAlgError(f"a Cholesky factor is singular (block {j})")
        out[j] = inv.T
    return out


class NewtonSystem:
    """The Newton systems ``(H + E'E) x = r`` of one program: ``H`` block diagonal (one
    (d+1) x (d+1) block per cone, from the scaling), ``E'E`` dense through the n x n matrix
    ``K = I + F F'`` factored once per iteration. ``P`` supplies the products with ``E``
    (``predict``, ``Et``; the loss curvature's square root already applied) and the columns
    ``E_j V`` (``columns``, ``ray_columns``), :class:`cvx_core.solvers.blocks._Design`.

    Near the optimum each active block's ``H_j`` has one tiny eigenvalue (the direction along
    its ray, which only ``E'E`` curves), so ``H^-1`` in the Woodbury formula would cancel
    catastrophically. Eigenvalues below ``tau`` are raised to ``tau`` (``H_big``, whose inverse
    is bounded) and restored by a second, low-rank Woodbury correction
    ``H = H_big - V diag(tau - ev) V'`` over those few directions; its capacitance matrix
    ``diag(1/(tau - ev) - 1/tau) + (E V / tau)' K^-1 (E V / tau)`` is formed without
    cancellation.
    """

    def __init__(self, P, tau: float, kernels=None):
        self.P, self.tau = P, tau
        # compiled per-block factors (:func:`block_kernels`) for orders below _COMPILED_FACTOR_MAX
        self.kernels = kernels
        self.fac = None
        self.refine = _REFINE
        self.single = False
        self.single_ok = True  # False once a single-precision factor fell short

    def factor(self, Wi2, Q, single: bool = False, refine: bool = True):
        """Factor ``H + E'E``: ``Wi2`` (m, d+1, d+1) the cones' scaled inverses, ``Q`` (m, d, d)
        the cone rows' ``sum_k w_jk x_k x_k'``. ``single``: the Gram product ``F F'`` in single
        precision (half the time of the double one): an approximate factor that
        :meth:`solve`'s refinement against the exact operator corrects, for iterates far from
        the optimum. ``refine=False``: a double factor's solves are not refined (iterates far
        from the optimum, where its rounding error does not matter)."""
        from scipy.linalg import blas, cho_factor, solve_triangular

        P, tau = self.P, self.tau
        m, d, n = P.m, P.d, P.n
        H = Wi2.copy()
        H[:, 1:, 1:] += Q
        # H_big^-1/2 by Cholesky (L^-T) where trace(H^-1) <= 1 / tau proves every eigenvalue
        # >= tau (then H_big = H); an eigendecomposition only for the other blocks (batched
        # eigh costs ~5x Cholesky and inverse at d = 31, and most blocks need none while the
        # gap is loose)
        kern = self.kernels if d + 1 < _COMPILED_FACTOR_MAX else None
        if kern is not None:
            Vs, Hinv, near = np.empty_like(H), np.empty_like(H), np.zeros(m, bool)
            kern.block_inverse_factors(H, tau, Vs, Hinv, near)
        else:
            try:
                Li = _lower_inverse(np.linalg.cholesky(H))
                tr = np.einsum("jab,jab->j", Li, Li)
                near = ~(tr * tau <= 1.0)  # NaN too
                Vs = Li.transpose(0, 2, 1).copy()
            except np.linalg.LinAlgError:
                near = np.ones(m, bool)
                Vs = np.empty_like(H)
        f = np.flatnonzero(near)
        ev, V = np.linalg.eigh(H[f])
        Vs[f] = V / np.sqrt(np.maximum(ev, tau))[:, None, :]
        if kern is None:
            Hinv = Vs @ Vs.transpose(0, 2, 1)
        elif f.size:
            Hinv[f] = Vs[f] @ Vs[f].transpose(0, 2, 1)
        # the z-part of each H^-1 as Wz Wz' with square (d x d) factors: below its t-row the
        # triangular factor Vs = L^-T has a zero first column, so d columns per block enter the
        # Gram product instead of d + 1; an eigendecomposed block's d x (d + 1) rows are made
        # square by a QR
        Wz = Vs[:, 1:, 1:].copy()
        if f.size:
            Wz[f] = np.linalg.qr(Vs[f, 1:, :].transpose(0, 2, 1), mode="r").transpose(0, 2, 1)
        while True:
            dt, syrk = (np.float32, blas.ssyrk) if single else (np.float64, blas.dsyrk)
            K = np.eye(n, dtype=dt, order="F")
            step = max(1, _CHUNK_COLS // d)
            for a in range(0, m, step):
                k = min(step, m - a)
                F = P.columns(Wz[a:a + k], a, k, dt)
                # K += F F' (lower half) as (F')' F': F' is Fortran-ordered, where F itself
                # would first be copied to Fortran order
                K = syrk(1.0, F.T, beta=1.0, c=K, trans=1, lower=1, overwrite_c=1)
            try:
                LK = np.linalg.cholesky(K.astype(np.float64, copy=False))
                break
            except np.linalg.LinAlgError:
                if not single:
                    raise
                single = self.single_ok = False  # rounding made K indefinite: the double product
        jf, ks = np.nonzero(ev < tau)
        js = f[jf]
        low = None
        if js.size:
            Vl = V[jf, :, ks]  # (p, d+1) the raised directions
            B = P.ray_columns(js, Vl[:, 1:]) / tau  # (n, p) = E H_big^-1 V
            Wb = solve_triangular(LK, B, lower=True, check_finite=False)
            lam = np.maximum(ev[jf, ks], 0.0)  # H is PSD: a negative eigenvalue is rounding
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
        self.refine = _REFINE_SINGLE if single else _REFINE if refine else 0
        self.single, self.args = single, (Wi2, Q, False, refine)

    def _woodbury(self, r):
        """``(H_big + E'E)^-1 r``."""
        from scipy.linalg.lapack import dpotrs

        _, Hinv, (LK, _), _ = self.fac
        P = self.P
        a = np.einsum("jab,jb->ja", Hinv, r)
        # LAPACK's solve with the factor directly: scipy's cho_solve wrapper cost more than the
        # two n x n triangular solves. LK' is Fortran-ordered: the upper factor, no copy.
        w, info = dpotrs(LK.T, P.predict(a[:, 1:]), lower=0)
        if info:
            raise np.linalg.LinAlgError(f"dpotrs failed (info {info})")
        b = r.copy()
        b[:, 1:] -= P.Et(w)
        return np.einsum("jab,jb->ja", Hinv, b)

    def _once(self, r):
        """``(H + E'E)^-1 r`` by the two Woodbury steps."""
        x = self._woodbury(r)
        low = self.fac[3]
        if low is None:
            return x
        from scipy.linalg import cho_solve

        js, Vl, cc = low
        c = np.einsum("pa,pa->p", Vl, x[js])
        yv = cc @ c if isinstance(cc, np.ndarray) else cho_solve(cc, c, check_finite=False)
        r2 = np.zeros_like(r)
        np.add.at(r2, js, Vl * yv[:, None])
        return x + self._woodbury(r2)

    def solve(self, r):
        """``(H + E'E)^-1 r`` for r (m, d+1), with iterative refinement against ``H`` itself
        (stopped when a step no longer halves the residual). A single-precision factor whose
        refined solution still misses ``r`` by more than ``_SINGLE_RES`` (relative) is replaced
        by the double one, for this and every later factorisation of the program."""
        H = self.fac[0]
        P = self.P

        def residual(x):
            Ax = np.einsum("jab,jb->ja", H, x)
            Ax[:, 1:] += P.Et(P.predict(x[:, 1:]))
            e = r - Ax
            return e, np.linalg.norm(e)

        x = self._once(r)
        rn = np.linalg.norm(r)
        res = x_prev = cur = None  # cur: the residual norm of x, when known
        for _ in range(self.refine):
            e, en = residual(x)
            if res is not None and en > 0.5 * res:
                x, cur = x_prev, res
                break
            if en <= _REFINED * rn:
                cur = en
                break
            res, x_prev = en, x
            x = x + self._once(e)
        if self.single and (residual(x)[1] if cur is None else cur) > _SINGLE_RES * rn:
            self.single_ok = False
            self.factor(*self.args)
            return self.solve(r)
        return x


def solve_rows(X, C, A, jr, y, beta, *, tol: float = 1e-6, max_iter: int = 60) -> IPMResult:
    """The program of the module docstring with few cone rows per block, given as a list.

    For working sets of cells with known facets (design matrices with at most 3 columns): row
    ``r`` imposes ``A_r' z_{jr_r} >= 0`` (``A_r = sgn x_k``, a facet normal of block ``jr_r``).
    The same primal-dual method as :func:`cvx_core.solvers.blocks.solve_design`, with the row terms held per row
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
    from scipy.linalg import blas, lapack

    from ..kernels import rows as kernel  # compiled on first use (numba), then cached on disk
    from ..threads import cover_scipy

    cover_scipy()  # scipy's BLAS, loaded here on a process's first fit: one thread too

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
