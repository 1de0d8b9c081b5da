"""Pricing for the working set: the cells whose dual constraint a dual vector violates.

On a complete arrangement in the plane the violators are the sphere certificate's local
maxima above beta (:mod:`cvx_core.certificates.sphere`), spread over the sphere and, where a
maximum sits on a face between cells, assigned to the adjacent cell of largest own value;
otherwise the most violated cells by their exact cell values.
"""
from __future__ import annotations

import numpy as np

from ..certificates.cells import INTERIOR_TOL, CellValues, cell_values, cone_projection_norms

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
    """:func:`cell_values` with ``floor = threshold`` (pricing only asks which cells exceed
    beta), every projection through the compiled batch: the same upper bounds, the same order
    and stopping rule, but the last few cells too go through
    :func:`cvx_core.kernels.cones.project_above` (one Python NNLS each costs ~50x more per
    cell in R^31, a third of a hinge fit at n = 500, d = 30).

    ``skip`` (P, 2) bool: cells left at their upper bound (not exact), e.g. the working set's
    own blocks while it is still growing. ``max`` is then only an upper bound of cert(lambda),
    which still gives a valid, if weaker, lower bound."""
    from ..kernels.cones import project_above

    G = (act.slopes(D) * lam[None, :]) @ Xb  # (P, d), g_i = X' S_i lambda
    gnorm = np.linalg.norm(G, axis=1)
    xnorm = np.linalg.norm(Xb, axis=1)
    M = G @ (Xb / np.where(xnorm > 0, xnorm, 1.0)[:, None]).T  # (2D-1)_ij x_j'g_i / ||x_j||
    np.negative(M, out=M, where=~D)
    lo, hi = M.min(axis=1, initial=0.0), M.max(axis=1, initial=0.0)
    tol = INTERIOR_TOL * (gnorm + 1e-300)
    safe = np.where(gnorm > 0, gnorm, 1.0)[:, None]
    # ||g|| where s g lies in the cell's cone (exact), else the bound after one polar step
    inside = np.column_stack([lo >= -tol, hi <= tol]) | (gnorm == 0)[:, None]
    cut = np.column_stack([np.maximum(-lo, 0.0), np.maximum(hi, 0.0)])
    values = np.where(inside, gnorm[:, None], np.sqrt(np.maximum(gnorm[:, None] ** 2 - cut ** 2, 0.0)))
    exact = inside.copy()
    dirs = np.stack([G / safe, -G / safe], axis=1)
    best = float(values[exact].max(initial=0.0))
    top = sorted(values[exact & (values > threshold)].tolist(), reverse=True)
    if top_k is not None:
        top = top[:top_k]
    todo = ~exact & (values > threshold)
    if skip is not None:
        todo &= ~skip
    cand = np.argwhere(todo)
    cand = cand[np.argsort(-values[cand[:, 0], cand[:, 1]], kind="stable")]
    pos = 0
    while pos < len(cand):
        i, col = cand[pos]
        ub = values[i, col]
        if ub <= best and top_k is not None and len(top) >= top_k and ub <= top[-1]:
            break
        chunk = cand[pos:pos + 64]
        s = np.where(chunk[:, 1] == 0, 1.0, -1.0)
        v, p = project_above(Xb, D[chunk[:, 0]], s, G[chunk[:, 0]], float(threshold))
        done = v >= 0  # negative: an upper bound -v <= threshold
        v = np.abs(v)
        values[chunk[:, 0], chunk[:, 1]] = v
        exact[chunk[:, 0], chunk[:, 1]] = done
        dirs[chunk[done, 0], chunk[done, 1]] = np.where(
            v[done, None] > 0, p[done] / np.where(v[done] > 0, v[done], 1.0)[:, None], 0.0)
        best = max(best, float(v[done].max(initial=0.0)))
        top = sorted(top + v[done & (v > threshold)].tolist(), reverse=True)
        if top_k is not None:
            top = top[:top_k]
        pos += len(chunk)
    return CellValues(values, exact, dirs)
