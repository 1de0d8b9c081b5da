"""The nonconvex objective of the two-layer network, its gradient and its stationarity.

The objective is exactly :meth:`cvx_core.model.TwoLayerNet.objective` (docs/math.md section 2),
summed over samples (not averaged):

    F(U, alpha) = L( sigma(Xb U') alpha, y ) + (beta / 2) (||U||_F^2 + ||alpha||^2),

with ``Xb = [X, 1]`` when ``bias``. Its gradient, with ``Z = Xb U'`` (n, m), ``lambda = -grad L``:

    grad_alpha = sigma(Z)' (-lambda) + beta alpha,
    grad_U     = ((-lambda) alpha' * sigma'(Z))' Xb + beta U,

where ``sigma'(z) = a`` for ``z >= 0`` and ``b`` otherwise (the ``>= 0`` convention of docs/math.md,
so at a kink this is one element of the Clarke subdifferential).

Stationarity. At a kink the gradient above (the ``>= 0`` convention) is one element of the
Clarke subdifferential and need not vanish even at the global optimum. :func:`stationarity`
measures the smallest element instead: every pair (point k, neuron j) with
``|x~_k' u_j| <= kink_tol ||x~_k|| ||u_j||`` may take any slope in ``[b, a]``, and

    stationarity = min ||(grad_U, grad_alpha)||  over those slopes

(one box-constrained least squares per neuron; ``grad_alpha`` does not depend on the slopes
since ``sigma`` is continuous). It is at most the gradient norm, and 0 at a Clarke-stationary
point whose kinks lie within ``kink_tol``.

The gradient methods that use these are in :mod:`cvx_core.sgd`.
"""
from __future__ import annotations

import numpy as np

from .model import Activation, Loss, TwoLayerNet, add_bias, make_loss
from .validation import check_Xy

#: Relative distance to a neuron's hyperplane within which :func:`stationarity` lets a point
#: take any slope (the iterates of a decaying step settle to about this distance).
KINK_TOL = 1e-3


def check_scalar_target(y: np.ndarray) -> None:
    """Nonconvex training and its objective take one target column."""
    if y.ndim != 1:
        raise ValueError(f"expected a target vector y of shape (n,) for nonconvex training, got shape {y.shape}")


