"""Two-layer convolutional networks, trained by convex optimisation (docs/math.md section 10).

Signals ``X (n, L)`` (or images ``X (n, H, W)``) are cut into K patches of filter size h and
stride s (:func:`patches`); with a bias every patch gets a trailing 1 (``h' = h + 1``). The
network, with pooling factor ``p = 1`` ("sum") or ``1/K`` ("mean"),

    f(x) = sum_j alpha_j p sum_k sigma(x~_k' u_j),
    p*   = min L(f(X), y) + (beta/2) sum_j (||u_j||^2 + alpha_j^2),

has the convex program, over the joint patterns ``D_i`` of the stacked patch matrix
``Z = [X~_1; ...; X~_K]`` (nK, h'), row ``k n + j`` = patch k of sample j,

    min  L( sum_i A_i (v_i - w_i), y ) + beta sum_i (||v_i|| + ||w_i||)
    s.t. (2 D_i - I) Z v_i >= 0,  (2 D_i - I) Z w_i >= 0,
    A_i = p sum_k S_i^k X~_k   (n, h'),

whose optimum equals p* once the patterns are all of them. The certificate of a dual vector
``lambda (n,)`` is the plain engine's on the rows of Z: ``A_i' lambda = Z' S_i lambda_Z`` with
``lambda_Z = p [lambda; ...; lambda]`` (K copies), so ``cert(lambda)`` over all cells is
:func:`cvx_core.certificates.evaluate.cert_max` of ``Z`` at ``lambda_Z`` (the sphere when every
cell in at most three dimensions is known) and the lower bound is ``g(lambda / kappa)`` as in
section 5.

:func:`fit_convex_cnn` solves the program by working sets: the blocks that price highest at
``lambda_0 = -grad L(0)`` first, then, after each solve of the working set (one call, the
inner solver), the cells whose value at the solve's dual vector exceeds beta, until the
certified relative gap is at most ``GAP_TOL``.

Symbols: ``X (n, L)`` or ``(n, H, W)``, ``y (n,)``, ``Z (nK, h')`` patch matrix, ``D (P, nK)``
bool patterns, ``V, W (P, h')`` convex weights, ``U (m, h')`` filters, ``alpha (m,)``.
"""
from __future__ import annotations

import itertools
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .certificates.arrangement import arrangement_geometry
from .certificates.cells import lower_bound
from .certificates.evaluate import cert_max
from .certification import Certificate
from .convex import ConvexFit
from .convnet import (  # noqa: F401 - the CNN API is cvx_core.cnn: the network and its settings are here too
    CNN_OPTIMIZERS,
    POOLINGS,
    ConvNet,
    check_signals,
    check_targets,
    patch_matrix,
    patches,
    pool_factor,
)
from .model import Activation, Loss, data_scale, make_activation, make_loss
from .patterns import auto_patterns, resolve_patterns
from .recovery import prune
from .solvers.blocks import solve_design
from .solvers.clarabel_blocks import solve_blocks
from .solvers.cone_rows import initial_rows
from .solvers.pricing import violators
from .threads import single_blas_thread
from .tolerances import ACTIVE_TOL, GAP_TOL, OPTIMAL_GAP, fit_status
from .validation import check_beta

#: Working-set rounds before the solver gives up ("max_rounds").
MAX_ROUNDS = 60
#: Cone rows violated by more than this (relative to ||row|| ||z||) are imposed and re-solved:
#: the inner solver's feasibility tolerance; smaller violations are removed by pruning.
_ROW_TOL = 1e-8


