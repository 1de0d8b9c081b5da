"""A purpose-built solver for the convex program: working sets of cells and facets.

Solves, over the patterns ``D (P, n)`` of the design matrix ``Xb (n, d)``,

    min_{z_j}  L( sum_j s_j S_{i_j} Xb z_j , y ) + beta sum_j ||z_j||_2
    s.t.       (2 D_{i_j} - I) Xb z_j >= 0,

where each block ``j`` is a pair (cell ``i_j``, sign ``s_j``): ``s = +1`` blocks are the
``v_i`` and ``s = -1`` blocks the ``w_i`` of docs/math.md section 3.

Structure exploited:

* Sparsity: an optimum has at most n + 1 nonzero blocks, so the program is solved on a small
  *working set* of blocks. The dual certificate (``cvx_core.certificates``) evaluated over
  **all** cells at the working set's dual variable names exactly the cells whose constraint
  ``c(D, s) <= beta`` is violated; those are added and the small program re-solved (column
  generation). It stops when the certified relative gap, computed from the returned solution
  over all cells, is below ``tol``.
* Few facets: each cell of a low-rank arrangement is a cone with few facets, so each block
  carries only the cone constraints near its direction; constraints violated by a solution
  are added and the program re-solved (constraint generation). The final solution satisfies
  every one of the n constraints of its cell.
* Warm starts: the working set of a neighbouring beta seeds the next solve.

The small programs are second-order-cone programs solved by Clarabel's interior-point method
(the squared loss posed on the residual, the hinge loss as an LP/SOCP, and the logistic loss
by a proximal-Newton sequence of quadratic models with a line search on the true objective,
which avoids exponential cones). The primal small program is solved, not its dual: its
multipliers, which name the violated cells, are more exact, and that keeps the rounds few at
small beta. With the squared loss and ``_ROWS_MIN_N`` to ``_ROWS_MAX_N`` points the loose
rounds use :func:`cvx_core.solvers.ipm.solve_rows` (on the cells' facets when the patterns are
exact, on the generated rows when they are sampled), a compiled interior point whose Newton
systems are one n x n BLAS product (cheaper than Clarabel at these sizes, and nearer the
optimum at the same tolerance). The accurate round stays with Clarabel (with the predictions
through running sums along a tour of the points for large programs, ``_chained_predictions``):
solve_rows stalls near a relative gap of 1e-8 and leaves small blocks outside the optimum's
support, which the pruning cannot drop without losing the certificate.

``fit_convex(solver="auto")`` uses this solver for design matrices with at most 3 columns (2-D
data with bias, 1-D data); in higher dimension cells have many facets and constraint
generation needs many rounds, and it routes to :mod:`cvx_core.solvers.interior` (squared loss)
or to the cvxpy reference (see benchmarks/solver_speed.py).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

import clarabel
import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from .. import kernels
from ..caching import ContentCache, content_key
from ..certificates.arrangement import arrangement_geometry
from ..certificates.cells import cell_values, cone_projection_norms, lower_bound
from ..model import Activation, Loss
from ..tolerances import ACTIVE_TOL
from .ipm import predict, solve_rows

_FEAS_TOL = 1e-8
_SEPARATION = 0.2  # radians: additions closer than this to a kept one are near-duplicates
_PRUNE_SLACK = 5e-7  # pruning may cost at most this relative gap before we re-solve
_FAER_MIN = 200  # block coordinates from which faer's LDL is used (see _settings)
_IPM_TOL_FALLBACK = 1e-8  # inner tolerance after an accurate solve failed numerically
# n^2 m from which Clarabel gets the predictions through running sums (_chained_predictions):
# the sparser factorisation pays for the n d extra variables only on large programs
_CHAIN_MIN = 4_000_000
_ACCURATE_CERT = 1e-4  # with solve_rows, rounds turn accurate once cert <= beta (1 + this)
# Fewer points than this: loose rounds stay with Clarabel. On small fits solve_rows saves less
# than a fresh process pays once to import numba and load the compiled kernels (the dashboard's
# first page is such a fit).
_ROWS_MIN_N = 50
# More points than this: Clarabel again (solve_rows factors a dense n x n matrix per iteration,
# which on more points costs more than Clarabel's sparse factorisation).
_ROWS_MAX_N = 700
# Sampled cells in R^3 get their facets by LP (_facets_by_lp) from this many points: on fewer,
# one LP per cell costs more than the constraint-generation rounds it saves
_LP_FACETS_MIN_N = 300
_LP_FACETS = ContentCache(maxsize=4)


@dataclass
class WorkingSetResult:
    blocks_i: np.ndarray  # (m,) cell index of each block
    blocks_s: np.ndarray  # (m,) sign of each block
    Z: np.ndarray  # (m, d)
    lam: np.ndarray  # best certifying dual vector
    cert: float  # cert(lam) over all cells
    objective: float
    lower_bound: float
    status: str
    n_rounds: int
    solve_time: float
    n_row_rounds: int = 0
    u_star: np.ndarray | None = None  # maximiser of cert(lam)


def _settings(tol: float, large: bool = False):
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


def _chained_predictions(Xb, D, act, blocks_i, blocks_s, nvar, ih, iw):
    """Rows ``h = M z - y`` written through running sums, for large working sets.

    ``M z`` at point k is ``x_k' sum_j C_jk z_j``. Along a tour of the points on which few
    blocks change their coefficient (:func:`_tour`), ``w_i = w_{i-1} + sum_j (C_{j,i} - C_{j,i-1}) z_j``
    and the i-th point's prediction is ``x_k' w_i``: each ``z_j`` appears only where its cell's
    boundary separates consecutive points, so the matrix, and Clarabel's factorisation of the
    accurate rounds, are much sparser than with ``M``'s dense rows. Rows:
    ``h_k - x_k' w_pos(k) = -y_k`` (n, first: their multipliers are lambda), then
    ``w_i - w_{i-1} - dC_i' z = 0`` (n d). Variables ``w`` (n d) from column ``iw``.
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
    return sp.csc_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))), shape=(n + n * d, nvar))


