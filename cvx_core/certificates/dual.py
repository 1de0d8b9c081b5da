"""A dual vector that certifies: the dual program over a few cells, solved directly.

Any ``lambda`` gives the lower bound ``g(lambda / kappa)`` with ``kappa = max(1, cert(lambda) /
beta)`` (:mod:`cvx_core.certificates.cells`). A primal solver's own ``lambda`` (its multipliers,
or ``-grad L`` at its predictions) is accurate only to its tolerances in *absolute* terms, while
the dual constraint ``cert(lambda) <= beta`` is relative to ``beta``: at small ``beta`` even a
very accurate primal solve can leave ``kappa - 1`` far above its tolerance (the hinge loss,
whose dual is not unique, is the worst case). This module asks the dual question itself, over a
set ``J`` of (cell, sign) pairs, with ``lambda = beta mu`` so that the constraints are on the
unit scale:

    max_{mu, gamma}  g(beta mu)
    s.t.  || s_j Xb' S_{i_j} mu + Xb' (2 D_{i_j} - I) gamma_j ||_2 <= 1,  gamma_j >= 0,  j in J,

(the dual of the convex program restricted to the cells ``J``; ``g`` is the loss's dual
function: ``lambda'y - 1/2 ||lambda||^2`` for the squared loss, ``sum y lambda`` on
``0 <= y lambda <= 1`` for the hinge, the binary entropy ``sum H(y lambda)`` for the logistic
loss). Cells whose constraint the solution violates are added
and the program is solved again (cutting planes); every round's ``lambda`` is certified over
all patterns, and the best bound is returned. Once ``J`` holds the optimum's active cells the
bound equals the optimum up to the dual solve's tolerance, whatever the primal point.

Symbols: ``Xb (n, d)`` design matrix, ``D (P, n)`` bool patterns, ``y (n,)``.
"""
from __future__ import annotations

import clarabel
import numpy as np

from ..model import Activation, Loss
from ..sparse import Stack, csc, diagonal
from .cells import Bound, cell_values, lower_bound

#: Losses whose dual program is posed here (the logistic one with exponential cones).
POLISHED_LOSSES = ("squared", "hinge", "logistic")


def _solve(Xb, y, D, beta, act, loss, cells, rows):
    """One Clarabel solve of the dual program over ``cells`` [(i, s)]; returns lambda or None."""
    n, d = Xb.shape
    J = len(cells)
    counts = np.array([len(r) for r in rows], dtype=np.intp)
    R = int(counts.sum())
    logistic = loss.name == "logistic"
    nvar = n + R + (2 * n if logistic else 0)  # logistic: entropy epigraph variables r, t
    # objective (minimised): -g(beta mu) / beta
    q = np.zeros(nvar)
    if logistic:
        q[n + R:] = -1.0 / beta
    else:
        q[:n] = -y
    P = diagonal(np.full(n, beta), 0, nvar) if loss.name == "squared" else csc([], [], [], (nvar, nvar))
    A = Stack(nvar)
    b_parts, cones = [], []
    k = np.arange(n)
    if loss.name == "hinge":  # 0 <= y mu <= 1 / beta
        A.add(2 * n, np.concatenate([-y, y]), np.arange(2 * n), np.concatenate([k, k]))
        b_parts.append(np.r_[np.zeros(n), np.full(n, 1.0 / beta)])
        cones.append(clarabel.NonnegativeConeT(2 * n))
    if logistic:
        # g = sum H(p_k), p = beta y mu: r_k <= -p log p iff (r_k, p, 1) in the exponential cone,
        # t_k <= -(1 - p) log(1 - p) iff (t_k, 1 - p, 1) is
        rr = np.concatenate([6 * k, 6 * k + 1, 6 * k + 3, 6 * k + 4])
        cc = np.concatenate([n + R + k, k, n + R + n + k, k])
        vv = np.concatenate([-np.ones(n), -beta * y, -np.ones(n), beta * y])
        A.add(6 * n, vv, rr, cc)
        b_exp = np.zeros((n, 6))
        b_exp[:, 2] = b_exp[:, 4] = b_exp[:, 5] = 1.0
        b_parts.append(b_exp.ravel())
        cones += [clarabel.ExponentialConeT()] * (2 * n)
    if R:  # gamma >= 0
        A.add(R, -np.ones(R), np.arange(R), n + np.arange(R))
        b_parts.append(np.zeros(R))
        cones.append(clarabel.NonnegativeConeT(R))
    # (1, s Xb' S mu + A_j' gamma_j) in the second-order cone: rows 0 (constant) and 1..d
    g_start = n + np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
    r_idx, c_idx, vals = [], [], []
    for j, ((i, s), rj) in enumerate(zip(cells, rows)):
        base = j * (d + 1) + 1
        coef = s * act.slopes(D[i])[:, None] * Xb  # (n, d): column block of mu
        r_idx.append(base + np.tile(np.arange(d), n))
        c_idx.append(np.repeat(np.arange(n), d))
        vals.append(-coef.ravel())
        if len(rj):
            a = np.where(D[i, rj], 1.0, -1.0)[:, None] * Xb[rj]  # (r, d) inward normals
            r_idx.append(base + np.tile(np.arange(d), len(rj)))
            c_idx.append(np.repeat(g_start[j] + np.arange(len(rj)), d))
            vals.append(-a.ravel())
    A.add(J * (d + 1), np.concatenate(vals), np.concatenate(r_idx), np.concatenate(c_idx))
    b_soc = np.zeros(J * (d + 1))
    b_soc[:: d + 1] = 1.0
    b_parts.append(b_soc)
    cones += [clarabel.SecondOrderConeT(d + 1)] * J
    s = clarabel.DefaultSettings()
    s.verbose = False
    s.tol_gap_abs = s.tol_gap_rel = s.tol_feas = 1e-11
    s.tol_ktratio = 1e-9
    s.max_iter = 200
    sol = clarabel.DefaultSolver(P, q, A.csc(), np.concatenate(b_parts), cones, s).solve()
    # any point is usable: its lambda is certified exactly and its blocks are re-evaluated
    # (exponential cones can end in InsufficientProgress close to the optimum)
    x, z = np.asarray(sol.x), np.asarray(sol.z)
    if x.size != nvar or not (np.all(np.isfinite(x)) and np.all(np.isfinite(z))):
        return None
    # The multipliers of the cone constraints are the primal blocks (with the opposite sign):
    # this solve's primal point is as accurate as its dual one.
    Z = -z[-J * (d + 1):].reshape(J, d + 1)[:, 1:]
    return beta * x[:n], Z


