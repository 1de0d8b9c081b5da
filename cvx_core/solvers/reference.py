"""The convex program written in cvxpy: the independent reference (docs/math.md section 3).

    min_{V, W}  L( sum_i S_i X (v_i - w_i), y ) + beta sum_i (||v_i||_2 + ||w_i||_2)
    s.t.        (2 D_i - I) X v_i >= 0,  (2 D_i - I) X w_i >= 0,

over the given patterns ``D (P, n)``, with ``X`` the design matrix ``Xb (n, d)`` (bias column
included by the caller) and ``V, W`` of shape (P, d). cvxpy is used only here.
"""
from __future__ import annotations

import time
import warnings

import cvxpy as cp
import numpy as np

from ..model import Activation, Loss

_OK = {cp.OPTIMAL}
_INACCURATE = {cp.OPTIMAL_INACCURATE}


def installed_solvers() -> list[str]:
    return [s.lower() for s in cp.installed_solvers()]


def _loss_expr(loss: Loss, yhat, y: np.ndarray):
    if loss.name == "squared":
        return 0.5 * cp.sum_squares(yhat - y)
    if loss.name == "logistic":
        return cp.sum(cp.logistic(-cp.multiply(y, yhat)))
    return cp.sum(cp.pos(1 - cp.multiply(y, yhat)))


def solve_reference(
    Xb: np.ndarray,
    y: np.ndarray,
    D: np.ndarray,
    beta: float,
    act: Activation,
    loss: Loss,
    solver: str = "clarabel",
) -> dict:
    """Solve the program with cvxpy.

    Returns a dict with ``V, W`` (P, d), ``yhat`` (n,), ``lam_candidates`` (dual vectors read
    from the solver, both sign conventions; the caller keeps whichever certifies best),
    ``status`` and ``solve_time``.

    Raises
    ------
    RuntimeError
        If the solver fails (the message names the status, solver and beta).
    """
    P, n = D.shape
    d = Xb.shape[1]
    S = act.slopes(D).T  # (n, P)
    sgn = np.where(D, 1.0, -1.0).T  # (n, P)
    V = cp.Variable((P, d))
    W = cp.Variable((P, d))
    yhat = cp.Variable(n)
    XV = Xb @ V.T
    XW = Xb @ W.T
    cons = [
        yhat == cp.sum(cp.multiply(S, XV - XW), axis=1),
        cp.multiply(sgn, XV) >= 0,
        cp.multiply(sgn, XW) >= 0,
    ]
    obj = _loss_expr(loss, yhat, y) + beta * (cp.sum(cp.norm(V, 2, axis=1)) + cp.sum(cp.norm(W, 2, axis=1)))
    prob = cp.Problem(cp.Minimize(obj), cons)
    t0 = time.perf_counter()
    try:
        prob.solve(solver=solver.upper())
    except cp.error.SolverError as exc:
        raise RuntimeError(f"solver {solver} failed at beta={beta:g}: {exc}") from None
    elapsed = time.perf_counter() - t0
    status = prob.status
    if status not in _OK | _INACCURATE or V.value is None:
        raise RuntimeError(f"solver {solver} returned status {status!r} at beta={beta:g}")
    if status in _INACCURATE:
        warnings.warn(f"solver {solver} returned {status} at beta={beta:g}", RuntimeWarning, stacklevel=3)
    dual = cons[0].dual_value
    cands = [] if dual is None else [np.asarray(dual, float), -np.asarray(dual, float)]
    return {
        "V": np.asarray(V.value),
        "W": np.asarray(W.value),
        "yhat": np.asarray(yhat.value),
        "lam_candidates": cands,
        "status": "optimal" if status in _OK else "optimal_inaccurate",
        "solve_time": elapsed,
    }
