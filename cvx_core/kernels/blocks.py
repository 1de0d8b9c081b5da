"""Compiled kernels of :func:`cvx_core.solvers.blocks.solve_design` (numba).

At the dimensions of real data (d = 10-30, a hundred blocks, n of a few hundred) an iteration of
that interior point spends most of its time in the overhead of a hundred small NumPy calls on
(m, d + 1) arrays, not in its BLAS work (the n x n Gram product). The per-cone algebra
(Nesterov-Todd scaling, steps to the cones' boundaries) is shared with the row-list method
(:mod:`.rows`); here are the blocks' own loops: each block's Cholesky factor of its
(d + 1) x (d + 1) Newton block and that factor's inverse, and the cones' Jordan division.
The NumPy functions of :mod:`cvx_core.solvers.ipm` remain the reference (and the route without
numba); the tests hold both to the same numbers.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .rows import apply_w, inverse_square, nt_scaling, soc_step  # noqa: F401  (re-exported)

_jit = njit(cache=True, error_model="numpy")


@_jit
def block_inverse_factors(H, tau, Vs, Hinv, near):
    """For each block ``H_j`` (m, k, k): ``Vs_j = L_j^-T`` and ``Hinv_j = Vs_j Vs_j'`` from its
    Cholesky factor ``L_j``, where ``trace(H_j^-1) <= 1 / tau`` proves every eigenvalue >= tau.
    Blocks without that proof (or without a factor) get ``near[j] = True`` and are left to the
    caller's eigendecomposition."""
    m, k = H.shape[0], H.shape[1]
    L = np.empty((k, k))
    Li = np.empty((k, k))
    for j in range(m):
        ok = True
        for a in range(k):
            for b in range(a + 1):
                acc = H[j, a, b]
                for c in range(b):
                    acc -= L[a, c] * L[b, c]
                if a == b:
                    if not acc > 0.0:
                        ok = False
                        break
                    L[a, a] = math.sqrt(acc)
                else:
                    L[a, b] = acc / L[b, b]
            if not ok:
                break
        if not ok:
            near[j] = True
            continue
        tr = 0.0
        for b in range(k):
            for a in range(b):
                Li[a, b] = 0.0
            Li[b, b] = 1.0 / L[b, b]
            tr += Li[b, b] * Li[b, b]
            for a in range(b + 1, k):
                acc = 0.0
                for c in range(b, a):
                    acc -= L[a, c] * Li[c, b]
                Li[a, b] = acc / L[a, a]
                tr += Li[a, b] * Li[a, b]
        near[j] = not (tr * tau <= 1.0)
        if near[j]:
            continue
        for a in range(k):
            for b in range(k):
                Vs[j, a, b] = Li[b, a]
        # Hinv = Li' Li (symmetric)
        for a in range(k):
            for b in range(a + 1):
                acc = 0.0
                for c in range(a, k):
                    acc += Li[c, a] * Li[c, b]
                Hinv[j, a, b] = acc
                Hinv[j, b, a] = acc


@_jit
def soc_inv_prod(l0, l1, r0, r1, x0, x1):
    """``x`` with ``l o x = r`` (the cones' Jordan product) into ``x0, x1``."""
    m, d = l1.shape
    for j in range(m):
        lr = 0.0
        ll = 0.0
        for k in range(d):
            lr += l1[j, k] * r1[j, k]
            ll += l1[j, k] * l1[j, k]
        x0[j] = (l0[j] * r0[j] - lr) / (l0[j] * l0[j] - ll)
        for k in range(d):
            x1[j, k] = (r1[j, k] - x0[j] * l1[j, k]) / l0[j]


@_jit
def ray_step(v, dv):
    """Largest ``t >= 0`` with ``v + t dv >= 0`` (v >= 0), over every entry of the 2-D arrays."""
    best = np.inf
    for j in range(v.shape[0]):
        for k in range(v.shape[1]):
            if dv[j, k] < 0.0:
                best = min(best, -v[j, k] / dv[j, k])
    return best
