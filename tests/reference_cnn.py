"""An independent cvxpy + Clarabel model of the two-layer CNN program (docs/math.md section 10).

Patches are cut here with plain loops and the program is written block by block from the
formula, without the engine's patch matrix, designs or solvers; only the patterns ``D``
(P, nK), rows ordered ``k n + j`` (patch k of sample j), are shared.
"""
from __future__ import annotations

import warnings

import cvxpy as cp
import numpy as np


def loop_patches(X: np.ndarray, h: int, s: int) -> np.ndarray:
    """(n, K, h) for signals (n, L), (n, K, h*h) for images (n, H, W), with loops."""
    out = []
    for x in X:
        rows = []
        if X.ndim == 2:
            for start in range(0, X.shape[1] - h + 1, s):
                rows.append(x[start:start + h])
        else:
            for r in range(0, X.shape[1] - h + 1, s):
                for c in range(0, X.shape[2] - h + 1, s):
                    rows.append(x[r:r + h, c:c + h].ravel())
        out.append(rows)
    return np.array(out, dtype=float)


def cnn_reference(X, y, D, beta, *, filter_size, stride=1, pooling="sum", a=1.0, b=0.0, loss="squared",
                  bias=True) -> float:
    """Optimum of ``min L(p sum_i sum_k S_i^k X~_k (v_i - w_i), y) + beta sum_i (||v_i|| + ||w_i||)``
    s.t. ``(2 D_i - I) Z v_i >= 0`` and the same for ``w_i``, by cvxpy + Clarabel.

    When Clarabel stops short of its tolerances on the whole program (it does with exponential
    cones on some small problems), the program is solved again on the blocks that solve left
    nonzero (an upper bound on the optimum, equal to it on the right support) and the lower
    of the two values is returned."""
    P3 = loop_patches(np.asarray(X, float), filter_size, stride)
    if bias:
        P3 = np.concatenate([P3, np.ones(P3.shape[:2] + (1,))], axis=2)
    value, status, support = _solve(P3, y, D, beta, pooling, a, b, loss, None)
    if status != cp.OPTIMAL:
        v2, s2, _ = _solve(P3, y, D, beta, pooling, a, b, loss, support)
        if s2 == cp.OPTIMAL:
            value = min(value, v2)
    return value


def _solve(P3, y, D, beta, pooling, a, b, loss, support):
    n, K, d = P3.shape
    p = 1.0 if pooling == "sum" else 1.0 / K
    P = D.shape[0]
    V, W = cp.Variable((P, d)), cp.Variable((P, d))
    yhat = 0
    cons = [] if support is None else [V[~support[0]] == 0, W[~support[1]] == 0]
    for k in range(K):
        Xk = P3[:, k, :]
        Dk = D[:, k * n:(k + 1) * n].T  # (n, P)
        Sk = np.where(Dk, a, b)
        sgn = np.where(Dk, 1.0, -1.0)
        yhat = yhat + p * cp.sum(cp.multiply(Sk, Xk @ (V - W).T), axis=1)
        cons += [cp.multiply(sgn, Xk @ V.T) >= 0, cp.multiply(sgn, Xk @ W.T) >= 0]
    if loss == "squared":
        L = 0.5 * cp.sum_squares(yhat - y)
    elif loss == "logistic":
        L = cp.sum(cp.logistic(-cp.multiply(y, yhat)))
    else:
        L = cp.sum(cp.pos(1 - cp.multiply(y, yhat)))
    prob = cp.Problem(cp.Minimize(L + beta * (cp.sum(cp.norm(V, 2, axis=1)) + cp.sum(cp.norm(W, 2, axis=1)))), cons)
    # Tight tolerances; with exponential cones Clarabel may stop short of them ("inaccurate":
    # its reduced tolerances), which still leaves the value far inside the tests' 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-10, tol_feas=1e-10)
    if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise RuntimeError(f"reference CNN program: status {prob.status}")
    nv, nw = np.linalg.norm(V.value, axis=1), np.linalg.norm(W.value, axis=1)
    top = max(nv.max(), nw.max(), 1e-300)
    return float(prob.value), prob.status, (nv > 1e-4 * top, nw > 1e-4 * top)
