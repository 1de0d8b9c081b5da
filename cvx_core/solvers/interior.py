"""The whole convex program in one structured interior-point solve, then a Newton polish.

For sampled patterns (or data of higher rank) the cells have many facets and no sphere
certificate, and the program over all P patterns is small enough to solve at once:
:func:`cvx_core.solvers.blocks.solve_design` handles every block (2 P of them) and every cone row
(2 P n) with one dense n x n factorisation per iteration. Its normal equations limit the
accuracy to a relative gap of about 1e-8, and a dual vector ``lambda = y - yhat`` taken from a
primal point that is 1e-8 optimal is only ~1e-4 accurate (the loss is quadratic in
``yhat``), too little to *certify* 1e-7. So the interior point only identifies the
structure of the optimum -- which blocks are nonzero and which of their cone rows are tight
-- and Newton's method then solves the smooth problem on that structure,

    min  1/2 || sum_j C_j * (X z_j) - y ||^2 + beta sum_j ||z_j||
    s.t. the tight rows of each block hold with equality,

to machine precision (z_j = N_j w_j over the null space of its tight rows), as an active-set
method: steps stop at loose rows (which turn tight), a tight row with a negative multiplier is
released, blocks driven to zero leave. The certificate over all patterns at the polished point
(or at the interior point's own, if better) decides; if it does not certify, ``solvers.solve_column``
falls back to the cvxpy reference.
"""
from __future__ import annotations

import time

import numpy as np

from ..certificates.cells import lower_bound
from ..certificates.evaluate import cert_max
from ..model import Activation, Loss, make_loss
from ..recovery import caratheodory
from .blocks import smooth_loss, solve_design
from .ipm import predict
from .small_program import block_coefficients
from .working_set import WorkingSetResult

SQUARED = make_loss("squared")
_SUPPORT_TOL = 1e-6  # blocks below this fraction of the largest norm are zero
_ZERO = 1e-9  # a block Newton shrinks below this fraction of the largest has left the support

def _newton(X, y, C, sgn, Z, tight, beta, max_iter, loss):
    """Newton's method with a backtracking line search on the support ``Z`` (all blocks
    nonzero), each block kept in the null space of (at most d - 1 of) its ``tight`` rows.

    Returns ``(Z, enforced)``: the rows held as equalities (the steps stop at every other row).
    """
    from scipy.linalg import blas, cho_factor, cho_solve  # (not at import: see solvers/ipm.py)

    m, d = Z.shape
    xn = np.linalg.norm(X, axis=1)
    Ns = []
    enforced = np.zeros_like(tight)
    for j in range(m):
        rows = np.flatnonzero(tight[j])
        # the tightest first (normalised slack at Z); at most d - 1 independent rows: a nonzero
        # block lies on a ray at most (an interior point calls near-tight rows tight too)
        rows = rows[np.argsort(sgn[j, rows] * (X[rows] @ Z[j]) / xn[rows])]
        Q = np.zeros((0, d))  # orthonormal basis of the rows taken (Gram-Schmidt)
        for k in rows[: 4 * d]:
            a = X[k] / xn[k]
            r = a - Q.T @ (Q @ a)
            nr = np.linalg.norm(r)
            if nr > 1e-8:
                Q = np.vstack([Q, r / nr])
                enforced[j, k] = True
                if Q.shape[0] == d - 1:
                    break
        Ns.append(np.linalg.svd(Q, full_matrices=True)[2][Q.shape[0]:].T if Q.shape[0] else np.eye(d))
    k = np.array([N.shape[1] for N in Ns])
    off = np.concatenate([[0], np.cumsum(k)])
    w = np.concatenate([N.T @ Z[j] for j, N in enumerate(Ns)])

    def unpack(w):
        return np.stack([Ns[j] @ w[off[j]:off[j + 1]] for j in range(m)])

    def value(Zc):  # the objective, the loss's gradient and curvature in the predictions
        lval, g, h = smooth_loss(loss, predict(X, C, Zc), y)
        return lval + beta * np.linalg.norm(Zc, axis=1).sum(), (g, h)

    # G = [C_j * (X N_j)]: the prediction map in the reduced coordinates
    G = np.concatenate([C[j][:, None] * (X @ N) for j, N in enumerate(Ns)], axis=1)
    GtG = G.T @ G if loss.name == "squared" else None  # constant curvature: formed once
    Zc = unpack(w)
    f, (r, h) = value(Zc)
    for _ in range(max_iter):
        zn = np.linalg.norm(Zc, axis=1)
        if np.any(zn <= _ZERO * zn.max()):
            break  # a block is leaving the support
        U = Zc / zn[:, None]
        grad = G.T @ r + beta * np.concatenate([N.T @ U[j] for j, N in enumerate(Ns)])
        # the lower triangle only (the Cholesky factor reads no more): half the product
        Hs = GtG.copy() if GtG is not None else blas.dsyrk(1.0, G * np.sqrt(h)[:, None], trans=1, lower=1)
        for j, N in enumerate(Ns):
            NU = N.T @ U[j]
            Hs[off[j]:off[j + 1], off[j]:off[j + 1]] += (beta / zn[j]) * (np.eye(k[j]) - np.outer(NU, NU))
        try:
            step = -cho_solve(cho_factor(Hs, lower=True, check_finite=False), grad, check_finite=False)
        except np.linalg.LinAlgError:
            Hs = np.tril(Hs) + np.tril(Hs, -1).T
            step = -np.linalg.lstsq(Hs, grad, rcond=None)[0]
        dec = -grad @ step
        # no step through a loose row (an active-set step: the blocking row turns tight next round)
        dZ = unpack(step)
        sl, ds = sgn * (Zc @ X.T), sgn * (dZ @ X.T)
        block = (ds < 0) & ~enforced
        t = min(1.0, float(np.min(-sl[block] / ds[block], initial=np.inf)))
        if t <= 0:
            break
        while t > 1e-10:
            Zt = unpack(w + t * step)
            ft, (rt, ht) = value(Zt)
            if ft <= f:
                break
            t *= 0.5
        if t <= 1e-10:
            break
        w, Zc, f, r, h = w + t * step, Zt, ft, rt, ht
        if dec <= 1e-15 * max(abs(f), 1e-300):
            break
    return Zc, enforced


