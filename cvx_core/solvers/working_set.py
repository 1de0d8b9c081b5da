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

The pieces: :mod:`.small_program` poses and solves the program on the working set (Clarabel,
or the compiled row-list interior point for the loose rounds of the squared loss from
``_ROWS_MIN_N`` to ``_ROWS_MAX_N`` points), :mod:`.pricing` names the violated cells, and
:mod:`.cone_rows` chooses each block's cone rows. Rounds are loose (tolerance 1e-6) while only
the violated cells matter, then accurate (Clarabel: the row-list interior point stalls near a
relative gap of 1e-8 and leaves small blocks outside the optimum's support).

``fit_convex(solver="auto")`` uses this solver for design matrices with at most 3 columns (2-D
data with bias, 1-D data); in higher dimension cells have many facets and constraint
generation needs many rounds, and it routes to :mod:`cvx_core.solvers.interior` (squared loss)
or to the cvxpy reference (see benchmarks/solver_speed.py).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import kernels
from ..caching import ContentCache, content_key
from ..certificates.arrangement import arrangement_geometry
from ..certificates.cells import lower_bound
from ..model import Activation, Loss
from ..tolerances import ACTIVE_TOL
from .cone_rows import FEAS_TOL, add_violated_rows, facets_by_lp, initial_rows
from .pricing import violators
from .small_program import program_objective, prox_newton, solve_loose_rows, solve_small

_PRUNE_SLACK = 5e-7  # pruning may cost at most this relative gap before we re-solve
_IPM_TOL_FALLBACK = 1e-8  # inner tolerance after an accurate solve failed numerically
_ACCURATE_CERT = 1e-4  # with solve_rows, rounds turn accurate once cert <= beta (1 + this)
# Fewer points than this: loose rounds stay with Clarabel. On small fits solve_rows saves less
# than a fresh process pays once to import numba and load the compiled kernels (the dashboard's
# first page is such a fit).
_ROWS_MIN_N = 50
# More points than this: Clarabel again (solve_rows factors a dense n x n matrix per iteration,
# which on more points costs more than Clarabel's sparse factorisation).
_ROWS_MAX_N = 700
# Sampled cells in R^3 get their facets by LP (facets_by_lp) from this many points: on fewer,
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
    patterns: np.ndarray | None = None  # the patterns grown by a pattern search (None: unchanged)
    search: dict | None = None  # what that search did


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
                self.lp_facets[key[0]] = facets_by_lp(Xb, D[key[0]])
            f = self.lp_facets.get(key[0])
        self.rows.append(f if f is not None and f.size else initial_rows(Xb, D[key[0]], u, 2 * d + 2))
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
        Z, lam, status = solve_loose_rows(Xb, y, D, act, beta, bi, bs, rows, tol)
    if status not in ("Solved", "AlmostSolved"):  # Clarabel (also when solve_rows failed)
        if loss.name == "logistic":
            Z, lam, status = prox_newton(Xb, y, D, act, loss, beta, bi, bs, rows, Zprev, tol)
        else:
            Z, lam, status = solve_small(Xb, y, D, act, loss, beta, bi, bs, rows, None, tol)
    return Z, lam, status


def _certify_round(Xb, y, D, act, loss, beta, lam_ipm, yhat, obj, tol, loose, both, index, sphere, max_add):
    """The best certified bound of a round over the inner solver's dual vector and, when
    ``both``, ``-grad L`` at the round's predictions; and the violators at the solver's dual.
    Returns ((lower bound, lambda, cert, u_max), violators)."""
    best, viol_ipm = None, []
    for lam in ((lam_ipm, loss.dual_variable(yhat, y)) if both else (lam_ipm,)):
        cert, viol, u_max = violators(Xb, D, lam, act, beta, index, sphere, max_add)
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
    # The sphere path spreads its additions (at most one per ~SEPARATION cap); per-cell
    # certificates in higher dimension add the most violated cells, a bounded number a round.
    max_add = max(10, 2 * n) if use_sphere else min(max(10, n // 10), 60)
    seeded = warm is not None and len(warm) > 2 and len(warm[2]) > 0  # see ``warm`` above
    cert0, viol0, _ = violators(Xb, D, lam0, act, beta, index, sphere, 0 if seeded else max_add)
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
        if index is None and add_violated_rows(Xb, D, bi, Z, znorm, ws.rows):
            n_row_rounds += 1
            continue
        obj, yhat = program_objective(Xb, y, D, act, loss, beta, bi, bs, Z)
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
    obj_pruned, _ = program_objective(Xb, y, D, act, loss, beta, bi, bs, res.Z[keep])
    if obj_pruned - res.lower_bound <= _PRUNE_SLACK * max(abs(obj_pruned), 1e-300):
        return WorkingSetResult(bi, bs, res.Z[keep], res.lam, res.cert, obj_pruned, res.lower_bound,
                                res.status, res.n_rounds, 0.0, u_star=res.u_star)
    rows = [rows_of[(int(i), int(s))] for i, s in zip(bi, bs)]
    if loss.name == "logistic":
        Z, lam_ipm, st = prox_newton(Xb, y, D, act, loss, beta, bi, bs, rows, res.Z[keep], ipm_tol)
    else:
        Z, lam_ipm, st = solve_small(Xb, y, D, act, loss, beta, bi, bs, rows, None, ipm_tol)
    if st not in ("Solved", "AlmostSolved"):
        return res
    zn2 = np.linalg.norm(Z, axis=1)
    xn = np.linalg.norm(Xb, axis=1)
    slack = np.where(D[bi], 1.0, -1.0) * (Z @ Xb.T)
    if np.any(slack < -FEAS_TOL * zn2[:, None] * xn[None, :]):
        return res
    obj, yhat = program_objective(Xb, y, D, act, loss, beta, bi, bs, Z)
    best = None
    for lam in (loss.clip_dual(lam_ipm, y), loss.dual_variable(yhat, y)):
        cert, _, u_max = violators(Xb, D, lam, act, beta, index, sphere, 1)
        lb = lower_bound(loss, lam, y, cert, beta)
        if best is None or lb > best[0]:
            best = (lb, lam, cert, u_max)
    # Keep the re-solved support when it certifies at least as well as the plain pruning would.
    if obj - best[0] > max(obj_pruned - res.lower_bound, _PRUNE_SLACK * abs(obj)):
        return res
    return WorkingSetResult(bi, bs, Z, best[1], best[2], obj, best[0], res.status, res.n_rounds, 0.0, u_star=best[3])