def _solve_small(Xb, y, D, act, loss, beta, blocks_i, blocks_s, rows, quad, tol):
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
        Pm = sp.csc_matrix((nvar, nvar))
        q[ie:ie + n] = 1.0
    else:
        # Squared loss: the variable is the residual h = M z - y (objective 1/2 ||h||^2), so the
        # interior-point tolerances are relative to the loss itself, not to ||y||^2.
        w, c = quad if quad is not None else (np.ones(n), np.zeros(n))
        Pm = sp.csc_matrix((w, (np.arange(ih, ih + n), np.arange(ih, ih + n))), shape=(nvar, nvar))
        q[ih:ih + n] = c

    blocks_A, b_parts, cones = [], [], []
    # 1) h - M z = 0, or h - M z = -y for the squared loss (zero cone; its dual is lambda)
    if chain:
        A1 = _chained_predictions(Xb, D, act, blocks_i, blocks_s, nvar, ih, ie)
        blocks_A.append(A1)
        b_parts.append(np.concatenate([-y, np.zeros(n * d)]))
        cones.append(clarabel.ZeroConeT(n + n * d))
    else:
        M = _block_matrix(Xb, D, act, blocks_i, blocks_s)
        A1 = sp.hstack([sp.csc_matrix(-M), sp.csc_matrix((n, m)), sp.identity(n, format="csc"),
                        sp.csc_matrix((n, nvar - ie))], format="csc")
        blocks_A.append(A1)
        b_parts.append(-y if (quad is None and not hinge) else np.zeros(n))
        cones.append(clarabel.ZeroConeT(n))
    # 2) cone constraints  sgn_k x_k' z_j >= 0  for the selected rows  (nonnegative cone)
    jj, coef = _row_list(Xb, D, blocks_i, rows)
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
    A2 = sp.csc_matrix((np.concatenate(vals), (np.concatenate(r_idx), np.concatenate(c_idx))),
                       shape=(row, nvar))
    blocks_A.append(A2)
    b2 = np.zeros(row)
    if hinge:
        b2[n_cone:n_cone + n] = -1.0
    b_parts.append(b2)
    cones.append(clarabel.NonnegativeConeT(row))
    # 3) (t_j, z_j) in SOC
    rr = np.arange(m * (d + 1))
    cc = np.concatenate([(it + np.arange(m))[:, None], np.arange(m * d).reshape(m, d)], axis=1).ravel()
    A3 = sp.csc_matrix((-np.ones(m * (d + 1)), (rr, cc)), shape=(m * (d + 1), nvar))
    blocks_A.append(A3)
    b_parts.append(np.zeros(m * (d + 1)))
    cones += [clarabel.SecondOrderConeT(d + 1)] * m

    A = sp.vstack(blocks_A, format="csc")
    b = np.concatenate(b_parts)
    solver = clarabel.DefaultSolver(sp.triu(Pm, format="csc"), q, A, b, cones, _settings(tol, large=m * d > _FAER_MIN))
    sol = solver.solve()
    status = str(sol.status)
    x = np.asarray(sol.x)
    Z = x[:nz].reshape(m, d)
    lam = np.asarray(sol.z)[:n].copy()
    return Z, lam, status


