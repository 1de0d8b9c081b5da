"""Compiled kernels of :func:`cvx_core.solvers.ipm.solve_rows` (numba).

The working-set programs of 2-D data are small (tens to hundreds of blocks of 3 coordinates,
a few facet rows each), so written in NumPy an iteration is spent in the overhead of hundreds
of small array calls, not in arithmetic (the BLAS work, the n x n product ``I + F F'`` and its
Cholesky factor, is a small part). Here the per-cone algebra (Nesterov-Todd scaling, Jordan
products, steps to the cone boundary), the per-block d x d Schur complements and the segment
sums over each block's rows are plain compiled loops, and the matrix-vector products go to BLAS
through ``np.dot``: the same iterates, without the call overhead.

:func:`cvx_core.solvers.ipm.solve_rows` drives these kernels (per iteration: the residuals, the
scalings and blocks' factors, then -- after it forms ``I + F F'`` with scipy's ``dsyrk`` and
factors it -- the predictor-corrector step) and documents the method: primal-dual path
following with Nesterov-Todd scaling and Mehrotra's predictor-corrector, ``t`` eliminated
block by block, refinement against the exact operator once the relative gap is below 1e-3.
Its constants are passed in, not read as globals (numba's cache would keep a global's value
from compilation time). ``cache=True`` keeps the compiled code beside this file: the first
use after installation compiles (slowly; :func:`cvx_core.solvers.warm_up` does it ahead of
time), later processes load it.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

# IEEE division (inf and nan, as in NumPy) instead of Python's ZeroDivisionError: a direction
# that is not finite is detected and reported like the NumPy version's
_jit = njit(cache=True, error_model="numpy")


@_jit
def apply_w(eta, w0, w1, a0, a1, inverse, o0, o1):
    """``o = W a`` (or ``W^-1 a``) for each cone's Nesterov-Todd scaling ``(eta, w0, w1)``."""
    m, d = a1.shape
    for j in range(m):
        w1a1 = 0.0
        for k in range(d):
            w1a1 += w1[j, k] * a1[j, k]
        if inverse:
            c = w1a1 / (1.0 + w0[j]) - a0[j]
            o0[j] = (w0[j] * a0[j] - w1a1) / eta[j]
            for k in range(d):
                o1[j, k] = (a1[j, k] + c * w1[j, k]) / eta[j]
        else:
            c = w1a1 / (1.0 + w0[j]) + a0[j]
            o0[j] = eta[j] * (w0[j] * a0[j] + w1a1)
            for k in range(d):
                o1[j, k] = eta[j] * (a1[j, k] + c * w1[j, k])


@_jit
def _jdot(a0, a1, b0, b1, j):
    """``a_j' J b_j = a0 b0 - a1' b1`` for cone j (J = diag(1, -I), the cone's Lorentz form)."""
    acc = a0[j] * b0[j]
    for k in range(a1.shape[1]):
        acc -= a1[j, k] * b1[j, k]
    return acc


@_jit
def _jordan(a0, a1, b0, b1):
    """The Jordan product ``a o b = (a' b, a0 b1 + b0 a1)`` of each cone's pair."""
    m, d = a1.shape
    o0 = np.empty(m)
    o1 = np.empty((m, d))
    for j in range(m):
        acc = a0[j] * b0[j]
        for k in range(d):
            acc += a1[j, k] * b1[j, k]
            o1[j, k] = a0[j] * b1[j, k] + b0[j] * a1[j, k]
        o0[j] = acc
    return o0, o1


@_jit
def nt_scaling(s0, s1, z0, z1, eta, w0, w1):
    """Nesterov-Todd scaling of each cone: ``W z = W^-1 s``."""
    m, d = s1.shape
    for j in range(m):
        ss = _jdot(s0, s1, s0, s1, j)
        zz = _jdot(z0, z1, z0, z1, j)
        sz = 2.0 * s0[j] * z0[j] - _jdot(s0, s1, z0, z1, j)  # s_j' z_j
        rs = math.sqrt(max(ss, 1e-300))
        rz = math.sqrt(max(zz, 1e-300))
        gamma = math.sqrt(max((1.0 + sz / (rs * rz)) / 2.0, 1e-300))
        w0[j] = (s0[j] / rs + z0[j] / rz) / (2.0 * gamma)
        for k in range(d):
            w1[j, k] = (s1[j, k] / rs - z1[j, k] / rz) / (2.0 * gamma)
        eta[j] = math.sqrt(rs / rz)


