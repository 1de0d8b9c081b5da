"""Pricing for the working set: the cells whose dual constraint a dual vector violates.

On a complete arrangement in the plane the violators are the sphere certificate's local
maxima above beta (:mod:`cvx_core.certificates.sphere`), spread over the sphere and, where a
maximum sits on a face between cells, assigned to the adjacent cell of largest own value;
otherwise the most violated cells by their exact cell values.
"""
from __future__ import annotations

import numpy as np

from ..certificates.cells import CellValues, cell_values, cone_projection_norms

SEPARATION = 0.2  # radians: additions closer than this to a kept one are near-duplicates


def spread(U: np.ndarray, signs: np.ndarray, limit: int, cos_min: float, chunk: int = 64) -> np.ndarray:
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


def best_adjacent(Xb, D, lam, act, index, ties, facets=None):
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


def violators(Xb, D, lam, act, beta, index, sphere, limit, floor=None):
    """Cert(lambda) (exact over D), up to ``limit`` violating blocks (cell, sign, direction)
    and the maximising direction ``u`` of ``cert``.

    ``floor`` (without ``sphere``): cells proved at most ``floor`` keep that bound instead of
    an exact value, and so may ``cert`` when it is below ``floor`` (with ``floor = beta`` the
    lower bound is the same: kappa = 1 either way)."""
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
        # Spread the additions over the sphere: skip candidates within ~SEPARATION radians of
        # an already chosen one of the same sign (neighbouring local maxima are redundant).
        ties = []  # (sign, direction, adjacent cells) of face candidates touching several cells
        for k in viol[spread(c.directions[viol], c.signs[viol], limit, np.cos(SEPARATION))]:
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
            out += best_adjacent(Xb, D, lam, act, index, ties, sphere.facets)
        return cert, out, u_max
    cv = cell_values(Xb, D, lam, act, top_k=max(limit, 1), threshold=beta * (1 + 1e-9), floor=floor)
    cert = cv.max
    viol = np.argwhere(cv.exact & (cv.values > beta * (1 + 1e-9)))
    order = np.argsort(-cv.values[viol[:, 0], viol[:, 1]])
    for i, col in viol[order][:limit]:
        out.append((int(i), 1 if col == 0 else -1, cv.directions[i, col]))
    i, col = cv.argmax()
    return cert, out, cv.directions[i, col]


def batched_cell_values(Xb, D, lam, act, *, threshold: float, top_k: int | None = None,
                        skip: np.ndarray | None = None) -> CellValues:
    """:func:`cell_values` as pricing asks it: ``floor = threshold`` (only which cells exceed
    beta matters), with the compiled kernels loaded so that every projection, the last few
    cells too, goes through the batch (one Python NNLS costs ~50x more per cell in R^31).
    ``skip`` (P, 2) bool: cells left at their upper bound (see :func:`cell_values`)."""
    from ..kernels import cones  # noqa: F401  (loaded: cell_values then batches every cell)

    return cell_values(Xb, D, lam, act, threshold=threshold, top_k=top_k, floor=threshold, skip=skip)
