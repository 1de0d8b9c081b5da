"""The small program of a working set, and its solvers.

Over blocks ``j`` (cell ``i_j``, sign ``s_j``) with the cone rows imposed on each,

    min_{z_j}  L( sum_j s_j S_{i_j} Xb z_j , y ) + beta sum_j ||z_j||_2
    s.t.       sgn_k x_k' z_j >= 0  for the imposed rows k of block j,

a second-order-cone program solved by Clarabel (the squared loss posed on the residual, the
hinge loss as an LP/SOCP, the logistic loss by proximal Newton on quadratic models, which
avoids exponential cones), or, for the loose rounds of the squared loss, by the compiled
row-list interior point :func:`cvx_core.solvers.ipm.solve_rows`. For large programs Clarabel
gets the predictions through running sums along a tour of the points.
"""
from __future__ import annotations

import clarabel
import numpy as np

from .ipm import predict, solve_rows
from ..sparse import Stack, csc, diagonal

_FAER_MIN = 200  # block coordinates from which faer's LDL is used (see clarabel_settings)
# n^2 m from which Clarabel gets the predictions through running sums (_chained_predictions):
# the sparser factorisation pays for the n d extra variables only on large programs
_CHAIN_MIN = 4_000_000


def clarabel_settings(tol: float, large: bool = False):
    s = clarabel.DefaultSettings()
    s.verbose = False
    s.tol_gap_abs = 1e-12
    s.tol_gap_rel = tol
    s.tol_feas = tol
    s.tol_ktratio = 1e-8
    s.max_iter = 200
    s.presolve_enable = True
    # Iterative refinement of each KKT solve is expensive here (extra triangular solves through
    # the dense coupling's fill) and not needed: every gap is certified over all cells from the
    # returned solution.
    s.iterative_refinement_enable = False
    if large:
        # faer's supernodal LDL pays on large programs; qdldl stays faster on small ones
        # (_FAER_MIN). One thread: a second does not help at these sizes.
        s.direct_solve_method = "faer"
        s.max_threads = 1
    return s


def block_coefficients(D, act, blocks_i, blocks_s):
    """``C`` (m, n): block j's coefficient on each sample, ``s_j`` times the activation slopes
    of its pattern (the prediction is ``sum_j C_j * (Xb z_j)``,
    :func:`cvx_core.solvers.ipm.predict`)."""
    return np.asarray(blocks_s)[:, None] * act.slopes(D[blocks_i])


def _block_matrix(Xb, D, act, blocks_i, blocks_s):
    """``M`` of shape (n, m d): column group j is ``s_j S_{i_j} Xb``."""
    n, d = Xb.shape
    C = block_coefficients(D, act, blocks_i, blocks_s)
    return (C[:, :, None] * Xb[None, :, :]).transpose(1, 0, 2).reshape(n, -1)


def _tour(B: np.ndarray) -> np.ndarray:
    """An order of the columns of the bool matrix ``B`` (m, n) with few changes between
    neighbours: greedy nearest neighbour in Hamming distance, from the sparsest column."""
    Bf = B.astype(np.float32)
    cs = Bf.sum(axis=0)
    H = cs[:, None] + cs[None, :] - 2 * (Bf.T @ Bf)
    n = H.shape[0]
    order = np.empty(n, dtype=np.intp)
    order[0] = int(np.argmin(cs))
    H[:, order[0]] = np.inf
    for i in range(1, n):
        k = int(np.argmin(H[order[i - 1]]))
        order[i] = k
        H[:, k] = np.inf
    return order