@_jit
def inverse_square(eta, w0, w1, Wi2):
    """``W^-2 = eta^-2 (2 J w w' J - J)`` of each cone into ``Wi2`` (m, d+1, d+1)."""
    m, d = w1.shape
    for j in range(m):
        e2 = eta[j] * eta[j]
        Wi2[j, 0, 0] = (2.0 * w0[j] * w0[j] - 1.0) / e2
        for a in range(d):
            v = -2.0 * w0[j] * w1[j, a] / e2
            Wi2[j, 0, a + 1] = v
            Wi2[j, a + 1, 0] = v
            for b in range(d):
                Wi2[j, a + 1, b + 1] = (2.0 * w1[j, a] * w1[j, b] + (1.0 if a == b else 0.0)) / e2


@_jit
def _row_hessian(ratio, A, starts, Q):
    """``Q_j = sum_r ratio_r a_r a_r'`` over block j's rows (rows sorted by block)."""
    m, d = Q.shape[0], Q.shape[1]
    for j in range(m):
        for a in range(d):
            for b in range(d):
                Q[j, a, b] = 0.0
        for r in range(starts[j], starts[j + 1]):
            for a in range(d):
                for b in range(d):
                    Q[j, a, b] += ratio[r] * A[r, a] * A[r, b]


@_jit
def _factor(Wi2, Q, E, Sinv, Li, F):
    """Eliminate t per block: ``S_j^-1 = Li_j' Li_j`` (S = Schur complement on z) into
    ``Sinv`` and ``Li`` (m, d, d), and the factor ``F = E blockdiag(Li_j')`` with
    ``I + E S^-1 E' = I + F F'`` (formed and factored by the caller with BLAS ``dsyrk``: half
    the work of the product numba would call). False if a block's S is not positive definite.
    """
    m, d = Sinv.shape[0], Sinv.shape[1]
    n = E.shape[0]
    Sm = np.empty((d, d))
    L = np.zeros((d, d))
    for j in range(m):
        h00 = Wi2[j, 0, 0]
        tr = 0.0
        for a in range(d):
            for b in range(d):
                Sm[a, b] = Wi2[j, a + 1, b + 1] + Q[j, a, b] - Wi2[j, a + 1, 0] * Wi2[j, b + 1, 0] / h00
            tr += Sm[a, a]
        # near the optimum S_j is singular to rounding along an active block's ray: a relative
        # shift keeps the factor defined, and refinement against the exact operator corrects it
        for a in range(d):
            Sm[a, a] += 1e-13 * tr
        for a in range(d):  # Cholesky S = L L'
            for b in range(a + 1):
                acc = Sm[a, b]
                for c in range(b):
                    acc -= L[a, c] * L[b, c]
                if a == b:
                    if acc <= 0.0:
                        return False
                    L[a, a] = math.sqrt(acc)
                else:
                    L[a, b] = acc / L[b, b]
        for b in range(d):  # Li = L^-1 (lower triangular)
            Li[j, b, b] = 1.0 / L[b, b]
            for a in range(b):
                Li[j, a, b] = 0.0
            for a in range(b + 1, d):
                acc = 0.0
                for c in range(b, a):
                    acc -= L[a, c] * Li[j, c, b]
                Li[j, a, b] = acc / L[a, a]
        for a in range(d):  # S^-1 = Li' Li
            for b in range(d):
                acc = 0.0
                for c in range(max(a, b), d):
                    acc += Li[j, c, a] * Li[j, c, b]
                Sinv[j, a, b] = acc
    for k in range(n):  # F = E blockdiag(Li_j'), i.e. C_j * (X Li_j')
        for j in range(m):
            for a in range(d):
                acc = 0.0
                for b in range(a + 1):
                    acc += E[k, j * d + b] * Li[j, a, b]
                F[k, j * d + a] = acc
    return True


