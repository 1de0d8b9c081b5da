"""Convex training of two-layer networks: ``fit_convex`` and ``beta_max``.

The convex program (docs/math.md section 3), over patterns ``D_1..D_P`` of the design matrix
``Xb = [X, 1]`` (or ``X`` without bias):

    min_{V, W}  L( sum_i S_i Xb (v_i - w_i), y ) + beta sum_i (||v_i||_2 + ||w_i||_2)
    s.t.        (2 D_i - I) Xb v_i >= 0,  (2 D_i - I) Xb w_i >= 0.

Its optimum equals the optimum of the weight-decay training problem

    min  L( sum_j sigma(Xb u_j) alpha_j , y ) + (beta / 2) sum_j (||u_j||^2 + alpha_j^2)

once the patterns are all of them. The objective reported everywhere is
``L(yhat, y) + beta * (sum of group norms)``, which equals the network's training objective
for the balanced network recovered in section 4.

Active neurons are counted after pruning: a block is active when its norm exceeds
``ACTIVE_TOL`` times the largest block norm (the one documented tolerance).

Symbols: ``X (n, d)`` raw data, ``y (n,)`` or ``(n, C)``, ``D (P, n)`` bool patterns,
``V, W (P, d')`` convex weights with ``d' = d + 1`` when ``bias``; for C outputs ``V, W`` are
``(C, P, d')``.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from .certificates.arrangement import facet_lookup
from .certificates.dual import polish_dual
from .certificates.evaluate import best_bound, bound_cache, cert_max
from .certificates.search import search_round, unseen
from .model import TwoLayerNet, add_bias, data_scale, make_activation, make_loss
from .patterns import auto_choice, canonical_symmetric, resolve_patterns, sample_patterns
from .recovery import blocks_to_VW, column_objective, network_from_blocks, prune
from .solvers import solve_column
from .solvers.high_dim import Search
from .threads import single_blas_thread
from .tolerances import ACTIVE_TOL, GAP_TOL, OPTIMAL_GAP, fit_status
from .validation import check_beta, check_Xy

# beyond the plane, supports (blocks x coordinates) up to which an uncertified point asks the
# dual program itself (a Clarabel solve with up to n rows per cell: 25 s for 160 blocks in R^31)
_DUAL_POLISH_MAX = 1500
#: ``patterns="search"``: Gaussian directions sampled before the search starts
SEARCH_SAMPLES = 200
#: random starts of the sphere search per round (besides the network's own neurons)
SEARCH_STARTS = 64
#: rounds of search and re-solve at most
SEARCH_ROUNDS = 12
#: the search stops once a round lowers the objective by less than this fraction
SEARCH_TOL = 1e-3


@dataclass(frozen=True)
class ConvexFit:
    """Result of :func:`fit_convex`.

    Attributes
    ----------
    objective : float
        ``L(yhat, y) + beta * sum of group norms`` at the returned (pruned) solution.
    lower_bound : float
        Certified lower bound on the optimum over the patterns used: ``g(lambda / kappa)``.
    gap : float
        ``(objective - lower_bound) / |objective|``.
    certificate : float
        ``cert(lambda) / beta`` over the patterns used (1 at the optimum). Beyond the plane a
        value at most 1 may be an upper bound on it (kappa = max(1, cert / beta) is 1 either
        way; cells below beta are not projected once the bound is settled).
    patterns : ndarray of bool, shape (P, n)
    V, W : ndarray of shape (P, d') or (C, P, d')
    network : TwoLayerNet
        (a :class:`cvx_core.cnn.ConvNet` from :func:`cvx_core.cnn.fit_convex_cnn`, which returns
        this class too; both have ``predict`` and ``objective``)
    n_neurons : int
        Active neurons after pruning.
    solve_time : float
        Seconds, including pattern enumeration.
    status : str
        One of :data:`cvx_core.tolerances.STATUSES`: "optimal" exactly when
        ``gap <= OPTIMAL_GAP``; the solver's
        own outcome is in ``info["columns"][c]["solver_status"]``.
    """

    objective: float
    lower_bound: float
    gap: float
    certificate: float
    patterns: np.ndarray
    V: np.ndarray
    W: np.ndarray
    network: TwoLayerNet
    n_neurons: int
    solve_time: float
    status: str
    beta: float
    activation: str
    leak: float
    loss: str
    bias: bool
    solver: str
    exact_patterns: bool
    dual: np.ndarray
    predictions: np.ndarray
    u_star: np.ndarray
    info: dict = field(default_factory=dict, compare=False)

    @property
    def n_patterns(self) -> int:
        return int(self.patterns.shape[0])

    def group_norms(self) -> np.ndarray:
        """Norms ``||v_i||`` and ``||w_i||`` as an array of shape (P, 2) (summed over outputs)."""
        nv = np.linalg.norm(self.V, axis=-1)
        nw = np.linalg.norm(self.W, axis=-1)
        if nv.ndim == 2:
            nv, nw = nv.sum(axis=0), nw.sum(axis=0)
        return np.stack([nv, nw], axis=1)



def _finish_column(Xb, yc, D, beta, act, loss, V, W, lam_c, bound, exact):
    """Pruned, exactly feasible blocks of one column with their certified lower bound.

    Every kept block is moved into its cone, so the recovered network reproduces the
    objective. Blocks below ``ACTIVE_TOL`` of the largest are dropped unless dropping them
    loses the certificate (at small beta a hinge optimum can need them: margins of exactly 1
    built from large, cancelling neurons); then only exact zeros are dropped. Any dual vector
    gives a valid bound whatever the primal point, so the best bound found is kept. When the
    solver's point does not certify, the dual program is solved directly
    (:func:`cvx_core.certificates.dual.polish_dual`), and its primal point competes too.

    ``bound``: the solver's own :class:`~cvx_core.certificates.cells.Bound`, or None.
    Returns (V, W, objective, yhat, Bound).
    """
    if bound is not None and bound.u is None:
        bound = replace(bound, u=cert_max(Xb, D, bound.lam, act, exact)[1])
    # every dual vector priced once: the solver's own is usually the unpruned network's too
    known = bound_cache(loss, yc, bound)

    def certified_by(b, obj):
        return b is not None and obj - b.lower_bound <= GAP_TOL * max(abs(obj), 1e-300)

    def candidates(V, W):  # lazily: the second only when the first does not certify
        for tol in (ACTIVE_TOL, 0.0):
            Vp, Wp = prune(Xb, D, act, V, W, tol)
            yield (Vp, Wp, *column_objective(Xb, yc, D, act, loss, beta, Vp, Wp))

    chosen = None
    for cand in candidates(V, W):
        if not certified_by(bound, cand[2]):
            # cells below beta leave kappa at 1: their upper bounds stand in for projections
            found = best_bound(Xb, yc, D, beta, act, loss, cand[3], lam_c, exact, objective=cand[2], known=known,
                               floor=beta)
            if bound is None or found.lower_bound > bound.lower_bound:
                bound = found
        if chosen is None or cand[2] < chosen[2] or certified_by(bound, cand[2]):
            chosen = cand
        if certified_by(bound, cand[2]):
            return (*chosen, bound)
    # the primal point may be optimal while its dual vector is not accurate enough, or both
    # may be off by the primal solver's tolerance: ask the dual program itself (beyond the
    # plane a Clarabel solve with up to n rows per cell: only when the status depends on it)
    support = [(i, 1) for i in np.flatnonzero(np.any(V != 0, axis=1))] + \
              [(i, -1) for i in np.flatnonzero(np.any(W != 0, axis=1))]
    if Xb.shape[1] > 3 and (chosen[2] - bound.lower_bound <= OPTIMAL_GAP * max(abs(chosen[2]), 1e-300)
                            or len(support) * Xb.shape[1] > _DUAL_POLISH_MAX):
        return (*chosen, bound)
    polished, primals = polish_dual(Xb, yc, D, beta, act, loss, support,
                                    lambda lam: cert_max(Xb, D, lam, act, exact), facet_lookup(Xb, D, act, exact))
    if polished is not None and polished.lower_bound > bound.lower_bound:
        bound = polished
    for cells, Z in reversed(primals):
        Vd, Wd = blocks_to_VW(D.shape[0], Xb.shape[1], [i for i, _ in cells], [s for _, s in cells], Z)
        for cand in candidates(Vd, Wd):
            if cand[2] < chosen[2]:
                chosen = cand
            if certified_by(bound, cand[2]):
                return (*chosen, bound)
    return (*chosen, bound)


@single_blas_thread
def fit_convex(
    X,
    y,
    beta,
    *,
    activation: str = "relu",
    leak: float = 0.1,
    loss: str = "squared",
    bias: bool = True,
    patterns="exact",
    solver: str = "auto",
    seed: int = 0,
    warm_start: "ConvexFit | None" = None,
    search_samples: int | None = None,
    n_jobs: int | None = None,
) -> ConvexFit:
    """Train a two-layer network by solving the convex program (module docstring).

    Parameters
    ----------
    X : array_like of shape (n, d)
        Raw data; the bias column is appended inside when ``bias=True``.
    y : array_like of shape (n,) or (n, C)
        Targets; labels -1/+1 for the logistic and hinge losses. A vector target splits into
        C independent programs (penalty ``(beta/2)(||u||^2 + ||alpha||_1^2)``).
    beta : float
        Regularisation strength, > 0.
    activation : {"relu", "leaky", "abs"}
    leak : float
        Negative slope of the leaky ReLU.
    loss : {"squared", "logistic", "hinge"}
    bias : bool
    patterns : "exact", "auto", "search", int or ndarray of bool (P, n)
        All patterns (exact enumeration), a number of Gaussian directions to sample, or the
        patterns themselves. "search": ``SEARCH_SAMPLES`` sampled patterns, then column
        generation -- ascent on the sphere for directions that violate the dual constraint
        (:mod:`cvx_core.certificates.search`) from the network's own neurons and random
        starts, adding their patterns and re-solving until none is found
        (``info["pattern_search"]`` says what was searched and the largest violation seen).
        "auto": "exact" when Cover's count is at most ``patterns.MAX_EXACT_PATTERNS``, else
        "search".
    solver : "auto", "working-set", "interior" or a cvxpy solver name
        "auto" and "working-set" are the working-set solver: of cells and their facets for
        design matrices with at most 3 columns (:mod:`cvx_core.solvers.working_set`), of
        blocks with every cone row beyond (:mod:`cvx_core.solvers.high_dim`; every loss);
        "interior" solves the whole program by the structured interior point of
        :mod:`cvx_core.solvers.interior` (squared loss); any installed cvxpy solver (e.g.
        "clarabel") solves the full program with cvxpy (the reference).
    seed : int
        Seed for pattern sampling.
    warm_start : ConvexFit, optional
        A fit at a neighbouring beta on the same data and patterns; seeds the working set.
    search_samples : int, optional
        Gaussian directions sampled before a pattern search (default ``SEARCH_SAMPLES``).
    n_jobs : int, optional
        The C programs of a vector target (and a search's re-solves over the union of the
        patterns found) run in parallel with joblib when this is not None or 1; any joblib
        backend (``joblib.parallel_config(backend=...)``) spreads them.

    Returns
    -------
    ConvexFit

    Raises
    ------
    ValueError
        Bad input, or exact enumeration that would be too large (use sampled patterns).
    RuntimeError
        When every solver fails (the message names the status and beta).
    """
    t0 = time.perf_counter()
    lossf = make_loss(loss)
    act = make_activation(activation, leak)
    X, y = check_Xy(X, y, lossf.name)
    beta = check_beta(beta)
    jobs = _Jobs(n_jobs)
    if not isinstance(solver, str):
        raise ValueError(f"expected solver as a string ('auto', 'working-set', 'interior' or a cvxpy solver name), got {solver!r}")
    solver = solver.lower()
    Xb = add_bias(X, bias)
    if isinstance(patterns, str) and patterns not in ("exact", "auto", "search"):
        raise ValueError(f"expected patterns 'exact', 'auto', 'search', an int or a (P, {Xb.shape[0]}) bool array, "
                         f"got {patterns!r}")
    search = isinstance(patterns, str) and (patterns == "search" or (
        patterns == "auto" and auto_choice(Xb) != "exact"))
    if isinstance(patterns, str) and patterns == "auto" and not search:
        patterns = "exact"
    if warm_start is not None and warm_start.patterns.shape[1] == Xb.shape[0] and (
        isinstance(patterns, str) or isinstance(patterns, (int, np.integer))
    ):
        D, exact = warm_start.patterns, warm_start.exact_patterns
    elif search:
        k = SEARCH_SAMPLES if search_samples is None else search_samples
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"expected search_samples as a positive integer, got {search_samples!r}")
        D, exact = resolve_patterns(Xb, sample_patterns(Xb, int(k), seed=seed), act)
    else:
        D, exact = resolve_patterns(Xb, patterns, act, seed)
    # The program on Xb / c with beta / c and blocks c z is the same program; solved on the
    # unit scale, the solvers' absolute tolerances mean the same for data at 1e-6 or 1e6.
    c_scale = data_scale(Xb)
    column = dict(Xs=Xb / c_scale, c_scale=c_scale, D=D, exact=exact, beta=beta, act=act, leak=leak,
                  lossf=lossf, bias=bias, solver=solver, warm_start=warm_start)
    if search and Xb.shape[1] > 3 and solver in ("auto", "working-set"):
        # the working set of blocks grows the patterns itself: new patterns enter its next loose
        # round instead of a whole new fit per search round
        fit = _fit_searched(y, column, lambda: Search(column["Xs"], act, beta / c_scale, seed, n_random=SEARCH_STARTS,
                                                      max_rounds=SEARCH_ROUNDS, tol=SEARCH_TOL), jobs)
    else:
        fit = _fit_columns(y, column, jobs)
        if search:
            fit = _search(Xb, y, beta, act, seed, fit, column, jobs)
    fit = replace(fit, solve_time=time.perf_counter() - t0)
    if fit.gap > 1e-4:
        warnings.warn(f"certified relative gap {fit.gap:.2e} at beta={beta:g} (status {fit.status})",
                      RuntimeWarning, stacklevel=2)
    return fit


class _Jobs:
    """Runs independent column fits: in order, or through joblib when ``n_jobs`` is not None/1
    (results in the order given either way)."""

    def __init__(self, n_jobs):
        if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer))
                                   or n_jobs == 0):
            raise ValueError(f"expected n_jobs as None or a nonzero integer (joblib's convention), got {n_jobs!r}")
        self.n_jobs = n_jobs

    def map(self, calls: list[tuple[tuple, dict]]) -> list:
        """``_fit_column(*args, **kwargs)`` for each ``(args, kwargs)`` of ``calls``."""
        if self.n_jobs in (None, 1) or len(calls) < 2:
            return [_fit_column(*a, **k) for a, k in calls]
        from joblib import Parallel, delayed

        return Parallel(n_jobs=self.n_jobs)(delayed(_fit_column)(*a, **k) for a, k in calls)


def _fit_columns(y, column, jobs) -> ConvexFit:
    if y.ndim == 1:
        return _fit_column(y, None, **column)
    fits = jobs.map([((y[:, c], c), column) for c in range(y.shape[1])])
    return combine_fits(fits, column["D"], column["exact"], 0.0)


def _fit_searched(y, column, make_search, jobs) -> ConvexFit:
    """Each column searched inside its working set; a vector target's columns are then solved
    once more over the union of the patterns they found (one pattern list for all columns),
    warm-started from their searched supports.

    The first column is searched alone and the patterns of its live neurons join the sampled
    ones of every other column: one-vs-rest programs share many neurons, and a few good patterns
    spare each later column search rounds. The result does not depend on ``n_jobs``."""
    if y.ndim == 1:
        fit = _fit_column(y, None, **column, search=make_search())
        return replace(fit, info={**fit.info, "pattern_search": _search_info(fit.info["columns"][0]["search"],
                                                                             fit.n_patterns)})
    D0 = column["D"]
    first = _fit_column(y[:, 0], 0, **column, search=make_search())
    later = column
    if column["warm_start"] is None:  # (a warm start holds blocks at the rows of D0)
        live = first.group_norms().max(axis=1) > 0
        live[:len(D0)] = False
        if live.any():
            later = {**column, "D": np.vstack([D0, first.patterns[live]])}
    fits = [first] + jobs.map([((y[:, c], c), {**later, "search": make_search()}) for c in range(1, y.shape[1])])
    index = {row.tobytes(): k for k, row in enumerate(np.packbits(D0, axis=1))}
    extra = []
    for f in fits:
        for row in f.patterns[len(D0):]:
            key = np.packbits(row).tobytes()
            if key not in index:
                index[key] = len(D0) + len(extra)
                extra.append(row)
    D = np.vstack([D0] + ([np.array(extra)] if extra else []))
    moved = []
    for f in fits:  # each column's blocks at their rows of the union
        to = np.array([index[np.packbits(row).tobytes()] for row in f.patterns])
        V, W = np.zeros((len(D), f.V.shape[1])), np.zeros((len(D), f.W.shape[1]))
        V[to], W[to] = f.V, f.W
        moved.append(replace(f, patterns=D, V=V, W=W))
    union = {**column, "D": D, "warm_start": combine_fits(moved, D, False, 0.0)}
    # a column whose own dual vector still certifies it over the union keeps its point; only the
    # others are solved again (re-solving every column was most of a ten-class fit)
    final = [_recertified(f, y[:, c], column, D) for c, f in enumerate(moved)]
    again = [c for c, f in enumerate(final) if f is None]
    for c, f in zip(again, jobs.map([((y[:, c], c), union) for c in again])):
        final[c] = f
    fit = combine_fits(final, D, column["exact"], 0.0)
    searches = [f.info["columns"][0]["search"] for f in fits]
    summary = {"rounds": max(s["rounds"] for s in searches), "patterns_added": len(extra),
               "starts": sum(s["starts"] for s in searches), "max_violation": max(s["max_violation"] for s in searches)}
    return replace(fit, info={**fit.info, "pattern_search": _search_info(summary, len(D))})


def _search(Xb, y, beta, act, seed, fit, column, jobs) -> ConvexFit:
    """Column generation over patterns: search the sphere for directions that violate the dual
    constraint at the fit's dual vector (from its own neurons, the certificate's maximiser and
    random starts), add their patterns, re-solve warm-started; until none is found."""
    rng = np.random.default_rng(seed)
    rounds = added = starts = 0
    best = np.inf
    for rounds in range(1, SEARCH_ROUNDS + 1):
        V = fit.V if fit.V.ndim == 3 else fit.V[None]
        W = fit.W if fit.W.ndim == 3 else fit.W[None]
        lams = fit.dual if fit.dual.ndim == 2 else fit.dual[:, None]
        found = []
        best = 0.0
        for c in range(lams.shape[1]):
            Z = np.vstack([V[c], W[c]])
            sg = np.r_[np.ones(len(V[c])), -np.ones(len(W[c]))]
            res = search_round(Xb, lams[:, c], act, beta, Z, sg, rng, SEARCH_STARTS)
            found.append(res.patterns)
            best = max(best, res.best)
            starts += res.starts
        D = column["D"]
        new = np.vstack(found)
        if act.symmetric and len(new):
            new = canonical_symmetric(new)
        if len(new):
            new = new[unseen(D, new)]
        if not len(new):
            break
        added += len(new)
        D = np.vstack([D, new])  # old patterns keep their indices: the fit's blocks seed the next
        column = {**column, "D": D, "warm_start": replace(fit, patterns=D)}
        before, fit = fit.objective, _fit_columns(y, column, jobs)
        if before - fit.objective <= SEARCH_TOL * abs(before):
            break
    summary = {"rounds": rounds, "patterns_added": added, "starts": starts, "max_violation": float(best)}
    return replace(fit, info={**fit.info, "pattern_search": _search_info(summary, int(column["D"].shape[0]))})


def _recertified(f: ConvexFit, yc, column, D) -> ConvexFit | None:
    """The column fit ``f`` (its blocks at their rows of ``D``) as a fit over the patterns ``D``,
    certified by its own dual vectors over all of them; None when that leaves it not optimal."""
    if f.status != "optimal":
        return None
    beta_s = column["beta"] / column["c_scale"]
    # only whether a cell of the union exceeds beta matters (kappa = 1 otherwise): cells below
    # it keep their upper bounds instead of a projection each (most of a ten-class fit's time);
    # a first dual vector that certifies the union as well as the column's own gap suffices,
    # and the one that certified the column is tried first
    lossf = column["lossf"]
    bound = best_bound(column["Xs"], yc, D, beta_s, column["act"], lossf, None,
                       [f.dual, lossf.dual_variable(f.predictions, yc)],
                       objective=f.objective, floor=beta_s, enough=max(f.gap, 0.1 * GAP_TOL))
    gap = (f.objective - bound.lower_bound) / max(abs(f.objective), 1e-300)
    if gap > OPTIMAL_GAP:
        return None
    statuses = [col.get("solver_status", "Solved") for col in f.info.get("columns", [])]
    return replace(f, lower_bound=float(bound.lower_bound), gap=float(gap), certificate=float(bound.cert / beta_s),
                   dual=bound.lam, u_star=bound.u, status=fit_status(statuses, gap))


def _search_info(summary: dict, n_patterns: int) -> dict:
    """``info["pattern_search"]``: what the search did and what the certificate then means."""
    best = summary["max_violation"]
    meaning = ("certified over the patterns found; the last sphere search still saw a direction whose "
               f"dual-constraint value exceeds beta by {best - 1:.1e} (it stopped improving the objective)"
               if best > 1 + 1e-6 else
               "certified over the patterns found; the last sphere search found no direction violating the "
               "dual constraint (a search, not a proof over all patterns)")
    return {**summary, "patterns": int(n_patterns), "meaning": meaning}


def _fit_column(yc, c, *, Xs, c_scale, D, exact, beta, act, leak, lossf, bias, solver, warm_start,
                search=None) -> ConvexFit:
    """The fit of one output column ``yc (n,)`` (column ``c`` of a vector target's warm start),
    solved on the unit-scale design matrix ``Xs = Xb / c_scale``."""
    beta_s = beta / c_scale
    warm = None
    if warm_start is not None and warm_start.patterns is D:
        Vw = warm_start.V if c is None else warm_start.V[c]
        Ww = warm_start.W if c is None else warm_start.W[c]
        iv = np.flatnonzero(np.linalg.norm(Vw, axis=1) > 0)
        iw = np.flatnonzero(np.linalg.norm(Ww, axis=1) > 0)
        warm = (np.concatenate([iv, iw]), np.concatenate([np.ones(len(iv), int), -np.ones(len(iw), int)]),
                c_scale * np.vstack([Vw[iv], Ww[iw]]))
    res = solve_column(Xs, yc, D, beta_s, act, lossf, solver, warm, exact, search)
    if res.patterns is not None:  # grown by the pattern search; the blocks index these
        D = res.patterns
    V, W, obj, yhat, bound = _finish_column(
        Xs, yc, D, beta_s, act, lossf, res.V, res.W, list(res.lam_candidates), res.bound, exact)
    V, W = V / c_scale, W / c_scale
    gap = (obj - bound.lower_bound) / max(abs(obj), 1e-300)
    net = network_from_blocks(V, W, act.name, leak, bias)
    return ConvexFit(
        objective=float(obj), lower_bound=float(bound.lower_bound), gap=float(gap), certificate=float(bound.cert / beta_s),
        patterns=D, V=V, W=W, network=net, n_neurons=net.n_neurons, solve_time=0.0,
        status=fit_status([res.status], gap), beta=beta, activation=act.name, leak=float(leak), loss=lossf.name,
        bias=bool(bias), solver=res.solver, exact_patterns=exact, dual=bound.lam, predictions=yhat, u_star=bound.u,
        info={"columns": [{**res.info, "solver_status": res.status}]},
    )


def combine_fits(fits: list[ConvexFit], D: np.ndarray, exact: bool, elapsed: float) -> ConvexFit:
    """One :class:`ConvexFit` for a vector target from the scalar fits of its columns on the
    same patterns: the programs are independent, so objectives and lower bounds add up, the
    certificate is the largest over columns and the status follows the combined gap."""
    f0 = fits[0]
    objective = float(sum(f.objective for f in fits))
    lower = float(sum(f.lower_bound for f in fits))
    gap = (objective - lower) / max(abs(objective), 1e-300)
    k = int(np.argmax([f.certificate for f in fits]))
    V = np.stack([f.V for f in fits])
    W = np.stack([f.W for f in fits])
    net = network_from_blocks(V, W, f0.activation, f0.leak, f0.bias)
    return ConvexFit(
        objective=objective, lower_bound=lower, gap=float(gap), certificate=float(fits[k].certificate),
        patterns=D, V=V, W=W, network=net, n_neurons=net.n_neurons, solve_time=float(elapsed),
        status=fit_status([f.status for f in fits], gap), beta=f0.beta, activation=f0.activation, leak=f0.leak,
        loss=f0.loss, bias=f0.bias, solver=f0.solver, exact_patterns=bool(exact),
        dual=np.stack([f.dual for f in fits], axis=1), predictions=np.stack([f.predictions for f in fits], axis=1),
        u_star=fits[k].u_star, info={"columns": [col for f in fits for col in f.info["columns"]]},
    )


def beta_max(X, y, *, activation="relu", leak=0.1, loss="squared", bias=True, patterns="exact", seed=0) -> float:
    """Smallest beta at which the zero network is optimal: ``cert(lambda(0))`` over the patterns.

    For a vector target, the largest over output columns.
    """
    lossf = make_loss(loss)
    act = make_activation(activation, leak)
    X, y = check_Xy(X, y, lossf.name)
    Xb = add_bias(X, bias)
    D, exact = resolve_patterns(Xb, patterns, act, seed)
    Y = y[:, None] if y.ndim == 1 else y
    n = Xb.shape[0]
    return max(cert_max(Xb, D, lossf.dual_variable(np.zeros(n), Y[:, c]), act, exact)[0] for c in range(Y.shape[1]))
