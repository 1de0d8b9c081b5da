"""``cert(lambda)`` over a pattern list, and the best bound over candidate dual vectors.

With every cell of an arrangement in at most three dimensions the maximum is taken on the
sphere (:mod:`.sphere`, exact without projections); otherwise cell by cell
(:func:`cvx_core.certificates.cells.cell_values`, one non-negative least squares per cell that
can matter). Both are exact over the patterns given (docs/math.md section 5).
"""
from __future__ import annotations

from ..tolerances import GAP_TOL
from .arrangement import arrangement_geometry
from .cells import Bound, cell_values, lower_bound


def cert_max(Xb, D, lam, act, exact, floor=None):
    """``cert(lambda)`` over the patterns D, its maximiser and sign (exact either way; with
    ``floor``, a maximum at most ``floor`` may come as an upper bound <= ``floor``)."""
    if exact and Xb.shape[1] <= 3:
        return arrangement_geometry(Xb, D, act)[1].max(lam)
    cv = cell_values(Xb, D, lam, act, threshold=floor, floor=floor)
    i, col = cv.argmax()
    return cv.max, cv.directions[i, col], 1 if col == 0 else -1


def bound_cache(loss, yc, *bounds) -> dict:
    """A ``known`` dict for :func:`best_bound` holding ``bounds`` (None entries skipped), keyed
    as it keys them."""
    return {loss.clip_dual(b.lam, yc).tobytes(): b for b in bounds if b is not None}


def best_bound(Xb, yc, D, beta, act, loss, yhat, lam_candidates, exact=False, objective=None, floor=None,
               known: dict | None = None, enough: float | None = None):
    """Best certified lower bound over candidate dual vectors (each is a valid bound): the
    dual vector of the predictions ``yhat`` (None: none), then ``lam_candidates`` in order.

    With ``objective`` given, stops at the first candidate whose relative gap is below
    ``enough`` (default ``GAP_TOL / 10``; the others could only tighten an already certified
    bound). ``floor`` (e.g. beta): cells at most ``floor`` are not projected (the bound is the
    same while cert <= beta: kappa is 1 either way). ``known``: bounds already computed
    (:func:`bound_cache`; read and filled; the same ``floor``).
    Returns the best :class:`Bound`.
    """
    cands = ([] if yhat is None else [loss.dual_variable(yhat, yc)]) + [l for l in lam_candidates if l is not None]
    enough = 0.1 * GAP_TOL if enough is None else enough
    known = {} if known is None else known
    best = None
    for lam in cands:
        lam = loss.clip_dual(lam, yc)
        key = lam.tobytes()
        b = known.get(key)
        if b is None:
            cert, u, _ = cert_max(Xb, D, lam, act, exact, floor)
            b = known[key] = Bound(lower_bound(loss, lam, yc, cert, beta), lam, cert, u)
        if best is None or b.lower_bound > best.lower_bound:
            best = b
        if objective is not None and objective - best.lower_bound <= enough * max(abs(objective), 1e-300):
            break
    return best