@_jit
def _cho_solve(L, b):
    """``(L L')^-1 b`` by forward and back substitution (L: the lower triangle of ``L``)."""
    n = b.shape[0]
    x = b.copy()
    for i in range(n):
        acc = x[i]
        for k in range(i):
            acc -= L[i, k] * x[k]
        x[i] = acc / L[i, i]
    for i in range(n - 1, -1, -1):
        acc = x[i]
        for k in range(i + 1, n):
            acc -= L[k, i] * x[k]
        x[i] = acc / L[i, i]
    return x


@_jit
def _solve_once(Wi2, Sinv, LK, E, r):
    """``(H + E'E)^-1 r`` through the factors of :func:`_factor` and the Cholesky factor ``LK``
    of ``I + F F'`` (r: (m, d+1))."""
    m, d = Sinv.shape[0], Sinv.shape[1]
    u = np.empty((m, d))
    for j in range(m):
        h00 = Wi2[j, 0, 0]
        for a in range(d):
            acc = 0.0
            for b in range(d):
                acc += Sinv[j, a, b] * (r[j, b + 1] - Wi2[j, b + 1, 0] * r[j, 0] / h00)
            u[j, a] = acc
    w = _cho_solve(LK, np.dot(E, u.ravel()))
    g = np.dot(w, E)
    x = np.empty((m, d + 1))
    for j in range(m):
        h00 = Wi2[j, 0, 0]
        acc0 = r[j, 0]
        for a in range(d):
            acc = u[j, a]
            for b in range(d):
                acc -= Sinv[j, a, b] * g[j * d + b]
            x[j, a + 1] = acc
            acc0 -= Wi2[j, a + 1, 0] * acc
        x[j, 0] = acc0 / h00
    return x


@_jit
def _newton(Wi2, Q, Sinv, LK, E, r, n_refine):
    """The Newton solve, with up to ``n_refine`` refinement steps against the exact operator."""
    m, d = Q.shape[0], Q.shape[1]
    x = _solve_once(Wi2, Sinv, LK, E, r)
    if n_refine == 0:
        return x
    prev_en = -1.0
    prev_x = x
    for _ in range(n_refine):
        Ez = np.dot(E, x[:, 1:].copy().ravel())
        EtEz = np.dot(Ez, E)
        e = np.empty((m, d + 1))
        en = 0.0
        for j in range(m):
            for a in range(d + 1):
                acc = 0.0
                for b in range(d + 1):
                    acc += Wi2[j, a, b] * x[j, b]
                if a > 0:
                    for b in range(d):
                        acc += Q[j, a - 1, b] * x[j, b + 1]
                    acc += EtEz[j * d + a - 1]
                e[j, a] = r[j, a] - acc
                en += e[j, a] * e[j, a]
        en = math.sqrt(en)
        if prev_en >= 0.0 and en > 0.5 * prev_en:
            return prev_x
        prev_en = en
        prev_x = x
        x = x + _solve_once(Wi2, Sinv, LK, E, e)
    return x


@_jit
def _median(v):
    """Median of a short vector (insertion sort: numba's np.median is slow to compile)."""
    s = v.copy()
    for i in range(1, s.shape[0]):
        x = s[i]
        k = i - 1
        while k >= 0 and s[k] > x:
            s[k + 1] = s[k]
            k -= 1
        s[k + 1] = x
    h = s.shape[0] // 2
    return s[h] if s.shape[0] % 2 else 0.5 * (s[h - 1] + s[h])


@_jit
def _row_values(A, jr, Z):
    """``A_r' z_{jr_r}`` for every row."""
    R, d = A.shape
    out = np.empty(R)
    for r in range(R):
        acc = 0.0
        for a in range(d):
            acc += A[r, a] * Z[jr[r], a]
        out[r] = acc
    return out


@_jit
def soc_step(u0, u1, v0, v1):
    """Largest ``t >= 0`` with ``u + t v`` in each cone (u interior), minimised over cones."""
    best = np.inf
    for j in range(u1.shape[0]):
        a = _jdot(v0, v1, v0, v1, j)
        b = _jdot(u0, u1, v0, v1, j)
        c = max(_jdot(u0, u1, u0, u1, j), 0.0)
        out = np.inf
        disc = b * b - a * c
        if disc >= 0.0:
            sq = math.sqrt(disc)
            q = -(b + sq) if b >= 0 else -(b - sq)
            if a != 0.0:
                r1 = q / a
                if r1 > 0:
                    out = min(out, r1)
            if q != 0.0:
                r2 = c / q
                if r2 > 0:
                    out = min(out, r2)
        if a == 0.0 and b < 0.0:
            out = min(out, -c / (2.0 * b))
        if v0[j] < 0.0:  # leaving through the apex is caught by the roots; guard anyway
            out = min(out, -u0[j] / v0[j])
        best = min(best, out)
    return best


