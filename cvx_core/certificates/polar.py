"""Projection onto one cell's cone by Lawson-Hanson on its polar, in numpy.

``Proj_K(z)`` for ``K = {u : A u >= 0}`` is ``z + A' gamma`` with ``gamma >= 0`` minimising
``||z + A' gamma||`` (Moreau). The compiled batch's active-set method
(:func:`cvx_core.kernels.cones.project`) for the few cells a fit projects one by one, with
least-squares steps by QR and an entering tolerance near rounding (it also moves blocks into
their cells exactly, :func:`cvx_core.recovery.make_feasible`). In numpy because
:mod:`scipy.optimize` (whose ``nnls`` this replaces) took a quarter of a second to import in a
fresh dashboard process. In R^d at most d generators are active (Caratheodory), so every
least-squares problem is at most d x d.
"""
from __future__ import annotations

import numpy as np

#: Relative diagonal of R below which the active generators count as linearly dependent.
_SINGULAR = 1e-7


def _active_solve(M: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """``argmin_s ||M' s - b||`` for the active generators ``M`` (k, d) by a QR factorisation of
    ``M'`` (the normal equations square the conditioning: the projections they gave ended up to
    1e-14 outside a thin cell, and pruning then rejected them); None when the last generator
    depends on the others."""
    Q, R = np.linalg.qr(M.T)
    diag = np.abs(np.diag(R))
    if diag[-1] <= _SINGULAR * max(float(diag.max()), 1e-300):
        return None
    return np.linalg.solve(R, Q.T @ b)


def project_polar(A: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
    """``(||Proj_K(z)||, Proj_K(z))`` for the cone ``K = {u : A u >= 0}``, ``A`` of shape (n, d)."""
    n, d = A.shape
    b = -z
    scale = float(np.sqrt((A * A).sum(axis=1).max(initial=0.0)))
    # near rounding, not the compiled kernel's 1e-12: pruning needs blocks exactly in their cells
    # (a z 1e-14 outside a thin cell was left there, rejected and zeroed)
    tol = 10 * np.finfo(float).eps * max(float(np.linalg.norm(z)), 1e-300) * max(scale, 1e-300)
    active = np.empty(0, dtype=np.int64)
    x = np.empty(0)  # coefficients of the active generators, all > 0
    in_set = np.zeros(n, dtype=bool)
    r = b.copy()  # residual b - A[active]' x
    for _ in range(3 * (n + d)):
        w = A @ r
        w[in_set] = -np.inf
        t = int(np.argmax(w)) if n else -1
        if t < 0 or w[t] <= tol or len(active) == d:
            break
        active = np.append(active, t)
        x = np.append(x, 0.0)
        in_set[t] = True
        stuck = False
        while True:
            s = _active_solve(A[active], b)
            if s is None:  # the new generator depends on the active ones: it cannot reduce the residual
                in_set[active[-1]] = False
                active, x = active[:-1], x[:-1]
                stuck = True
                break
            if s[-1] <= 0.0 and x[-1] == 0.0 and active[-1] == t:  # rounding: the entering one does not help
                active, x = active[:-1], x[:-1]
                stuck = True
                break
            if np.all(s > 0.0):
                x = s
                break
            neg = s <= 0.0
            den = x[neg] - s[neg]
            alpha = min(1.0, float(np.min(np.where(den > 0, x[neg] / np.where(den > 0, den, 1.0), 0.0))))
            moved = x + alpha * (s - x)
            keep = moved > 1e-15 * np.maximum(np.abs(x), 1.0)
            in_set[active[~keep]] = False
            active, x = active[keep], moved[keep]
            if not len(active):
                break
        r = b - A[active].T @ x
        if stuck:  # no generator can enter: the last consistent solution stands
            break
    return float(np.linalg.norm(r)), -r