def loss_values(lossf: Loss, yhat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-run loss of predictions (R, n): the same formulas as :meth:`Loss.value`."""
    if lossf.name == "squared":
        return 0.5 * np.sum((yhat - y) ** 2, axis=-1)
    if lossf.name == "logistic":
        return np.sum(np.logaddexp(0.0, -y * yhat), axis=-1)
    return np.sum(np.maximum(0.0, 1.0 - y * yhat), axis=-1)


class RunObjective:
    """Objective and gradient of R runs at once, with reusable (R, n, m) buffers.

    Reusing the buffers matters: fresh temporaries of a few hundred kB each step go through
    mmap/munmap in glibc, which costs more than the arithmetic.
    """

    def __init__(self, beta: float, act: Activation, lossf: Loss):
        self.beta, self.act, self.lossf = beta, act, lossf
        self._buf: dict = {}

    def _buffers(self, shape):
        if shape not in self._buf:
            self._buf[shape] = (np.empty(shape), np.empty(shape, dtype=bool), np.empty(shape), np.empty(shape))
        return self._buf[shape]

    def __call__(self, Xb, y, U, A, scale=1.0):
        """``Xb`` (n, d') shared or (R, n, d') per run, ``U`` (R, m, d'), ``A`` (R, m); the loss
        term is multiplied by ``scale`` (n / |batch| for a mini-batch). Returns (F (R,), gU, gA)."""
        act, beta = self.act, self.beta
        R, m, _ = U.shape
        Z, pos, S, G = self._buffers((R, Xb.shape[-2], m))
        np.matmul(Xb, U.transpose(0, 2, 1), out=Z)
        np.greater_equal(Z, 0.0, out=pos)
        self.last_pos = pos
        np.multiply(pos, act.a - act.b, out=S)  # slopes sigma'(Z) (the >= 0 convention)
        S += act.b
        np.multiply(Z, S, out=Z)  # Z now holds sigma(Z)
        yhat = (Z @ A[:, :, None])[:, :, 0]
        g = -self.lossf.dual_variable(yhat, y) * scale  # dL/dyhat, (R, n)
        F = scale * loss_values(self.lossf, yhat, y) + 0.5 * beta * (np.sum(U**2, axis=(1, 2)) + np.sum(A**2, axis=1))
        gA = (g[:, None, :] @ Z)[:, 0, :] + beta * A
        np.multiply(S, g[:, :, None], out=G)
        G *= A[:, None, :]
        gU = G.transpose(0, 2, 1) @ Xb + beta * U
        return F, gU, gA


def objective_and_gradient(net: TwoLayerNet, X, y, beta: float, loss: str = "squared"):
    """``F(U, alpha)`` of the module docstring and its gradient at the network's weights.

    Returns
    -------
    objective : float
    grad_U : ndarray of shape (m, d')
    grad_alpha : ndarray of shape (m,)
    """
    lossf = make_loss(loss)
    X, y = check_Xy(X, y, lossf.name)
    check_scalar_target(y)
    Xb = add_bias(X, net.bias)
    F, gU, gA = RunObjective(float(beta), net.sigma, lossf)(Xb, y, net.U[None], net.alpha[None])
    return float(F[0]), gU[0], gA[0]


def gradient_norm(net: TwoLayerNet, X, y, beta: float, loss: str = "squared") -> float:
    """Norm of the full gradient ``sqrt(||grad_U||^2 + ||grad_alpha||^2)``."""
    _, gU, gA = objective_and_gradient(net, X, y, beta, loss)
    return float(np.sqrt(np.sum(gU**2) + np.sum(gA**2)))


def stationarity(net: TwoLayerNet, X, y, beta: float, loss: str = "squared", kink_tol: float = KINK_TOL) -> float:
    """Norm of the smallest subgradient of F at the network (module docstring, "Stationarity").

    Points within ``kink_tol`` (relative) of a neuron's hyperplane may take any slope in
    ``[b, a]``. At most :func:`gradient_norm`; near 0 at a Clarke-stationary point, the global
    optimum included, where the gradient itself need not be small.
    """
    lossf = make_loss(loss)
    X, y = check_Xy(X, y, lossf.name)
    check_scalar_target(y)
    return weights_stationarity(add_bias(X, net.bias), y, float(beta), net.sigma, lossf, net.U, net.alpha, float(kink_tol))


def weights_stationarity(Xb, y, beta, act: Activation, lossf: Loss, U, A, kink_tol) -> float:
    """:func:`stationarity` on the design ``Xb`` and weights ``U`` (m, d'), ``A`` (m,) directly."""
    Z = Xb @ U.T
    S = np.where(Z >= 0, act.a, act.b)
    yhat = (Z * S) @ A
    g = -lossf.dual_variable(yhat, y)  # dL/dyhat
    gA = (Z * S).T @ g + beta * A
    scale = np.linalg.norm(Xb, axis=1)[:, None] * np.linalg.norm(U, axis=1)[None, :]
    kink = np.abs(Z) <= kink_tol * scale
    S0 = np.where(kink, act.b, S)  # kinks start at slope b; the least squares adds t (a - b), t in [0, 1]
    GU = ((g[:, None] * S0) * A[None, :]).T @ Xb + beta * U
    total = float(gA @ gA)
    for j in range(U.shape[0]):
        k = np.flatnonzero(kink[:, j])
        if k.size and A[j] != 0 and act.a != act.b:
            # scipy.optimize only when a point sits on a kink: importing it (with scipy.linalg)
            # cost a fresh server's first CNN page ~0.3 s, and its default runs have none
            from scipy.optimize import lsq_linear

            M = ((act.a - act.b) * A[j] * g[k])[None, :] * Xb[k].T  # (d', |k|)
            t = lsq_linear(M, -GU[j], bounds=(0.0, 1.0)).x
            r = GU[j] + M @ t
        else:
            r = GU[j]
        total += float(r @ r)
    return float(np.sqrt(total))
