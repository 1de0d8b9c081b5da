"""Gradient training of two-layer CNNs on the objective of :class:`cvx_core.cnn.ConvNet`.

The nonconvex baseline of the Convolutional networks page: GD, SGD (mini-batches) or Adam on
``F(U, alpha) = L(f(X), y) + (beta/2)(||U||^2 + ||alpha||^2)``, every (learning rate, seed) pair
batched in one tensor, in the conventions of :mod:`cvx_core.sgd` (bias-corrected Adam, weight
decay in the gradient, divergence frozen and flagged).
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from .convnet import CNN_OPTIMIZERS, ConvNet, check_int, check_signals, check_targets, patches, pool_factor
from .model import Activation, Loss, make_activation, make_loss
from .gradients import loss_values
from .sgd import ADAM_B1, ADAM_B2, ADAM_EPS, DIVERGENCE_FACTOR, TrainingHistory
from .validation import check_beta, positive_float


class _Pass:
    """Objective and gradient of R CNNs at once, on ``P3`` (n, K, h'); the (R, nK, m) arrays of a
    step are written into buffers kept between steps (allocating them anew each step cost 3x the
    arithmetic in processes whose allocator returns freed memory to the system)."""

    def __init__(self, P3, beta, act: Activation, lossf: Loss, p):
        self.n, self.K, self.h = P3.shape
        self.P2 = P3.reshape(self.n * self.K, self.h)
        self.beta, self.act, self.lossf, self.p = beta, act, lossf, p
        self._buf: dict = {}

    def _buffers(self, shape):  # per shape: the full data and a mini-batch each keep their own
        if shape not in self._buf:
            self._buf[shape] = (np.empty(shape), np.empty(shape))
        return self._buf[shape]

    def __call__(self, y, theta, rows=None):
        """(F (R,), its gradient) at ``theta`` (R, m, h' + 1) = [U, alpha] of R networks;
        ``rows``: only these samples."""
        U, A = theta[:, :, :-1], theta[:, :, -1]
        R, m, _ = U.shape
        if rows is None:
            n, P2 = self.n, self.P2
        else:
            n = len(rows)
            P2 = self.P2.reshape(self.n, self.K, self.h)[rows].reshape(n * self.K, self.h)
        pre, slope = self._buffers((R, n * self.K, m))
        a, b, p, beta, lossf = self.act.a, self.act.b, self.p, self.beta, self.lossf
        np.matmul(P2, U.transpose(0, 2, 1), out=pre)
        np.greater_equal(pre, 0.0, out=slope)  # as 1.0 / 0.0: float products are the fast ones
        if a != 1 or b != 0:
            slope *= a - b
            slope += b
        pre *= slope  # sigma(pre)
        Hd = p * np.einsum("rnkm->rnm", pre.reshape(R, n, self.K, m))  # (R, n, m)
        yhat = (Hd @ A[:, :, None])[:, :, 0]
        g = -lossf.dual_variable(yhat, y)
        F = loss_values(lossf, yhat, y) + 0.5 * beta * (np.sum(U**2, axis=(1, 2)) + np.sum(A**2, axis=1))
        grad = beta * theta
        grad[:, :, -1] += (g[:, None, :] @ Hd)[:, 0, :]
        W = (p * g)[:, :, None] * A[:, None, :]  # (R, n, m): dF/d sigma(pre), shared by a sample's patches
        s4 = slope.reshape(R, n, self.K, m)
        s4 *= W[:, :, None, :]
        grad[:, :, :-1] += slope.transpose(0, 2, 1) @ P2
        return F, grad


def train_cnn_runs(X, y, beta, *, filter_size: int, stride: int = 1, pooling: str = "sum", seeds=(0,),
                   lrs=(0.01,), width: int = 8, activation: str = "relu", leak: float = 0.1,
                   loss: str = "squared", bias: bool = True, optimizer: str = "adam", steps: int = 1000,
                   init_scale: float = 1.0, batch_size: int | None = None, callback: Callable | None = None,
                   report_every: int = 100) -> list[TrainingHistory]:
    """Train every (learning rate, seed) pair of CNNs together on the objective
    ``F(U, alpha) = L(f(X), y) + (beta/2)(||U||^2 + ||alpha||^2)`` of :class:`ConvNet`.

    ``batch_size``: full batch when None (or >= n); otherwise each step uses a random batch of
    that many samples (without replacement, seeded by the first seed, shared by the runs), the
    loss's gradient scaled by n / batch_size so that it is unbiased (the loss is summed). The
    recorded objective and gradient norm are always the full ones.

    ``callback(step, objectives (R,))``, when given, is called every ``report_every`` steps and
    after the last (a progress bar; raising from it ends the training).

    Gradient descent (``"gd"``) or Adam (``"adam"``, as in :mod:`cvx_core.sgd`: bias-corrected,
    weight decay in the gradient). Initialisation (seeded): ``U_ij ~ init_scale N(0, 1/h')``,
    ``alpha_j ~ init_scale N(0, 1/m)``. Runs are ordered ``[(lr, seed) for lr in lrs for seed
    in seeds]``; a run that diverges (objective not finite or above ``DIVERGENCE_FACTOR`` times
    its start) is frozen at its last finite point with ``diverged_at`` set.

    Returns
    -------
    list of TrainingHistory
        ``network`` and ``initial`` are :class:`ConvNet`; ``last_flip`` is None.
    """
    lossf = make_loss(loss)
    act = make_activation(activation, leak)
    X = check_signals(X)
    y = check_targets(y, X.shape[0], lossf.name)
    beta = check_beta(beta)
    if optimizer not in CNN_OPTIMIZERS:
        raise ValueError(f"expected optimizer in {CNN_OPTIMIZERS}, got {optimizer!r}")
    width = check_int("width", width, 1)
    T = check_int("steps", steps, 0)
    report_every = check_int("report_every", report_every, 1)
    init_scale = positive_float("init_scale", init_scale)
    pairs = [(positive_float("lr", lr), int(s)) for lr in lrs for s in seeds]
    if not pairs:
        raise ValueError("expected at least one learning rate and one seed")
    ConvNet(np.zeros((0, 1)), np.zeros(0), filter_size, stride, pooling, act.name, leak, bias)  # checks the settings
    P3 = patches(X, filter_size, stride)
    if bias:
        P3 = np.concatenate([P3, np.ones(P3.shape[:2] + (1,))], axis=2)
    dim, K = P3.shape[2], P3.shape[1]
    p = pool_factor(pooling, K)
    U0, A0 = [], []
    for _, s in pairs:
        rng = np.random.default_rng(s)
        U0.append(init_scale * rng.standard_normal((width, dim)) / np.sqrt(dim))
        A0.append(init_scale * rng.standard_normal(width) / np.sqrt(width))
    # one array of parameters per run, [U, alpha] (R, m, h' + 1): each optimizer update is one
    # array operation instead of two
    theta = np.concatenate([np.array(U0), np.array(A0)[:, :, None]], axis=2)
    lr = np.array([q for q, _ in pairs])[:, None, None]
    R = len(pairs)
    obj = np.full((R, T + 1), np.nan)
    gnorm = np.full((R, T + 1), np.nan)
    t_start = time.perf_counter()
    n = P3.shape[0]
    B = n if batch_size is None else min(check_int("batch_size", batch_size, 1), n)
    batches = np.random.default_rng(pairs[0][1])

    def step_gradient(theta, g):
        """The step's gradient: the full one, or a batch's with its loss part scaled by n / B."""
        if B == n:
            return g
        idx = batches.choice(n, B, replace=False)
        _, b = grad(y[idx], theta, rows=idx)
        return (n / B) * (b - beta * theta) + beta * theta

    grad = _Pass(P3, beta, act, lossf, p)
    F, g = grad(y, theta)
    obj[:, 0], gnorm[:, 0] = F, np.sqrt(np.sum(g**2, axis=(1, 2)))
    limit = DIVERGENCE_FACTOR * np.maximum(1.0, F)
    alive = np.isfinite(F)
    diverged = np.where(alive, -1, 0)
    m1, v2 = np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, T + 1):
        q = step_gradient(theta, g)
        if optimizer == "adam":
            m1 = ADAM_B1 * m1 + (1 - ADAM_B1) * q
            v2 = ADAM_B2 * v2 + (1 - ADAM_B2) * q**2
            c1, c2 = 1 - ADAM_B1**t, 1 - ADAM_B2**t
            q = (m1 / c1) / (np.sqrt(v2 / c2) + ADAM_EPS)
        new = theta - lr * q
        with np.errstate(over="ignore", invalid="ignore"):
            Fn, gn = grad(y, new)
        bad = alive & ~(np.isfinite(Fn) & (Fn <= limit))
        if bad.any():
            diverged[bad] = t
            alive &= ~bad
        if alive.all():
            theta, g = new, gn
            obj[:, t] = Fn
            gnorm[:, t] = np.sqrt(np.sum(gn**2, axis=(1, 2)))
        else:
            theta = np.where(alive[:, None, None], new, theta)
            g = np.where(alive[:, None, None], gn, g)
            obj[:, t] = np.where(alive, Fn, np.nan)
            gnorm[:, t] = np.where(alive, np.sqrt(np.sum(gn**2, axis=(1, 2))), np.nan)
        if callback is not None and (t % report_every == 0 or t == T):
            callback(t, obj[:, t])
    wall = time.perf_counter() - t_start
    out = []
    for r, (q, s) in enumerate(pairs):
        last = T + 1 if diverged[r] < 0 else diverged[r]
        mk = lambda Uc, Ac: ConvNet(Uc, Ac, int(filter_size), int(stride), pooling, act.name, float(leak), bool(bias))  # noqa: E731
        out.append(TrainingHistory(
            objective=obj[r, :last].copy(), grad_norm=gnorm[r, :last].copy(), network=mk(theta[r, :, :-1].copy(), theta[r, :, -1].copy()),
            initial=mk(U0[r], A0[r]), wall_time=wall, beta=beta, optimizer=optimizer, lr=q, batch_size=B,
            init_scale=init_scale, seed=s, loss=lossf.name, diverged_at=int(diverged[r]), n_batched=R))
    return out


def train_sgd(X, y, beta, *, filter_size: int, batch_size: int = 10, lr: float = 0.01, seed: int = 0,
              optimizer: str = "gd", **kwargs) -> TrainingHistory:
    """One CNN trained by mini-batch SGD (``optimizer="gd"`` on random batches; ``"adam"`` for
    mini-batch Adam) on the objective of :class:`ConvNet`: :func:`train_cnn_runs` with one
    learning rate and seed (its other keywords pass through)."""
    return train_cnn_runs(X, y, beta, filter_size=filter_size, seeds=(seed,), lrs=(lr,), optimizer=optimizer,
                          batch_size=batch_size, **kwargs)[0]