def _chained_predictions(Xb, D, act, blocks_i, blocks_s, ih, iw, rows: Stack):
    """Rows ``h = M z - y`` written through running sums, for large working sets.

    ``M z`` at point k is ``x_k' sum_j C_jk z_j``. Along a tour of the points on which few
    blocks change their coefficient (:func:`_tour`), ``w_i = w_{i-1} + sum_j (C_{j,i} - C_{j,i-1}) z_j``
    and the i-th point's prediction is ``x_k' w_i``: each ``z_j`` appears only where its cell's
    boundary separates consecutive points, so the matrix, and Clarabel's factorisation of the
    accurate rounds, are much sparser than with ``M``'s dense rows. Rows:
    ``h_k - x_k' w_pos(k) = -y_k`` (n, first: their multipliers are lambda), then
    ``w_i - w_{i-1} - dC_i' z = 0`` (n d), appended to ``rows``. Variables ``w`` (n d) from
    column ``iw``.
    """
    n, d = Xb.shape
    m = len(blocks_i)
    C = block_coefficients(D, act, blocks_i, blocks_s)
    pi = _tour(D[blocks_i])
    pos = np.empty(n, dtype=np.intp)
    pos[pi] = np.arange(n)
    dC = np.diff(np.concatenate([np.zeros((m, 1)), C[:, pi]], axis=1), axis=1)  # (m, n)
    jn, i_n = np.nonzero(dC)
    ii = np.arange(n)
    wcol = iw + ii[:, None] * d + np.arange(d)  # (n, d) columns of w_i
    wrow = n + ii[:, None] * d + np.arange(d)  # (n, d) rows of the running sums
    r = [np.arange(n), np.repeat(np.arange(n), d), wrow.ravel(), wrow[1:].ravel(),
         (n + i_n[:, None] * d + np.arange(d)).ravel()]
    c = [ih + np.arange(n), wcol[pos].ravel(), wcol.ravel(), wcol[:-1].ravel(),
         (jn[:, None] * d + np.arange(d)).ravel()]
    v = [np.ones(n), -Xb.ravel(), np.ones(n * d), -np.ones((n - 1) * d), -np.repeat(dC[jn, i_n], d)]
    rows.add(n + n * d, np.concatenate(v), np.concatenate(r), np.concatenate(c))


def solve_small(Xb, y, D, act, loss, beta, blocks_i, blocks_s, rows, quad, tol):
    """One Clarabel solve of the working-set program.

    ``quad`` = (w, c) replaces the loss by ``1/2 h' diag(w) h + c' h`` (proximal Newton model).
    Returns (Z (m, d), lam (n,), status string).
    """
    n, d = Xb.shape
    m = len(blocks_i)
    hinge = loss.name == "hinge" and quad is None
    # (in R^3 a tour crosses each cell's boundary a few times; in higher dimension it need not)
    chain = loss.name == "squared" and quad is None and d <= 3 and n * n * m >= _CHAIN_MIN
    nz, it, ih = m * d, m * d, m * d + m
    ie = ih + n
    nvar = ie + (n if hinge else 0) + (n * d if chain else 0)

    # Objective.
    q = np.zeros(nvar)
    q[it:it + m] = beta
    if hinge:
        Pm = csc([], [], [], (nvar, nvar))
        q[ie:ie + n] = 1.0
    else:
        # Squared loss: the variable is the residual h = M z - y (objective 1/2 ||h||^2), so the
        # interior-point tolerances are relative to the loss itself, not to ||y||^2.
        w, c = quad if quad is not None else (np.ones(n), np.zeros(n))
        Pm = diagonal(w, ih, nvar)
        q[ih:ih + n] = c

    A = Stack(nvar)
    b_parts, cones = [], []
    # 1) h - M z = 0, or h - M z = -y for the squared loss (zero cone; its dual is lambda)
    if chain:
        _chained_predictions(Xb, D, act, blocks_i, blocks_s, ih, ie, A)
        b_parts.append(np.concatenate([-y, np.zeros(n * d)]))
        cones.append(clarabel.ZeroConeT(n + n * d))
    else:
        M = _block_matrix(Xb, D, act, blocks_i, blocks_s)
        r, c = np.nonzero(M)
        i_n = np.arange(n)
        A.add(n, np.concatenate([-M[r, c], np.ones(n)]), np.concatenate([r, i_n]), np.concatenate([c, ih + i_n]))
        b_parts.append(-y if (quad is None and not hinge) else np.zeros(n))
        cones.append(clarabel.ZeroConeT(n))
    # 2) cone constraints  sgn_k x_k' z_j >= 0  for the selected rows  (nonnegative cone)
    jj, coef = row_list(Xb, D, blocks_i, rows)
    coef = -coef
    row = len(jj)
    r_idx = [np.repeat(np.arange(row), d)]
    c_idx = [(jj[:, None] * d + np.arange(d)[None, :]).ravel()]
    vals = [coef.ravel()]
    n_cone = row
    if hinge:
        # e_k + y_k h_k >= 1  and  e_k >= 0
        r_idx += [np.arange(row, row + n), np.arange(row, row + n), np.arange(row + n, row + 2 * n)]
        c_idx += [np.arange(ie, ie + n), np.arange(ih, ih + n), np.arange(ie, ie + n)]
        vals += [-np.ones(n), -y, -np.ones(n)]
        row += 2 * n
    A.add(row, np.concatenate(vals), np.concatenate(r_idx), np.concatenate(c_idx))
    b2 = np.zeros(row)
    if hinge:
        b2[n_cone:n_cone + n] = -1.0
    b_parts.append(b2)
    cones.append(clarabel.NonnegativeConeT(row))
    # 3) (t_j, z_j) in SOC
    rr = np.arange(m * (d + 1))
    cc = np.concatenate([(it + np.arange(m))[:, None], np.arange(m * d).reshape(m, d)], axis=1).ravel()
    A.add(m * (d + 1), -np.ones(m * (d + 1)), rr, cc)
    b_parts.append(np.zeros(m * (d + 1)))
    cones += [clarabel.SecondOrderConeT(d + 1)] * m

    b = np.concatenate(b_parts)
    solver = clarabel.DefaultSolver(Pm, q, A.csc(), b, cones, clarabel_settings(tol, large=m * d > _FAER_MIN))
    sol = solver.solve()
    status = str(sol.status)
    x = np.asarray(sol.x)
    Z = x[:nz].reshape(m, d)
    lam = np.asarray(sol.z)[:n].copy()
    return Z, lam, status