def _row_list(Xb, D, blocks_i, rows):
    """The imposed cone rows as a list: each row's block ``jr`` (R,) and its inward normal
    ``A_r = sgn x_k`` (R, d), from ``rows[j]`` (the sample indices imposed on block j)."""
    counts = np.array([len(r) for r in rows], dtype=np.intp)
    jr = np.repeat(np.arange(len(rows)), counts)
    ks = np.concatenate(rows).astype(np.intp) if len(rows) else np.zeros(0, dtype=np.intp)
    return jr, np.where(D[blocks_i[jr], ks], 1.0, -1.0)[:, None] * Xb[ks]


@cache
def _blas() -> ThreadpoolController:
    """The BLAS thread controls, inspected once (it lists the loaded libraries)."""
    return ThreadpoolController()


def _solve_rows(Xb, y, D, act, beta, bi, bs, rows, tol):
    """A loose round by :func:`cvx_core.solvers.ipm.solve_rows` on the blocks' rows (their
    cells' facets, or heuristic and generated rows) -- a compiled BLAS interior point, cheaper
    than Clarabel at these sizes and closer to the optimum at the same tolerance. One BLAS
    thread: the matrices are too small for more threads to pay. Returns (Z, lambda, status) like
    :func:`_solve_small`; the caller falls back to Clarabel unless the status is "Solved" or
    "AlmostSolved"."""
    jr, A = _row_list(Xb, D, bi, rows)
    C = block_coefficients(D, act, bi, bs)
    with _blas().limit(limits=1, user_api="blas"):
        res = solve_rows(Xb, C, A, jr, y, beta, tol=tol)
    return res.Z, y - predict(Xb, C, res.Z), res.status


def _initial_rows(Xb, D_i, u, k):
    """Indices of the ``k`` cone constraints of cell ``D_i`` closest to direction ``u``."""
    xn = np.linalg.norm(Xb, axis=1)
    slack = np.where(D_i, 1.0, -1.0) * (Xb @ u) / np.where(xn > 0, xn, 1.0)
    k = min(k, len(slack))
    return np.sort(np.argpartition(slack, k - 1)[:k])


def _facets_by_lp(Xb: np.ndarray, D_i: np.ndarray) -> np.ndarray | None:
    """The facets (non-redundant rows) of cell ``D_i``'s cone in R^3, or None.

    An interior direction ``u`` by one LP (the largest smallest normalised slack), then the
    gnomonic projection of the cell around ``u``: row k bounds it by ``q_k' p <= 1`` with
    ``q_k = -(a_k' E) / (a_k' u)`` (E a basis of u's complement), and the rows that matter are
    the vertices of ``conv({0} and all q_k)`` other than 0 (the polar of the polygon). A facet
    that lies wholly behind ``u`` would be missed; constraint generation, which stays on for
    sampled patterns, then adds it. Knowing the facets from the start saves most of the
    constraint-generation rounds of sampled patterns (used from ``_LP_FACETS_MIN_N`` points).
    """
    from scipy.optimize import linprog
    from scipy.spatial import ConvexHull, QhullError

    A = np.where(D_i, 1.0, -1.0)[:, None] * Xb
    nrm = np.linalg.norm(A, axis=1)
    if np.any(nrm == 0):
        return None
    A = A / nrm[:, None]
    n, d = A.shape
    lp = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.c_[-A, np.ones(n)], b_ub=np.zeros(n),
                 bounds=[(-1.0, 1.0)] * d + [(None, 1.0)], method="highs")
    if lp.status != 0 or lp.x[-1] <= 1e-9:
        return None
    u = lp.x[:d] / np.linalg.norm(lp.x[:d])
    E = np.linalg.svd(u[None, :])[2][1:].T  # (3, 2): orthonormal basis of u's complement
    q = -(A @ E) / (A @ u)[:, None]
    try:
        hull = ConvexHull(np.vstack([np.zeros((1, 2)), q]))
    except QhullError:
        return None
    return np.sort(hull.vertices[hull.vertices > 0] - 1)