# --------------------------------------------------------------------------- the program
@dataclass(frozen=True)
class CNNProgram:
    """The convex program of one data set: patch matrix, patterns and block designs.

    ``Z`` (nK, h') on the solver's unit scale (``Z_raw / scale``), ``D`` (P, nK), ``p`` the
    pooling factor; :meth:`designs` gives ``A_i`` for any cells.
    """

    Z: np.ndarray
    D: np.ndarray
    n: int
    K: int
    p: float
    act: Activation
    scale: float
    exact: bool

    def designs(self, cells) -> np.ndarray:
        """``A_i = p sum_k S_i^k X~_k`` for the given cells, shape (len(cells), n, h')."""
        S = self.act.slopes(self.D[np.asarray(cells, dtype=np.intp)]).reshape(-1, self.K, self.n)
        return self.p * np.einsum("ckn,knh->cnh", S, self.Z.reshape(self.K, self.n, -1))

    def lam_rows(self, lam: np.ndarray) -> np.ndarray:
        """``lambda_Z = p [lambda; ...; lambda]`` (nK,): ``A_i' lambda = Z' S_i lambda_Z``."""
        return self.p * np.tile(lam, self.K)

    def predictions(self, V: np.ndarray, W: np.ndarray) -> np.ndarray:
        nz = np.flatnonzero(np.any(V != 0, axis=1) | np.any(W != 0, axis=1))
        if nz.size == 0:
            return np.zeros(self.n)
        return np.einsum("cnh,ch->n", self.designs(nz), V[nz] - W[nz])


def cnn_program(X, *, filter_size: int, stride: int = 1, pooling: str = "sum", activation: str = "relu",
                leak: float = 0.1, bias: bool = True, patterns="exact", seed: int = 0) -> CNNProgram:
    """The patch matrix and the patterns of the CNN program (module docstring).

    ``patterns``: "exact" (every cell of the nK patch vectors' arrangement; refused with a
    suggestion when Cover's count is too large), an int (Gaussian directions sampled) or a
    (P, nK) bool array.
    """
    X = check_signals(X)
    act = make_activation(activation, leak)
    Zraw = patch_matrix(X, filter_size, stride, bias)
    n, K = X.shape[0], Zraw.shape[0] // X.shape[0]
    p = pool_factor(pooling, K)
    D, exact = resolve_patterns(Zraw, patterns, act, seed)
    c = data_scale(Zraw)
    return CNNProgram(Zraw / c, D, n, K, p, act, c, exact)


def _accurate(A, R, sgn, y, beta, loss: Loss):
    """:func:`solve_blocks` with iterative refinement and tolerances 1e-11."""
    return solve_blocks(A, R, sgn, y, beta, loss, tol=1e-11, refine=True)


def _solve_design(A, R, sgn, y, beta, loss: Loss):
    """:func:`solve_blocks`'s program by :func:`cvx_core.solvers.blocks.solve_design`, with the
    same return values."""
    res = solve_design(A, R, sgn, y, beta, loss, tol=1e-9)
    return res.Z, res.yhat, res.lam, res.status


