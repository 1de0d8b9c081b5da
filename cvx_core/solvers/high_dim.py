"""Working sets of blocks for design matrices of any width, every loss.

In the plane :mod:`.working_set` finds each cell's few facets and certifies on the sphere; in
higher dimension a cell has up to n facets and the sphere certificate is gone, but the
optimum still uses few blocks. So the working set here grows by *blocks* only:

1. price every pattern at the current dual vector ``lambda`` -- block ``(i, s)``'s value is
   ``||Proj_{K_i}(s X' S_i lambda)||`` (:func:`cvx_core.certificates.cells.cell_values`,
   compiled projections, exact for every cell that can matter);
2. stop when the bound ``g(lambda / kappa)`` certifies the objective (exact over all the
   patterns given);
3. otherwise add the most violated blocks (value above beta), drop the blocks at zero, and
   solve the program on the working set with *all* n cone rows of each block imposed by
   :func:`cvx_core.solvers.blocks.solve_design` (squared, logistic and hinge losses alike).

Rows cost a d x d update per block in that interior point, so no row generation is needed;
each round costs one n x n factorisation per interior-point iteration.
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ..certificates.cells import lower_bound
from ..certificates.search import SearchResult, search_round, unseen
from ..model import Activation, Loss
from ..threads import scipy_blas_limited
from ..tolerances import GAP_TOL, OPTIMAL_GAP
from .blocks import solve_design
from .interior import polish
from .ipm import predict
from .pricing import batched_cell_values
from .small_program import block_coefficients
from .working_set import WorkingSetResult

# blocks in the first working set (at most): priced at the zero network, most are replaced once
# the first solve's dual vector prices (48 cost digits 10-class ~20 % more block-iterations)
_FIRST = 24
_ADD = 24  # most violated blocks added per round (at most)
# ... and beside a search round's patterns: those already double the working set, and pricing's
# full share made the next solve the largest of a fit (digits 10-class: 110-140 blocks, ~60 %
# of them dropped after it; with 12, 13 % fewer block-iterations at the same objectives)
_ADD_BESIDE = 12
# blocks below this fraction of the largest norm are dropped when others enter (an interior
# point leaves inactive blocks at about its tolerance; pricing brings back any that matter).
# Tight rounds too: their inactive blocks sit near 1e-5 and make the next cold solve's normal
# equations degenerate
_ZERO = 1e-3
_POLISH_KEEP = 1e-6  # blocks a polish starts from: all but those at the interior point's rounding
# the loose threshold while a pattern search runs: its blocks enter by the hundred and most
# end inactive, up to ~1e-2 of the largest; a block pricing brings back after a drop is held
# to _ZERO after that (the working set oscillated for rounds without this)
_ZERO_SEARCH = 1e-2
_PRUNE = 1e-3  # blocks below this fraction of the largest norm leave a stalled tight solve
# blocks enter when their value exceeds beta by this factor (a loose round's lambda is only
# accurate to about its tolerance)
_ENTER = {False: 1e-3, True: 1e-9}
# the interior point's tolerance while blocks are still entering (the next round re-solves
# anyway), and once none does (what the certificate is built from)
_LOOSE, _TIGHT = 1e-3, 1e-9
_ROW_TOL = 1e-10  # a row is violated below this fraction of ||x|| ||z||
# block coordinates up to which a stalled point is polished by Newton's method (a dense
# Hessian of this order per step; beyond, the interior point's point stands)
_POLISH_MAX = 1500
# a pattern the search found within this many samples of a better one of the same round waits
# for pricing (it stays in D): neighbouring cells, whose blocks the interior point would only
# share out. Half of a round's patterns had such a neighbour 1-3 samples away; breast cancer's
# first round entered 84 of 141, its fits took ~20 % less time at the same objectives (+-0.2 %)
_NEAR = 8


def _violators(cv, beta, have, k):
    """The ``k`` blocks of largest exact value above ``beta`` not already in ``have``, with
    their maximisers (unit directions in the cell's cone)."""
    vals = np.where(cv.exact, cv.values, -np.inf)
    out = []
    for flat in np.argsort(-vals, axis=None):
        i, col = divmod(int(flat), 2)
        if vals[i, col] <= beta:
            break
        key = (i, 1 if col == 0 else -1)
        if key not in have:
            out.append((key, cv.directions[i, col]))
            if len(out) == k:
                break
    return out


def _diverse(P: np.ndarray, values: np.ndarray, near: int = _NEAR) -> list[int]:
    """The patterns of one search round that enter the working set: by decreasing value, each
    that differs from every one already kept on more than ``near`` samples."""
    kept: list[int] = []
    for i in np.argsort(-values, kind="stable"):
        if not kept or np.count_nonzero(P[kept] != P[i], axis=1).min() > near:
            kept.append(int(i))
    return sorted(kept)


def _grown(D, found):
    """``D`` with a search round's patterns appended, and the entering blocks ``(key, direction)``
    of its diverse ones (:func:`_diverse`)."""
    base = D.shape[0]
    return np.vstack([D, found.patterns]), [((base + k, int(found.signs[k])), found.directions[k])
                                            for k in _diverse(found.patterns, found.values)]


class _Rows:
    """The cone rows imposed on each block: at entry the ``k`` rows nearest the block's
    direction (every facet through it among them), later every row its solution violated."""

    def __init__(self, Xb, D, k):
        self.Xb, self.D, self.k = Xb, D, k
        self.xn = np.linalg.norm(Xb, axis=1)
        self.mask: dict[tuple[int, int], np.ndarray] = {}

    def enter(self, key, u):
        if key in self.mask:
            return
        sl = np.where(self.D[key[0]], 1.0, -1.0) * (self.Xb @ u) / np.where(self.xn > 0, self.xn, 1.0)
        m = np.zeros(len(sl), bool)
        m[np.argsort(sl)[:self.k]] = True
        self.mask[key] = m

    def signs(self, blocks):
        """``sgn`` of :func:`solve_design`: +-1 on the imposed rows, 0 elsewhere."""
        return np.stack([np.where(self.mask[b], np.where(self.D[b[0]], 1.0, -1.0), 0.0) for b in blocks])

    def add_violated(self, blocks, Z) -> bool:
        """Impose every row the blocks ``Z`` violate; True when there were any."""
        sgn = np.where(self.D[[b[0] for b in blocks]], 1.0, -1.0)
        zn = np.linalg.norm(Z, axis=1)
        bad = sgn * (Z @ self.Xb.T) < -_ROW_TOL * zn[:, None] * self.xn[None, :]
        xz = sgn * (Z @ self.Xb.T) / np.where(self.xn > 0, self.xn, 1.0)[None, :]
        for b, row, sl in zip(blocks, bad, xz):
            if row.any():  # the rows nearest the new point too: fewer rounds of rows
                self.mask[b][np.argsort(sl)[:self.k]] = True
                self.mask[b] |= row
        return bool(bad.any())


def row_basis(Xb: np.ndarray) -> np.ndarray | None:
    """An orthonormal basis (d, r) of the row space of ``Xb`` when its rank r is below its d
    columns (numerical rank, as ``np.linalg.matrix_rank``) and above 3; else None."""
    n, d = Xb.shape
    _, s, Vt = np.linalg.svd(Xb, full_matrices=False)
    r = int(np.sum(s > s[0] * max(n, d) * np.finfo(float).eps)) if s.size and s[0] > 0 else 0
    return Vt[:r].T.copy() if 3 < r < d else None


def solve_high_dim(Xb: np.ndarray, y: np.ndarray, D: np.ndarray, beta: float, act: Activation, loss: Loss,
                   *, tol: float = 5e-7, warm=None, max_rounds: int = 60, search=None) -> WorkingSetResult:
    """The program over the patterns ``D`` by working sets of blocks; the certificate is over
    all of ``D``. ``warm``: ``(blocks_i, blocks_s, Z)`` to start from (e.g. the previous
    beta's support). Returns a :class:`cvx_core.solvers.working_set.WorkingSetResult`.

    ``search``: a :class:`Search` to grow ``D`` by (column generation over patterns): once no
    pattern of ``D`` is violated, it looks for violated patterns beyond ``D``; those it finds
    enter as blocks and the loose rounds go on, until it finds none or stops improving. The
    result's ``patterns`` is then the grown ``D``.

    When ``Xb`` has rank r < d (constant features, a pixel that is always 0), the program is
    solved in the r coordinates of its row space, ``Xb B`` with ``B`` orthonormal: the same
    program exactly, since a block's part outside the row space changes no prediction and only
    adds to its norm (it is 0 at the optimum), and a cell's cone is its row-space cone plus
    that null space, which leaves every certificate value ``||Proj_K(g)||`` as it is
    (``g = Xb' S lambda`` lies in the row space). The blocks come back as ``Z B'``.
    """
    with scipy_blas_limited():  # the factorisations call scipy's BLAS
        B = row_basis(Xb)
        if search is not None:
            search.restrict(B)
        if B is None:
            return _solve_high_dim(Xb, y, D, beta, act, loss, tol, warm, max_rounds, search)
        if warm is not None and len(warm) > 2:
            warm = (warm[0], warm[1], np.asarray(warm[2], float) @ B)
        res = _solve_high_dim(Xb @ B, y, D, beta, act, loss, tol, warm, max_rounds, search)
    return replace(res, Z=res.Z @ B.T, u_star=None if res.u_star is None else B @ res.u_star)


def _solve_high_dim(Xb, y, D, beta, act, loss, tol, warm, max_rounds, search) -> WorkingSetResult:
    t0 = time.perf_counter()
    n, d = Xb.shape
    rows = _Rows(Xb, D, min(n, 3 * d))
    lam = loss.dual_variable(np.zeros(n), y)
    entering = []
    if warm is not None and len(warm) > 2:
        for i, s, z in zip(warm[0], warm[1], warm[2]):
            zn = np.linalg.norm(z)
            if zn > 0:
                entering.append(((int(i), int(s)), z / zn))
    cv = None
    fresh = not entering  # a warm start is priced at its own solution, not at the zero network
    if fresh and search is not None:
        # a cold searched fit starts from the sphere search at the zero network's dual vector:
        # its patterns come first in the first working set, pricing's sampled ones fill it up
        found = search.find(D, lam, np.zeros((0, d)), np.zeros(0, int))
        if len(found.patterns):
            D, entering = _grown(D, found)
            rows.D = D
            entering = entering[:_FIRST]
    if fresh and len(entering) < _FIRST:
        cv = batched_cell_values(Xb, D, lam, act, threshold=beta, top_k=_FIRST)
        entering += _violators(cv, beta, {key for key, _ in entering}, _FIRST - len(entering))
    blocks: list[tuple[int, int]] = []
    best = None
    Z = np.zeros((0, d))
    bi = bs = np.zeros(0, int)
    obj = loss.value(np.zeros(n), y)
    inner = "none"
    tight = cold = False
    resume = ()
    rnd = 0

    def polishable(best):  # a stalled point that Newton's method can finish (smooth loss, small support)
        return best is not None and loss.name != "hinge" and 0 < len(best[1]) * Xb.shape[1] <= _POLISH_MAX

    def _polished(best):
        # the interior point stalled short of the tolerance: Newton's method on its support and
        # tight rows (smooth losses) finishes the point, and with it the dual vector
        out = _polish(Xb, y, D, act, loss, beta, *best[1:4], tol)
        return out if out is not None and out[0] < best[0] else best

    warm = None
    restarted = False
    # loose drop threshold; blocks dropped once are held to _ZERO if pricing brings them back
    loose = _ZERO_SEARCH if search is not None else _ZERO
    dropped: set[tuple[int, int]] = set()
    for rnd in range(1, max_rounds + 1):
        for key, u in entering:
            rows.enter(key, u)
            blocks.append(key)
        if warm is not None:
            resume = _restart(*warm, rows.signs(blocks), Xb)
        warm = None
        entering = []
        if blocks:
            bi = np.array([b[0] for b in blocks])
            bs = np.array([b[1] for b in blocks])
            C = block_coefficients(D, act, bi, bs)
            sgn = rows.signs(blocks)
            restarted = bool(resume) and not tight
            res = solve_design((C, Xb), Xb, sgn, y, beta, loss, tol=_TIGHT if tight else _LOOSE, resume=resume,
                               pres_tol=_RESTART_PRES if restarted else None)
            resume = ()
            inner, Z = res.status, res.Z
            violated = rows.add_violated(blocks, Z)
            lam = loss.clip_dual(res.lam, y)  # a valid dual candidate even when Z is not feasible
            obj = loss.value(res.yhat, y) + beta * float(np.linalg.norm(Z, axis=1).sum())
            # while loose, the working set's own cells only bound cert from above (they are
            # not candidates to enter; ~half the exact projections of a round), and only the
            # entering blocks need exact values; tight, all exact
            skip = None
            if not tight:
                skip = np.zeros((D.shape[0], 2), bool)
                skip[bi, np.where(bs > 0, 0, 1)] = True
            top = (len(blocks) if tight else 0) + max(_ADD, len(blocks))
            cv = batched_cell_values(Xb, D, lam, act, threshold=beta, top_k=top, skip=skip)
        else:
            violated = False
        if not violated:  # Z is a point of the program: its objective bounds the optimum above
            cert = cv.max
            lb = lower_bound(loss, lam, y, cert, beta)
            i, col = cv.argmax()
            if best is None or obj - lb < best[0]:
                best = (obj - lb, bi, bs, Z, lam, cert, obj, lb, cv.directions[i, col])
            if obj - lb <= tol * max(abs(obj), 1e-300):
                break
        # the working set at most doubles per round (each round is one interior-point solve)
        entering = _violators(cv, beta * (1 + _ENTER[tight]), set(blocks), max(_ADD, len(blocks)))
        # the search also runs beside pricing's own violators: waiting for a round without
        # them cost one more working-set solve per search round. So in a round whose solution
        # violated rows (its dual vector prices as validly), while the last feasible round's
        # objective asked for more: waiting for the rows cost diabetes half its solves
        if search is not None and not tight and (search.wants(obj) if not violated else search.going()):
            found = search.find(D, lam, Z, bs)
            if len(found.patterns):
                D, new = _grown(D, found)
                rows.D = D
                entering = entering[:_ADD_BESIDE] + new
        if not entering and not violated:
            if not blocks or (tight and cold):
                break  # nothing left to add: the inner solve's accuracy limits the gap
            if tight and best is not None:
                # the continuation stalled. A cold solve of the same normal equations mostly
                # stalls at the same level (40-50 iterations for nothing): not when the point
                # already certifies to the reporting tolerance, nor when Newton's method finishes it
                if best[0] <= OPTIMAL_GAP * max(abs(best[6]), 1e-300):
                    break
                if polishable(best):
                    best = _polished(best)
                    if best[0] <= tol * max(abs(best[6]), 1e-300):
                        break
            # first the last loose solve continued to the tight tolerance; if that stalls (its
            # factorisations degrade near the optimum), one tight solve from a new initial point
            cold, tight = tight, True
            resume = () if cold else res.state
            if cold:
                # the stalled point's inactive blocks sit at 1e-6..1e-3 of the largest and
                # make the normal equations degenerate; the cold solve goes without them
                # (pricing at its dual vector brings back any that matter)
                zn = np.linalg.norm(Z, axis=1)
                blocks = [b for b, z in zip(blocks, zn) if z > _PRUNE * zn.max(initial=0.0)] or blocks
            continue
        zn = np.linalg.norm(Z, axis=1)
        thr = [_ZERO if tight or b in dropped else loose for b in blocks]
        keep = zn > np.array(thr) * max(zn.max(initial=0.0), 1e-300)
        dropped.update(b for b, k in zip(blocks, keep) if not k)
        if violated and not entering and not tight and not restarted and res.early is not None:
            # only rows were added (and zero blocks dropped): restart from the last solve's
            # iterate at relative gap 0.1 (its last, near the boundary, stalls on the new rows;
            # a restart with new blocks too was 4-30x slower, tried)
            warm = (res.early, keep, sgn[keep])
        blocks = [b for b, k in zip(blocks, keep) if k]
    gap, bi, bs, Z, lam, cert, obj, lb, u = best if best is not None else (np.inf, bi, bs, Z, lam, 0.0, obj, -np.inf, None)
    # at the engine's own tolerance a point within OPTIMAL_GAP is reported optimal whatever
    # Newton's method adds, and its active-set rounds (one block per round) can cost seconds;
    # a tighter tol asked for still polishes
    limit = OPTIMAL_GAP if tol >= GAP_TOL else tol
    if gap > limit * max(abs(obj), 1e-300) and polishable(best):
        gap, bi, bs, Z, lam, cert, obj, lb, u = _polished(best)
    certified = gap <= limit * max(abs(obj), 1e-300)
    status = "optimal" if certified else "max_rounds" if rnd == max_rounds else f"stalled (inner status {inner})"
    nz = np.linalg.norm(Z, axis=1) > 0
    return WorkingSetResult(bi[nz], bs[nz], Z[nz], lam, float(cert), float(obj), float(lb), status, rnd,
                            time.perf_counter() - t0, u_star=u, patterns=D if search is not None else None,
                            search=search.summary() if search is not None else None)


# the primal residual a restarted loose solve must reach (a cold one ends near 1e-9): the new
# rows must hold to _ROW_TOL before the working set moves on
_RESTART_PRES = 1e-8


def _restart(state, keep, sgn_old, sgn_new, Xb):
    """An interior-point iterate of the last program for the next one with more rows:
    restricted to the blocks ``keep``; the new rows start at the median slack of the imposed
    ones (or their own, if larger) and the imposed rows' mean complementarity."""
    T, Z, s0, s1, S, z0, z1, U = (v[keep] for v in state[:8])
    M = sgn_old != 0
    new = (sgn_new != 0) & ~M
    S, U = S.copy(), U.copy()
    mu = float(np.mean((S * U)[M])) if M.any() else 1.0
    typ = float(np.median(S[M])) if M.any() else 1.0
    S[new] = np.maximum((sgn_new * (Z @ Xb.T))[new], 0.0) + typ
    U[new] = mu / S[new]
    return (T, Z, s0, s1, S, z0, z1, U) + tuple(state[8:])


def _polish(Xb, y, D, act, loss, beta, bi, bs, Z, tol):
    """:func:`cvx_core.solvers.interior.polish` on the blocks ``Z`` (rows within 1e-6 of their
    boundary held as equalities), certified over ``D``; None when it found no structure.

    First on the screened support (:func:`_screened`); when that point does not certify to
    ``tol``, on every block above ``_POLISH_KEEP`` as well, and the better point is returned."""
    zn = np.linalg.norm(Z, axis=1)
    keep = zn > _POLISH_KEEP * zn.max(initial=0.0)
    bi, bs, Z = bi[keep], bs[keep], Z[keep]
    few, Zs = _screened(bs, Z)
    out = _polish_on(Xb, y, D, act, loss, beta, bi[few], bs[few], Zs)
    if len(few) < len(Z) and (out is None or out[0] > tol * max(abs(out[6]), 1e-300)):
        full = _polish_on(Xb, y, D, act, loss, beta, bi, bs, Z)
        if out is None or (full is not None and full[0] < out[0]):
            out = full
    return out


# blocks of one sign whose directions agree to this (1 - cosine) are one neuron split among
# neighbouring cells (its ray lies on their common boundary, where their predictions agree)
_PARALLEL = 1e-6


def _screened(bs, Z):
    """The blocks to polish first, ``(indices, their Z)``: blocks below
    ``_PRUNE`` of the largest norm are left out, and each group of parallel blocks of one sign
    is summed into its largest. A stalled interior point leaves both behind (inactive blocks
    at 1e-5..1e-3, one neuron shared by up to six cells), and Newton's active-set rounds
    would remove them one block per round."""
    zn = np.linalg.norm(Z, axis=1)
    big = np.flatnonzero(zn > _PRUNE * zn.max(initial=0.0))
    big = big[np.argsort(-zn[big])]
    U = Z[big] / zn[big, None]
    cos = U @ U.T
    taken = np.zeros(len(big), bool)
    out = {}
    for a in range(len(big)):
        if not taken[a]:
            group = np.flatnonzero(~taken & (cos[a] >= 1 - _PARALLEL) & (bs[big] == bs[big[a]]))
            taken[group] = True
            out[int(big[a])] = Z[big[group]].sum(axis=0)
    idx = np.array(sorted(out), int)
    return idx, np.array([out[j] for j in idx]).reshape(len(idx), Z.shape[1])


def _polish_on(Xb, y, D, act, loss, beta, bi, bs, Z):
    C = block_coefficients(D, act, bi, bs)
    sgn = np.where(D[bi], 1.0, -1.0)
    xn = np.linalg.norm(Xb, axis=1)
    tight = sgn * (Z @ Xb.T) <= 1e-6 * np.linalg.norm(Z, axis=1)[:, None] * xn[None, :]
    out = polish(Xb, y, C, sgn, Z, tight, beta, loss=loss)
    if out is None:
        return None
    Zp, kept = out
    bi, bs = bi[kept], bs[kept]
    yhat = predict(Xb, C[kept], Zp)
    obj = loss.value(yhat, y) + beta * float(np.linalg.norm(Zp, axis=1).sum())
    lam = loss.clip_dual(loss.dual_variable(yhat, y), y)
    cv = batched_cell_values(Xb, D, lam, act, threshold=beta)
    cert = cv.max
    lb = lower_bound(loss, lam, y, cert, beta)
    i, col = cv.argmax()
    return obj - lb, bi, bs, Zp, lam, cert, obj, lb, cv.directions[i, col]


class Search:
    """The pattern search of :func:`solve_high_dim`: rounds of
    :func:`cvx_core.certificates.search.search_round` at the working set's dual vector, at most
    ``max_rounds``, stopped once a round's loose objective improved by less than ``tol``."""

    def __init__(self, Xb, act, beta, seed, *, n_random, max_rounds, tol):
        self.X, self.Xb, self.act, self.beta = Xb, Xb, act, beta
        self.rng = np.random.default_rng(seed)
        self.n_random, self.max_rounds, self.tol = n_random, max_rounds, tol
        self.rounds = self.added = self.starts = 0
        self.best = 0.0
        self.last_obj = None
        self.asking = True  # the last objective test's answer (none yet)

    def restrict(self, B) -> None:
        """Search in the coordinates ``B`` (d, r) of the design's row space (None: all of them),
        as :func:`solve_high_dim` solves there: directions ``v`` stand for ``u = B v``."""
        self.Xb = self.X if B is None else self.X @ B

    def wants(self, obj) -> bool:
        """False once the rounds are spent or the last one improved the objective too little."""
        self.asking = False
        if self.rounds >= self.max_rounds:
            return False
        if self.last_obj is not None and self.last_obj - obj <= self.tol * abs(self.last_obj):
            return False
        self.last_obj = obj
        self.asking = True
        return True

    def going(self) -> bool:
        """Whether a round may search without an objective test (its point violates rows, so
        its objective is a relaxation's): while rounds remain and the last test asked for more."""
        return self.asking and self.rounds < self.max_rounds

    def find(self, D, lam, Z, signs):
        """Patterns found violated at ``lam`` and not in ``D`` (a SearchResult, possibly empty)."""
        self.rounds += 1
        res = search_round(self.Xb, lam, self.act, self.beta, Z, signs, self.rng, self.n_random)
        self.best, self.starts = res.best, self.starts + res.starts
        new = unseen(D, res.patterns)
        res = SearchResult(res.patterns[new], res.values[new], res.best, res.starts, res.directions[new], res.signs[new])
        self.added += len(res.patterns)
        return res

    def summary(self) -> dict:
        return {"rounds": self.rounds, "patterns_added": self.added, "starts": self.starts,
                "max_violation": float(self.best)}