@_jit
def _ray_step(v, dv):
    best = np.inf
    for r in range(v.shape[0]):
        if dv[r] < 0.0:
            best = min(best, -v[r] / dv[r])
    return best


@_jit
def _max_step(s0, s1, S, z0, z1, U, ds0, ds1, dS, dz0, dz1, dU):
    return min(soc_step(s0, s1, ds0, ds1), soc_step(z0, z1, dz0, dz1), _ray_step(S, dS), _ray_step(U, dU))


@_jit
def _direction(rs0, rs1, rsR, l0, l1, lR, wR, ratio, eta, w0, w1, Wi2, Q, Sinv, LK, E, A, jr,
               rxT, rxZ, rzT, rzZ, rzR, n_refine):
    """The search direction (dT, dZ, ds0, ds1, dS, dz0, dz1, dU) for a complementarity
    right-hand side ``rs``."""
    m, d = rs1.shape
    R = rsR.shape[0]
    # q = lam \ rs (Jordan product), qR = rsR / lR
    q0 = np.empty(m)
    q1 = np.empty((m, d))
    for j in range(m):
        l1r1 = 0.0
        det = l0[j] * l0[j]
        for k in range(d):
            l1r1 += l1[j, k] * rs1[j, k]
            det -= l1[j, k] * l1[j, k]
        q0[j] = (l0[j] * rs0[j] - l1r1) / det
        for k in range(d):
            q1[j, k] = (rs1[j, k] - q0[j] * l1[j, k]) / l0[j]
    qR = rsR / lR
    Wq0 = np.empty(m)
    Wq1 = np.empty((m, d))
    apply_w(eta, w0, w1, q0, q1, False, Wq0, Wq1)
    xi = np.empty((m, d + 1))
    for j in range(m):
        xi[j, 0] = rzT[j] - Wq0[j]
        for k in range(d):
            xi[j, k + 1] = rzZ[j, k] - Wq1[j, k]
    xiR = rzR - wR * qR
    r = np.empty((m, d + 1))
    for j in range(m):
        for a in range(d + 1):
            acc = 0.0
            for b in range(d + 1):
                acc += Wi2[j, a, b] * xi[j, b]
            r[j, a] = (rxT[j] if a == 0 else rxZ[j, a - 1]) - acc
    for rr in range(R):
        c = ratio[rr] * xiR[rr]
        for k in range(d):
            r[jr[rr], k + 1] -= A[rr, k] * c
    dx = _newton(Wi2, Q, Sinv, LK, E, r, n_refine)
    dT = dx[:, 0].copy()
    dZ = dx[:, 1:].copy()
    ds0 = rzT + dT
    ds1 = rzZ + dZ
    dS = rzR + _row_values(A, jr, dZ)
    a0 = np.empty(m)
    a1 = np.empty((m, d))
    apply_w(eta, w0, w1, ds0, ds1, True, a0, a1)
    dz0 = np.empty(m)
    dz1 = np.empty((m, d))
    apply_w(eta, w0, w1, q0 - a0, q1 - a1, True, dz0, dz1)
    dU = (qR - dS / wR) / wR
    return dT, dZ, ds0, ds1, dS, dz0, dz1, dU


@_jit
def prediction_map(X, C):
    """``E`` (n, m d): ``C_jk x_k`` on block j's columns."""
    n, d = X.shape
    m = C.shape[0]
    E = np.empty((n, m * d))
    for k in range(n):
        for j in range(m):
            for a in range(d):
                E[k, j * d + a] = C[j, k] * X[k, a]
    return E


