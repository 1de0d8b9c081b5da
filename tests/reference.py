"""Independent reference implementations for checking the ``cvx_core`` engine.

Nothing here imports ``cvx_core``: every quantity is recomputed from the definitions (the
project's convention, docs/math.md) with numpy, scipy and cvxpy only, by deliberately plain
algorithms that share no code or shortcut with the engine.

Convention
----------
``Xb`` (n, d) is the design matrix (``[X, 1]`` with bias). A pattern of a direction ``u`` is
``D(u) = 1[Xb u >= 0]``; only full-dimensional cells ``K_D = {u : (2D - I) Xb u >= 0}`` count.
Slopes ``S_D = a D + b (I - D)`` for the activation ``sigma(t) = a t (t >= 0), b t (t < 0)``.
The convex program over patterns ``D_1..D_P`` is

    min  L( sum_i S_i Xb (v_i - w_i), y ) + beta sum_i (||v_i|| + ||w_i||)
    s.t. (2 D_i - I) Xb v_i >= 0,  (2 D_i - I) Xb w_i >= 0,

with squared ``1/2 ||yhat - y||^2``, logistic ``sum log(1 + exp(-y yhat))`` or hinge
``sum (1 - y yhat)_+`` loss. ``cert(lambda) = max_{i, s} min_{gamma >= 0}
||s Xb' S_i lambda + Xb' (2 D_i - I) gamma||``.

Functions
---------
brute_patterns
    Every full-dimensional cell, by incremental LP splitting.
nnls_cell_value, ref_cert, ref_beta_max
    Certificate values by non-negative least squares.
ref_optimum, RefProblem
    The convex program in cvxpy (Clarabel, retried tighter, then SCS), with a feasible upper
    bound and a dual lower bound that bracket the optimum.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import cvxpy as cp
import numpy as np
from scipy.optimize import linprog, nnls

#: A cell exists when an interior point has every normalised slack above this.
MARGIN_TOL = 1e-9
#: Singular values below this fraction of the largest are treated as zero (rank).
RANK_TOL = 1e-12


# --------------------------------------------------------------------------- patterns
def _whiten(Xb: np.ndarray) -> np.ndarray:
    """Coordinates ``Q`` (n, r) of the rows of Xb with an orthonormal column space.

    Patterns are invariant under an invertible change of variables ``u = M z`` and a
    full-dimensional cell of Xb is a cylinder over a full-dimensional cell of its row space,
    so the arrangement of the rows of ``Q = Xb V_r S_r^{-1}`` has exactly the patterns of Xb.
    Whitening makes the LPs well conditioned for data at scales 1e-6 or 1e6 next to a bias
    column of ones (otherwise genuine cells have margins near the LP tolerance).
    Zero rows of Xb stay exactly zero (the product is formed explicitly, not read off U).
    """
    if not np.any(Xb):
        return np.zeros((Xb.shape[0], 0))
    _, s, Vt = np.linalg.svd(Xb, full_matrices=False)
    r = int(np.sum(s > RANK_TOL * s[0]))
    return (Xb @ Vt[:r].T) / s[:r]


def _interior_point(Qn: np.ndarray, rows: list[int], signs: list[float]) -> tuple[float, np.ndarray | None]:
    """Maximise the margin ``t`` of ``s_j q_j' z >= t`` over ``-1 <= z <= 1``, ``t <= 1``.

    ``Qn`` has unit (or zero) rows, so ``t`` is a normalised slack. Returns the margin
    *recomputed* from the LP's point (HiGHS is only feasible to ~1e-7, which would be enough to
    invent thin cells) and the point, or ``(-inf, None)`` when the LP fails.
    """
    r = Qn.shape[1]
    c = np.zeros(r + 1)
    c[-1] = -1.0  # maximise t
    if rows:
        G = np.asarray(signs)[:, None] * Qn[rows]
        A_ub = np.hstack([-G, np.ones((len(rows), 1))])  # t - s_j q_j'z <= 0
        b_ub = np.zeros(len(rows))
    else:
        A_ub = b_ub = None
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=[(-1.0, 1.0)] * r + [(None, 1.0)], method="highs")
    if res.status != 0 or res.x is None:
        return -np.inf, None
    z = res.x[:r]
    if not rows:
        return 1.0, z
    return float(np.min(G @ z)), z


def brute_patterns(Xb, symmetric: bool = False) -> np.ndarray:
    """Every full-dimensional cell of the central arrangement of the rows of Xb.

    Incremental construction: start from the single cell (the whole space) and add the
    hyperplanes ``{u : x_k' u = 0}`` one at a time. A cell is split by hyperplane k iff both
    open sides of it are non-empty, decided by an LP on the cell's sign constraints with a
    positive normalised margin (:data:`MARGIN_TOL`). The side holding the cell's known interior
    point needs no LP. Each final pattern is read off an interior point of its cell.

    Parameters
    ----------
    Xb : array_like of shape (n, d)
        Design matrix (bias column included by the caller if wanted).
    symmetric : bool
        Keep one member of each pair ``{D, ~D}``: the one with ``D[0]`` True (the convention
        for the absolute-value activation).

    Returns
    -------
    D : ndarray of bool, shape (P, n)
        Distinct patterns, rows sorted lexicographically (False < True). Zero rows of Xb are
        True in every pattern (``0 >= 0``); a hyperplane repeated (or parallel to an earlier
        one) splits nothing but its bit follows ``x_k' u`` at the interior point.
    """
    Xb = np.asarray(Xb, dtype=float)
    if Xb.ndim != 2 or Xb.shape[0] == 0:
        raise ValueError(f"expected Xb of shape (n, d) with n >= 1, got {Xb.shape}")
    n = Xb.shape[0]
    Q = _whiten(Xb)
    if Q.shape[1] == 0:  # Xb = 0: one cell, the whole space, where every 0 >= 0
        return np.ones((1, n), dtype=bool)
    norms = np.linalg.norm(Q, axis=1)
    nonzero = np.flatnonzero(norms > 0)
    Qn = np.zeros_like(Q)
    Qn[nonzero] = Q[nonzero] / norms[nonzero, None]

    # A cell: (rows, signs, interior point z with positive margin on those rows).
    _, z0 = _interior_point(Qn, [], [])
    cells = [([], [], z0)]
    for k in nonzero:
        new_cells = []
        for rows, signs, z in cells:
            side = float(Qn[k] @ z)
            if abs(side) > MARGIN_TOL:
                # One side is known to be non-empty (z, whose margin stays positive); test the other.
                s_known = 1.0 if side > 0 else -1.0
                known = [(s_known, z)]
                todo = [-s_known]
            else:  # z lies (nearly) on the new hyperplane: test both sides
                known, todo = [], [1.0, -1.0]
            for s in todo:
                t, zs = _interior_point(Qn, rows + [k], signs + [s])
                if t > MARGIN_TOL:
                    known.append((s, zs))
            if not known:  # cannot happen for a full-dimensional cell; keep the old one to be safe
                raise RuntimeError(f"cell lost when adding hyperplane {k}: rows {rows}, signs {signs}")
            for s, zs in known:
                new_cells.append((rows + [k], signs + [s], zs))
        cells = new_cells

    D = np.ones((len(cells), n), dtype=bool)  # zero rows: True
    for i, (rows, signs, z) in enumerate(cells):
        slack = Qn[nonzero] @ z
        if np.any(np.abs(slack) <= 0.5 * MARGIN_TOL):
            raise RuntimeError("interior point on a hyperplane (margin recomputation failed)")
        D[i, nonzero] = slack >= 0
        # the recorded signs must agree with the interior point (a sanity check of the LPs)
        assert np.array_equal(D[i, rows], np.asarray(signs) > 0)
    if symmetric:
        D = np.where(D[:, :1], D, ~D)
    D = np.unique(D, axis=0)  # unique rows, sorted lexicographically
    return D


# --------------------------------------------------------------------------- certificates
def _nnls_projection(A: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``Proj_K(z)`` for ``K = {u : A' u >= 0}``: ``z + A gamma`` with ``gamma >= 0`` minimising it.

    By Moreau's decomposition the residual of ``min_{gamma >= 0} ||z + A gamma||`` is the
    projection onto K. scipy's NNLS is tried first; when it fails or its residual violates the
    KKT conditions (``A' r >= 0``, ``gamma' A' r = 0``) beyond rounding, the same QP is solved by
    cvxpy/Clarabel.
    """
    d, m = A.shape
    if m == 0 or not np.any(A):
        return z.copy()
    scale = max(np.linalg.norm(z), 1e-300) * max(np.abs(A).max(), 1e-300)
    try:
        gamma, _ = nnls(A, -z, maxiter=100 * max(m, d))
        r = z + A @ gamma
        if np.min(A.T @ r) >= -1e-9 * scale and abs(gamma @ (A.T @ r)) <= 1e-9 * scale * max(1.0, gamma.sum()):
            return r
    except RuntimeError:
        pass
    g = cp.Variable(m, nonneg=True)
    cp.Problem(cp.Minimize(cp.sum_squares(z + A @ g))).solve(solver="CLARABEL")
    return z + A @ g.value


def nnls_cell_value(Xb, D_i, g) -> float:
    """``min_{gamma >= 0} || g + Xb' (2 D_i - I) gamma ||`` (the norm of the projection of g
    onto the cell ``K = {u : (2 D_i - I) Xb u >= 0}``).

    Parameters
    ----------
    Xb : array_like of shape (n, d)
    D_i : array_like of bool, shape (n,)
    g : array_like of shape (d,)
    """
    Xb = np.asarray(Xb, dtype=float)
    sgn = np.where(np.asarray(D_i, dtype=bool), 1.0, -1.0)
    A = (sgn[:, None] * Xb).T  # (d, n): inward facet normals as columns
    return float(np.linalg.norm(_nnls_projection(A, np.asarray(g, dtype=float))))


def ref_cert(Xb, D, lam, a: float, b: float) -> float:
    """``cert(lambda) = max_{i, s = +-1} nnls_cell_value(Xb, D_i, s Xb' S_i lambda)``.

    Parameters
    ----------
    Xb : array_like of shape (n, d)
    D : array_like of bool, shape (P, n)
    lam : array_like of shape (n,)
    a, b : float
        Activation slopes.
    """
    Xb = np.asarray(Xb, dtype=float)
    lam = np.asarray(lam, dtype=float)
    best = 0.0
    for Di in np.asarray(D, dtype=bool):
        # exactly rounded sums (math.fsum): with BLAS's fused multiply-adds, x (0.1) + x (-0.1)
        # for two identical rows comes out ~1e-18 instead of 0, a spurious positive beta_max
        w = np.where(Di, a, b) * lam
        g = np.array([math.fsum(col) for col in (Xb * w[:, None]).T])
        if np.linalg.norm(g) <= best:  # the projection is never longer than g
            continue
        for s in (1.0, -1.0):
            best = max(best, nnls_cell_value(Xb, Di, s * g))
    return best


def _lambda0(y: np.ndarray, loss: str) -> np.ndarray:
    """``-grad L(0, y)``: squared y, logistic y / 2, hinge y."""
    if loss == "squared":
        return y.copy()
    if loss == "logistic":
        return y / 2.0
    if loss == "hinge":
        return y.copy()
    raise ValueError(f"unknown loss {loss!r}")


def ref_beta_max(Xb, D, y, a: float, b: float, loss: str) -> float:
    """Smallest beta at which the zero network is optimal: ``cert(-grad L(0, y))``."""
    return ref_cert(Xb, D, _lambda0(np.asarray(y, dtype=float), loss), a, b)


# --------------------------------------------------------------------------- losses
def loss_value(yhat: np.ndarray, y: np.ndarray, loss: str) -> float:
    if loss == "squared":
        return 0.5 * float(np.sum((yhat - y) ** 2))
    if loss == "logistic":
        return float(np.sum(np.logaddexp(0.0, -y * yhat)))
    return float(np.sum(np.maximum(0.0, 1.0 - y * yhat)))


def dual_value(lam: np.ndarray, y: np.ndarray, loss: str) -> float:
    """``g(lambda) = -L^*(-lambda)``: squared ``lambda'y - ||lambda||^2 / 2``; logistic the
    binary entropy of ``p = y lambda``; hinge ``sum p``; ``p`` must lie in [0, 1]."""
    if loss == "squared":
        return float(lam @ y - 0.5 * lam @ lam)
    p = np.clip(y * lam, 0.0, 1.0)
    if loss == "hinge":
        return float(p.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
              + np.where(p < 1, (1 - p) * np.log(np.where(p < 1, 1 - p, 1.0)), 0.0))
    return float(h.sum())


# --------------------------------------------------------------------------- the program
@dataclass
class RefSolution:
    """A reference solve of the convex program at one beta.

    Attributes
    ----------
    value : float
        ``L + beta * sum of norms`` recomputed from the solver's primal point (an upper bound
        on the optimum only if that point is feasible; see ``violation``).
    upper : float
        The same after projecting every block onto its cell: a genuine upper bound.
    lower : float
        ``g(lambda / kappa)``, ``kappa = max(1, cert(lambda) / beta)``: a genuine lower bound.
    violation : float
        Largest normalised cone violation ``max(0, -(2D_i - I) Xb v_i / (||x_k|| ||v_i||))``.
    status, solver : str
    V, W : ndarray of shape (P, d)
    """

    value: float
    upper: float
    lower: float
    violation: float
    status: str
    solver: str
    V: np.ndarray = field(repr=False)
    W: np.ndarray = field(repr=False)

    @property
    def rel_gap(self) -> float:
        return (self.upper - self.lower) / max(abs(self.upper), 1e-300)


class RefProblem:
    """The convex program for fixed data, patterns, activation and loss; beta is a cvxpy
    parameter so that a sweep over beta compiles the problem once.

    Conditioning. The variables are ``z_i = v_i / t`` (elementwise) for the column scales
    ``t_j = 1 / ||Xb[:, j]||``, so the solver sees ``Xb diag(t)`` with unit columns, and the
    penalty is written ``||(beta t) * z_i||`` with beta inside the norm: the same program and
    optimum value, but with every quantity of the order of the objective. Without this,
    data at scale 1e-6 next to a bias column of ones need weights ~1e6 at penalty ~1e-9 and
    Clarabel's bracket stayed 1e-3 .. 1 wide.

    Parameters
    ----------
    Xb : array_like of shape (n, d)
    y : array_like of shape (n,)
        Real targets (squared) or labels +-1 (logistic, hinge). Scalar targets only.
    D : array_like of bool, shape (P, n)
    a, b : float
    loss : {"squared", "logistic", "hinge"}
    """

    def __init__(self, Xb, y, D, a: float, b: float, loss: str):
        self.Xb = np.asarray(Xb, dtype=float)
        self.y = np.asarray(y, dtype=float)
        if self.y.ndim != 1:
            raise ValueError("expected scalar targets y of shape (n,); split vector targets by column")
        self.D = np.asarray(D, dtype=bool)
        self.a, self.b, self.loss = float(a), float(b), loss
        n, d = self.Xb.shape
        P = self.D.shape[0]
        colnorm = np.linalg.norm(self.Xb, axis=0)
        self.t = np.where(colnorm > 0, 1.0 / np.where(colnorm > 0, colnorm, 1.0), 1.0)
        Xs = self.Xb * self.t
        self.sgn = np.where(self.D, 1.0, -1.0)  # (P, n)
        self.slopes = np.where(self.D, self.a, self.b)  # (P, n)
        self.beta = cp.Parameter(nonneg=True)
        V = cp.Variable((P, d))
        W = cp.Variable((P, d))
        # The prediction z is its own variable: the multiplier of ``z == yhat`` is the dual
        # vector lambda (up to sign), far more accurate than -grad L at a slightly inexact z.
        z = cp.Variable(n)
        self.pred_con = z == cp.sum(cp.multiply(self.slopes, (V - W) @ Xs.T), axis=0)
        bt = self.beta * self.t[None, :]  # parameter x constant: still DPP (compiled once)
        penalty = cp.sum(cp.norm(cp.multiply(V, bt), 2, axis=1)) + cp.sum(cp.norm(cp.multiply(W, bt), 2, axis=1))
        cons = [self.pred_con, cp.multiply(self.sgn, V @ Xs.T) >= 0, cp.multiply(self.sgn, W @ Xs.T) >= 0]
        if loss == "squared":
            fit = 0.5 * cp.sum_squares(z - self.y)
        elif loss == "logistic":
            fit = cp.sum(cp.logistic(-cp.multiply(self.y, z)))
        elif loss == "hinge":
            fit = cp.sum(cp.pos(1 - cp.multiply(self.y, z)))
        else:
            raise ValueError(f"unknown loss {loss!r}")
        self.V, self.W = V, W
        self.problem = cp.Problem(cp.Minimize(fit + penalty), cons)

    # ---------------------------------------------------------------- evaluation
    def _predict(self, V: np.ndarray, W: np.ndarray) -> np.ndarray:
        return np.sum(self.slopes * ((V - W) @ self.Xb.T), axis=0)

    def objective(self, V: np.ndarray, W: np.ndarray, beta: float) -> float:
        """``L(yhat, y) + beta * sum of block norms`` in the original (unscaled) variables."""
        pen = np.linalg.norm(V, axis=1).sum() + np.linalg.norm(W, axis=1).sum()
        return loss_value(self._predict(V, W), self.y, self.loss) + beta * float(pen)

    def violation(self, V: np.ndarray, W: np.ndarray) -> float:
        """Largest normalised cone violation over nonzero blocks and nonzero rows."""
        xn = np.linalg.norm(self.Xb, axis=1)
        worst = 0.0
        for M in (V, W):
            mn = np.linalg.norm(M, axis=1)
            live = mn > 0
            if not live.any():
                continue
            sl = self.sgn[live] * (M[live] @ self.Xb.T)  # (p, n)
            den = mn[live, None] * np.where(xn > 0, xn, np.inf)[None, :]
            worst = max(worst, float(np.max(-sl / den)))
        return max(worst, 0.0)

    def project(self, M: np.ndarray) -> np.ndarray:
        """Each block projected onto its cell (NNLS), so the point is exactly feasible."""
        out = M.copy()
        for i in range(M.shape[0]):
            if np.any(M[i]) and np.any(self.sgn[i] * (self.Xb @ M[i]) < 0):
                out[i] = _nnls_projection((self.sgn[i][:, None] * self.Xb).T, M[i])
        return out

    def dual_bound(self, lam: np.ndarray, beta: float) -> float:
        """``g(lambda / kappa)``, a lower bound on the optimum for any lambda in the domain."""
        if self.loss != "squared":
            lam = self.y * np.clip(self.y * lam, 0.0, 1.0)
        cert = ref_cert(self.Xb, self.D, lam, self.a, self.b)
        kappa = max(1.0, cert / beta)
        return dual_value(lam / kappa, self.y, self.loss)

    # ---------------------------------------------------------------- solving
    #: Solver attempts, in order. Later ones run only while the bracket is wider than
    #: ``BRACKET_TOL`` (Clarabel at 1e-10 stalls as "optimal_inaccurate" on some small-beta
    #: problems whose weights grow; 1e-12 with a smaller static regularisation gets there).
    ATTEMPTS = (
        ("CLARABEL", dict(tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10, max_iter=500)),
        ("CLARABEL", dict(tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12, max_iter=2000,
                          static_regularization_constant=1e-12)),
        ("SCS", dict(eps=1e-9, max_iters=200_000)),
    )
    BRACKET_TOL = 1e-8

    def _attempt(self, beta: float, name: str, opts: dict) -> RefSolution:
        """One solve; raises RuntimeError on a solver error or a status without a point."""
        self.beta.value = beta
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.problem.solve(solver=name, **opts)
        except cp.error.SolverError as exc:
            raise RuntimeError(f"{name}: {exc}") from None
        if self.V.value is None or self.problem.status not in ("optimal", "optimal_inaccurate"):
            raise RuntimeError(f"{name}: status {self.problem.status}")
        V = np.asarray(self.V.value) * self.t
        W = np.asarray(self.W.value) * self.t
        value = self.objective(V, W, beta)
        viol = self.violation(V, W)
        # projecting changes nothing when the point is feasible, so upper == value then
        upper = self.objective(self.project(V), self.project(W), beta)
        # Dual candidates: the multiplier of z == yhat (either sign convention; the wrong one
        # gives a poor but valid bound) and -grad L at the primal prediction.
        yhat = self._predict(V, W)
        cands = []
        nu = self.pred_con.dual_value
        if nu is not None:
            nu = np.asarray(nu, dtype=float)
            cands += [nu, -nu]
        if self.loss == "squared":
            cands.append(self.y - yhat)
        elif self.loss == "logistic":
            cands.append(self.y / (1.0 + np.exp(np.clip(self.y * yhat, -700, 700))))
        else:
            cands.append(self.y * np.where(self.y * yhat < 1, 1.0, 0.0))
        lower = max(self.dual_bound(lam, beta) for lam in cands)
        return RefSolution(value=value, upper=upper, lower=lower, violation=viol,
                           status=self.problem.status, solver=name, V=V, W=W)

    def solve(self, beta: float) -> RefSolution:
        """Solve at ``beta`` and bracket the optimum (see :class:`RefSolution`).

        Runs :attr:`ATTEMPTS` until the bracket ``(upper - lower) / |upper|`` is below
        :attr:`BRACKET_TOL` and keeps the best bounds of all attempts (each bound is valid on
        its own): the primal point and ``value`` of the attempt with the smallest upper bound,
        the largest lower bound of any attempt.

        Raises
        ------
        RuntimeError
            When every attempt fails.
        """
        beta = float(beta)
        best, errors, tried = None, [], 0
        for name, opts in self.ATTEMPTS:
            tried += 1
            try:
                sol = self._attempt(beta, name, opts)
            except RuntimeError as exc:
                errors.append(str(exc))
                continue
            if best is not None:
                lower = max(best.lower, sol.lower)
                best = sol if sol.upper < best.upper else best
                best.lower = lower
            else:
                best = sol
            if best.upper - best.lower <= self.BRACKET_TOL * abs(best.upper) + 1e-12:
                break
        if best is None:
            raise RuntimeError(f"reference solve failed at beta={beta:g}: " + "; ".join(errors))
        if tried > 1:
            best.solver += f" (best of {tried} attempts)"
        return best


def ref_optimum(Xb, y, D, beta, a: float, b: float, loss: str, return_info: bool = False):
    """Optimal value of the convex program over the patterns D (cvxpy, written independently).

    Parameters
    ----------
    Xb : array_like of shape (n, d)
    y : array_like of shape (n,)
    D : array_like of bool, shape (P, n)
    beta : float
    a, b : float
        Activation slopes.
    loss : {"squared", "logistic", "hinge"}
    return_info : bool
        Also return the :class:`RefSolution` (upper / lower bounds, cone violation).

    Returns
    -------
    value : float
        ``L + beta * sum of norms`` recomputed from the primal solution (an upper bound on the
        optimum up to the cone violation ``info.violation``).
    info : RefSolution, only with ``return_info=True``.

    Raises
    ------
    RuntimeError
        When every attempt (Clarabel at two tolerances, then SCS) fails.
    """
    sol = RefProblem(Xb, y, D, a, b, loss).solve(beta)
    return (sol.value, sol) if return_info else sol.value


if __name__ == "__main__":  # a tiny self-check: Cover's count in general position, and 2 points
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (7, 2))
    Xb = np.hstack([X, np.ones((7, 1))])
    D = brute_patterns(Xb)
    print("general position n=7 in R^3:", D.shape[0], "cells (Cover: 2*(1+6+15) = 44)")
    y = rng.standard_normal(7)
    bm = ref_beta_max(Xb, D, y, 1.0, 0.0, "squared")
    v, info = ref_optimum(Xb, y, D, 0.1 * bm, 1.0, 0.0, "squared", return_info=True)
    print(f"beta_max {bm:.6g}; optimum at beta_max/10: {v:.10g} (bracket {info.lower:.10g} .. {info.upper:.10g})")