def polish(X, y, C, sgn, Z, tight, beta, *, max_iter: int = 30, max_rounds: int = 100, loss: Loss = SQUARED):
    """Newton's method on the support of ``Z`` with the ``tight`` rows as equalities.

    ``loss``: squared (the default) or logistic (its curvature re-evaluated each step).
    ``X (n, d)``, ``C (m, n)`` the blocks' coefficients, ``sgn (m, n)`` their row signs, restricted to the support
    (every block of ``Z`` nonzero). Blocks that Newton drives to zero leave the support and
    loose rows it violates become tight, a few rounds at most. Returns ``(Z, kept)`` (the
    polished blocks and their indices into ``Z``), or None when no structure was found.
    """
    kept = np.arange(Z.shape[0])
    tight = tight.copy()
    xn = np.linalg.norm(X, axis=1)
    for _ in range(max_rounds):
        if kept.size == 0:
            return None
        zn0 = np.linalg.norm(Z[kept], axis=1)
        Zc, held = _newton(X, y, C[kept], sgn[kept], Z[kept], tight[kept], beta, max_iter, loss)
        zn = np.linalg.norm(Zc, axis=1)
        # leaving: at zero, or shrunk a hundredfold in this round (on its way there: Newton's
        # steps on beta ||z|| stop at the first block to reach zero, one block per round)
        alive = (zn > _ZERO * zn.max()) & (zn > 1e-2 * zn0)
        if not alive.all():
            Z = Z.copy()
            Z[kept] = Zc
            kept = kept[alive]
            continue
        slack = sgn[kept] * (Zc @ X.T) / (zn[:, None] * xn[None, :])
        reached = (slack <= 1e-12) & ~held  # rows a step stopped on
        # multipliers of the rows held: grad_j = A_j' mu_j with mu >= 0 at a KKT point
        r = smooth_loss(loss, predict(X, C[kept], Zc), y)[1]
        grad = (C[kept] * r) @ X + beta * Zc / zn[:, None]
        release = np.zeros_like(reached)
        for j in range(kept.size):
            rows = np.flatnonzero(held[j])
            if rows.size:
                A = sgn[kept[j], rows, None] * X[rows]
                mu = np.linalg.lstsq(A.T, grad[j], rcond=None)[0]
                release[j, rows[np.argmin(mu)]] = mu.min() < -1e-9 * max(np.abs(mu).max(), 1e-300)
        if not reached.any() and not release.any():
            return (Zc, kept) if slack.min() >= -1e-10 else None
        Z = Z.copy()
        Z[kept] = Zc
        tight[kept] = (held | reached) & ~release
    return None


