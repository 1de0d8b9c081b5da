"""A working set of blocks posed for Clarabel as one conic program, any loss.

The inner solve of the CNN's working set (:mod:`cvx_core.cnn`): blocks ``j`` with designs
``A_j (n, d)`` (a CNN block sums its patches) and shared cone rows ``R (r, d)``, the squared
loss on the residual, the logistic loss with exponential cones, the hinge loss as linear rows.
"""
from __future__ import annotations

import clarabel
import numpy as np
import scipy.sparse as sp

from ..model import Loss
from .small_program import clarabel_settings


def solve_blocks(A, R, sgn, y, beta, loss: Loss, *, tol: float = 1e-9, refine: bool = False):
    """The program on a working set, posed for Clarabel as a conic program:

        min_{z_j}  L( sum_j A_j z_j , y ) + beta sum_j ||z_j||_2
        s.t.       sgn_jk R_k' z_j >= 0   wherever sgn_jk != 0.

    ``A`` (m, n, d), ``R`` (r, d), ``sgn`` (m, r) in {+1, -1, 0}. The squared loss is posed on
    the residual, the logistic loss with exponential cones, the hinge loss as linear rows.
    Returns (Z (m, d), yhat (n,), lam (n,) the multipliers of the predictions, status).
    """
    m, n, d = A.shape
    nz, it, iy = m * d, m * d, m * d + m
    extra = {"squared": 0, "logistic": 3 * n, "hinge": n}[loss.name]
    nvar = iy + n + extra
    q = np.zeros(nvar)
    q[it:it + m] = beta
    Pq = sp.csc_matrix((nvar, nvar))
    rows, b, cones = [], [], []
    M = A.transpose(1, 0, 2).reshape(n, m * d)
    if loss.name == "squared":  # variable h = yhat - y: tolerances relative to the loss itself
        Pq = sp.csc_matrix((np.ones(n), (np.arange(iy, iy + n), np.arange(iy, iy + n))), shape=(nvar, nvar))
        b0 = -y
    else:
        b0 = np.zeros(n)
    rows.append(sp.hstack([sp.csc_matrix(-M), sp.csc_matrix((n, m)), sp.identity(n, format="csc"),
                           sp.csc_matrix((n, extra))], format="csc"))
    b.append(b0)
    cones.append(clarabel.ZeroConeT(n))
    jj, kk = np.nonzero(sgn)
    nrow = len(jj)
    coef = -(sgn[jj, kk][:, None] * R[kk])  # slack = sgn R_k' z_j >= 0
    Ac = sp.csc_matrix((coef.ravel(), (np.repeat(np.arange(nrow), d), (jj[:, None] * d + np.arange(d)).ravel())),
                       shape=(nrow, nvar))
    rows.append(Ac)
    b.append(np.zeros(nrow))
    ie = iy + n
    i_n = np.arange(n)
    if loss.name == "hinge":  # e >= 1 - y yhat, e >= 0
        q[ie:ie + n] = 1.0
        rows.append(sp.csc_matrix((np.concatenate([-np.ones(n), -y, -np.ones(n)]),
                                   (np.concatenate([i_n, i_n, n + i_n]), np.concatenate([ie + i_n, iy + i_n, ie + i_n]))),
                                  shape=(2 * n, nvar)))
        b.append(np.concatenate([-np.ones(n), np.zeros(n)]))
        cones.append(clarabel.NonnegativeConeT(nrow + 2 * n))
    elif loss.name == "logistic":  # s_i >= log(1 + exp(-y_i yhat_i)): u1 >= e^-s, u2 >= e^(-y yhat - s), u1 + u2 <= 1
        i_s, i_u1, i_u2 = ie, ie + n, ie + 2 * n
        q[i_s:i_s + n] = 1.0
        rows.append(sp.csc_matrix((np.ones(2 * n), (np.repeat(i_n, 2), np.stack([i_u1 + i_n, i_u2 + i_n], 1).ravel())),
                                  shape=(n, nvar)))
        b.append(np.ones(n))
        cones.append(clarabel.NonnegativeConeT(nrow + n))
    else:
        cones.append(clarabel.NonnegativeConeT(nrow))
    # (t_j, z_j) in the second-order cone
    cc = np.concatenate([(it + np.arange(m))[:, None], np.arange(m * d).reshape(m, d)], axis=1).ravel()
    rows.append(sp.csc_matrix((-np.ones(m * (d + 1)), (np.arange(m * (d + 1)), cc)), shape=(m * (d + 1), nvar)))
    b.append(np.zeros(m * (d + 1)))
    cones += [clarabel.SecondOrderConeT(d + 1)] * m
    if loss.name == "logistic":
        r0 = np.arange(n) * 3
        vals, rr, cl = [], [], []
        # cone 1: (-s, 1, u1);  cone 2: (-y yhat - s, 1, u2)   (Clarabel: (x, y, z) with y e^(x/y) <= z)
        rr += [r0, r0 + 2]
        cl += [i_s + i_n, i_u1 + i_n]
        vals += [np.ones(n), -np.ones(n)]
        rr += [3 * n + r0, 3 * n + r0, 3 * n + r0 + 2]
        cl += [iy + i_n, i_s + i_n, i_u2 + i_n]
        vals += [y, np.ones(n), -np.ones(n)]
        rows.append(sp.csc_matrix((np.concatenate(vals), (np.concatenate(rr), np.concatenate(cl))), shape=(6 * n, nvar)))
        be = np.zeros(6 * n)
        be[1::3] = 1.0
        b.append(be)
        cones += [clarabel.ExponentialConeT()] * (2 * n)
    settings = clarabel_settings(tol)
    settings.iterative_refinement_enable = refine
    solver = clarabel.DefaultSolver(Pq, q, sp.vstack(rows, format="csc"), np.concatenate(b), cones, settings)
    sol = solver.solve()
    x = np.asarray(sol.x)
    Z = x[:nz].reshape(m, d)
    yhat = np.einsum("mnd,md->n", A, Z)
    # the multipliers of yhat = sum_j A_j z_j are lambda = -grad L: accurate to the solver's
    # tolerance, where -grad L at the primal point is only as accurate as its square root
    lam = np.asarray(sol.z)[:n].copy()
    return Z, yhat, lam, str(sol.status)
