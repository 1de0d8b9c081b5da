"""Solver internals behind one router (docs/math.md section 3).

:func:`solve_column` solves the convex program of one output column by the method the caller
asks for -- the working-set solver (:mod:`.working_set`), the structured interior point
(:mod:`.interior`) or a cvxpy solver (:mod:`.reference`, the independent reference) -- with the
fallbacks between them, and returns one frozen :class:`SolverResult`.
"""
from __future__ import annotations

import time
import warnings

import numpy as np

from ..certificates.evaluate import cert_max
from ..model import Activation, Loss
from ..recovery import blocks_to_VW
from ..tolerances import GAP_TOL
from .interior import solve_interior
from .ipm import solve_rows
from ..certificates.cells import Bound
from .result import SolverResult
from .high_dim import solve_high_dim
from .working_set import solve_working_set


def solve_column(Xb, yc, D, beta, act: Activation, loss: Loss, solver: str = "auto", warm=None,
                 exact: bool = False, search=None) -> SolverResult:
    """Solve the convex program of one output column ``yc (n,)`` over the patterns ``D``.

    ``solver``: "auto" or "working-set" (the working set: of cells and their facets for design
    matrices with at most 3 columns, :mod:`.working_set`; of blocks with every cone row
    otherwise, :mod:`.high_dim`), "interior" (squared loss: every pattern in one interior-point
    solve), or a cvxpy solver name (the independent reference). A failing route falls back to
    cvxpy + Clarabel (then SCS, ECOS); the fallback is noted in ``info["fallback"]``.
    ``search``: a :class:`.high_dim.Search` that grows ``D`` inside the working set of blocks
    (other routes ignore it; the result's ``patterns`` says what the blocks index).

    Raises
    ------
    ValueError
        For an unknown solver, or "interior" with a loss other than squared.
    RuntimeError
        When every solver fails (the message names beta).
    """
    P, d = D.shape[0], Xb.shape[1]
    routed = fallback = None
    if solver == "interior" and loss.name != "squared":
        raise ValueError(f"expected loss='squared' with solver='interior', got loss={loss.name!r}")
    if solver in ("auto", "working-set"):
        # in the plane, cells have few facets and an exact sphere certificate (working_set);
        # beyond it, working sets of blocks with every cone row imposed (high_dim)
        high = d > 3
        try:
            if high:
                res = solve_high_dim(Xb, yc, D, beta, act, loss, tol=GAP_TOL, warm=warm, search=search)
            else:
                res = solve_working_set(Xb, yc, D, beta, act, loss, exact=exact, tol=GAP_TOL, warm=warm)
            grown = res.patterns
            V, W = blocks_to_VW(P if grown is None else grown.shape[0], d, res.blocks_i, res.blocks_s, res.Z)
            info = {"rounds": res.n_rounds, "working_set": len(res.blocks_i)}
            if high and solver == "auto":
                info["routing"] = f"auto -> working set of blocks (design matrix has {d} > 3 columns)"
            if res.search is not None:
                info["search"] = res.search
            return SolverResult(V, W, (res.lam,), Bound(res.lower_bound, res.lam, res.cert, res.u_star),
                                res.status, "working-set", info, grown)
        except RuntimeError as exc:
            warnings.warn(f"working-set solver failed ({exc}); falling back to cvxpy + Clarabel",
                          RuntimeWarning, stacklevel=3)
            solver = "clarabel"
            fallback = f"working-set failed: {exc}"
    # cvxpy is imported only on this route (a slow import that most fits never need)
    from .reference import installed_solvers, solve_reference

    # beta >= beta_max: the zero network is optimal (an interior-point solver would return
    # blocks of norm ~1e-8 instead of exact zeros). Shared by the interior point and the reference.
    lam0 = loss.dual_variable(np.zeros(Xb.shape[0]), yc)
    if cert_max(Xb, D, lam0, act, exact)[0] <= beta:
        name = "interior" if solver == "interior" else f"cvxpy/{solver}"
        return SolverResult(np.zeros((P, d)), np.zeros((P, d)), (lam0,), None, "optimal", name,
                            {"routing": routed} if routed else {})
    if solver == "interior":
        res = solve_interior(Xb, yc, D, beta, act, loss, tol=GAP_TOL, exact=exact)
        if res.status == "optimal":
            V, W = blocks_to_VW(P, d, res.blocks_i, res.blocks_s, res.Z)
            info = {"iterations": res.n_rounds}
            if routed:
                info["routing"] = routed
            return SolverResult(V, W, (res.lam,), Bound(res.lower_bound, res.lam, res.cert, res.u_star),
                                res.status, "interior", info)
        warnings.warn(f"interior-point solver did not certify ({res.status}); falling back to cvxpy + Clarabel",
                      RuntimeWarning, stacklevel=3)
        solver = "clarabel"
        fallback = f"interior point did not certify: {res.status}"
    chain = [solver]
    if solver == "clarabel":
        chain += [s for s in ("scs", "ecos") if s in installed_solvers()]
    last = None
    for name in chain:
        if name not in installed_solvers():
            raise ValueError(f"expected solver 'auto', 'working-set', 'interior' or one of {installed_solvers()}, got {name!r}")
        try:
            out = solve_reference(Xb, yc, D, beta, act, loss, solver=name)
        except RuntimeError as exc:
            last = exc
            continue
        info = {"routing": routed} if routed else {}
        notes = ([fallback] if fallback else []) + ([f"{chain[0]} failed: {last}"] if name != chain[0] else [])
        if notes:
            info["fallback"] = "; ".join(notes)
        return SolverResult(out["V"], out["W"], tuple(out["lam_candidates"]), None, out["status"],
                            f"cvxpy/{name}", info)
    raise RuntimeError(f"every solver failed at beta={beta:g}: {last}")


def warm_up() -> float:
    """Compile (the first use after installation) or load from the on-disk cache (later
    processes) the kernels by solving a four-point program both ways (row list, blocks) and
    projecting onto one cell; returns the seconds it took. The dashboard calls it in the
    background after its first page, the tests before the first test, the solver benchmark
    before its timed fits."""
    from ..kernels.cones import project  # numba: loaded only when asked for
    from ..model import make_loss
    from .blocks import solve_design

    t = time.perf_counter()
    X = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [-1.0, 0.0, 1.0], [0.0, -1.0, 1.0]])
    C = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
    y = np.array([1.0, -1.0, 1.0, -1.0])
    solve_rows(X, C, X, np.array([0, 0, 1, 1]), y, 0.1)
    project(X, np.array([[True, True, False, False]]), np.ones(1), np.ones((1, 3)))
    solve_design((C, X), X, np.where(C > 0, 1.0, -1.0), y, 0.1, make_loss("squared"), tol=1e-6)
    return time.perf_counter() - t
