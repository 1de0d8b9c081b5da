"""Compiled kernels of :func:`cvx_core.solvers.blocks.solve_design` (numba).

At the dimensions of real data (d = 10-30, a hundred blocks, n of a few hundred) an iteration of
that interior point spent much of its time in the overhead of small NumPy calls on (m, d + 1)
and (m, n) arrays, beside its BLAS work (the n x n Gram product). The per-cone algebra
(Nesterov-Todd scaling, steps to the cones' boundaries) is shared with the row-list method
(:mod:`.rows`); here are the blocks' own loops: each block's Cholesky factor of its
(d + 1) x (d + 1) Newton block and that factor's inverse, the cones' Jordan division, and the
cone rows' passes over the (m, n) masks of imposed rows. The NumPy functions of
:mod:`cvx_core.solvers.ipm` remain the reference (and the route without numba); the tests hold
both to the same numbers.
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


# The cone rows: (m, n) arrays over blocks and samples, of which only the imposed entries
# (mask M) are variables; elsewhere S = 1, U = 0 and every direction is 0.

@_jit
def rows_residual(SR, XZ, S, U, M, rzR):
    """``rzR = sgn x'z - S`` on the imposed rows (0 elsewhere); returns their ``sum S U``."""
    gap = 0.0
    for j in range(S.shape[0]):
        for k in range(S.shape[1]):
            if M[j, k]:
                rzR[j, k] = SR[j, k] * XZ[j, k] - S[j, k]
                gap += S[j, k] * U[j, k]
            else:
                rzR[j, k] = 0.0
    return gap


@_jit
def rows_scaling(S, U, M, ratio, lR, wR):
    """The rows' scalings: ``U / S``, ``sqrt(S U)`` and ``sqrt(S / U)`` (0, 0 and 1 elsewhere)."""
    for j in range(S.shape[0]):
        for k in range(S.shape[1]):
            if M[j, k]:
                ratio[j, k] = U[j, k] / S[j, k]
                lR[j, k] = math.sqrt(S[j, k] * U[j, k])
                wR[j, k] = math.sqrt(S[j, k] / U[j, k])
            else:
                ratio[j, k] = 0.0
                lR[j, k] = 0.0
                wR[j, k] = 1.0


@_jit
def rows_rhs(rsR, lR, wR, rzR, SR, ratio, M, qR, T):
    """``qR = rsR / lR`` and ``T = sgn ratio (rzR - wR qR)`` on the imposed rows (0 elsewhere)."""
    for j in range(M.shape[0]):
        for k in range(M.shape[1]):
            if M[j, k]:
                q = rsR[j, k] / lR[j, k]
                qR[j, k] = q
                T[j, k] = SR[j, k] * ratio[j, k] * (rzR[j, k] - wR[j, k] * q)
            else:
                qR[j, k] = 0.0
                T[j, k] = 0.0


@_jit
def rows_step(rzR, SR, dZR, M, qR, wR, dS, dU):
    """The rows' steps ``dS = rzR + sgn x'dz`` and ``dU = (qR - dS / wR) / wR`` (0 elsewhere)."""
    for j in range(M.shape[0]):
        for k in range(M.shape[1]):
            if M[j, k]:
                s = rzR[j, k] + SR[j, k] * dZR[j, k]
                dS[j, k] = s
                dU[j, k] = (qR[j, k] - s / wR[j, k]) / wR[j, k]
            else:
                dS[j, k] = 0.0
                dU[j, k] = 0.0


@_jit
def rows_gap(S, dS, U, dU, a):
    """``sum (S + a dS)(U + a dU)`` over the imposed rows (the rest contribute 0)."""
    acc = 0.0
    for j in range(S.shape[0]):
        for k in range(S.shape[1]):
            acc += (S[j, k] + a * dS[j, k]) * (U[j, k] + a * dU[j, k])
    return acc
