"""The arrangement's combinatorics: which cell a pattern is, which rows are its facets.

A pattern ``D (n,)`` is hashed linearly, ``h(D) = sum_k D_k w_k`` (random 64-bit ``w``,
arithmetic mod 2^64), so flipping the bits of one hyperplane moves the hash by a known amount
and the neighbours of a cell are looked up in one vector operation. Rows that are nonzero
multiples of each other (duplicated points) share one hyperplane and flip together.

:func:`arrangement_geometry` bundles the pattern index with the sphere certifier of
:mod:`cvx_core.certificates.sphere` for a complete pattern list in at most three dimensions,
cached by content (a regularisation path or a slider asks for the same data at every beta).

Symbols: ``Xb (n, d)`` design matrix, ``D (P, n)`` bool patterns (docs/math.md section 6).
"""
from __future__ import annotations

import numpy as np

from ..caching import ContentCache, content_key
from ..model import Activation
from .hashing import hash_weights, pattern_hashes
from .sphere import SphereCertifier

_GEOMETRY = ContentCache(maxsize=4)


def coincident_groups(Xb: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Group label (n,) of each row's hyperplane ``{u : x_k' u = 0}``: rows that are nonzero
    multiples of each other (duplicated points; without bias, points on a line through the
    origin) share a label. Zero rows, which carry no hyperplane, get label -1."""
    n = Xb.shape[0]
    nrm = np.linalg.norm(Xb, axis=1)
    nz = nrm > 0
    U = np.zeros_like(Xb, dtype=float)
    U[nz] = Xb[nz] / nrm[nz, None]
    # one sign per line: the first clearly nonzero coordinate positive
    lead = np.argmax(np.abs(U) > 1e-6, axis=1)
    U *= np.where(U[np.arange(n), lead] < 0, -1.0, 1.0)[:, None]
    label = np.full(n, -1, dtype=np.intp)
    label[nz] = np.flatnonzero(nz)
    idx = np.flatnonzero(nz)
    # a row joins the first earlier row on its line (pairwise, in chunks: n^2 d work)
    for a in range(0, idx.size, 512):
        rows = idx[a:a + 512]
        dist = np.linalg.norm(U[rows][:, None, :] - U[idx][None, :, :], axis=2)
        same = dist <= tol
        label[rows] = idx[np.argmax(same, axis=1)]
    _, label[nz] = np.unique(label[nz], return_inverse=True)
    return label


class PatternIndex:
    """Row lookup for a pattern matrix ``D (P, n)`` of the rows of ``Xb``: packed pattern bytes
    -> row index.

    Facet tests use a linear 64-bit hash ``h(D) = sum_k D_k w_k`` (random ``w``, arithmetic mod
    2^64): flipping the bits of one hyperplane moves it by a known amount, so the neighbours of
    a cell are hashed in one vector operation and looked up in the sorted hashes of all cells.
    A collision could only report an extra row, whose half-space contains the cell anyway (a
    redundant constraint).
    """

    def __init__(self, D: np.ndarray, symmetric: bool, Xb: np.ndarray):
        self.symmetric = symmetric
        self.D = D
        packed = np.packbits(D, axis=1)
        self.map = {row.tobytes(): i for i, row in enumerate(packed)}
        self._facets: dict[int, np.ndarray] = {}
        self.known = None  # every cell's facets (sphere.CellFacets), set by arrangement_geometry()
        n = D.shape[1]
        self._w = hash_weights(n)
        self._w_all = self._w.sum()  # hash of the all-ones pattern
        h = pattern_hashes(D, self._w)
        self._hashes = np.sort(h)
        # Rows on one hyperplane (duplicated points) flip together: crossing a facet changes
        # the bits of every row whose hyperplane carries it.
        self.group = coincident_groups(Xb)
        live = np.flatnonzero(self.group >= 0)
        self._by_group = live[np.argsort(self.group[live], kind="stable")]
        g_sorted = self.group[self._by_group]
        self._group_start = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]]) if live.size else \
            np.zeros(0, np.intp)

    def cell_facets(self, i: int) -> np.ndarray:
        """:meth:`facets` of cell ``i``: from the sphere certifier's list of all cells' facets
        when it has one (:func:`arrangement_geometry`), else by hashing (cached: a path asks for
        the same cells at every beta)."""
        if self.known is not None:
            return self.known.row[self.known.ptr[i]:self.known.ptr[i + 1]]
        f = self._facets.get(i)
        if f is None:
            f = self._facets[i] = self.facets(self.D[i])
        return f

    def find(self, pattern: np.ndarray) -> int:
        if self.symmetric and not pattern[0]:
            pattern = ~pattern
        return self.map.get(np.packbits(pattern).tobytes(), -1)

    def facets(self, D_i: np.ndarray) -> np.ndarray:
        """Rows k whose hyperplane carries a facet of cell ``D_i``: flipping the bits of that
        hyperplane's rows gives a cell. Exact when the pattern list is complete."""
        if not self._by_group.size or not len(self._hashes):
            return np.zeros(0, np.intp)
        h = self._w[D_i].sum()
        step = np.where(D_i, np.uint64(0) - self._w, self._w)[self._by_group]
        q = h + np.add.reduceat(step, self._group_start)  # one flipped pattern per hyperplane
        if self.symmetric:  # cells are stored with first bit 1: complement the others
            first = D_i[0] ^ (self.group[self._by_group][self._group_start] == self.group[0])
            q = np.where(first, q, self._w_all - q)
        hs = self._hashes
        pos = np.minimum(np.searchsorted(hs, q), len(hs) - 1)
        hit = np.flatnonzero(hs[pos] == q)
        return np.sort(self._by_group[np.isin(self.group[self._by_group], self.group[self._by_group][self._group_start[hit]])]).astype(np.intp)

    def adjacent(self, Xb: np.ndarray, u: np.ndarray, max_ties: int = 8) -> list[int]:
        """Indices of the full-dimensional cells whose closure contains direction ``u``: the
        cells that agree with ``u``'s pattern off the rows through ``u``."""
        z = Xb @ u
        tie = np.abs(z) <= 1e-9 * np.linalg.norm(Xb, axis=1)
        base = z > 0
        T = np.flatnonzero(tie)
        if T.size > max_ties:  # many rows through u (a line of a grid): scan every cell
            return cells_containing(Xb, self.D, u, self.symmetric).tolist()
        out = []
        for bits in range(2 ** T.size):
            pat = base.copy()
            pat[T] = [(bits >> k) & 1 == 1 for k in range(T.size)]
            i = self.find(pat)
            if i >= 0:
                out.append(i)
        return list(dict.fromkeys(out))


