"""The engine's tolerances and statuses, in one place (docs/math.md section 9).

Every module reads its thresholds from here, so "optimal" means the same thing in the
solvers, the certificates, the estimators, the command line and the dashboard.
"""
from __future__ import annotations

#: Blocks with norm at most ACTIVE_TOL * (largest block norm) are pruned, unless dropping them
#: would lose the certificate; active neurons are counted after pruning.
ACTIVE_TOL = 1e-6
#: Target certified relative gap of the purpose-built solvers (half the reporting tolerance, so
#: that pruning and recovery have room).
GAP_TOL = 5e-7
#: A fit or a network is called optimal when its certified relative gap is at most this.
OPTIMAL_GAP = 1e-6
#: Cone rows within this relative amount of zero count as satisfied: the rounding of the
#: product ``x_k' z`` itself.
ROUNDING = 1e-15

#: Every status a fit can carry, and what it means. Only "optimal" claims anything; the others
#: say why the certified gap stayed above ``OPTIMAL_GAP``.
STATUSES = {
    "optimal": "certified: relative gap at most 1e-6 over the patterns used",
    "inaccurate": "the solver finished, but its point is certified only to fit.gap > 1e-6",
    "max_rounds": "the working-set solver reached its round limit before the gap closed",
    "stalled": "the inner solver could not improve its point further (numerical limits)",
}
_SEVERITY = ("optimal", "inaccurate", "stalled", "max_rounds")


def fit_status(solver_statuses, gap: float) -> str:
    """The status of a fit from its solvers' outcomes and its certified relative gap:
    "optimal" exactly when ``gap <= OPTIMAL_GAP``, otherwise the most severe outcome (a solver
    that thought it had finished is "inaccurate")."""
    if gap <= OPTIMAL_GAP:
        return "optimal"
    worst = "inaccurate"
    for s in solver_statuses:
        s = s if s in STATUSES else ("stalled" if s.startswith("inner solver") else "inaccurate")
        if _SEVERITY.index(s) > _SEVERITY.index(worst):
            worst = s
    return worst