@dataclass
class _WorkingSet:
    """Blocks (cell, sign) with the cone rows imposed on each (facets, plus rows found violated)."""

    prog: CNNProgram
    facets: Callable | None
    cells: list = field(default_factory=list)
    signs: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    zero_before: set = field(default_factory=set)

    def add(self, i: int, s: int, u: np.ndarray | None = None) -> bool:
        """Add block (cell i, sign s) unless present. Its rows: the cell's facets when known,
        else the rows nearest a direction ``u`` of the cell (constraint generation adds the
        others it needs), else all rows."""
        if any(c == i and t == s for c, t in zip(self.cells, self.signs)):
            return False
        self.cells.append(int(i))
        self.signs.append(int(s))
        Zr = self.prog.Z
        f = self.facets(int(i)) if self.facets is not None else None
        if (f is None or not len(f)) and u is not None:
            f = initial_rows(Zr, self.prog.D[i], u, 2 * Zr.shape[1] + 2)
        mask = np.zeros(Zr.shape[0], dtype=bool)
        if f is not None and len(f):
            mask[f] = True
        else:
            mask[:] = True
        self.rows.append(mask)
        return True

    def drop_zeros(self, Z: np.ndarray) -> np.ndarray:
        """Drop blocks that were zero last round and still are (the point stays feasible, so
        the objective cannot rise); returns the kept rows of ``Z``."""
        zn = np.linalg.norm(Z, axis=1)
        zero = zn <= 1e-9 * max(zn.max(initial=0.0), 1e-300)
        drop = zero & np.array([(c, t) in self.zero_before for c, t in zip(self.cells, self.signs)], dtype=bool)
        self.zero_before = {(c, t) for c, t, z in zip(self.cells, self.signs, zero) if z}
        keep = np.flatnonzero(~drop)
        self.cells = [self.cells[j] for j in keep]
        self.signs = [self.signs[j] for j in keep]
        self.rows = [self.rows[j] for j in keep]
        return Z[keep]

    def problem(self):
        cells = np.array(self.cells, dtype=np.intp)
        s = np.array(self.signs, dtype=float)
        A = s[:, None, None] * self.prog.designs(cells)
        sgn = np.where(self.prog.D[cells], 1.0, -1.0) * np.array(self.rows)
        return A, sgn

    def add_violated_rows(self, Z: np.ndarray) -> bool:
        """Impose every row that a block violates beyond the inner solver's accuracy; True when
        some were added. Blocks at the level of that accuracy are left out (pruning drops them)."""
        Zr = self.prog.Z
        slack = np.where(self.prog.D[self.cells], 1.0, -1.0) * (Z @ Zr.T)  # (m, nK)
        zn = np.linalg.norm(Z, axis=1)
        tol = _ROW_TOL * np.linalg.norm(Zr, axis=1)[None, :] * zn[:, None]
        bad = (slack < -tol) & ~np.array(self.rows) & (zn > ACTIVE_TOL * zn.max(initial=0.0))[:, None]
        for j in np.flatnonzero(bad.any(axis=1)):
            self.rows[j] = self.rows[j] | bad[j]
        return bool(bad.any())


def _bound(prog: CNNProgram, lam, y, beta, loss: Loss):
    lam = loss.clip_dual(lam, y)
    cert, u, _ = cert_max(prog.Z, prog.D, prog.lam_rows(lam), prog.act, prog.exact)
    return lower_bound(loss, lam, y, cert, beta), lam, cert, u


@dataclass
class _Run:
    """What :func:`_column_generation` ends with: ``best`` = (objective, cells, signs, Z, yhat)
    of the lowest point whose imposed rows hold (objective None when none did), ``bound`` =
    (lower bound, lambda, cert, u) the best priced, the last violators ``viol``."""

    best: tuple
    bound: tuple
    rounds: int
    status: str
    inner: float
    used: list
    viol: list


