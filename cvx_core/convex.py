"""Convex training of two-layer networks, and certificates for any network.

The convex program (docs/math.md section 3), over patterns ``D_1..D_P`` of the design matrix
``Xb = [X, 1]`` (or ``X`` without bias):

    min_{V, W}  L( sum_i S_i Xb (v_i - w_i), y ) + beta sum_i (||v_i||_2 + ||w_i||_2)
    s.t.        (2 D_i - I) Xb v_i >= 0,  (2 D_i - I) Xb w_i >= 0.

Its optimum equals the optimum of the weight-decay training problem

    min  L( sum_j sigma(Xb u_j) alpha_j , y ) + (beta / 2) sum_j (||u_j||^2 + alpha_j^2)

once the patterns are all of them. The objective reported everywhere is
``L(yhat, y) + beta * (sum of group norms)``, which equals the network's training objective
for the balanced network recovered in section 4.

Active neurons are counted after pruning: a block is active when its norm exceeds
``ACTIVE_TOL`` times the largest block norm (the one documented tolerance).

Symbols: ``X (n, d)`` raw data, ``y (n,)`` or ``(n, C)``, ``D (P, n)`` bool patterns,
``V, W (P, d')`` convex weights with ``d' = d + 1`` when ``bias``; for C outputs ``V, W`` are
``(C, P, d')``.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .certificate import _project_cell, cell_values, lower_bound
from .dual import polish_dual
from .model import Activation, Loss, TwoLayerNet, add_bias, make_activation, make_loss, positive_float
from .patterns import (
    canonical_symmetric,
    enumerate_patterns,
    predicted_pattern_count,
    sample_patterns,
    MAX_EXACT_PATTERNS,
)

#: Blocks with norm at most ACTIVE_TOL * (largest block norm) are pruned (set to zero).
ACTIVE_TOL = 1e-6
#: Target certified relative gap of the working-set solver.
GAP_TOL = 5e-7
#: A fit or a network is called optimal when its certified relative gap is at most this.
OPTIMAL_GAP = 1e-6

#: Every status a :class:`ConvexFit` can carry, and what it means. Only "optimal" claims
#: anything; the others say why the certified gap (``fit.gap``) stayed above ``OPTIMAL_GAP``.
STATUSES = {
    "optimal": "certified: relative gap at most 1e-6 over the patterns used",
    "inaccurate": "the solver finished, but its point is certified only to fit.gap > 1e-6",
    "max_rounds": "the working-set solver reached its round limit before the gap closed",
    "stalled": "the inner solver could not improve its point further (numerical limits)",
}
_SEVERITY = ("optimal", "inaccurate", "stalled", "max_rounds")


def fit_status(solver_statuses, gap: float) -> str:
    """The status of a fit from its solver outcomes and its certified relative gap: "optimal"
    exactly when ``gap <= OPTIMAL_GAP``, otherwise the most severe solver outcome (a solver
    that thought it had finished is "inaccurate")."""
    if gap <= OPTIMAL_GAP:
        return "optimal"
    worst = "inaccurate"
    for s in solver_statuses:
        s = s if s in STATUSES else ("stalled" if s.startswith("inner solver") else "inaccurate")
        if _SEVERITY.index(s) > _SEVERITY.index(worst):
            worst = s
    return worst


@dataclass(frozen=True)
class ConvexFit:
    """Result of :func:`fit_convex`.

    Attributes
    ----------
    objective : float
        ``L(yhat, y) + beta * sum of group norms`` at the returned (pruned) solution.
    lower_bound : float
        Certified lower bound on the optimum over the patterns used: ``g(lambda / kappa)``.
    gap : float
        ``(objective - lower_bound) / |objective|``.
    certificate : float
        ``cert(lambda) / beta`` over the patterns used (1 at the optimum).
    patterns : ndarray of bool, shape (P, n)
    V, W : ndarray of shape (P, d') or (C, P, d')
    network : TwoLayerNet
    n_neurons : int
        Active neurons after pruning.
    solve_time : float
        Seconds, including pattern enumeration.
    status : str
        One of :data:`STATUSES`: "optimal" exactly when ``gap <= OPTIMAL_GAP``; the solver's
        own outcome is in ``info["columns"][c]["solver_status"]``.
    """

    objective: float
    lower_bound: float
    gap: float
    certificate: float
    patterns: np.ndarray
    V: np.ndarray
    W: np.ndarray
    network: TwoLayerNet
    n_neurons: int
    solve_time: float
    status: str
    beta: float
    activation: str
    leak: float
    loss: str
    bias: bool
    solver: str
    exact_patterns: bool
    dual: np.ndarray
    predictions: np.ndarray
    u_star: np.ndarray
    info: dict = field(default_factory=dict, compare=False)

    @property
    def n_patterns(self) -> int:
        return int(self.patterns.shape[0])

    def group_norms(self) -> np.ndarray:
        """Norms ``||v_i||`` and ``||w_i||`` as an array of shape (P, 2) (summed over outputs)."""
        nv = np.linalg.norm(self.V, axis=-1)
        nw = np.linalg.norm(self.W, axis=-1)
        if nv.ndim == 2:
            nv, nw = nv.sum(axis=0), nw.sum(axis=0)
        return np.stack([nv, nw], axis=1)


@dataclass(frozen=True)
class Certificate:
    """Result of :func:`certify` for any network.

    Attributes
    ----------
    objective : float
        The network's training objective ``L + (beta/2) sum(||u_j||^2 + ||alpha_j||_1^2)``.
    certificate : float
        ``cert(lambda) / beta``; the network is globally optimal iff this is <= 1 and it is
        stationary (then ``gap`` is 0 up to rounding).
    lower_bound : float
        ``g(lambda / kappa)``, a certified lower bound on the global optimum.
    gap : float
        ``(objective - lower_bound) / |objective|``.
    u_star : ndarray of shape (d',)
        Unit direction of the most violated dual constraint (a neuron to insert).
    u_star_sign : int
        Sign of the output weight that neuron would carry.
    u_star_pattern : ndarray of bool, shape (n,)
    exact : bool
        True when the maximum was taken over all patterns of the data.
    n_patterns : int
    dual : ndarray
        ``lambda = -grad L(yhat)``.
    """

    objective: float
    certificate: float
    lower_bound: float
    gap: float
    u_star: np.ndarray
    u_star_sign: int
    u_star_pattern: np.ndarray
    exact: bool
    n_patterns: int
    dual: np.ndarray

    @property
    def globally_optimal(self) -> bool:
        return self.gap <= OPTIMAL_GAP


# --------------------------------------------------------------------------- validation
def _check_Xy(X, y, loss: Loss):
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"expected X of shape (n, d), got {X.ndim}-D array with shape {X.shape}")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"expected X with at least one sample and one feature, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("expected finite values in X, found NaN or inf")
    try:
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("expected numeric targets y") from None
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(f"expected y of shape ({X.shape[0]},) or ({X.shape[0]}, C) to match X, got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("expected finite values in y, found NaN or inf")
    if loss.name in ("logistic", "hinge") and not np.all(np.isin(y, (-1.0, 1.0))):
        vals = np.unique(y)[:5]
        raise ValueError(f"expected labels -1/+1 for the {loss.name} loss, got values {vals.tolist()}")
    return X, y


def _check_beta(beta) -> float:
    return positive_float("beta", beta)


def resolve_patterns(Xb: np.ndarray, patterns, act: Activation, seed: int = 0) -> tuple[np.ndarray, bool]:
    """Patterns from the ``patterns`` argument: "exact", an int (Gaussian samples) or an array.

    Returns (D of shape (P, n), exact flag).
    """
    n = Xb.shape[0]
    if isinstance(patterns, str):
        if patterns != "exact":
            raise ValueError(f"expected patterns='exact', an int or a (P, {n}) bool array, got {patterns!r}")
        D, exact = enumerate_patterns(Xb), True
    elif isinstance(patterns, (int, np.integer)) and not isinstance(patterns, bool):
        if patterns < 1:
            raise ValueError(f"expected a positive number of sampled patterns, got {patterns}")
        D, exact = sample_patterns(Xb, int(patterns), seed=seed), False
    else:
        D = np.asarray(patterns)
        if D.ndim != 2 or D.shape[1] != n:
            raise ValueError(f"expected a patterns array of shape (P, {n}), got shape {D.shape}")
        if D.dtype != bool:
            if not np.all(np.isin(D, (0, 1))):
                raise ValueError("expected a boolean (0/1) patterns array")
            D = D.astype(bool)
        exact = False
    if act.symmetric:
        D = canonical_symmetric(D)
    return D, exact


# --------------------------------------------------------------------------- recovery
def _blocks_to_VW(P, d, bi, bs, Z):
    V = np.zeros((P, d))
    W = np.zeros((P, d))
    for i, s, z in zip(bi, bs, Z):
        (V if s > 0 else W)[i] += z
    return V, W


def _caratheodory(Xb, D, act, blocks):
    """Keep the predictions and at most rank(F) <= n blocks without raising the penalty.

    With the directions fixed, the prediction is ``F c`` (one column per block, ``c`` the block
    norms). While the columns are dependent, move ``c`` along a null vector ``v`` of ``F``
    (signed so that ``sum(v) >= 0``) until a coefficient reaches zero: ``F c`` is unchanged and
    ``sum(c)`` does not increase. Exact up to rounding (an LP solver would hold ``F c`` only to
    its feasibility tolerance).
    """
    dirs = np.array([z / np.linalg.norm(z) for _, _, z in blocks])
    c = np.array([np.linalg.norm(z) for _, _, z in blocks])
    F = np.stack([s * act.slopes(D[i]) * (Xb @ u) for (i, s, _), u in zip(blocks, dirs)], axis=1)
    live = np.arange(len(blocks))
    while live.size > 1:
        _, sv, Vt = np.linalg.svd(F[:, live], full_matrices=True)
        rank = int(np.sum(sv > 1e-10 * sv[0])) if sv.size else 0
        if live.size <= rank:
            break
        # One SVD serves all null vectors: after each step the remaining null vectors are
        # cleared at the removed block (Gaussian elimination keeps them in the null space).
        N = Vt[rank:].T.copy()  # (L, k)
        cl = c[live].copy()
        restart = False
        for t in range(N.shape[1]):
            v = N[:, t]
            scale = np.abs(v).max()
            if scale == 0:
                continue
            if v.sum() < 0:
                v = -v
            pos = v > 1e-12 * scale
            if not pos.any():
                v, pos = -v, -v > 1e-12 * scale
            ratios = cl[pos] / v[pos]
            k = int(np.argmin(ratios))
            p = int(np.flatnonzero(pos)[k])
            cl -= ratios[k] * v
            cl[p] = 0.0
            np.maximum(cl, 0.0, out=cl)
            rest = N[:, t + 1:]
            rest -= np.outer(v, rest[p] / v[p])
            rest[p] = 0.0
            if np.count_nonzero(cl[pos] == 0) > 1 or np.any((cl == 0) & (np.abs(rest).max(axis=1, initial=0) > 0)):
                restart = True  # ties: recompute the null space of the remaining columns
                break
        c[live] = cl
        live = live[cl > 0]
        if not restart:
            break
    return [(i, s, ci * u) for (i, s, _), u, ci in zip(blocks, dirs, c) if ci > 0]


#: Cone rows within this relative amount of zero count as satisfied (the rounding of x_k' z).
_ROUNDING = 1e-15


def _interior_direction(Xb: np.ndarray, D_i: np.ndarray) -> np.ndarray | None:
    """A unit direction strictly inside cell ``D_i`` (largest smallest normalised slack, one
    LP), or None when the cell has no interior."""
    from scipy.optimize import linprog

    sgn = np.where(D_i, 1.0, -1.0)
    xn = np.linalg.norm(Xb, axis=1)
    live = xn > 0  # zero rows hold for every u
    if not live.any():
        return np.eye(Xb.shape[1])[0]
    A = sgn[live, None] * Xb[live] / xn[live, None]
    d = Xb.shape[1]
    lp = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.c_[-A, np.ones(A.shape[0])], b_ub=np.zeros(A.shape[0]),
                 bounds=[(-1.0, 1.0)] * d + [(None, 1.0)], method="highs")
    if lp.status != 0 or lp.x[-1] <= 1e-12:
        return None
    u = lp.x[:d]
    return u / np.linalg.norm(u)


def _make_feasible(Xb, sgn_row, z):
    """``z`` moved into its cell ``{u : sgn_k x_k' u >= 0}`` (the block itself when it is in):
    the projection when it is reliable, else ``z + t u`` along an interior direction ``u``,
    with the smallest ``t`` that clears every row. Returns the zero block for a cell without
    interior."""
    xn = np.maximum(np.linalg.norm(Xb, axis=1), 1e-300)

    def inside(v):  # up to rounding of the products themselves
        return np.all(sgn_row * (Xb @ v) >= -_ROUNDING * xn * np.linalg.norm(v))

    if inside(z):
        return z
    slack = sgn_row * (Xb @ z)
    _, zp = _project_cell(Xb, sgn_row, z)
    outside = max(0.0, float(np.max(-slack / xn)))
    # NNLS can fail on a point on a ray of its cell (seen: blocks on edges in R^6 and R^7
    # "projected" 3.3 away): keep the projection only when it moved about as far as z was out
    if np.linalg.norm(zp - z) <= 1e3 * outside + 1e-12 * np.linalg.norm(z) and inside(zp):
        return zp
    u = _interior_direction(Xb, sgn_row > 0)
    if u is None:
        return np.zeros_like(z)
    rate = sgn_row * (Xb @ u)
    bad = slack < 0
    t = float(np.max(-slack[bad] / np.where(rate[bad] > 0, rate[bad], np.inf), initial=0.0))
    for _ in range(60):  # rounding: grow t until every row holds
        zt = z + t * u
        if inside(zt):
            return zt
        t = t * 2 + 1e-300 if t > 0 else outside * 1e-3 + 1e-300
    return np.zeros_like(z)


def _prune(Xb, D, act, V, W, tol=ACTIVE_TOL):
    """Zero blocks at most ``tol`` times the largest, make every kept block exactly feasible
    for its cone, and keep at most n blocks.

    The last step (:func:`_caratheodory`) keeps the predictions and at most rank <= n blocks.
    With ``tol = 0`` only exact zeros are dropped.
    """
    n = Xb.shape[0]
    norms = np.concatenate([np.linalg.norm(V, axis=1), np.linalg.norm(W, axis=1)])
    if norms.size == 0 or norms.max() == 0:
        return np.zeros_like(V), np.zeros_like(W)
    keep = np.flatnonzero(norms > tol * norms.max())
    P = V.shape[0]
    cells = np.where(keep < P, keep, keep - P)
    Z = np.vstack([V, W])[keep]
    blocks = []
    for t in range(keep.size):
        i, s = int(cells[t]), (1 if keep[t] < P else -1)
        z = _make_feasible(Xb, np.where(D[i], 1.0, -1.0), Z[t])
        if np.linalg.norm(z) > 0:
            blocks.append((i, s, z))
    if len(blocks) > n:
        blocks = _caratheodory(Xb, D, act, blocks)
    # the reduction (or a projection) can leave a block below the tolerance (seen: the
    # test_convex xor data at beta = 0.05, 17 -> 13 blocks, one left at 8.5e-7 of the largest)
    top = max((np.linalg.norm(z) for _, _, z in blocks), default=0.0)
    blocks = [(i, s, z) for i, s, z in blocks if np.linalg.norm(z) > tol * top]
    Vn, Wn = np.zeros_like(V), np.zeros_like(W)
    for i, s, z in blocks:
        (Vn if s > 0 else Wn)[i] = z
    return Vn, Wn


def network_from_blocks(V, W, activation: str, leak: float, bias: bool) -> TwoLayerNet:
    """docs/math.md section 4: ``u = v / sqrt||v||``, ``alpha = +-sqrt||v||`` for each nonzero block.

    ``V, W`` of shape (P, d') or (C, P, d'); for C outputs each neuron has one nonzero
    output weight, in its output's column.
    """
    V3 = V[None] if V.ndim == 2 else V
    W3 = W[None] if W.ndim == 2 else W
    C, _, d = V3.shape
    U, A = [], []
    for c in range(C):
        for M, sign in ((V3[c], 1.0), (W3[c], -1.0)):
            nrm = np.linalg.norm(M, axis=1)
            for i in np.flatnonzero(nrm > 0):
                r = np.sqrt(nrm[i])
                U.append(M[i] / r)
                a = np.zeros(C)
                a[c] = sign * r
                A.append(a)
    U = np.array(U).reshape(-1, d)
    A = np.array(A).reshape(-1, C)
    return TwoLayerNet(U, A[:, 0] if V.ndim == 2 else A, activation, leak, bias)


# --------------------------------------------------------------------------- fitting
def _solve_column(Xb, yc, D, beta, act, loss, solver, warm=None, exact=False):
    """Solve one output column; returns (V, W, lam candidates, status, solver name, info)."""
    P, d = D.shape[0], Xb.shape[1]
    routed = fallback = None
    if solver == "auto" and d > 3:
        # Cells in higher dimension have many facets and no exact sphere certificate: working
        # sets need many constraint-generation rounds there, while the whole program fits one
        # structured interior-point solve (benchmarks/solver_speed.py measures both).
        from .interior import fits

        if loss.name == "squared" and fits(Xb.shape[0], P):
            solver = "interior"
            routed = f"auto -> interior point over all {P} patterns (design matrix has {d} > 3 columns)"
        else:
            solver = "clarabel"
            why = f"{loss.name} loss" if loss.name != "squared" else f"{P} patterns x {Xb.shape[0]} samples too large to pose at once"
            routed = f"auto -> cvxpy/clarabel (design matrix has {d} > 3 columns; {why})"
    if solver == "interior" and loss.name != "squared":
        raise ValueError(f"expected loss='squared' with solver='interior', got loss={loss.name!r}")
    if solver in ("auto", "working-set"):
        from .solver import solve_working_set

        try:
            res = solve_working_set(Xb, yc, D, beta, act, loss, exact=exact, tol=GAP_TOL, warm=warm)
            V, W = _blocks_to_VW(P, d, res.blocks_i, res.blocks_s, res.Z)
            info = {"rounds": res.n_rounds, "working_set": len(res.blocks_i),
                    "_certified": (res.lower_bound, res.lam, res.cert, res.u_star)}
            return V, W, [res.lam], res.status, "working-set", info
        except RuntimeError as exc:
            warnings.warn(f"working-set solver failed ({exc}); falling back to cvxpy + Clarabel",
                          RuntimeWarning, stacklevel=3)
            solver = "clarabel"
            fallback = f"working-set failed: {exc}"
    from .formulation import installed_solvers, solve_reference

    # beta >= beta_max: the zero network is optimal (an interior-point solver would return
    # blocks of norm ~1e-8 instead of exact zeros). Shared by the interior point and the reference.
    lam0 = loss.dual_variable(np.zeros(Xb.shape[0]), yc)
    if _cert_max(Xb, D, lam0, act, exact)[0] <= beta:
        name = "interior" if solver == "interior" else f"cvxpy/{solver}"
        return np.zeros((P, d)), np.zeros((P, d)), [lam0], "optimal", name, ({"routing": routed} if routed else {})
    if solver == "interior":
        from .interior import solve_interior

        res = solve_interior(Xb, yc, D, beta, act, loss, tol=GAP_TOL, exact=exact)
        if res.status == "optimal":
            V, W = _blocks_to_VW(P, d, res.blocks_i, res.blocks_s, res.Z)
            info = {"iterations": res.n_rounds, "_certified": (res.lower_bound, res.lam, res.cert, res.u_star)}
            if routed:
                info["routing"] = routed
            return V, W, [res.lam], res.status, "interior", info
        warnings.warn(f"interior-point solver did not certify ({res.status}); falling back to cvxpy + Clarabel",
                      RuntimeWarning, stacklevel=3)
        solver = "clarabel"
        fallback = f"interior point did not certify: {res.status}"
    chain = [solver]
    if solver == "clarabel":
        chain += [s for s in ("scs", "ecos") if s in installed_solvers()]
    last = None
    for name in chain:
        if name not in installed_solvers():
            raise ValueError(f"expected solver 'auto', 'working-set', 'interior' or one of {installed_solvers()}, got {name!r}")
        try:
            out = solve_reference(Xb, yc, D, beta, act, loss, solver=name)
        except RuntimeError as exc:
            last = exc
            continue
        info = {"routing": routed} if routed else {}
        notes = ([fallback] if fallback else []) + ([f"{chain[0]} failed: {last}"] if name != chain[0] else [])
        if notes:
            info["fallback"] = "; ".join(notes)
        return out["V"], out["W"], out["lam_candidates"], out["status"], f"cvxpy/{name}", info
    raise RuntimeError(f"every solver failed at beta={beta:g}: {last}")


def _cert_max(Xb, D, lam, act, exact):
    """``cert(lambda)`` over the patterns D, its maximiser and sign (exact either way)."""
    if exact and Xb.shape[1] <= 3:
        from .solver import geometry

        return geometry(Xb, D, act)[1].max(lam)
    cv = cell_values(Xb, D, lam, act)
    i, col = cv.argmax()
    return cv.max, cv.directions[i, col], 1 if col == 0 else -1


def _certify_column(Xb, yc, D, beta, act, loss, yhat, lam_candidates, exact=False, objective=None):
    """Best certified lower bound over candidate dual vectors (each is a valid bound).

    With ``objective`` given, stops at the first candidate whose relative gap is below
    ``GAP_TOL / 10`` (the others could only tighten an already certified bound).
    Returns (lower bound, lambda, cert(lambda), maximiser u, its sign).
    """
    cands = [loss.dual_variable(yhat, yc)] + [l for l in lam_candidates if l is not None]
    best = None
    for lam in cands:
        lam = loss.clip_dual(lam, yc)
        cert, u, s = _cert_max(Xb, D, lam, act, exact)
        lb = lower_bound(loss, lam, yc, cert, beta)
        if best is None or lb > best[0]:
            best = (lb, lam, cert, u, s)
        if objective is not None and objective - best[0] <= 0.1 * GAP_TOL * max(abs(objective), 1e-300):
            break
    return best


def _column_objective(Xb, yc, D, act, loss, beta, V, W):
    """``L(yhat, y) + beta * sum of group norms`` of one column's blocks, and ``yhat``."""
    nz = np.flatnonzero(np.any(V != 0, axis=1) | np.any(W != 0, axis=1))
    yhat = np.einsum("pn,pn->n", act.slopes(D[nz]), (V[nz] - W[nz]) @ Xb.T)
    obj = loss.value(yhat, yc) + beta * float(np.linalg.norm(V, axis=1).sum() + np.linalg.norm(W, axis=1).sum())
    return obj, yhat


def _finish_column(Xb, yc, D, beta, act, loss, V, W, lam_c, certified, exact):
    """Pruned, exactly feasible blocks of one column with their certified lower bound.

    Every kept block is moved into its cone, so the recovered network reproduces the
    objective. Blocks below ``ACTIVE_TOL`` of the largest are dropped unless dropping them
    loses the certificate (at small beta a hinge optimum can need them: margins of exactly 1
    built from large, cancelling neurons); then only exact zeros are dropped. Any dual vector
    gives a valid bound whatever the primal point, so the best bound found is kept. When the
    solver's point does not certify, the dual program is solved directly
    (:func:`cvx_core.dual.polish_dual`), and its primal point competes too.

    Returns (V, W, objective, yhat, (lower bound, lambda, cert(lambda), maximiser u)).
    """
    bound = None
    if certified is not None:
        lb, lam, cmax, u_c = certified
        if u_c is None:
            _, u_c, _ = _cert_max(Xb, D, lam, act, exact)
        bound = (lb, lam, cmax, u_c)

    def certified_by(b, obj):
        return b is not None and obj - b[0] <= GAP_TOL * max(abs(obj), 1e-300)

    def candidates(V, W):
        for tol in (ACTIVE_TOL, 0.0):
            Vp, Wp = _prune(Xb, D, act, V, W, tol)
            yield (Vp, Wp, *_column_objective(Xb, yc, D, act, loss, beta, Vp, Wp))

    chosen = None
    for cand in candidates(V, W):
        if not certified_by(bound, cand[2]):
            found = _certify_column(Xb, yc, D, beta, act, loss, cand[3], lam_c, exact, objective=cand[2])
            if bound is None or found[0] > bound[0]:
                bound = found[:4]
        if chosen is None or cand[2] < chosen[2] or certified_by(bound, cand[2]):
            chosen = cand
        if certified_by(bound, cand[2]):
            return (*chosen, bound)
    # the primal point may be optimal while its dual vector is not accurate enough, or both
    # may be off by the primal solver's tolerance: ask the dual program itself
    support = [(i, 1) for i in np.flatnonzero(np.any(V != 0, axis=1))] + \
              [(i, -1) for i in np.flatnonzero(np.any(W != 0, axis=1))]
    facets = None
    if exact and Xb.shape[1] <= 3:
        from .solver import geometry

        facets = geometry(Xb, D, act)[0].cell_facets
    polished, primals = polish_dual(Xb, yc, D, beta, act, loss, support,
                                    lambda lam: _cert_max(Xb, D, lam, act, exact), facets)
    if polished is not None and polished[0] > bound[0]:
        bound = polished
    for cells, Z in reversed(primals):
        Vd, Wd = _blocks_to_VW(D.shape[0], Xb.shape[1], [i for i, _ in cells], [s for _, s in cells], Z)
        for cand in candidates(Vd, Wd):
            if cand[2] < chosen[2]:
                chosen = cand
            if certified_by(bound, cand[2]):
                return (*chosen, bound)
    return (*chosen, bound)


def fit_convex(
    X,
    y,
    beta,
    *,
    activation: str = "relu",
    leak: float = 0.1,
    loss: str = "squared",
    bias: bool = True,
    patterns="exact",
    solver: str = "auto",
    seed: int = 0,
    warm_start: "ConvexFit | None" = None,
) -> ConvexFit:
    """Train a two-layer network by solving the convex program (module docstring).

    Parameters
    ----------
    X : array_like of shape (n, d)
        Raw data; the bias column is appended inside when ``bias=True``.
    y : array_like of shape (n,) or (n, C)
        Targets; labels -1/+1 for the logistic and hinge losses. A vector target splits into
        C independent programs (penalty ``(beta/2)(||u||^2 + ||alpha||_1^2)``).
    beta : float
        Regularisation strength, > 0.
    activation : {"relu", "leaky", "abs"}
    leak : float
        Negative slope of the leaky ReLU.
    loss : {"squared", "logistic", "hinge"}
    bias : bool
    patterns : "exact", int or ndarray of bool (P, n)
        All patterns (exact enumeration), a number of Gaussian directions to sample, or the
        patterns themselves.
    solver : "auto", "working-set", "interior" or a cvxpy solver name
        "working-set" is the solver of :mod:`cvx_core.solver`; "interior" solves the whole
        program by the structured interior point of :mod:`cvx_core.interior` (squared loss);
        "auto" is the working set for design matrices with at most 3 columns and otherwise the
        interior point (squared loss, at most ``cvx_core.interior.fits`` in size) or the
        reference (``info["columns"][c]["routing"]`` says which); any installed cvxpy solver
        (e.g. "clarabel") solves the full program with cvxpy (the reference).
    seed : int
        Seed for pattern sampling.
    warm_start : ConvexFit, optional
        A fit at a neighbouring beta on the same data and patterns; seeds the working set.

    Returns
    -------
    ConvexFit

    Raises
    ------
    ValueError
        Bad input, or exact enumeration that would be too large (use sampled patterns).
    RuntimeError
        When every solver fails (the message names the status and beta).
    """
    t0 = time.perf_counter()
    lossf = make_loss(loss)
    act = make_activation(activation, leak)
    X, y = _check_Xy(X, y, lossf)
    beta = _check_beta(beta)
    if not isinstance(solver, str):
        raise ValueError(f"expected solver as a string ('auto', 'working-set', 'interior' or a cvxpy solver name), got {solver!r}")
    solver = solver.lower()
    Xb = add_bias(X, bias)
    if warm_start is not None and warm_start.patterns.shape[1] == Xb.shape[0] and (
        isinstance(patterns, str) or isinstance(patterns, (int, np.integer))
    ):
        D, exact = warm_start.patterns, warm_start.exact_patterns
    else:
        D, exact = resolve_patterns(Xb, patterns, act, seed)
    Y = y[:, None] if y.ndim == 1 else y
    C = Y.shape[1]
    d = Xb.shape[1]
    # The program on Xb / c with beta / c and blocks c z is the same program; solved on the
    # unit scale, the solvers' absolute tolerances mean the same for data at 1e-6 or 1e6.
    c_scale = _data_scale(Xb)
    Xs, beta_s = Xb / c_scale, beta / c_scale
    Vs, Ws, statuses, infos = [], [], [], []
    objective = lb_total = 0.0
    cert = 0.0
    u_star = np.zeros(d)
    lams, preds = [], []
    used = solver
    for c in range(C):
        warm = None
        if warm_start is not None and warm_start.patterns is D:
            Vw = warm_start.V if warm_start.V.ndim == 2 else warm_start.V[c]
            Ww = warm_start.W if warm_start.W.ndim == 2 else warm_start.W[c]
            iv = np.flatnonzero(np.linalg.norm(Vw, axis=1) > 0)
            iw = np.flatnonzero(np.linalg.norm(Ww, axis=1) > 0)
            warm = (np.concatenate([iv, iw]), np.concatenate([np.ones(len(iv), int), -np.ones(len(iw), int)]),
                    c_scale * np.vstack([Vw[iv], Ww[iw]]))
        V, W, lam_c, status, used, info = _solve_column(Xs, Y[:, c], D, beta_s, act, lossf, solver, warm, exact)
        V, W, obj, yhat, (lb, lam, cmax, u_c) = _finish_column(
            Xs, Y[:, c], D, beta_s, act, lossf, V, W, lam_c, info.pop("_certified", None), exact)
        objective += obj
        lb_total += lb
        if cmax / beta_s >= cert:
            cert = cmax / beta_s
            u_star = u_c
        Vs.append(V / c_scale)
        Ws.append(W / c_scale)
        statuses.append(status)
        infos.append(info)
        lams.append(lam)
        preds.append(yhat)
    gap = (objective - lb_total) / max(abs(objective), 1e-300)
    for info, raw in zip(infos, statuses):
        info["solver_status"] = raw
    status = fit_status(statuses, gap)
    if gap > 1e-4:
        warnings.warn(f"certified relative gap {gap:.2e} at beta={beta:g} (status {status})",
                      RuntimeWarning, stacklevel=2)
    V = Vs[0] if y.ndim == 1 else np.stack(Vs)
    W = Ws[0] if y.ndim == 1 else np.stack(Ws)
    net = network_from_blocks(V, W, act.name, leak, bias)
    dual = lams[0] if y.ndim == 1 else np.stack(lams, axis=1)
    pred = preds[0] if y.ndim == 1 else np.stack(preds, axis=1)
    return ConvexFit(
        objective=float(objective), lower_bound=float(lb_total), gap=float(gap), certificate=float(cert),
        patterns=D, V=V, W=W, network=net, n_neurons=net.n_neurons, solve_time=time.perf_counter() - t0,
        status=status, beta=beta, activation=act.name, leak=float(leak), loss=lossf.name, bias=bool(bias),
        solver=used, exact_patterns=exact, dual=dual, predictions=pred, u_star=u_star,
        info={"columns": infos},
    )


def beta_max(X, y, *, activation="relu", leak=0.1, loss="squared", bias=True, patterns="exact", seed=0) -> float:
    """Smallest beta at which the zero network is optimal: ``cert(lambda(0))`` over the patterns.

    For a vector target, the largest over output columns.
    """
    lossf = make_loss(loss)
    act = make_activation(activation, leak)
    X, y = _check_Xy(X, y, lossf)
    Xb = add_bias(X, bias)
    D, exact = resolve_patterns(Xb, patterns, act, seed)
    Y = y[:, None] if y.ndim == 1 else y
    n = Xb.shape[0]
    return max(_cert_max(Xb, D, lossf.dual_variable(np.zeros(n), Y[:, c]), act, exact)[0] for c in range(Y.shape[1]))


def _data_scale(Xb: np.ndarray) -> float:
    """A power of two near the largest row norm of ``Xb`` when that is far from 1 (else 1):
    dividing by it is exact in floating point."""
    top = float(np.linalg.norm(Xb, axis=1).max(initial=0.0))
    if top == 0.0 or 1 / 16 <= top <= 16:
        return 1.0
    return float(2.0 ** np.round(np.log2(top)))


def _cells_containing(Xb, D, u, symmetric, tol=1e-9):
    """Indices of the cells of ``D`` whose closure contains direction ``u``: those agreeing with
    ``u``'s pattern on every row that ``u`` is not (within ``tol``) on."""
    z = Xb @ u
    off = np.abs(z) > tol * np.linalg.norm(Xb, axis=1) * np.linalg.norm(u)
    hit = np.all(D[:, off] == (z[off] > 0), axis=1)
    if symmetric:
        hit |= np.all(D[:, off] == (z[off] < 0), axis=1)
    return np.flatnonzero(hit)


def _hinge_subgradient(lam, yhat, y):
    """The hinge dual vector in the subdifferential at ``yhat`` nearest ``lam``: ``y`` where the
    margin is below 1, 0 above, ``y clip(y lam, 0, 1)`` at a margin of 1 (within rounding)."""
    margin = y * yhat
    at_kink = np.abs(margin - 1.0) <= 1e-9 * np.maximum(1.0, np.abs(yhat))
    t = np.where(margin < 1.0, 1.0, 0.0)
    return y * np.where(at_kink, np.clip(y * lam, 0.0, 1.0), t)


def certify(net: TwoLayerNet, X, y, beta, *, loss: str = "squared", patterns="auto", seed: int = 0,
            refine: bool = True) -> Certificate:
    """Certify how close any network is to the global optimum (docs/math.md section 5).

    The network's own dual vector ``lambda = -grad L(yhat)`` gives ``cert(lambda)`` (is the
    network stationary and dual feasible?) and the bound ``g(lambda / kappa)``. With
    ``refine`` the dual program over the network's own cells and the cells its dual violates
    is also solved (:func:`cvx_core.dual.polish_dual`): any dual vector bounds the optimum, and
    this one is exact once those cells hold the optimum's, so an optimal network is certified
    to the dual solve's accuracy, not only to its own accuracy. For the hinge loss the dual
    vector reported is the one of the subdifferential nearest that dual solution.

    Parameters
    ----------
    net : TwoLayerNet
    X : array_like of shape (n, d)
    y : array_like of shape (n,) or (n, C)
    beta : float
    loss : {"squared", "logistic", "hinge"}
    patterns : "auto", "exact", int or ndarray
        "auto" enumerates all patterns when Cover's count is at most
        ``MAX_EXACT_PATTERNS`` (then the certificate is exact) and otherwise samples 5 000
        Gaussian directions plus the network's own patterns (``exact=False``).
    refine : bool
        Solve the dual program for a better bound (a few small conic solves).

    Returns
    -------
    Certificate
    """
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"expected a TwoLayerNet, got {type(net).__name__}")
    lossf = make_loss(loss)
    X, y = _check_Xy(X, y, lossf)
    beta = _check_beta(beta)
    if X.shape[1] != net.n_inputs:
        raise ValueError(f"expected X with {net.n_inputs} feature columns for this network, got {X.shape[1]}")
    act = net.sigma
    Xb = add_bias(X, net.bias)
    if isinstance(patterns, str) and patterns == "auto":
        if predicted_pattern_count(Xb) <= MAX_EXACT_PATTERNS:
            D, exact = resolve_patterns(Xb, "exact", act)
        else:
            own = (Xb @ net.U.T >= 0).T
            D = np.vstack([sample_patterns(Xb, 5000, seed=seed), own])
            D, exact = resolve_patterns(Xb, D, act)
    else:
        D, exact = resolve_patterns(Xb, patterns, act, seed)
    yhat = net.predict(X)
    objective = net.objective(X, y, beta, loss)
    Y = y[:, None] if y.ndim == 1 else y
    Yh = yhat[:, None] if yhat.ndim == 1 else yhat
    A = net.alpha[:, None] if net.alpha.ndim == 1 else net.alpha
    # certified on the unit scale (see fit_convex): the same values, better conditioned solves
    own = Xb @ net.U.T >= 0  # (n, m)
    c_scale = _data_scale(Xb)
    Xb, beta = Xb / c_scale, beta / c_scale
    row_of = {r.tobytes(): i for i, r in enumerate(np.packbits(D, axis=1))} if refine else {}
    facets = None
    if refine and exact and Xb.shape[1] <= 3:
        from .solver import geometry

        facets = geometry(Xb, D, act)[0].cell_facets
    lb = 0.0
    cert = -1.0
    lams = []
    for c in range(Y.shape[1]):
        lam = lossf.dual_variable(Yh[:, c], Y[:, c])
        cmax, u, s = _cert_max(Xb, D, lam, act, exact)
        lb_c = lower_bound(lossf, lam, Y[:, c], cmax, beta)
        if refine:
            cells = []
            for j in np.flatnonzero(A[:, c] != 0):
                sj = 1 if A[j, c] > 0 else -1
                pat = own[:, j] if not (act.symmetric and not own[0, j]) else ~own[:, j]
                i = row_of.get(np.packbits(pat).tobytes(), -1)
                # a neuron on some data hyperplanes lies in the closure of several cells
                found = [i] if i >= 0 else _cells_containing(Xb, D, net.U[j], act.symmetric)
                cells += [(int(k), sj) for k in found]
            # one output: stop once the network is certified (columns share its penalty otherwise)
            target = objective - 0.1 * OPTIMAL_GAP * abs(objective) if Y.shape[1] == 1 else np.inf
            polished, _ = polish_dual(Xb, Y[:, c], D, beta, act, lossf, cells,
                                      lambda l: _cert_max(Xb, D, l, act, exact), facets, lam_start=lam,
                                      target=target)
            if polished is not None:
                lb_c = max(lb_c, polished[0])
                if lossf.name == "hinge":
                    sub = _hinge_subgradient(polished[1], Yh[:, c], Y[:, c])
                    c_sub, u_sub, s_sub = _cert_max(Xb, D, sub, act, exact)
                    lb_c = max(lb_c, lower_bound(lossf, sub, Y[:, c], c_sub, beta))
                    if c_sub < cmax:
                        lam, cmax, u, s = sub, c_sub, u_sub, s_sub
        lams.append(lam)
        lb += lb_c
        if cmax > cert:
            cert, u_star, sign = cmax, u, s
            pat = Xb @ u >= 0
    gap = (objective - lb) / max(abs(objective), 1e-300)
    dual = lams[0] if y.ndim == 1 else np.stack(lams, axis=1)
    return Certificate(float(objective), float(cert / beta), float(lb), float(gap), u_star, sign,
                       pat.copy(), exact, int(D.shape[0]), dual)