@_jit
def initial_factor(E, A, starts, work):
    """The blocks' factors for W = I (the least-squares start); False if one is singular."""
    Wi2, Q, Sinv, Li, F = work
    m, d = Q.shape[0], Q.shape[1]
    Wi2[:] = 0.0
    for j in range(m):
        for a in range(d + 1):
            Wi2[j, a, a] = 1.0
    _row_hessian(np.ones(A.shape[0]), A, starts, Q)
    return _factor(Wi2, Q, E, Sinv, Li, F)


@_jit
def initial_point(E, A, jr, y, beta, n_refine, work, LK):
    """The least-squares solve with W = I (factors of :func:`initial_factor`, ``LK``) shifted
    into the cones, and a dual start on the scale of the answer. Returns the state
    (T, Z, s0, s1, S, z0, z1, U)."""
    Wi2, Q, Sinv, Li, F = work
    m, d = Q.shape[0], Q.shape[1]
    R = A.shape[0]
    Ety = np.dot(y, E)
    rhs = np.empty((m, d + 1))
    for j in range(m):
        rhs[j, 0] = -beta
        for a in range(d):
            rhs[j, a + 1] = Ety[j * d + a]
    x = _newton(Wi2, Q, Sinv, LK, E, rhs, n_refine)
    T = x[:, 0].copy()
    Z = x[:, 1:].copy()
    s0 = T.copy()
    s1 = Z.copy()
    S = _row_values(A, jr, Z)
    a_s = -np.inf
    for j in range(m):
        nrm = 0.0
        for a in range(d):
            nrm += s1[j, a] * s1[j, a]
        a_s = max(a_s, math.sqrt(nrm) - s0[j])
    for r in range(R):
        a_s = max(a_s, -S[r])
    if a_s >= 0:
        s0 += 1.0 + a_s
        S += 1.0 + a_s
    # At the optimum the cones' multipliers are (beta, z1) with ||z1|| <= beta, and the rows'
    # balance the blocks' gradients E_j' lambda: start at (10 beta, 0) and at 3% of the median
    # gradient at the least-squares residual
    z0 = np.full(m, 10.0 * beta)
    z1 = np.zeros((m, d))
    g = np.dot(y - np.dot(E, Z.ravel()), E)
    gn = np.empty(m)
    for j in range(m):
        acc = 0.0
        for a in range(d):
            acc += g[j * d + a] ** 2
        gn[j] = math.sqrt(acc)
    U = np.full(R, 0.03 * max(_median(gn), beta))
    return T, Z, s0, s1, S, z0, z1, U


@_jit
def residuals(E, A, jr, y, beta, state, rx, rz):
    """Fill the dual residuals ``rx = (rxT, rxZ)`` and primal ``rz = (rzT, rzZ, rzR)`` of the
    state; returns (primal objective, s'z, ||rz||, ||(T, Z)||, ||rx||)."""
    T, Z, s0, s1, S, z0, z1, U = state
    rxT, rxZ = rx
    rzT, rzZ, rzR = rz
    m, d = Z.shape
    res = np.dot(E, Z.ravel()) - y
    Etres = np.dot(res, E)
    pobj = 0.5 * np.dot(res, res)
    gap = 0.0
    nrz = 0.0
    ntz = 0.0
    nrx = 0.0
    for j in range(m):
        rxT[j] = z0[j] - beta
        rzT[j] = T[j] - s0[j]
        pobj += beta * T[j]
        gap += s0[j] * z0[j]
        ntz += T[j] * T[j]
        for a in range(d):
            rxZ[j, a] = z1[j, a] - Etres[j * d + a]
            rzZ[j, a] = Z[j, a] - s1[j, a]
            gap += s1[j, a] * z1[j, a]
            ntz += Z[j, a] * Z[j, a]
    for r in range(A.shape[0]):
        acc = -S[r]
        for a in range(d):
            rxZ[jr[r], a] += A[r, a] * U[r]
            acc += A[r, a] * Z[jr[r], a]
        rzR[r] = acc
        gap += S[r] * U[r]
        nrz += acc * acc
    for j in range(m):
        nrz += rzT[j] * rzT[j]
        nrx += rxT[j] * rxT[j]
        for a in range(d):
            nrz += rzZ[j, a] * rzZ[j, a]
            nrx += rxZ[j, a] * rxZ[j, a]
    return pobj, gap, math.sqrt(nrz), math.sqrt(ntz), math.sqrt(nrx)


