"""The one result type every solver route returns."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..certificates.cells import Bound


@dataclass(frozen=True)
class SolverResult:
    """One output column solved by one route of :func:`cvx_core.solvers.solve_column`.

    Attributes
    ----------
    V, W : ndarray of shape (P, d)
        The blocks as the solver returned them (not yet pruned or moved into their cones).
    lam_candidates : tuple of ndarray
        Dual vectors read from the solver; each gives a valid bound once certified.
    bound : Bound or None
        The bound the solver certified over all patterns itself (working set, interior point).
    status : str
        The solver's own outcome ("optimal", "max_rounds", "stalled", "inner solver: ...",
        "optimal_inaccurate", ...); the fit's status follows its certified gap.
    solver : str
        The route taken ("working-set", "interior", "cvxpy/clarabel", ...).
    info : dict
        Rounds, routing and fallback notes.
    patterns : ndarray of bool (P', n) or None
        The patterns the blocks index when a pattern search grew them (None: the ones given).
    """

    V: np.ndarray
    W: np.ndarray
    lam_candidates: tuple
    bound: Bound | None
    status: str
    solver: str
    info: dict = field(default_factory=dict, compare=False)
    patterns: np.ndarray | None = field(default=None, compare=False)