def _add_violated_rows(Xb, D, bi, Z, znorm, rows) -> bool:
    """Add to ``rows`` the cone constraints the blocks ``Z`` violate; True if any was added.

    Violations are judged on the scale of the whole solution (the interior-point method is
    accurate relative to the largest block); blocks that will be pruned are ignored.
    """
    zmax = max(znorm.max(initial=0.0), 1e-300)
    slack = np.where(D[bi], 1.0, -1.0) * (Z @ Xb.T)
    bad = slack < -_FEAS_TOL * zmax * np.linalg.norm(Xb, axis=1)[None, :]
    bad[znorm <= 1e-6 * zmax] = False
    added = False
    for j in np.flatnonzero(bad.any(axis=1)):
        new_rows = np.setdiff1d(np.flatnonzero(bad[j]), rows[j])
        if new_rows.size:
            rows[j] = np.union1d(rows[j], new_rows)
            added = True
    return added


def _objective(Xb, y, D, act, loss, beta, blocks_i, blocks_s, Z):
    yhat = predict(Xb, block_coefficients(D, act, blocks_i, blocks_s), Z)  # no (n, m d) matrix
    return loss.value(yhat, y) + beta * float(np.linalg.norm(Z, axis=1).sum()), yhat


def _spread(U: np.ndarray, signs: np.ndarray, limit: int, cos_min: float, chunk: int = 64) -> np.ndarray:
    """Greedy selection in the given order: keep direction ``U[k]`` unless an already kept one
    of the same sign has cosine above ``cos_min`` with it; at most ``limit`` kept.

    Same result as the one-by-one loop, but each chunk is first screened against everything
    kept before it in one matrix product (one product per chunk, not one per candidate); only
    the chunk's survivors are compared one by one.
    """
    kept = {1: np.zeros((limit, U.shape[1])), -1: np.zeros((limit, U.shape[1]))}
    n_kept = {1: 0, -1: 0}
    out: list[int] = []
    for start in range(0, len(U), chunk):
        if len(out) >= limit:
            break
        idx = np.arange(start, min(start + chunk, len(U)))
        ok = np.ones(idx.size, dtype=bool)
        before = dict(n_kept)
        for s in (1, -1):
            m = signs[idx] == s
            if before[s] and m.any():
                ok[m] = (U[idx[m]] @ kept[s][: before[s]].T).max(axis=1) <= cos_min
        for k in idx[ok]:
            if len(out) >= limit:
                break
            s = int(signs[k])
            if n_kept[s] > before[s] and np.max(kept[s][before[s]: n_kept[s]] @ U[k]) > cos_min:
                continue
            kept[s][n_kept[s]] = U[k]
            n_kept[s] += 1
            out.append(int(k))
    return np.array(out, dtype=np.intp)


def _ragged(values, ptr, rows):
    """Entries ``ptr[r]:ptr[r+1]`` of ``values`` for each of ``rows``, zero padded:
    (len(rows), width, ...) and the mask of real entries."""
    start, count = ptr[rows], ptr[rows + 1] - ptr[rows]
    width = max(int(count.max(initial=0)), 1)
    mask = np.arange(width)[None, :] < count[:, None]
    idx = np.where(mask, start[:, None] + np.arange(width)[None, :], 0)
    return np.where(mask[..., None], values[idx], 0.0), mask


def _best_adjacent(Xb, D, lam, act, index, ties, facets=None):
    """For face candidates touching several cells, the cell whose own maximum
    ``||Proj_K(s g_D)||`` is largest (at a local maximum they tie and any one represents the
    neuron). All cells' projections at once (:func:`cone_projection_norms`), not one NNLS call
    per cell. Returns (cell, sign, direction) triples."""
    cells = np.concatenate([np.asarray(t[2], dtype=np.intp) for t in ties])
    owner = np.repeat(np.arange(len(ties)), [len(t[2]) for t in ties])
    sgn = np.array([t[0] for t in ties], dtype=float)[owner]
    G = sgn[:, None] * ((act.slopes(D[cells]) * lam) @ Xb)
    if facets is not None:  # each cone is cut out by its facets alone; its rays are known too
        # in chunks of cells with similar facet counts: padding all to the largest (some cells
        # have a dozen facets, most three to five) would multiply the projections' work
        val = np.empty(cells.size)
        by = np.argsort(facets.ptr[cells + 1] - facets.ptr[cells], kind="stable")
        for a in range(0, by.size, 256):
            j = by[a:a + 256]
            N, mask = _ragged(facets.X, facets.ptr, cells[j])
            R, rmask = _ragged(facets.rays, facets.ray_ptr, cells[j])
            val[j] = cone_projection_norms(N, mask, G[j], R, rmask)
    else:
        rows = [index.cell_facets(int(i)) for i in cells]
        f = max(len(r) for r in rows)
        N = np.zeros((cells.size, max(f, 1), Xb.shape[1]))
        mask = np.zeros((cells.size, max(f, 1)), dtype=bool)
        for j, (i, r) in enumerate(zip(cells, rows)):
            N[j, :r.size] = np.where(D[i, r], 1.0, -1.0)[:, None] * Xb[r]
            mask[j, :r.size] = True
        val = cone_projection_norms(N, mask, G)
    start = np.concatenate([[0], np.cumsum([len(t[2]) for t in ties])[:-1]])
    top = np.flatnonzero(val == np.maximum.reduceat(val, start)[owner])
    _, first = np.unique(owner[top], return_index=True)  # the first best cell of each candidate
    return [(int(cells[j]), s, u) for j, (s, u, _) in zip(top[first], ties)]