def row_list(Xb, D, blocks_i, rows):
    """The imposed cone rows as a list: each row's block ``jr`` (R,) and its inward normal
    ``A_r = sgn x_k`` (R, d), from ``rows[j]`` (the sample indices imposed on block j)."""
    counts = np.array([len(r) for r in rows], dtype=np.intp)
    jr = np.repeat(np.arange(len(rows)), counts)
    ks = np.concatenate(rows).astype(np.intp) if len(rows) else np.zeros(0, dtype=np.intp)
    return jr, np.where(D[blocks_i[jr], ks], 1.0, -1.0)[:, None] * Xb[ks]


def solve_loose_rows(Xb, y, D, act, beta, bi, bs, rows, tol):
    """A loose round by :func:`cvx_core.solvers.ipm.solve_rows` on the blocks' rows (their
    cells' facets, or heuristic and generated rows) -- a compiled BLAS interior point, cheaper
    than Clarabel at these sizes and closer to the optimum at the same tolerance (its matrices
    are too small for a second BLAS thread to pay: the engine's entry points run with one,
    cvx_core.threads). Returns (Z, lambda, status) like :func:`solve_small`; the caller falls
    back to Clarabel unless the status is "Solved" or "AlmostSolved"."""
    jr, A = row_list(Xb, D, bi, rows)
    C = block_coefficients(D, act, bi, bs)
    res = solve_rows(Xb, C, A, jr, y, beta, tol=tol)
    return res.Z, y - predict(Xb, C, res.Z), res.status


def program_objective(Xb, y, D, act, loss, beta, blocks_i, blocks_s, Z):
    yhat = predict(Xb, block_coefficients(D, act, blocks_i, blocks_s), Z)  # no (n, m d) matrix
    return loss.value(yhat, y) + beta * float(np.linalg.norm(Z, axis=1).sum()), yhat


def prox_newton(Xb, y, D, act, loss, beta, bi, bs, rows, Z, ipm_tol, max_iter=50):
    """Minimise the logistic objective on the working set by proximal Newton steps.

    Each step minimises the second-order model of the loss plus the exact penalty and cone
    constraints (an SOCP), then backtracks on the true objective.
    """
    F, yhat = program_objective(Xb, y, D, act, loss, beta, bi, bs, Z)
    lam = loss.dual_variable(yhat, y)
    status = "Solved"
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-np.clip(y * yhat, -700, 700)))
        w = np.maximum(p * (1 - p), 1e-10)
        g = -loss.dual_variable(yhat, y)
        Znew, lam, status = solve_small(Xb, y, D, act, loss, beta, bi, bs, rows, (w, g - w * yhat), ipm_tol)
        if status not in ("Solved", "AlmostSolved"):
            break
        t = 1.0
        while t > 1e-8:
            Zt = Z + t * (Znew - Z)
            Ft, yt = program_objective(Xb, y, D, act, loss, beta, bi, bs, Zt)
            if Ft <= F:
                break
            t *= 0.5
        if t <= 1e-8:
            break
        dec = F - Ft
        Z, F, yhat = Zt, Ft, yt
        if dec <= 1e-13 * max(1.0, abs(F)):
            break
    return Z, loss.dual_variable(yhat, y), status
