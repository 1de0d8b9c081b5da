"""Dual certificates of global optimality (docs/math.md section 5).

For a dual vector ``lambda`` (n,) and a pattern ``D`` with slopes ``S_D`` the value of the cell
for the sign ``s = +-1`` is

    c(D, s) = max_{u in K_D, ||u|| <= 1}  s lambda' S_D X u = || Proj_{K_D}(s g_D) ||,
    g_D = X' S_D lambda,

and by SOCP (Moreau) duality ``c(D, s) = min_{gamma >= 0} || s g_D + X'(2D - I) gamma ||``, a
non-negative least-squares problem (:mod:`.polar`). ``cert(lambda) = max_{D, s} c(D, s)``. When
``s g_D`` lies in ``K_D`` the value is ``||g_D||``; otherwise it is smaller, so ``||g_D||`` is an
upper bound that lets us solve the NNLS only where it can matter.

Lower bound: ``g(lambda / kappa) <= p*`` with ``kappa = max(1, cert(lambda) / beta)``, for the
loss's dual function ``g`` (see :class:`cvx_core.model.Loss`).

Symbols: ``Xb (n, d)`` design matrix (bias column included), ``D (P, n)`` bool patterns.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import kernels
from ..model import Activation
from .polar import project_polar

_INTERIOR_TOL = 1e-12


@dataclass(frozen=True)
class CellValues:
    """Per-cell certificate values at one ``lambda``.

    Attributes
    ----------
    values : ndarray of shape (P, 2)
        ``c(D_i, s)`` for s = +1 (column 0) and s = -1 (column 1); exact where ``exact`` is
        True, otherwise the upper bound ``||g_i||``.
    exact : ndarray of bool, shape (P, 2)
    directions : ndarray of shape (P, 2, d)
        Unit maximisers ``u`` (where exact; the unconstrained ``s g / ||g||`` otherwise).
    """

    values: np.ndarray
    exact: np.ndarray
    directions: np.ndarray

    def argmax(self) -> tuple[int, int]:
        i, j = np.unravel_index(int(np.argmax(np.where(self.exact, self.values, -np.inf))), self.values.shape)
        return int(i), int(j)

    @property
    def max(self) -> float:
        """The exact maximum (the largest upper bound is always resolved exactly)."""
        return float(self.values.max()) if self.values.size else 0.0


def project_onto_cell(Xb: np.ndarray, sgn_row: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
    """``||Proj_K(z)||`` and the projection, for ``K = {u : diag(sgn) Xb u >= 0}``."""
    return project_polar(sgn_row[:, None] * Xb, z)  # rows: the inward facet normals


def cone_projection_norms(N: np.ndarray, mask: np.ndarray, V: np.ndarray,
                          rays: np.ndarray | None = None, ray_mask: np.ndarray | None = None) -> np.ndarray:
    """``||Proj_{K_j}(v_j)||`` for polyhedral cones ``K_j = {u : N_j u >= 0}`` in R^d, d <= 3.

    ``N`` (p, f, d) holds each cone's rows (zero padded where ``mask`` (p, f) is False), ``V``
    (p, d) the vectors. Closed form, for all cones at once: the projection onto a closed convex
    cone is its feasible candidate of largest norm among ``v`` itself, the orthogonal
    projections onto the rows' planes, onto the extreme rays (d = 3: the cross products of two
    rows that lie in the cone) and the apex, since every such candidate ``c`` has
    ``||v - c||^2 = ||v||^2 - ||c||^2``. The same values as :func:`project_onto_cell`'s
    non-negative least squares, without one solve per cone. ``rays`` (p, r, d) with
    ``ray_mask``, when given, are the cones' extreme rays (unit vectors), otherwise found among
    the rows' cross products (f^3 work per cone).
    """
    p, f, d = N.shape
    if d > 3:
        raise ValueError(f"expected cones in at most 3 dimensions, got {d}")
    rn = np.linalg.norm(N, axis=2)
    mask = mask & (rn > 0)
    Nh = np.where(mask[:, :, None], N / np.where(rn > 0, rn, 1.0)[:, :, None], 0.0)
    s = np.einsum("pfd,pd->pf", Nh, V)
    vv = np.einsum("pd,pd->p", V, V)
    tol = 1e-12 * np.sqrt(vv)
    best = np.where(np.all((s >= -tol[:, None]) | ~mask, axis=1), vv, 0.0)  # v itself, or the apex
    # planes: c_k = v - s_k n_k is in the cone when s_l - s_k (n_l . n_k) >= 0 for every row l
    sc = s[:, None, :] - s[:, :, None] * np.einsum("pkd,pld->pkl", Nh, Nh)
    feas = np.all((sc >= -tol[:, None, None]) | ~mask[:, None, :], axis=2) & mask
    best = np.maximum(best, np.max(np.where(feas, vv[:, None] - s * s, 0.0), axis=1, initial=0.0))
    if rays is not None:
        t = np.where(ray_mask, np.einsum("prd,pd->pr", rays, V), 0.0)
        best = np.maximum(best, np.max(np.maximum(t, 0.0) ** 2, axis=1, initial=0.0))
    elif d == 3 and f >= 2:
        k, l = np.triu_indices(f, 1)
        R = np.cross(Nh[:, k], Nh[:, l])  # (p, pairs, 3)
        nr = np.linalg.norm(R, axis=2)
        ok = (nr > 1e-12) & mask[:, k] & mask[:, l]
        R = R / np.where(ok, nr, 1.0)[:, :, None]
        R = np.concatenate([R, -R], axis=1)
        ok = np.concatenate([ok, ok], axis=1)
        ok &= np.all((np.einsum("pfd,prd->prf", Nh, R) >= -1e-10) | ~mask[:, None, :], axis=2)
        t = np.where(ok, np.einsum("prd,pd->pr", R, V), 0.0)
        best = np.maximum(best, np.max(np.maximum(t, 0.0) ** 2, axis=1, initial=0.0))
    return np.sqrt(best)


_CHUNK = 64  # cells left to project from which cell_values uses the compiled batch


def cell_values(
    Xb: np.ndarray,
    D: np.ndarray,
    lam: np.ndarray,
    act: Activation,
    *,
    threshold: float | None = None,
    signs: tuple[int, ...] = (1, -1),
    top_k: int | None = None,
    floor: float | None = None,
    skip: np.ndarray | None = None,
) -> CellValues:
    """Certificate values of every cell at ``lam``.

    Exact for the maximum over all cells and for every cell whose value exceeds
    ``threshold`` (when given; with ``top_k``, only for the ``top_k`` largest such cells); the
    others carry the upper bound ``||g_D||``.

    Parameters
    ----------
    Xb : ndarray of shape (n, d)
    D : ndarray of bool, shape (P, n)
    lam : ndarray of shape (n,)
    act : Activation
    threshold : float, optional
    signs : which signs s to evaluate (both by default).
    floor : float, optional
        Cells whose value is at most ``floor`` may keep an upper bound ``<= floor`` instead of
        their exact value (pricing only asks which cells exceed beta; the maximum stays exact
        when it exceeds ``floor``, and is otherwise bounded by it).
    skip : ndarray of bool, shape (P, 2), optional
        Cells left at their upper bound, never projected (a growing working set's own cells):
        ``max`` is then only an upper bound of cert(lambda), a valid if weaker certificate.
    """
    P = D.shape[0]
    d = Xb.shape[1]
    G = (act.slopes(D) * lam[None, :]) @ Xb  # (P, d), g_i = X' S_i lambda
    gnorm = np.linalg.norm(G, axis=1)
    xnorm = np.linalg.norm(Xb, axis=1)
    # M_ij = (2D-1)_ij x_j'g_i / ||x_j||: one (P, n) pass serves both signs' interior test and cut
    M = G @ (Xb / np.where(xnorm > 0, xnorm, 1.0)[:, None]).T
    np.negative(M, out=M, where=~D)
    lo, hi = M.min(axis=1, initial=0.0), M.max(axis=1, initial=0.0)
    tol = _INTERIOR_TOL * (gnorm + 1e-300)
    values = np.zeros((P, 2))
    exact = np.zeros((P, 2), dtype=bool)
    dirs = np.zeros((P, 2, d))
    safe = np.where(gnorm > 0, gnorm, 1.0)[:, None]
    for col, s in enumerate((1, -1)):
        if s not in signs:
            exact[:, col] = True
            dirs[:, col] = 0.0
            continue
        inside = ((lo >= -tol) if s > 0 else (hi <= tol)) | (gnorm == 0)
        # a tighter upper bound than ||g||: g minus its projection onto the most violated
        # row's polar ray (one step of the projection), ||Proj_K g|| <= ||g - p|| for p in K's polar
        cut = np.maximum(-lo, 0.0) if s > 0 else np.maximum(hi, 0.0)
        values[:, col] = np.where(inside, gnorm, np.sqrt(np.maximum(gnorm ** 2 - cut ** 2, 0.0)))
        exact[:, col] = inside
        dirs[:, col] = s * G / safe
    # Exact values where needed, in order of decreasing upper bound: always the maximum; with
    # ``threshold`` also every cell above it, or only the ``top_k`` largest of those.
    exact_vals = values[exact]
    best = float(exact_vals.max()) if exact_vals.size else 0.0
    top: list[float] = []
    if threshold is not None and top_k is not None:
        top = sorted(exact_vals[exact_vals > threshold].tolist(), reverse=True)[:top_k]
    bar = best if threshold is None else min(best, float(threshold))
    todo = ~exact & (values > bar)
    if skip is not None:
        todo &= ~skip
    cand = np.argwhere(todo)
    cand = cand[np.argsort(-values[cand[:, 0], cand[:, 1]], kind="stable")]
    pos = 0
    XX = None  # the rows' Gram matrix, once for every batch of this pass
    while pos < len(cand):
        i, col = cand[pos]
        ub = values[i, col]
        if ub <= best:
            if threshold is None or ub <= threshold:
                break
            if top_k is not None and len(top) >= top_k and ub <= top[-1]:
                break
        # Many cells left, or the kernels already loaded: a chunk at a time through the compiled
        # projection (the cells past the stopping point in a chunk just get exact values too); a
        # few in a process without them: one NNLS each, without importing numba (a slow import
        # on a fresh dashboard's first page)
        batch = (len(cand) - pos >= _CHUNK or kernels.loaded()) and kernels.available()
        chunk = cand[pos:pos + _CHUNK] if batch else cand[pos:pos + 1]
        s = np.where(chunk[:, 1] == 0, 1.0, -1.0)
        if batch:
            from ..kernels.cones import gram, project_above  # numba: loaded only for many cells

            if XX is None:
                XX = gram(Xb)
            v, p = project_above(Xb, XX, D[chunk[:, 0]], s, G[chunk[:, 0]], floor or 0.0)
        else:
            v0, p0 = project_onto_cell(Xb, np.where(D[i], 1.0, -1.0), s[0] * G[i])
            v, p = np.array([v0]), p0[None, :]
        done = v >= 0  # negative: an upper bound -v <= floor
        v = np.abs(v)
        values[chunk[:, 0], chunk[:, 1]] = v
        exact[chunk[:, 0], chunk[:, 1]] = done
        dirs[chunk[done, 0], chunk[done, 1]] = np.where(v[done, None] > 0, p[done] / np.where(v[done] > 0, v[done], 1.0)[:, None], 0.0)
        best = max(best, float(v[done].max(initial=0.0)))
        if top_k is not None and threshold is not None:
            top = sorted(top + v[v > threshold].tolist(), reverse=True)[:top_k]
        pos += len(chunk)
    return CellValues(values, exact, dirs)


def lower_bound(loss, lam: np.ndarray, y: np.ndarray, cert: float, beta: float) -> float:
    """Certified lower bound ``g(lambda / kappa)``, ``kappa = max(1, cert / beta)``."""
    kappa = max(1.0, cert / beta) if beta > 0 else np.inf
    if not np.isfinite(kappa):
        return -np.inf
    return loss.dual(lam / kappa, y)


@dataclass(frozen=True)
class Bound:
    """A certified lower bound on the optimum over the patterns: ``g(lambda / kappa)`` with
    ``kappa = max(1, cert / beta)``, the dual vector ``lam``, ``cert = cert(lam)`` and its
    maximiser ``u`` (None when not computed)."""

    lower_bound: float
    lam: np.ndarray
    cert: float
    u: np.ndarray | None