def cells_containing(Xb: np.ndarray, D: np.ndarray, u: np.ndarray, symmetric: bool, tol: float = 1e-9) -> np.ndarray:
    """Indices of the cells of ``D`` whose closure contains direction ``u``: those agreeing with
    ``u``'s pattern on every row that ``u`` is not (within ``tol``) on."""
    z = Xb @ u
    off = np.abs(z) > tol * np.linalg.norm(Xb, axis=1) * np.linalg.norm(u)
    hit = np.all(D[:, off] == (z[off] > 0), axis=1)
    if symmetric:
        hit |= np.all(D[:, off] == (z[off] < 0), axis=1)
    return np.flatnonzero(hit)


def facet_lookup(Xb: np.ndarray, D: np.ndarray, act: Activation, exact: bool):
    """``i -> facet rows of cell i`` when ``D`` holds every cell in at most three dimensions
    (the facets are then known exactly), else None (every row of a cell is kept)."""
    if exact and Xb.shape[1] <= 3:
        return arrangement_geometry(Xb, D, act)[0].cell_facets
    return None


def arrangement_geometry(Xb: np.ndarray, D: np.ndarray, act: Activation) -> tuple[PatternIndex, SphereCertifier]:
    """Pattern index and sphere certifier for the complete patterns ``D`` of ``Xb`` (d <= 3),
    cached by content for the last few data sets."""
    def build():
        index, sphere = PatternIndex(D, act.symmetric, Xb), SphereCertifier(Xb, D, act)
        index.known = sphere.facets  # found once for all cells: no per-cell lookups
        return index, sphere

    return _GEOMETRY.get(content_key("geometry", Xb, D, act), build)