def _violators(Xb, D, lam, act, beta, index, sphere, limit):
    """Cert(lambda) (exact over D), up to ``limit`` violating blocks (cell, sign, direction)
    and the maximising direction ``u`` of ``cert``."""
    out = []
    if sphere is not None:
        if limit == 0:
            cert, u_max, _ = sphere.max(lam)
            return cert, out, u_max
        c = sphere.candidates(lam, threshold=beta)
        cert = c.max
        u_max = c.directions[int(np.argmax(c.values))] if c.values.size else np.zeros(Xb.shape[1])
        viol = np.flatnonzero(c.values > beta * (1 + 1e-9))
        viol = viol[np.argsort(-c.values[viol])][: 20 * limit]
        # Spread the additions over the sphere: skip candidates within ~_SEPARATION radians of
        # an already chosen one of the same sign (neighbouring local maxima are redundant).
        ties = []  # (sign, direction, adjacent cells) of face candidates touching several cells
        for k in viol[_spread(c.directions[viol], c.signs[viol], limit, np.cos(_SEPARATION))]:
            u, s = c.directions[k], int(c.signs[k])
            if c.cell[k] >= 0:
                out.append((int(c.cell[k]), s, u))
                continue
            cells = index.adjacent(Xb, u)
            if len(cells) == 1:
                out.append((cells[0], s, u))
            elif cells:
                ties.append((s, u, cells))
        if ties:
            out += _best_adjacent(Xb, D, lam, act, index, ties, sphere.facets)
        return cert, out, u_max
    cv = cell_values(Xb, D, lam, act, top_k=max(limit, 1), threshold=beta * (1 + 1e-9))
    cert = cv.max
    viol = np.argwhere(cv.exact & (cv.values > beta * (1 + 1e-9)))
    order = np.argsort(-cv.values[viol[:, 0], viol[:, 1]])
    for i, col in viol[order][:limit]:
        out.append((int(i), 1 if col == 0 else -1, cv.directions[i, col]))
    i, col = cv.argmax()
    return cert, out, cv.directions[i, col]


class _WorkingSet:
    """The blocks of the small program: (cell, sign) pairs with the cone rows imposed on each,
    and the rows of blocks dropped on the way (a final re-solve may need them)."""

    def __init__(self, Xb, D, index, lp_facets):
        self.Xb, self.D, self.index, self.lp_facets = Xb, D, index, lp_facets
        self.cells: list[int] = []
        self.signs: list[int] = []
        self.rows: list[np.ndarray] = []
        self.position: dict[tuple[int, int], int] = {}
        self.retired: dict[tuple[int, int], np.ndarray] = {}
        self.previous: set = set()

    def arrays(self):
        return np.array(self.cells, dtype=np.intp), np.array(self.signs, dtype=np.intp)

    def add(self, i, s, u) -> bool:
        """Add block (cell i, sign s) unless present; its rows are the cell's facets when
        known, else the rows nearest the direction ``u`` (constraint generation adds more)."""
        key = (int(i), int(s))
        if key in self.position:
            return False
        self.position[key] = len(self.cells)
        self.cells.append(key[0])
        self.signs.append(key[1])
        Xb, D = self.Xb, self.D
        n, d = Xb.shape
        if self.index is not None:
            f = self.index.cell_facets(key[0])
        else:  # sampled cells in R^3: their facets by one LP each (constraint generation stays on)
            if d == 3 and n >= _LP_FACETS_MIN_N and key[0] not in self.lp_facets:
                self.lp_facets[key[0]] = _facets_by_lp(Xb, D[key[0]])
            f = self.lp_facets.get(key[0])
        self.rows.append(f if f is not None and f.size else _initial_rows(Xb, D[key[0]], u, 2 * d + 2))
        return True

    def drop_zeros(self, Z, znorm, drop_tol):
        """Drop blocks that were present last round and are still zero (the current solution
        stays feasible, so the objective cannot increase); returns the kept rows of ``Z``."""
        old = np.array([k in self.previous for k in zip(self.cells, self.signs)], dtype=bool)
        drop = old & (znorm <= drop_tol * max(znorm.max(initial=0.0), 1e-300))
        if np.any(drop):
            self.retired.update({(self.cells[j], self.signs[j]): self.rows[j] for j in np.flatnonzero(drop)})
            keep = np.flatnonzero(~drop)
            self.cells = [self.cells[j] for j in keep]
            self.signs = [self.signs[j] for j in keep]
            self.rows = [self.rows[j] for j in keep]
            self.position = {k: j for j, k in enumerate(zip(self.cells, self.signs))}
            Z = Z[keep]
        self.previous = set(zip(self.cells, self.signs))
        return Z

    def rows_of(self) -> dict:
        """The imposed rows of every block ever in the set."""
        return {**self.retired, **{k: self.rows[j] for k, j in self.position.items()}}