@_jit
def scale(A, starts, E, state, scaling, work):
    """The Nesterov-Todd scalings of the state and the blocks' factors for them (into
    ``scaling`` = (eta, w0, w1, l0, l1) and ``work``); False if a block's S is singular."""
    s0, s1, S, z0, z1, U = state[2], state[3], state[4], state[5], state[6], state[7]
    eta, w0, w1, l0, l1 = scaling
    Wi2, Q, Sinv, Li, F = work
    nt_scaling(s0, s1, z0, z1, eta, w0, w1)
    apply_w(eta, w0, w1, z0, z1, False, l0, l1)
    inverse_square(eta, w0, w1, Wi2)
    _row_hessian(U / S, A, starts, Q)
    return _factor(Wi2, Q, E, Sinv, Li, F)


@_jit
def step(E, A, jr, state, rx, rz, gap, mu, n_refine, fraction, scaling, work, LK):
    """One Mehrotra predictor-corrector step from ``state`` (updated in place) with the
    factors of :func:`scale` and ``LK``, ``fraction`` of the way to the boundary, with
    ``n_refine`` refinement steps per Newton solve.

    Returns the step length, or -1.0 when the direction is not finite (the state is then
    unchanged).
    """
    T, Z, s0, s1, S, z0, z1, U = state
    rxT, rxZ = rx
    rzT, rzZ, rzR = rz
    eta, w0, w1, l0, l1 = scaling
    Wi2, Q, Sinv, Li, F = work
    m, d = Z.shape
    ratio = U / S
    lR = np.sqrt(S * U)
    wR = np.sqrt(S / U)
    # predictor (affine scaling): rs = -lam o lam
    ll0, ll1 = _jordan(l0, l1, l0, l1)
    llR = lR * lR
    _, _, ds0, ds1, dS, dz0, dz1, dU = _direction(
        -ll0, -ll1, -llR, l0, l1, lR, wR, ratio, eta, w0, w1, Wi2, Q, Sinv, LK, E, A, jr,
        rxT, rxZ, rzT, rzZ, rzR, n_refine)
    a_aff = min(1.0, _max_step(s0, s1, S, z0, z1, U, ds0, ds1, dS, dz0, dz1, dU))
    gap_aff = (np.dot(s0 + a_aff * ds0, z0 + a_aff * dz0) + np.sum((s1 + a_aff * ds1) * (z1 + a_aff * dz1))
               + np.dot(S + a_aff * dS, U + a_aff * dU))
    sigma = min(1.0, max(0.0, gap_aff / gap)) ** 3
    # corrector: rs = -lam o lam - (W^-1 ds_a) o (W dz_a) + sigma mu e; on the rows dS dU
    A0 = np.empty(m)
    A1 = np.empty((m, d))
    B0 = np.empty(m)
    B1 = np.empty((m, d))
    apply_w(eta, w0, w1, ds0, ds1, True, A0, A1)
    apply_w(eta, w0, w1, dz0, dz1, False, B0, B1)
    c0, c1 = _jordan(A0, A1, B0, B1)
    rs0 = -ll0 - c0 + sigma * mu
    rs1 = -ll1 - c1
    rsR = -llR - dS * dU + sigma * mu
    dT, dZ, ds0, ds1, dS, dz0, dz1, dU = _direction(
        rs0, rs1, rsR, l0, l1, lR, wR, ratio, eta, w0, w1, Wi2, Q, Sinv, LK, E, A, jr,
        rxT, rxZ, rzT, rzZ, rzR, n_refine)
    alpha = min(1.0, fraction * _max_step(s0, s1, S, z0, z1, U, ds0, ds1, dS, dz0, dz1, dU))
    if not (math.isfinite(alpha) and np.isfinite(np.sum(dT) + np.sum(dZ) + np.sum(ds0) + np.sum(ds1)
                                                 + np.sum(dS) + np.sum(dz0) + np.sum(dz1) + np.sum(dU))):
        return -1.0
    T += alpha * dT
    Z += alpha * dZ
    s0 += alpha * ds0
    s1 += alpha * ds1
    S += alpha * dS
    z0 += alpha * dz0
    z1 += alpha * dz1
    U += alpha * dU
    return alpha

