"""The CSC matrices handed to Clarabel without scipy.sparse (cvx_core.sparse)."""
from __future__ import annotations

import clarabel
import numpy as np
import pytest
import scipy.sparse as sp

from cvx_core.sparse import _SCIPY_FROM, CSC, Stack, csc, numpy_csc


def _triplets(rng, shape, nnz):
    rows = rng.integers(0, shape[0], nnz)
    cols = rng.integers(0, shape[1], nnz)
    return rng.standard_normal(nnz), rows, cols


@pytest.mark.parametrize("shape, nnz", [((7, 5), 30), ((1, 9), 4), ((6, 1), 12), ((4, 4), 0)])
def test_csc_matches_scipy_with_duplicates_and_empty_columns(shape, nnz):
    rng = np.random.default_rng(nnz)
    v, r, c = _triplets(rng, shape, nnz)
    ours = numpy_csc(v, r.astype(np.int64), c.astype(np.int64), shape)  # csc() itself takes scipy's here
    ref = sp.csc_matrix((v, (r, c)), shape=shape)
    ref.sum_duplicates()
    assert ours.shape == ref.shape
    np.testing.assert_array_equal(ours.indptr, ref.indptr)
    np.testing.assert_array_equal(ours.indices, ref.indices)
    np.testing.assert_allclose(ours.data, ref.data, rtol=0, atol=1e-15)
    np.testing.assert_allclose(ours.toarray(), ref.toarray(), rtol=0, atol=1e-15)


def test_csc_takes_scipys_conversion_only_for_large_matrices_or_once_scipy_is_loaded():
    rng = np.random.default_rng(1)
    v, r, c = _triplets(rng, (40, 30), 50)
    assert isinstance(csc(v, r, c, (40, 30)), sp.csc_matrix)  # scipy.sparse is loaded in this process
    v, r, c = _triplets(rng, (400, 3000), _SCIPY_FROM)
    A = csc(v, r, c, (400, 3000))
    assert isinstance(A, sp.csc_matrix) and A.has_canonical_format
    B = numpy_csc(v, r, c, (400, 3000))
    assert isinstance(B, CSC)
    np.testing.assert_array_equal(A.indptr, B.indptr)
    np.testing.assert_array_equal(A.indices, B.indices)
    np.testing.assert_allclose(A.data, B.data, rtol=1e-15, atol=1e-15)


def test_stack_is_the_vertical_stack_of_its_blocks():
    rng = np.random.default_rng(3)
    dense = rng.standard_normal((3, 6)) * (rng.random((3, 6)) < 0.5)
    v, r, c = _triplets(rng, (4, 6), 10)
    A = Stack(6)
    r0, c0 = np.nonzero(dense[:, 2:])
    A.add(3, dense[:, 2:][r0, c0], r0, 2 + c0)
    A.add(4, v, r, c)
    A.add(2, [], [], [])  # rows with no entries still count
    ref = sp.vstack([sp.csc_matrix(np.c_[np.zeros((3, 2)), dense[:, 2:]]), sp.csc_matrix((v, (r, c)), shape=(4, 6)),
                     sp.csc_matrix((2, 6))]).toarray()
    np.testing.assert_allclose(A.csc().toarray(), ref, rtol=0, atol=1e-15)
    assert A.csc().shape == (9, 6)


def test_an_entry_outside_the_shape_is_refused():
    with pytest.raises(ValueError, match=r"outside the shape \(2, 3\)"):
        csc([1.0], [2], [0], (2, 3))
    with pytest.raises(ValueError, match="outside"):
        csc([1.0], [0], [-1], (2, 3))


def test_clarabel_solves_the_same_program_from_either_matrix():
    # min 1/2 ||x||^2 - 1'x  s.t.  x_1 + x_2 <= 1, ||(x_3, x_4)|| <= x_5, x_5 <= 0.5
    rng = np.random.default_rng(0)
    q = -np.ones(5) + 0.1 * rng.standard_normal(5)
    rows, cols, vals = [0, 0, 1, 2, 3, 4], [0, 1, 4, 4, 2, 3], [1.0, 1.0, 1.0, -1.0, -1.0, -1.0]
    b = np.array([1.0, 0.5, 0.0, 0.0, 0.0])
    cones = [clarabel.NonnegativeConeT(2), clarabel.SecondOrderConeT(3)]

    def solve(P, A):
        s = clarabel.DefaultSettings()
        s.verbose = False
        return clarabel.DefaultSolver(P, q, A, b, cones, s).solve()

    P = numpy_csc(np.ones(5), np.arange(5), np.arange(5), (5, 5))
    ours = solve(P, numpy_csc(np.array(vals), np.array(rows), np.array(cols), (5, 5)))
    ref = solve(sp.identity(5, format="csc"), sp.csc_matrix((vals, (rows, cols)), shape=(5, 5)))
    assert str(ours.status) == str(ref.status) == "Solved"
    np.testing.assert_allclose(ours.x, ref.x, rtol=0, atol=1e-12)
    assert ours.x[0] + ours.x[1] <= 1 + 1e-8 and np.hypot(ours.x[2], ours.x[3]) <= ours.x[4] + 1e-8