def _column_generation(prog: CNNProgram, y, beta_s, lossf: Loss, tol, inner_solve, ws: "_WorkingSet", index, sphere,
                       start=()) -> _Run:
    """The working set on ``prog`` (scaled: ``beta_s``): price every pattern at the dual vector,
    let the most violated blocks in (with the ``start`` blocks (cell, sign, u) at first), solve
    the program on the set, impose the cone rows its point breaks, until the best point is
    certified against the best bound to ``tol``."""
    d = prog.Z.shape[1]
    n_add = max(10, 2 * prog.n) if sphere is not None else min(max(10, prog.n // 2), 60)

    def price(lam):
        """cert(lambda) over all cells and the most violated blocks. Any lambda bounds the
        optimum: the best bound priced so far is kept for the fit."""
        nonlocal bound
        cert, viol, u = violators(prog.Z, prog.D, prog.lam_rows(lam), prog.act, beta_s, index, sphere, n_add,
                                  floor=beta_s)
        b = (lower_bound(lossf, lam, y, cert, beta_s), lam, cert, u)
        if bound is None or b[0] > bound[0]:
            bound = b
        return viol

    # When Clarabel stops short of a working set's optimum (its lambda prices the set's own
    # blocks violated, or no block is violated yet the gap is open), the next solver takes the
    # same set: Clarabel with iterative refinement and tighter tolerances, then the block
    # interior point.
    names = {solve_blocks: "clarabel", _accurate: "accurate clarabel", _solve_design: "blocks"}
    fallbacks = [] if inner_solve is _solve_design else [_accurate, _solve_design]
    used = [names[inner_solve]]

    def next_solver() -> bool:
        nonlocal inner_solve
        if not fallbacks:
            return False
        inner_solve = fallbacks.pop(0)
        used.append(names[inner_solve])
        return True

    bound, best = None, None  # best: (objective, cells, signs, Z, yhat) of the lowest point whose rows hold
    lam = lossf.clip_dual(lossf.dual_variable(np.zeros(prog.n), y), y)
    viol = price(lam)
    Z, yhat = np.zeros((0, d)), np.zeros(prog.n)
    status, rounds, inner, rows_added = "Solved", 0, 0.0, False
    for i, s, u in list(start) + viol:
        ws.add(i, s, u)

    def certified() -> bool:
        return best is not None and best[0] - bound[0] <= tol * max(abs(best[0]), 1e-300)

    while rounds < MAX_ROUNDS:
        # no violated block and no row just imposed (a point that broke rows is solved again):
        # done when certified, else the inner solve stopped short
        if not viol and not rows_added and (rounds == 0 or certified() or not next_solver()):
            break
        rounds += 1
        A, sgn = ws.problem()
        ti = time.perf_counter()
        Zr, yr, lr, status = inner_solve(A, prog.Z, sgn, y, beta_s, lossf)
        inner += time.perf_counter() - ti
        if not (np.all(np.isfinite(Zr)) and np.all(np.isfinite(lr))):
            if best is None:
                raise RuntimeError(f"inner solver returned status {status} (no finite point) at "
                                   f"beta={beta_s * prog.scale:g}")
            break  # a fallback that fails leaves the best point found
        Z, yhat, lam = Zr, yr, lossf.clip_dual(lr, y)
        rows_added = ws.add_violated_rows(Z)
        obj = lossf.value(yhat, y) + beta_s * float(np.linalg.norm(Z, axis=1).sum())
        if not rows_added and (best is None or obj < best[0]):
            best = (obj, list(ws.cells), list(ws.signs), Z.copy(), yhat)
        # priced even when rows were added: the relaxed point's lambda names violated cells as well,
        # and a round that adds both saves one solve
        viol = price(lam)
        if not rows_added and certified():
            break
        Z = ws.drop_zeros(Z)
        if not any([ws.add(i, s, u) for i, s, u in viol]) and not rows_added and not next_solver():
            break
    if best is None:  # every round broke rows (MAX_ROUNDS): the last point, pruned into its cells
        best = (None, list(ws.cells), list(ws.signs), Z, yhat)
    return _Run(best, bound, rounds, status, inner, used, viol)


@single_blas_thread
def fit_convex_cnn(X, y, beta, *, filter_size: int, stride: int = 1, pooling: str = "sum",
                   activation: str = "relu", leak: float = 0.1, loss: str = "squared", bias: bool = True,
                   patterns="exact", solver: str = "auto", seed: int = 0, tol: float = GAP_TOL) -> ConvexFit:
    """Train a two-layer CNN by solving its convex program (module docstring).

    Parameters
    ----------
    X : array_like of shape (n, L) or (n, H, W)
    y : array_like of shape (n,)
        Labels -1/+1 for the logistic and hinge losses.
    beta : float
    filter_size, stride : int
    pooling : {"sum", "mean"}
    activation : {"relu", "leaky", "abs"}
    leak : float
    loss : {"squared", "logistic", "hinge"}
    bias : bool
    patterns : "exact", int or ndarray of bool (P, nK)
        Every pattern of the patch vectors (the default; exact enumeration refuses when Cover's
        count is too large and suggests sampling), a number of Gaussian directions, or the
        patterns themselves.
    solver : {"auto", "working-set", "blocks"}
        The working set; its inner solve is Clarabel ("auto", "working-set") or the block
        interior point :func:`cvx_core.solvers.blocks.solve_design` ("blocks"; about ten times
        slower on these small programs, benchmarks/results/cnn.md).
    seed : int
        Seed of pattern sampling.
    tol : float
        Target certified relative gap of the working set.

    Returns
    -------
    ConvexFit
        As :func:`cvx_core.fit_convex`, with ``network`` a :class:`ConvNet`, ``patterns``
        (P, nK), ``V, W`` (P, h') and ``info`` holding ``rounds``, ``blocks`` (the last
        working-set size), ``n_patches`` (K) and ``inner_time`` (seconds in the inner solver).
        ``certificate`` is ``cert(lambda) / beta`` when above 1; at or below 1 it may be a
        bound at most 1 (cells proved below beta are not solved exactly: the bound is the same).
        The inner solve is Clarabel, or after Clarabel stopped short the block interior point
        (``solver`` then ends "clarabel, then blocks").

    Raises
    ------
    ValueError
        Bad input (shapes, filter size, stride, NaN, labels), or exact enumeration that
        would be too large.
    RuntimeError
        When the inner solver fails (the message names its status and beta).
    """
    t0 = time.perf_counter()
    lossf = make_loss(loss)
    X = check_signals(X)
    y = check_targets(y, X.shape[0], lossf.name)
    beta = check_beta(beta)
    if solver not in ("auto", "working-set", "blocks"):
        raise ValueError(f"expected solver 'auto', 'working-set' or 'blocks', got {solver!r}")
    inner_solve = _solve_design if solver == "blocks" else solve_blocks
    prog = cnn_program(X, filter_size=filter_size, stride=stride, pooling=pooling, activation=activation,
                       leak=leak, bias=bias, patterns=patterns, seed=seed)
    beta_s = beta / prog.scale
    d = prog.Z.shape[1]
    # every cell in at most three dimensions: the sphere certificate prices all cells at once
    # and knows each cell's facets (the only cone rows a block needs)
    index, sphere = arrangement_geometry(prog.Z, prog.D, prog.act) if prog.exact and d <= 3 else (None, None)
    ws = _WorkingSet(prog, index.cell_facets if index is not None else None)

    run = _column_generation(prog, y, beta_s, lossf, tol, inner_solve, ws, index, sphere)
    best, bound, rounds, status, used = run.best, run.bound, run.rounds, run.status, run.used
    kept, bound = _pruned(prog, y, beta_s, lossf, best[1], best[2], best[3], bound)
    if not _certified(kept[2], bound) and best[1]:
        # pruning lost the certificate (moving the blocks into their cones by the inner solver's
        # row tolerance, or dropping tiny ones, costs a hinge optimum of 1e-4 more than 1e-6 of
        # itself): the best set once more with every row of its cells imposed, by the accurate
        # solve, and pruned again
        cells = np.asarray(best[1], dtype=np.intp)
        A = np.asarray(best[2], float)[:, None, None] * prog.designs(cells)
        Zr, _, lr, _ = _accurate(A, prog.Z, np.where(prog.D[cells], 1.0, -1.0), y, beta_s, lossf)
        if np.all(np.isfinite(Zr)) and np.all(np.isfinite(lr)):
            bound = max(bound, _bound(prog, lr, y, beta_s, lossf), key=lambda b: b[0])
            kept, bound = _pruned(prog, y, beta_s, lossf, best[1], best[2], Zr, bound, kept)
    fit_V, fit_W, obj, yhat = kept
    lb, lam_b, cert, u = bound
    gap = (obj - lb) / max(abs(obj), 1e-300)
    V, W = fit_V / prog.scale, fit_W / prog.scale
    net = _network(V, W, filter_size, stride, pooling, prog.act, leak, bias)
    solver_status = "max_rounds" if rounds >= MAX_ROUNDS and run.viol else status
    fit = ConvexFit(
        objective=float(obj), lower_bound=float(lb), gap=float(gap), certificate=float(cert / beta_s),
        patterns=prog.D, V=V, W=W, network=net, n_neurons=net.n_filters, solve_time=time.perf_counter() - t0,
        status=fit_status([solver_status], gap), beta=beta, activation=prog.act.name, leak=float(leak),
        loss=lossf.name, bias=bool(bias), solver=f"working-set (cnn, {', then '.join(used)})", exact_patterns=prog.exact,
        dual=lam_b, predictions=yhat, u_star=u,
        info={"rounds": rounds, "blocks": len(ws.cells), "n_patches": prog.K, "inner_time": run.inner,
              "columns": [{"solver_status": solver_status}]})
    if gap > 1e-4:
        warnings.warn(f"certified relative gap {gap:.2e} at beta={beta:g} (status {fit.status})",
                      RuntimeWarning, stacklevel=2)
    return fit


def _certified(objective: float, bound: tuple) -> bool:
    return objective - bound[0] <= OPTIMAL_GAP * max(abs(objective), 1e-300)


def _pruned(prog: CNNProgram, y, beta_s, lossf: Loss, cells, signs, Z, bound, kept=None):
    """The blocks ``Z`` of (cells, signs) pruned and moved into their cones (:func:`prune`):
    ``kept`` = (V, W, objective, predictions), the lower of ``kept`` and the new point unless
    only one is certified, and the bound, improved by ``-grad L`` at a pruned point it does not
    certify. Small blocks are dropped first; all nonzero ones kept if that loses the certificate."""
    V, W = np.zeros((prog.D.shape[0], prog.Z.shape[1])), np.zeros((prog.D.shape[0], prog.Z.shape[1]))
    for i, s, z in zip(cells, signs, Z):
        (V if s > 0 else W)[i] += z
    for ptol in (ACTIVE_TOL, 0.0):
        Vp, Wp = prune(prog.Z, prog.D, prog.act, V, W, ptol)
        yh = prog.predictions(Vp, Wp)
        ob = lossf.value(yh, y) + beta_s * float(np.linalg.norm(Vp, axis=1).sum() + np.linalg.norm(Wp, axis=1).sum())
        if not _certified(ob, bound):
            bound = max(bound, _bound(prog, lossf.dual_variable(yh, y), y, beta_s, lossf), key=lambda b: b[0])
        if kept is None or ob < kept[2] or _certified(ob, bound):
            kept = (Vp, Wp, ob, yh)
        if _certified(kept[2], bound):
            break
    return kept, bound


def _network(V, W, filter_size, stride, pooling, act, leak, bias) -> ConvNet:
    """docs/math.md section 4 for each nonzero block: ``u = z / sqrt||z||``, ``alpha = +-sqrt||z||``."""
    U, A = [], []
    for M, sign in ((V, 1.0), (W, -1.0)):
        nrm = np.linalg.norm(M, axis=1)
        for i in np.flatnonzero(nrm > 0):
            r = np.sqrt(nrm[i])
            U.append(M[i] / r)
            A.append(sign * r)
    return ConvNet(np.array(U).reshape(-1, V.shape[1]), np.array(A), int(filter_size), int(stride), pooling,
                   act.name, float(leak), bool(bias))


# --------------------------------------------------------------------------- certificates
def _own_cell(Z: np.ndarray, u: np.ndarray, row_of: dict, symmetric: bool) -> int:
    """Row of ``D`` (via ``row_of``, packed rows -> index) of a cell whose closed cone holds the
    filter ``u``, or -1. A filter moved into its cell (pruning projects onto the cone) often
    lies on some patch vectors' hyperplanes; its block is feasible in every cell on either
    side of them, so the tied bits are tried both ways (all of them up to 10 ties, else all
    on and all off)."""
    s = Z @ u
    tie = np.abs(s) <= 1e-9 * np.linalg.norm(Z, axis=1) * np.linalg.norm(u)
    base = s >= 0
    t = np.flatnonzero(tie)
    if t.size <= 10:
        flips = [np.array(c, dtype=bool) for c in itertools.product((True, False), repeat=t.size)]
    else:
        flips = [np.ones(t.size, bool), np.zeros(t.size, bool)]
    for f in flips:
        pat = base.copy()
        pat[t] = f
        pat = ~pat if symmetric and not pat[0] else pat
        i = row_of.get(np.packbits(pat).tobytes(), -1)
        if i >= 0:
            return i
    return -1


@single_blas_thread
def certify_cnn(net: ConvNet, X, y, beta, *, loss: str = "squared", patterns="auto", seed: int = 0,
                refine: bool = True) -> Certificate:
    """How far any CNN is from the global optimum: its objective, and a certified lower bound
    ``g(lambda / kappa)`` on the optimum (module docstring).

    The network's own dual vector ``lambda = -grad L(f(X))`` gives ``certificate`` (``cert /
    beta``, its maximiser ``u`` a filter to add when above 1) and a bound. With ``refine`` the
    program over the patterns is also solved, by :func:`fit_convex_cnn`'s working set started
    from the network's own cells (each filter's cell, ties on patch hyperplanes resolved either
    way, and the sign of its output weight), and the best bound it prices is used: the
    network's own ``lambda`` is only as accurate as the square root of its objective's, and at
    a kink (the hinge loss) it is one of many, so this is what certifies an optimal network to
    the solver's accuracy and gives any other network its true gap. It costs about a fit.

    ``patterns``: "auto" (every pattern of the patch vectors when Cover's count allows, else
    5 000 Gaussian directions plus the network's own filters' patterns), "exact", an int or an
    array. Returns a :class:`cvx_core.certification.Certificate`.
    """
    if not isinstance(net, ConvNet):
        raise TypeError(f"expected a ConvNet, got {type(net).__name__}")
    lossf = make_loss(loss)
    X = check_signals(X)
    y = check_targets(y, X.shape[0], lossf.name)
    beta = check_beta(beta)
    act = net.sigma
    Zraw = patch_matrix(X, net.filter_size, net.stride, net.bias)
    if Zraw.shape[1] != net.U.shape[1]:
        raise ValueError(f"expected inputs whose patches have {net.U.shape[1] - int(net.bias)} values for this "
                         f"network, got {Zraw.shape[1] - int(net.bias)}")
    if isinstance(patterns, str) and patterns == "auto":
        D, exact = auto_patterns(Zraw, act, seed=seed, extra=(Zraw @ net.U.T >= 0).T)
    else:
        D, exact = resolve_patterns(Zraw, patterns, act, seed)
    n = X.shape[0]
    K = Zraw.shape[0] // n
    c = data_scale(Zraw)
    prog = CNNProgram(Zraw / c, D, n, K, pool_factor(net.pooling, K), act, c, exact)
    yhat = net.predict(X)
    objective = lossf.value(yhat, y) + beta * net.penalty()
    lb, lam, cert, u = _bound(prog, lossf.dual_variable(yhat, y), y, beta / c, lossf)
    if refine:
        # the program itself, by the fit's working set started from the network's own cells:
        # its best bound is the optimum's to the solver's accuracy, whatever the network
        row_of = {r.tobytes(): i for i, r in enumerate(np.packbits(D, axis=1))}
        index, sphere = arrangement_geometry(prog.Z, D, act) if exact and prog.Z.shape[1] <= 3 else (None, None)
        ws = _WorkingSet(prog, index.cell_facets if index is not None else None)
        own = [(i, 1 if net.alpha[j] > 0 else -1, net.U[j]) for j in np.flatnonzero(net.alpha != 0)
               if (i := _own_cell(prog.Z, net.U[j], row_of, act.symmetric)) >= 0]
        run = _column_generation(prog, y, beta / c, lossf, GAP_TOL, solve_blocks, ws, index, sphere, start=own)
        lb = max(lb, run.bound[0])  # certificate, u and lambda stay the network's own
    gap = (objective - lb) / max(abs(objective), 1e-300)
    # the sign of the most violated block: which of +-g_i the maximiser u serves
    g = prog.Z.T @ (act.slopes(prog.Z @ u >= 0) * prog.lam_rows(lam))
    sign = 1 if float(g @ u) >= 0 else -1
    return Certificate(float(objective), float(cert * c / beta), float(lb), float(gap), u, sign,
                       (prog.Z @ u >= 0).copy(), bool(exact), int(D.shape[0]), lam)