def _most_violated(Xb, D, lam, act, beta, k):
    """The (cell, sign) pairs of the ``k`` largest cell values above ``beta``."""
    cv = cell_values(Xb, D, lam, act, threshold=beta * (1 + 1e-10), top_k=k)
    viol = np.argwhere(cv.exact & (cv.values > beta * (1 + 1e-10)))
    viol = viol[np.argsort(-cv.values[viol[:, 0], viol[:, 1]])][:k]
    return [(int(i), 1 if col == 0 else -1) for i, col in viol]


def polish_dual(Xb: np.ndarray, y: np.ndarray, D: np.ndarray, beta: float, act: Activation, loss: Loss,
                cells, cert_max, facets=None, *, lam_start=None, target: float = np.inf,
                max_rounds: int = 8, add_per_round: int = 10):
    """The best certified lower bound from the dual program over ``cells`` and the cells it
    violates (module docstring), and the primal points of those solves.

    Parameters
    ----------
    cells : iterable of (int, int)
        (cell index, sign) pairs to start from: the primal solution's support.
    cert_max : callable
        ``cert_max(lam) -> (cert, u, sign)``, exact over all patterns ``D``.
    facets : callable, optional
        ``facets(i) -> rows`` of cell i's cone (all n rows when not given).
    lam_start : ndarray of shape (n,), optional
        A dual vector whose most violated cells join ``cells`` from the start (the network's
        own, when certifying a network that may not be optimal).
    target : float
        Stop once the bound reaches this (the objective of the point to certify, less the
        tolerance).

    Returns
    -------
    bound : Bound or None
        None when ``loss`` is not polished here or no dual solve succeeded.
    primals : list of (cells, Z)
        Each solve's primal blocks ``Z`` (len(cells), d) on its (cell, sign) pairs; they can
        leave their cones by the solver's tolerance.
    """
    if loss.name not in POLISHED_LOSSES:
        return None, []
    n = Xb.shape[0]
    J = list(dict.fromkeys((int(i), int(s)) for i, s in cells))
    best, primals = None, []
    if lam_start is not None:
        J += [c for c in _most_violated(Xb, D, lam_start, act, beta, add_per_round) if c not in set(J)]
    for _ in range(max_rounds):
        if not J:
            break
        rows = [np.arange(n) if facets is None else np.asarray(facets(i), dtype=np.intp) for i, _ in J]
        out = _solve(Xb, y, D, beta, act, loss, J, rows)
        if out is None:
            break
        lam, Z = out
        primals.append((list(J), Z))
        lam = loss.clip_dual(lam, y)
        cert, u, _ = cert_max(lam)
        lb = lower_bound(loss, lam, y, cert, beta)
        if best is None or lb > best.lower_bound:
            best = Bound(lb, lam, cert, u)
        if cert <= beta * (1 + 1e-10) or best.lower_bound >= target:
            break
        known = set(J)
        new = [c for c in _most_violated(Xb, D, lam, act, beta, add_per_round) if c not in known]
        if not new:
            break
        J += new
    return best, primals
