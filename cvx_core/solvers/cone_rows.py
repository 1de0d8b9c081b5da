"""Which cone rows a block of the working set carries.

A cell of a complete arrangement in the plane is cut out by its few facets (known exactly);
otherwise a block starts with the rows nearest its direction (:func:`initial_rows`), sampled
cells in R^3 get their facets from one LP (:func:`facets_by_lp`), and rows a solution violates
are added (:func:`add_violated_rows`, constraint generation).
"""
from __future__ import annotations

import numpy as np

FEAS_TOL = 1e-8  # violations below this (relative to the largest block) are solver rounding


def initial_rows(Xb, D_i, u, k):
    """Indices of the ``k`` cone constraints of cell ``D_i`` closest to direction ``u``."""
    xn = np.linalg.norm(Xb, axis=1)
    slack = np.where(D_i, 1.0, -1.0) * (Xb @ u) / np.where(xn > 0, xn, 1.0)
    k = min(k, len(slack))
    return np.sort(np.argpartition(slack, k - 1)[:k])


def facets_by_lp(Xb: np.ndarray, D_i: np.ndarray) -> np.ndarray | None:
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


def add_violated_rows(Xb, D, bi, Z, znorm, rows) -> bool:
    """Add to ``rows`` the cone constraints the blocks ``Z`` violate; True if any was added.

    Violations are judged on the scale of the whole solution (the interior-point method is
    accurate relative to the largest block); blocks that will be pruned are ignored.
    """
    zmax = max(znorm.max(initial=0.0), 1e-300)
    slack = np.where(D[bi], 1.0, -1.0) * (Z @ Xb.T)
    bad = slack < -FEAS_TOL * zmax * np.linalg.norm(Xb, axis=1)[None, :]
    bad[znorm <= 1e-6 * zmax] = False
    added = False
    for j in np.flatnonzero(bad.any(axis=1)):
        new_rows = np.setdiff1d(np.flatnonzero(bad[j]), rows[j])
        if new_rows.size:
            rows[j] = np.union1d(rows[j], new_rows)
            added = True
    return added
