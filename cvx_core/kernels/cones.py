"""Compiled projections onto the cells' cones (numba), for certificates cell by cell.

Without the sphere certificate (sampled patterns, or ``certify`` of a network's own patterns)
every cell whose upper bound ``||g_D||`` exceeds the bar is projected exactly onto its cone
``K = {u : diag(2 D - 1) Xb u >= 0}``. A round of the working-set solver on sampled patterns
can project thousands of cells, and one :func:`scipy.optimize.nnls` call per cell is mostly
call overhead: :func:`project` runs the same Lawson-Hanson active-set method for a batch of
cells in one compiled loop. In R^d the projection has at most d active generators
(Caratheodory), so each cell's least-squares problems are at most d x d.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def gram(Xb):
    """``Xb Xb'`` (n, n): the rows' Gram matrix, from which each least-squares step forms its
    normal equations in k^2 instead of k^2 d operations."""
    n, d = Xb.shape
    XX = np.empty((n, n))
    for i in range(n):
        for j in range(i + 1):
            acc = 0.0
            for a in range(d):
                acc += Xb[i, a] * Xb[j, a]
            XX[i, j] = acc
            XX[j, i] = acc
    return XX


@njit(cache=True, error_model="numpy")
def _solve_active(XX, xb, sg, active, k, out):
    """Least squares ``min ||A_P s - b||`` on the ``k`` active columns ``a_j = sg_j x_j``
    (normal equations from the rows' Gram matrix ``XX`` and ``xb = Xb b``, Gaussian elimination
    with partial pivoting; k <= d). False if singular."""
    G = np.empty((k, k + 1))
    for p in range(k):
        jp = active[p]
        for q in range(k):
            jq = active[q]
            G[p, q] = sg[jp] * sg[jq] * XX[jp, jq]
        G[p, k] = sg[jp] * xb[jp]
    for c in range(k):
        piv = c
        for r in range(c + 1, k):
            if abs(G[r, c]) > abs(G[piv, c]):
                piv = r
        if abs(G[piv, c]) <= 1e-14 * max(abs(G[0, 0]), 1e-300):
            return False
        for q in range(k + 1):
            G[c, q], G[piv, q] = G[piv, q], G[c, q]
        for r in range(c + 1, k):
            f = G[r, c] / G[c, c]
            for q in range(c, k + 1):
                G[r, q] -= f * G[c, q]
    for c in range(k - 1, -1, -1):
        acc = G[c, k]
        for q in range(c + 1, k):
            acc -= G[c, q] * out[q]
        out[c] = acc / G[c, c]
    return True


@njit(cache=True, error_model="numpy")
def _project_one(Xb, XX, sg, z, proj, floor):
    """``||Proj_K(z)||`` for ``K = {u : sg_j x_j' u >= 0}``; the projection into ``proj``.

    Lawson-Hanson on the polar cone: ``min ||A gamma + z||, gamma >= 0`` with ``A = [sg_j x_j]``;
    the projection is ``z + A gamma``. Every iterate keeps ``gamma >= 0``, so its residual norm
    bounds the value above: once it is at most ``floor`` the method stops and returns that
    bound with a negative sign (the caller only needed to know the value is below ``floor``)."""
    n, d = Xb.shape
    b = -z
    xb = np.empty(n)
    for j in range(n):
        acc = 0.0
        for a in range(d):
            acc += Xb[j, a] * b[a]
        xb[j] = acc
    scale = 0.0
    for j in range(n):
        nr = 0.0
        for a in range(d):
            nr += Xb[j, a] * Xb[j, a]
        scale = max(scale, math.sqrt(nr))
    zn = 0.0
    for a in range(d):
        zn += z[a] * z[a]
    tol = 1e-12 * max(math.sqrt(zn), 1e-300) * max(scale, 1e-300)
    active = np.empty(d + 1, np.int64)
    x = np.zeros(d + 1)  # coefficients of the active columns
    s = np.zeros(d + 1)
    inP = np.zeros(n, np.bool_)
    k = 0
    r = b.copy()  # residual b - A x
    for _ in range(3 * (n + d)):
        t = -1
        wmax = tol
        for j in range(n):
            if not inP[j]:
                acc = 0.0
                for a in range(d):
                    acc += Xb[j, a] * r[a]
                w = sg[j] * acc
                if w > wmax:
                    wmax, t = w, j
        if t < 0 or k == d:
            break
        active[k] = t
        x[k] = 0.0
        inP[t] = True
        k += 1
        while True:
            if not _solve_active(XX, xb, sg, active, k, s):
                # the new column is dependent on the active ones: it cannot reduce the residual
                k -= 1
                inP[active[k]] = False
                t = -2
                break
            if k > 0 and s[k - 1] <= 0.0 and x[k - 1] == 0.0 and active[k - 1] == t:
                k -= 1  # rounding: the entering column does not help
                t = -2
                break
            ok = True
            for p in range(k):
                if s[p] <= 0.0:
                    ok = False
            if ok:
                for p in range(k):
                    x[p] = s[p]
                break
            alpha = 1.0
            for p in range(k):
                if s[p] <= 0.0:
                    alpha = min(alpha, x[p] / (x[p] - s[p]))
            q = 0
            for p in range(k):
                xp = x[p] + alpha * (s[p] - x[p])
                if xp > 1e-15 * max(abs(x[p]), 1.0):
                    active[q] = active[p]
                    x[q] = xp
                    q += 1
                else:
                    inP[active[p]] = False
            k = q
            if k == 0:
                break
        for a in range(d):
            acc = b[a]
            for p in range(k):
                acc -= sg[active[p]] * Xb[active[p], a] * x[p]
            r[a] = acc
        if t == -2:  # no column can enter: the last consistent solution stands
            break
        if floor > 0.0:
            rn = 0.0
            for a in range(d):
                rn += r[a] * r[a]
            if math.sqrt(rn) <= floor:
                for a in range(d):
                    proj[a] = -r[a]
                return -math.sqrt(rn)
    nr = 0.0
    for a in range(d):
        proj[a] = -r[a]
        nr += r[a] * r[a]
    return math.sqrt(nr)


@njit(cache=True, error_model="numpy")
def project_above(Xb, XX, D, signs, G, floor):
    """As :func:`project`, exact for the cells whose value exceeds ``floor`` (> 0); the others
    get ``-b`` for an upper bound ``b <= floor`` (found sooner: pricing only asks which cells
    exceed beta). ``XX``: the rows' Gram matrix :func:`gram` (``Xb``'s, shared by every batch
    of a pricing pass)."""
    k, d = G.shape
    n = Xb.shape[0]
    vals = np.empty(k)
    P = np.empty((k, d))
    sg = np.empty(n)
    z = np.empty(d)
    for i in range(k):
        for j in range(n):
            sg[j] = 1.0 if D[i, j] else -1.0
        for a in range(d):
            z[a] = signs[i] * G[i, a]
        vals[i] = _project_one(Xb, XX, sg, z, P[i], floor)
    return vals, P


@njit(cache=True, error_model="numpy")
def project(Xb, D, signs, G):
    """``||Proj_K(g)||`` and the projections for cells ``D`` (k, n) bool, vectors ``signs * G``
    (k,) and (k, d): ``K = {u : (2 D - 1) Xb u >= 0}``."""
    return project_above(Xb, gram(Xb), D, signs, G, 0.0)