def _inner_solve(Xb, y, D, act, loss, beta, bi, bs, rows, Zprev, tol, use_rows):
    """One solve of the small program: the compiled row-list interior point when ``use_rows``
    (loose rounds, squared loss), else Clarabel (proximal Newton for the logistic loss).
    Returns (Z, lambda, status)."""
    status = None
    if use_rows:
        Z, lam, status = _solve_rows(Xb, y, D, act, beta, bi, bs, rows, tol)
    if status not in ("Solved", "AlmostSolved"):  # Clarabel (also when solve_rows failed)
        if loss.name == "logistic":
            Z, lam, status = _prox_newton(Xb, y, D, act, loss, beta, bi, bs, rows, Zprev, tol)
        else:
            Z, lam, status = _solve_small(Xb, y, D, act, loss, beta, bi, bs, rows, None, tol)
    return Z, lam, status


def _certify_round(Xb, y, D, act, loss, beta, lam_ipm, yhat, obj, tol, loose, both, index, sphere, max_add):
    """The best certified bound of a round over the inner solver's dual vector and, when
    ``both``, ``-grad L`` at the round's predictions; and the violators at the solver's dual.
    Returns ((lower bound, lambda, cert, u_max), violators)."""
    best, viol_ipm = None, []
    for lam in ((lam_ipm, loss.dual_variable(yhat, y)) if both else (lam_ipm,)):
        cert, viol, u_max = _violators(Xb, D, lam, act, beta, index, sphere, max_add)
        lb = lower_bound(loss, lam, y, cert, beta)
        if best is None or lb > best[0]:
            best = (lb, lam, cert, u_max)
        if lam is lam_ipm:
            viol_ipm = viol
            if not loose and obj - lb <= tol * max(abs(obj), 1e-300):
                break  # certified already: the second dual vector cannot be needed
    return best, viol_ipm


