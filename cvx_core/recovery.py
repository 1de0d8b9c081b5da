"""From a convex solution to a network (docs/math.md section 4), and the blocks it keeps.

A block ``z`` of cell ``D`` with sign ``s`` becomes the neuron ``u = z / sqrt(||z||)``,
``alpha = s sqrt(||z||)``; the balanced network reproduces the convex objective as long as
every block lies in its cone. :func:`prune` drops blocks below ``ACTIVE_TOL`` of the largest,
moves every kept block exactly into its cone (:func:`make_feasible`) and keeps at most ``n``
blocks without changing the predictions (:func:`caratheodory`).

Symbols: ``Xb (n, d)`` design matrix, ``D (P, n)`` bool patterns, ``V, W (P, d)`` blocks.
"""
from __future__ import annotations

import numpy as np

from .certificates.cells import project_onto_cell
from .model import TwoLayerNet
from .tolerances import ACTIVE_TOL, ROUNDING


def blocks_to_VW(P, d, bi, bs, Z):
    V = np.zeros((P, d))
    W = np.zeros((P, d))
    for i, s, z in zip(bi, bs, Z):
        (V if s > 0 else W)[i] += z
    return V, W

def caratheodory(Xb, D, act, blocks):
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

def interior_direction(Xb: np.ndarray, D_i: np.ndarray) -> np.ndarray | None:
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

def make_feasible(Xb, sgn_row, z):
    """``z`` moved into its cell ``{u : sgn_k x_k' u >= 0}`` (the block itself when it is in):
    the projection when it is reliable, else ``z + t u`` along an interior direction ``u``,
    with the smallest ``t`` that clears every row. Returns the zero block for a cell without
    interior."""
    xn = np.maximum(np.linalg.norm(Xb, axis=1), 1e-300)

    def inside(v):  # up to rounding of the products themselves
        return np.all(sgn_row * (Xb @ v) >= -ROUNDING * xn * np.linalg.norm(v))

    if inside(z):
        return z
    slack = sgn_row * (Xb @ z)
    _, zp = project_onto_cell(Xb, sgn_row, z)
    outside = max(0.0, float(np.max(-slack / xn)))
    # NNLS can fail on a point on a ray of its cell (its "projection" lands far away): keep the
    # projection only when it moved about as far as z was out
    if np.linalg.norm(zp - z) <= 1e3 * outside + 1e-12 * np.linalg.norm(z) and inside(zp):
        return zp
    u = interior_direction(Xb, sgn_row > 0)
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

def prune(Xb, D, act, V, W, tol=ACTIVE_TOL):
    """Zero blocks at most ``tol`` times the largest, make every kept block exactly feasible
    for its cone, and keep at most n blocks.

    The last step (:func:`caratheodory`) keeps the predictions and at most rank <= n blocks.
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
        z = make_feasible(Xb, np.where(D[i], 1.0, -1.0), Z[t])
        if np.linalg.norm(z) > 0:
            blocks.append((i, s, z))
    if len(blocks) > n:
        blocks = caratheodory(Xb, D, act, blocks)
    # the reduction (or a projection) can leave a block below the tolerance: prune again
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

def column_objective(Xb, yc, D, act, loss, beta, V, W):
    """``L(yhat, y) + beta * sum of group norms`` of one column's blocks, and ``yhat``."""
    nz = np.flatnonzero(np.any(V != 0, axis=1) | np.any(W != 0, axis=1))
    yhat = np.einsum("pn,pn->n", act.slopes(D[nz]), (V[nz] - W[nz]) @ Xb.T)
    obj = loss.value(yhat, yc) + beta * float(np.linalg.norm(V, axis=1).sum() + np.linalg.norm(W, axis=1).sum())
    return obj, yhat
