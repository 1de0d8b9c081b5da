"""Sparse constraint matrices for Clarabel, assembled with NumPy alone.

Clarabel reads a CSC matrix through the attributes ``data``, ``indices``, ``indptr``, ``shape``
and ``has_canonical_format``, so the programs are built here from (row, column, value)
triplets, small ones without scipy.sparse. Importing scipy.sparse costs ~0.15 s in a fresh
process (scipy's array-API layer imports numpy.f2py), the largest import of the dashboard's
first page, whose small fits need nothing else from scipy (``benchmarks/cold_start.py``).
"""
from __future__ import annotations

import sys

import numpy as np

#: Entries from which scipy's compiled conversion is used: the NumPy path sorts, 2-6x slower
#: from 60 000 entries on (1M: 78 against 25 ms), while importing scipy once (~0.15 s) is small
#: beside a program that size. Once scipy.sparse is loaded anyway it serves every size.
_SCIPY_FROM = 50_000


class CSC:
    """A compressed-sparse-column matrix: row indices sorted within each column, no
    duplicates (what Clarabel calls canonical)."""

    has_canonical_format = True

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]):
        self.data, self.indices, self.indptr = data, indices, indptr
        self.shape = (int(shape[0]), int(shape[1]))

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape)
        cols = np.repeat(np.arange(self.shape[1]), np.diff(self.indptr))
        out[self.indices, cols] = self.data
        return out


def csc(vals, rows, cols, shape):
    """The matrix with entries ``vals`` at ``(rows, cols)``, duplicates summed, in canonical CSC
    form: a :class:`CSC`, or scipy's ``csc_matrix`` for large ones (``_SCIPY_FROM``)."""
    vals = np.asarray(vals, dtype=float).ravel()
    rows = np.asarray(rows, dtype=np.int64).ravel()
    cols = np.asarray(cols, dtype=np.int64).ravel()
    nr, nc = shape
    if vals.size and (rows.min() < 0 or rows.max() >= nr or cols.min() < 0 or cols.max() >= nc):
        raise ValueError(f"an entry's index lies outside the shape {shape}")
    if vals.size >= _SCIPY_FROM or "scipy.sparse" in sys.modules:
        return scipy_csc(vals, rows, cols, shape)
    return numpy_csc(vals, rows, cols, shape)


def scipy_csc(vals, rows, cols, shape):
    import scipy.sparse as sp

    A = sp.csc_matrix((vals, (rows, cols)), shape=shape)
    A.sum_duplicates()  # sorted row indices, no duplicates
    return A


def numpy_csc(vals, rows, cols, shape) -> CSC:
    """:func:`csc` by a sort of the entries' positions (int64 arrays, indices checked)."""
    nr, nc = shape
    key = cols * nr + rows
    order = np.argsort(key)  # (duplicates are summed, so their order does not matter)
    key, vals = key[order], vals[order]
    first = np.ones(key.size, bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    data = np.add.reduceat(vals, starts) if vals.size else vals
    key = key[starts]
    indptr = np.zeros(nc + 1, dtype=np.int64)
    np.cumsum(np.bincount(key // nr, minlength=nc), out=indptr[1:])
    return CSC(data, key % nr, indptr, (nr, nc))


class Stack:
    """The rows of a program's constraint matrix, block by block (``vstack`` of COO blocks)."""

    def __init__(self, ncols: int):
        self.ncols = ncols
        self.nrows = 0
        self._v: list[np.ndarray] = []
        self._r: list[np.ndarray] = []
        self._c: list[np.ndarray] = []

    def add(self, nrows: int, vals, rows, cols) -> None:
        """Append a block of ``nrows`` rows with entries ``vals`` at its ``(rows, cols)``."""
        self._v.append(np.asarray(vals, dtype=float).ravel())
        self._r.append(self.nrows + np.asarray(rows, dtype=np.int64).ravel())
        self._c.append(np.asarray(cols, dtype=np.int64).ravel())
        self.nrows += int(nrows)

    def csc(self) -> CSC:
        if not self._v:
            return csc(np.zeros(0), np.zeros(0), np.zeros(0), (self.nrows, self.ncols))
        return csc(np.concatenate(self._v), np.concatenate(self._r), np.concatenate(self._c),
                   (self.nrows, self.ncols))


def diagonal(vals, start: int, n: int) -> CSC:
    """An ``n x n`` matrix with ``vals`` on the diagonal from index ``start`` (a quadratic
    objective's upper triangle)."""
    k = start + np.arange(len(vals))
    return csc(vals, k, k, (n, n))