def solve_interior(Xb: np.ndarray, y: np.ndarray, D: np.ndarray, beta: float, act: Activation, loss: Loss,
                   *, tol: float = 1e-7, exact: bool = False):
    """The program over all patterns ``D`` (squared loss) by one interior-point solve and a
    Newton polish; returns a :class:`cvx_core.solvers.working_set.WorkingSetResult` whose gap
    is certified over all of ``D`` (``exact``: D holds every cell, as for ``fit_convex``'s
    certificate).

    At beta >= beta_max ``solvers.solve_column`` returns the zero network without calling this.
    """

    t0 = time.perf_counter()
    n, d = Xb.shape
    P = D.shape[0]
    bi = np.repeat(np.arange(P), 2)
    bs = np.tile(np.array([1, -1]), P)
    C = block_coefficients(D, act, bi, bs)
    sgn = np.where(D[bi], 1.0, -1.0)
    res = solve_design((C, Xb), Xb, sgn, y, beta, SQUARED, tol=1e-9)
    zn = np.linalg.norm(res.Z, axis=1)
    cands = [(res.Z, "interior point")]
    if zn.max(initial=0.0) > 0:
        # Active blocks carry a multiplier of norm beta (ratio 1), inactive ones less; an
        # interior point at relative gap g separates them to about g (blocks misjudged here
        # leave or are missed by the certificate below, which decides).
        keep = np.flatnonzero((zn > _SUPPORT_TOL * zn.max()) & (res.block_dual >= 1 - 100 * max(res.gap, 1e-9)))
        Z0 = np.zeros_like(res.Z)
        Z0[keep] = res.Z[keep]
        if keep.size > n:  # an interior point spreads a degenerate optimum over many blocks
            kept = {(int(i), int(s)): z for i, s, z in caratheodory(Xb, D, act, [(bi[j], bs[j], res.Z[j]) for j in keep])}
            Z0[:] = 0.0
            for j in keep:
                z = kept.get((int(bi[j]), int(bs[j])))
                if z is not None:
                    Z0[j] = z
            keep = np.flatnonzero(np.linalg.norm(Z0, axis=1) > 0)
        out = polish(Xb, y, C[keep], sgn[keep], Z0[keep], res.row_active[keep], beta)
        if out is not None:
            Zfull = np.zeros_like(res.Z)
            Zfull[keep[out[1]]] = out[0]
            cands.insert(0, (Zfull, "polished"))
    best = None
    for Z, how in cands:
        yhat = predict(Xb, C, Z)
        obj = loss.value(yhat, y) + beta * float(np.linalg.norm(Z, axis=1).sum())
        lam = loss.dual_variable(yhat, y)
        cert, u, _ = cert_max(Xb, D, lam, act, exact)
        lb = lower_bound(loss, lam, y, cert, beta)
        if best is None or obj - lb < best[0]:
            best = (obj - lb, Z, lam, cert, obj, lb, u, how)
        if (obj - lb) <= tol * max(abs(obj), 1e-300):
            break
    _, Z, lam, cert, obj, lb, u_star, how = best
    nz = np.flatnonzero(np.linalg.norm(Z, axis=1) > 0)
    gap = (obj - lb) / max(abs(obj), 1e-300)
    status = "optimal" if gap <= tol else f"inaccurate ({how}, inner status {res.status})"
    return WorkingSetResult(bi[nz], bs[nz], Z[nz], lam, float(cert), float(obj), float(lb), status,
                            res.iterations, time.perf_counter() - t0, u_star=u_star)