def solve_working_set(
    Xb: np.ndarray,
    y: np.ndarray,
    D: np.ndarray,
    beta: float,
    act: Activation,
    loss: Loss,
    *,
    exact: bool = False,
    tol: float = 1e-7,
    warm: tuple[np.ndarray, np.ndarray] | None = None,
    max_rounds: int = 100,
    ipm_tol: float = 1e-10,
) -> WorkingSetResult:
    """Solve the convex program over all patterns ``D`` by working sets (see module docstring).

    Parameters
    ----------
    Xb : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    D : ndarray of bool, shape (P, n)
    beta : float
    exact : bool
        True when ``D`` holds every cell of the arrangement; with ``d <= 3`` the certificate is
        then evaluated on the sphere (:mod:`cvx_core.certificates.sphere`) without per-cell
        projections.
    tol : float
        Target certified relative gap ``(objective - lower_bound) / objective``.
    warm : (blocks_i, blocks_s) or (blocks_i, blocks_s, Z), optional
        Blocks to start from (e.g. the active blocks at a neighbouring beta). With their values
        ``Z`` (nonempty) the first round solves on these blocks alone: adding the violators at
        that solution's dual would fill the working set with near-duplicates of its neurons.

    Returns
    -------
    WorkingSetResult
    """
    t0 = time.perf_counter()
    n, d = Xb.shape
    use_sphere = exact and d <= 3
    index, sphere = arrangement_geometry(Xb, D, act) if use_sphere else (None, None)
    lam0 = loss.dual_variable(np.zeros(n), y)
    # The sphere path spreads its additions (at most one per ~_SEPARATION cap); per-cell
    # certificates in higher dimension add the most violated cells, a bounded number a round.
    max_add = max(10, 2 * n) if use_sphere else min(max(10, n // 10), 60)
    seeded = warm is not None and len(warm) > 2 and len(warm[2]) > 0  # see ``warm`` above
    cert0, viol0, _ = _violators(Xb, D, lam0, act, beta, index, sphere, 0 if seeded else max_add)
    if cert0 <= beta or (not seeded and not viol0):
        lb = lower_bound(loss, lam0, y, cert0, beta)
        return WorkingSetResult(np.zeros(0, int), np.zeros(0, int), np.zeros((0, d)), lam0, cert0,
                                loss.value(np.zeros(n), y), lb, "optimal", 0, time.perf_counter() - t0)

    # cell -> facets or None, kept across the betas of a path through the same data
    lp_facets = _LP_FACETS.get(content_key("lp-facets", Xb, D), dict) if index is None else {}
    ws = _WorkingSet(Xb, D, index, lp_facets)
    if warm is not None:
        for i, s in zip(warm[0], warm[1]):
            G = act.slopes(D[i]) * lam0 @ Xb
            ws.add(i, s, s * G / (np.linalg.norm(G) + 1e-300))
    for i, s, u in viol0:
        ws.add(i, s, u)

    Z = np.zeros((0, d))
    best = None
    status = "max_rounds"
    n_rounds = n_row_rounds = 0
    gap_prev = np.inf
    force_accurate = False
    rows_ok = (d <= 3 and loss.name == "squared" and _ROWS_MIN_N <= n <= _ROWS_MAX_N
               and kernels.available())  # loose rounds by solve_rows (module docstring)
    for n_rounds in range(1, max_rounds + 1):
        bi, bs = ws.arrays()
        Zprev = np.vstack([Z, np.zeros((len(bi) - Z.shape[0], d))])
        # Far from the optimum only the violated cells matter, so rounds are solved loosely
        # until the certified gap is below 1e-2 (with solve_rows: until the certificate is
        # violated by at most _ACCURATE_CERT), then accurately.
        loose = not force_accurate and (best is None or gap_prev > 1e-2
                                        or (rows_ok and best.cert > beta * (1 + _ACCURATE_CERT)))
        round_tol = 1e-6 if loose else ipm_tol
        Z, lam_ipm, ipm_status = _inner_solve(Xb, y, D, act, loss, beta, bi, bs, ws.rows, Zprev,
                                              round_tol, loose and rows_ok)
        if ipm_status not in ("Solved", "AlmostSolved"):
            status = f"inner solver: {ipm_status}"
            if best is not None and not loose and ipm_tol < _IPM_TOL_FALLBACK:
                # an accurate solve that stalls numerically is retried less tightly: the gap is
                # certified either way
                ipm_tol = _IPM_TOL_FALLBACK
                continue
            if best is not None:
                break
            raise RuntimeError(f"working-set solver: Clarabel returned {ipm_status} at beta={beta:g}")
        znorm = np.linalg.norm(Z, axis=1)
        # Constraint generation, for heuristic row sets only: with exact facets (complete
        # patterns) every other row is implied, so a violation is interior-point rounding, and
        # fit_convex moves each kept block into its cone afterwards.
        if index is None and _add_violated_rows(Xb, D, bi, Z, znorm, ws.rows):
            n_row_rounds += 1
            continue
        obj, yhat = _objective(Xb, y, D, act, loss, beta, bi, bs, Z)
        (lb, lam, cert, u_max), viol_ipm = _certify_round(
            Xb, y, D, act, loss, beta, loss.clip_dual(lam_ipm, y), yhat, obj, tol, loose,
            gap_prev <= 1e-3, index, sphere, max_add)
        gap = (obj - lb) / max(abs(obj), 1e-300)
        best = WorkingSetResult(bi, bs, Z, lam, cert, obj, lb, "", n_rounds, 0.0, u_star=u_max)
        gap_prev = gap
        if gap <= tol:
            if not loose:
                status = "optimal"
                break
            continue  # certified from a loose solve: polish it (the next round is accurate)
        Z = ws.drop_zeros(Z, znorm, 1e-7 if round_tol <= 1e-9 else 1e-4)  # zero as far as solved
        if sum(ws.add(i, s, u) for i, s, u in viol_ipm) == 0:
            if loose:  # no violator at a loose solve's dual: the next round is accurate
                force_accurate = True
                continue
            if ipm_tol > 1e-13:  # the cells are all there: the inner solve is the limit
                ipm_tol *= 1e-2
                continue
            status = "stalled"
            break
    if best is None:
        raise RuntimeError(f"working-set solver found no feasible solution at beta={beta:g}")
    best = _resolve_on_support(Xb, y, D, act, loss, beta, best, rows_of=ws.rows_of(),
                               index=index, sphere=sphere, ipm_tol=ipm_tol)
    best.status = status
    best.n_row_rounds = n_row_rounds
    best.solve_time = time.perf_counter() - t0
    return best


def _resolve_on_support(Xb, y, D, act, loss, beta, res, rows_of, index, sphere, ipm_tol):
    """Drop blocks below the pruning tolerance and re-solve on the remaining support.

    Pruning a tiny block changes the predictions a little, which a nonsmooth loss (hinge)
    turns into a visible objective increase; re-solving on the pruned support recovers the
    optimum. Kept only when it is at least as good (same certificate evaluation).
    """
    zn = np.linalg.norm(res.Z, axis=1)
    if zn.size == 0 or zn.max() == 0:
        return res
    keep = np.flatnonzero(zn > ACTIVE_TOL * zn.max())
    if keep.size == zn.size:
        return res
    bi, bs = res.blocks_i[keep], res.blocks_s[keep]
    obj_pruned, _ = _objective(Xb, y, D, act, loss, beta, bi, bs, res.Z[keep])
    if obj_pruned - res.lower_bound <= _PRUNE_SLACK * max(abs(obj_pruned), 1e-300):
        return WorkingSetResult(bi, bs, res.Z[keep], res.lam, res.cert, obj_pruned, res.lower_bound,
                                res.status, res.n_rounds, 0.0, u_star=res.u_star)
    rows = [rows_of[(int(i), int(s))] for i, s in zip(bi, bs)]
    if loss.name == "logistic":
        Z, lam_ipm, st = _prox_newton(Xb, y, D, act, loss, beta, bi, bs, rows, res.Z[keep], ipm_tol)
    else:
        Z, lam_ipm, st = _solve_small(Xb, y, D, act, loss, beta, bi, bs, rows, None, ipm_tol)
    if st not in ("Solved", "AlmostSolved"):
        return res
    zn2 = np.linalg.norm(Z, axis=1)
    xn = np.linalg.norm(Xb, axis=1)
    slack = np.where(D[bi], 1.0, -1.0) * (Z @ Xb.T)
    if np.any(slack < -_FEAS_TOL * zn2[:, None] * xn[None, :]):
        return res
    obj, yhat = _objective(Xb, y, D, act, loss, beta, bi, bs, Z)
    best = None
    for lam in (loss.clip_dual(lam_ipm, y), loss.dual_variable(yhat, y)):
        cert, _, u_max = _violators(Xb, D, lam, act, beta, index, sphere, 1)
        lb = lower_bound(loss, lam, y, cert, beta)
        if best is None or lb > best[0]:
            best = (lb, lam, cert, u_max)
    # Keep the re-solved support when it certifies at least as well as the plain pruning would.
    if obj - best[0] > max(obj_pruned - res.lower_bound, _PRUNE_SLACK * abs(obj)):
        return res
    return WorkingSetResult(bi, bs, Z, best[1], best[2], obj, best[0], res.status, res.n_rounds, 0.0, u_star=best[3])


def _prox_newton(Xb, y, D, act, loss, beta, bi, bs, rows, Z, ipm_tol, max_iter=50):
    """Minimise the logistic objective on the working set by proximal Newton steps.

    Each step minimises the second-order model of the loss plus the exact penalty and cone
    constraints (an SOCP), then backtracks on the true objective.
    """
    F, yhat = _objective(Xb, y, D, act, loss, beta, bi, bs, Z)
    lam = loss.dual_variable(yhat, y)
    status = "Solved"
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-np.clip(y * yhat, -700, 700)))
        w = np.maximum(p * (1 - p), 1e-10)
        g = -loss.dual_variable(yhat, y)
        Znew, lam, status = _solve_small(Xb, y, D, act, loss, beta, bi, bs, rows, (w, g - w * yhat), ipm_tol)
        if status not in ("Solved", "AlmostSolved"):
            break
        t = 1.0
        while t > 1e-8:
            Zt = Z + t * (Znew - Z)
            Ft, yt = _objective(Xb, y, D, act, loss, beta, bi, bs, Zt)
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
