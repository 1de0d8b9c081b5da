"""Nonconvex training of the two-layer network by gradient methods, in numpy.

The objective minimised is exactly :meth:`cvx_core.model.TwoLayerNet.objective` (docs/math.md
section 2), summed over samples (not averaged):

    F(U, alpha) = L( sigma(Xb U') alpha, y ) + (beta / 2) (||U||_F^2 + ||alpha||^2),

with ``Xb = [X, 1]`` when ``bias`` (the bias is the last coordinate of each hidden weight and is
regularised like the others). Its gradient and stationarity are :mod:`cvx_core.gradients`'.

Optimisers (the step size ``lr`` multiplies the gradient of F itself):

- ``"gd"``: full-batch gradient descent, ``theta <- theta - lr grad F``.
- ``"sgd"``: mini-batch SGD; a batch B of the data (a fresh permutation per epoch, seeded by
  ``(seed, epoch)``) gives the unbiased estimate ``(n / |B|) grad L_B + beta theta``.
- ``"adam"``: Adam (beta1 = 0.9, beta2 = 0.999, eps = 1e-8, bias-corrected) on the same
  gradient (full batch, or mini-batches when ``batch_size < n``). Weight decay is part of the
  gradient (the objective above), not decoupled.

Step sizes: ``lr`` is constant, or with ``lr_halflife = H`` halves every H steps
(``lr_t = lr 2^(-(t-1)/H)`` at global step t). A piecewise-linear network's optima sit on kinks
(data points on a neuron's hyperplane), where a fixed step hops across instead of settling;
a decaying step lets the iterates settle.

Stationarity (:func:`cvx_core.gradients.stationarity`): with ``tol``, training stops each run
once its stationarity, polled every ``report_every`` steps, is at most ``tol``
(``stationary_at``).

Initialisation (seeded): ``U_ij ~ init_scale N(0, 1/d')``, ``alpha_j ~ init_scale N(0, 1/m)``.

Several runs (learning rates x seeds) are trained together as one numpy tensor of shape
(R, m, d') by :func:`train_runs`; a run that diverges there is frozen and flagged, while
:func:`train_sgd` and :func:`resume_training` raise ``ValueError`` with advice.

Symbols: ``X (n, d)`` raw data, ``y (n,)``, ``U (m, d')`` hidden weights, ``alpha (m,)``
output weights, ``beta`` weight decay, ``m`` the width.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from .gradients import (  # noqa: F401 - objective_and_gradient, gradient_norm, stationarity: public here too
    KINK_TOL,
    RunObjective,
    check_scalar_target,
    gradient_norm,
    objective_and_gradient,
    stationarity,
    weights_stationarity,
)
from .model import TwoLayerNet, add_bias, make_activation, make_loss
from .validation import check_beta, check_Xy, positive_float

OPTIMIZERS = ("gd", "sgd", "adam")
ADAM_B1, ADAM_B2, ADAM_EPS = 0.9, 0.999, 1e-8
#: A run has diverged when its objective is not finite or exceeds this factor times
#: max(1, initial objective).
DIVERGENCE_FACTOR = 1e8


@dataclass(frozen=True)
class TrainingHistory:
    """One nonconvex training run.

    Attributes
    ----------
    objective : ndarray of shape (T + 1,)
        Full objective F after each step (index 0: the initialisation). A diverged run of
        :func:`train_runs` stops at its last finite point.
    grad_norm : ndarray of shape (T + 1,)
        Norm of the full gradient of F at the same points.
    network : TwoLayerNet
        Final weights.
    initial : TwoLayerNet
        Initial weights (a reset restarts from these).
    wall_time : float
        Seconds spent training, summed over resumed chunks. Runs trained together by
        :func:`train_runs` each carry the elapsed time of the whole batch (``n_batched`` runs).
    beta, optimizer, lr, batch_size, init_scale, seed, loss : the settings
        ``batch_size`` is the number of samples per step (n for full batch).
    moments : tuple of ndarray
        Adam's first and second moments ``(m_U, m_alpha, v_U, v_alpha)``; empty otherwise.
    stopped : bool
        True when ``should_stop`` ended the run early.
    diverged_at : int
        Step at which the run diverged, or -1.
    stationary_at : int
        Step at which the run reached the stationarity tolerance ``tol`` and stopped, or -1.
    lr_halflife : int or None
        Steps over which the learning rate halves (None: constant).
    stationarity : float
        :func:`stationarity` at the final weights.
    n_batched : int
        Number of runs trained in the same tensor.
    last_flip : ndarray of int, shape (n, m)
        Last step at which the pattern bit ``1[x~_k' u_j >= 0]`` changed (0: never). Bits that
        keep flipping late in a run mark points on a kink, where fixed-step gradient descent
        hops across instead of converging.
    """

    objective: np.ndarray
    grad_norm: np.ndarray
    network: TwoLayerNet
    initial: TwoLayerNet
    wall_time: float
    beta: float
    optimizer: str
    lr: float
    batch_size: int
    init_scale: float
    seed: int
    loss: str
    moments: tuple = ()
    stopped: bool = False
    diverged_at: int = -1
    stationary_at: int = -1
    lr_halflife: int | None = None
    stationarity: float = float("nan")
    n_batched: int = 1
    last_flip: np.ndarray | None = None
    info: dict = field(default_factory=dict, compare=False)

    @property
    def n_steps(self) -> int:
        return int(self.objective.shape[0] - 1)

    @property
    def final_objective(self) -> float:
        return float(self.objective[-1])

    @property
    def width(self) -> int:
        return self.network.n_neurons

    @property
    def diverged(self) -> bool:
        return self.diverged_at >= 0

    @property
    def stationary(self) -> bool:
        return self.stationary_at >= 0

    def recent_flips(self, window: int) -> np.ndarray:
        """(n, m) bool: pattern bits that changed within the last ``window`` steps."""
        if self.last_flip is None:
            return np.zeros((0, self.width), dtype=bool)
        return self.last_flip > max(self.n_steps - int(window), 0)


# --------------------------------------------------------------------------- validation
def _positive_int(name: str, v, lo: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"expected {name} as an integer >= {lo}, got {v!r}")
    return int(v)


def _settings(n, optimizer, batch_size, steps, epochs):
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"expected optimizer in {OPTIMIZERS}, got {optimizer!r}")
    if optimizer == "gd" or batch_size is None:
        B = n
    else:
        B = min(_positive_int("batch_size", batch_size), n)
    if (steps is None) == (epochs is None):
        raise ValueError("expected exactly one of steps or epochs")
    if steps is not None:
        T = _positive_int("steps", steps, 0)
    else:
        T = _positive_int("epochs", epochs, 0) * (-(-n // B))
    return B, T


def initial_weights(n_inputs: int, width: int, *, bias: bool = True, init_scale: float = 1.0,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded initialisation: ``U (m, d')`` with entries ``init_scale N(0, 1/d')`` and
    ``alpha (m,)`` with entries ``init_scale N(0, 1/m)``."""
    width = _positive_int("width", width)
    init_scale = positive_float("init_scale", init_scale)
    d = int(n_inputs) + int(bias)
    rng = np.random.default_rng(seed)
    U = init_scale * rng.standard_normal((width, d)) / np.sqrt(d)
    alpha = init_scale * rng.standard_normal(width) / np.sqrt(width)
    return U, alpha


# --------------------------------------------------------------------------- the loop
def _epoch_permutations(n, seeds, epoch):
    """Each run's order of the data in an epoch, (R, n): seeded by (seed, epoch) only."""
    return np.stack([np.random.default_rng([int(s), int(epoch)]).permutation(n) for s in seeds])


def _batch_indices(n, B, seeds, step, cache=None):
    """Rows of each run's mini-batch at a global step: (R, b) ints (b = B except at epoch ends).

    ``cache`` (a dict) keeps the current epoch's permutations between steps.
    """
    epoch, k = divmod(step, -(-n // B))
    if cache is None or cache.get("epoch") != epoch:
        perms = _epoch_permutations(n, seeds, epoch)
        if cache is not None:
            cache.update(epoch=epoch, perms=perms)
    else:
        perms = cache["perms"]
    return perms[:, k * B:(k + 1) * B]


def _run(Xb, y, beta, act, lossf, U, A, lrs, optimizer, B, T, seeds, t0, moments, last_flip, *,
         callback, should_stop, report_every, raise_on_divergence, lr_halflife=None, tol=None):
    """Advance R runs by T steps from global step ``t0``. Returns the trajectory and state.

    ``last_flip`` (R, n, m) int or None: last step at which each pattern bit
    ``1[x~_k' u_j >= 0]`` changed (0: never); updated in place of a copy and returned.
    A run whose stationarity falls to ``tol`` is frozen there like a diverged one.
    """
    R = U.shape[0]
    n = Xb.shape[0]
    lr = np.asarray(lrs, dtype=float)
    obj = np.full((R, T + 1), np.nan)
    gnorm = np.full((R, T + 1), np.nan)
    fb = RunObjective(beta, act, lossf)
    F, gU, gA = fb(Xb, y, U, A)
    obj[:, 0] = F
    prev = fb.last_pos.copy()
    flipped = np.empty_like(prev)
    last_flip = np.zeros(prev.shape, dtype=np.int64) if last_flip is None else last_flip.copy()
    gnorm[:, 0] = np.sqrt(np.sum(gU**2, axis=(1, 2)) + np.sum(gA**2, axis=1))
    limit = DIVERGENCE_FACTOR * np.maximum(1.0, F)
    alive = np.isfinite(F)
    diverged_at = np.where(alive, -1, t0)
    stationary_at = np.full(R, -1)
    adam = optimizer == "adam"
    if adam:
        mU, mA, vU, vA = moments if moments else (np.zeros_like(U), np.zeros_like(A), np.zeros_like(U), np.zeros_like(A))
    stochastic = B < n
    perm_cache: dict = {}
    done = 0
    stopped = False
    for s in range(1, T + 1):
        t = t0 + s  # global step number after this update
        if stochastic:
            idx = _batch_indices(n, B, seeds, t - 1, perm_cache)
            _, dU, dA = fb(Xb[idx], y[idx], U, A, scale=n / idx.shape[1])
        else:
            dU, dA = gU, gA
        if adam:
            mU = ADAM_B1 * mU + (1 - ADAM_B1) * dU
            mA = ADAM_B1 * mA + (1 - ADAM_B1) * dA
            vU = ADAM_B2 * vU + (1 - ADAM_B2) * dU**2
            vA = ADAM_B2 * vA + (1 - ADAM_B2) * dA**2
            c1, c2 = 1 - ADAM_B1**t, 1 - ADAM_B2**t
            stepU = (mU / c1) / (np.sqrt(vU / c2) + ADAM_EPS)
            stepA = (mA / c1) / (np.sqrt(vA / c2) + ADAM_EPS)
        else:
            stepU, stepA = dU, dA
        lr_t = lr if lr_halflife is None else lr * 0.5 ** ((t - 1) / lr_halflife)
        Un = U - lr_t[:, None, None] * stepU
        An = A - lr_t[:, None] * stepA
        with np.errstate(over="ignore", invalid="ignore"):
            Fn, gUn, gAn = fb(Xb, y, Un, An)
        bad = alive & ~(np.isfinite(Fn) & (Fn <= limit))
        if np.any(bad):
            if raise_on_divergence:
                r = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"training diverged at step {t} (objective {Fn[r]:.3g}) with optimizer "
                    f"{optimizer!r} at learning rate {lr[r]:g}: lower the learning rate "
                    f"(e.g. to {lr[r] / 10:g}) or the init scale"
                )
            diverged_at[bad] = t
            alive &= ~bad
        np.not_equal(fb.last_pos, prev, out=flipped)
        if not np.all(alive):
            flipped &= alive[:, None, None]
        np.putmask(last_flip, flipped, t)
        np.copyto(prev, fb.last_pos)
        if np.all(alive):
            U, A, gU, gA = Un, An, gUn, gAn
        else:  # diverged runs stay frozen at their last finite point
            U = np.where(alive[:, None, None], Un, U)
            A = np.where(alive[:, None], An, A)
            gU = np.where(alive[:, None, None], gUn, gU)
            gA = np.where(alive[:, None], gAn, gA)
        obj[:, s] = np.where(alive, Fn, np.nan)
        gnorm[:, s] = np.where(alive, np.sqrt(np.sum(gUn**2, axis=(1, 2)) + np.sum(gAn**2, axis=1)), np.nan)
        done = s
        if s % report_every == 0 or s == T:
            if tol is not None:
                for r in np.flatnonzero(alive):
                    if weights_stationarity(Xb, y, beta, act, lossf, U[r], A[r], KINK_TOL) <= tol:
                        stationary_at[r] = t
                        alive[r] = False
                if not np.any(alive):
                    break
            if callback is not None:
                callback(t, obj[:, s] if R > 1 else float(obj[0, s]))
            if should_stop is not None and s < T and should_stop():
                stopped = True
                break
    out_moments = (mU, mA, vU, vA) if adam else ()
    return (U, A, obj[:, : done + 1], gnorm[:, : done + 1], out_moments, diverged_at, stopped, last_flip,
            stationary_at)


def _prepare(X, y, beta, loss, activation, leak):
    lossf = make_loss(loss)
    act = make_activation(activation, leak)
    X, y = check_Xy(X, y, lossf.name)
    check_scalar_target(y)
    return X, y, check_beta(beta), lossf, act


def train_runs(X, y, beta, *, seeds=(0,), lrs=(0.01,), width: int = 50, activation: str = "relu",
               leak: float = 0.1, loss: str = "squared", bias: bool = True, optimizer: str = "gd",
               steps: int | None = None, epochs: int | None = None, batch_size: int | None = None,
               init_scale: float = 1.0, lr_halflife: int | None = None, tol: float | None = None,
               callback: Callable | None = None, should_stop: Callable[[], bool] | None = None,
               report_every: int = 50) -> list[TrainingHistory]:
    """Train every (learning rate, seed) pair in one batched numpy tensor.

    Minimises ``F(U, alpha) = L(sigma(Xb U') alpha, y) + (beta/2)(||U||^2 + ||alpha||^2)``
    (module docstring) from the seeded initialisation of each seed.

    Parameters
    ----------
    X : array_like of shape (n, d)
    y : array_like of shape (n,)
        Labels -1/+1 for the logistic and hinge losses.
    beta : float
    seeds, lrs : sequences
        Runs are ordered ``[(lr, seed) for lr in lrs for seed in seeds]``.
    width : int
    activation, leak, loss, bias : as in :func:`cvx_core.fit_convex`
    optimizer : {"gd", "sgd", "adam"}
    steps, epochs : int
        Exactly one: parameter updates, or passes over the data (``ceil(n / batch_size)``
        updates each).
    batch_size : int, optional
        Samples per step for "sgd" and "adam" (default: full batch); ignored by "gd".
    init_scale : float
    lr_halflife : int, optional
        The learning rate halves every ``lr_halflife`` steps (default: constant).
    tol : float, optional
        Stop each run once its :func:`stationarity` is at most ``tol`` (polled every
        ``report_every`` steps); ``steps`` or ``epochs`` is then the most it may take.
    callback : callable(step, objectives (R,)), optional
        Called every ``report_every`` steps.
    should_stop : callable() -> bool, optional
        Polled every ``report_every`` steps; True ends every run early (``stopped=True``).

    Returns
    -------
    list of TrainingHistory
        One per run. A run that diverges is frozen at its last finite point with
        ``diverged_at`` set, one that reaches ``tol`` at that point with ``stationary_at``
        set; the others continue.

    Raises
    ------
    ValueError
        Bad input or settings.
    """
    X, y, beta, lossf, act = _prepare(X, y, beta, loss, activation, leak)
    n = X.shape[0]
    B, T = _settings(n, optimizer, batch_size, steps, epochs)
    lr_halflife, tol = _schedule(lr_halflife, tol)
    pairs = [(positive_float("lr", lr), int(seed)) for lr, seed in itertools.product(lrs, seeds)]
    if not pairs:
        raise ValueError("expected at least one learning rate and one seed")
    init = {s: initial_weights(X.shape[1], width, bias=bias, init_scale=init_scale, seed=s) for s in set(seeds)}
    U0 = np.stack([init[s][0] for _, s in pairs])
    A0 = np.stack([init[s][1] for _, s in pairs])
    Xb = add_bias(X, bias)
    t_start = time.perf_counter()
    U, A, obj, gn, moments, div, stopped, flips, stat = _run(
        Xb, y, beta, act, lossf, U0, A0, [lr for lr, _ in pairs], optimizer, B, T, [s for _, s in pairs], 0, (), None,
        callback=callback, should_stop=should_stop, report_every=report_every, raise_on_divergence=False,
        lr_halflife=lr_halflife, tol=tol)
    wall = time.perf_counter() - t_start
    out = []
    for r, (lr, seed) in enumerate(pairs):
        last = div[r] if div[r] >= 0 else stat[r] + 1 if stat[r] >= 0 else obj.shape[1]
        out.append(TrainingHistory(
            objective=obj[r, :last].copy(), grad_norm=gn[r, :last].copy(),
            network=TwoLayerNet(U[r], A[r], act.name, float(leak), bool(bias)),
            initial=TwoLayerNet(U0[r], A0[r], act.name, float(leak), bool(bias)),
            wall_time=wall, beta=beta, optimizer=optimizer, lr=lr, batch_size=B, init_scale=float(init_scale),
            seed=seed, loss=lossf.name, moments=tuple(mm[r] for mm in moments), stopped=stopped,
            diverged_at=int(div[r]), stationary_at=int(stat[r]), lr_halflife=lr_halflife, n_batched=len(pairs),
            last_flip=flips[r], stationarity=weights_stationarity(Xb, y, beta, act, lossf, U[r], A[r], KINK_TOL)))
    return out


def train_sgd(X, y, beta, *, width: int = 50, activation: str = "relu", leak: float = 0.1,
              loss: str = "squared", bias: bool = True, optimizer: str = "gd", lr: float = 0.01,
              steps: int | None = None, epochs: int | None = None, batch_size: int | None = None,
              init_scale: float = 1.0, seed: int = 0, init: TwoLayerNet | None = None,
              lr_halflife: int | None = None, tol: float | None = None, callback: Callable | None = None,
              should_stop: Callable[[], bool] | None = None, report_every: int = 50) -> TrainingHistory:
    """Train one network by minimising the nonconvex objective (module docstring).

    Parameters are those of :func:`train_runs` for a single ``lr`` and ``seed``; ``init``
    (a :class:`TwoLayerNet` with the same activation and bias) replaces the seeded
    initialisation. ``steps`` defaults to 2 000 when neither steps nor epochs is given.

    Returns
    -------
    TrainingHistory

    Raises
    ------
    ValueError
        Bad input, or divergence (NaN/inf or a blow-up of the objective): the message names
        the step and suggests a lower learning rate.
    """
    X, y, beta, lossf, act = _prepare(X, y, beta, loss, activation, leak)
    n = X.shape[0]
    if steps is None and epochs is None:
        steps = 2000
    B, T = _settings(n, optimizer, batch_size, steps, epochs)
    lr = positive_float("lr", lr)
    lr_halflife, tol = _schedule(lr_halflife, tol)
    if init is None:
        U0, A0 = initial_weights(X.shape[1], width, bias=bias, init_scale=init_scale, seed=seed)
    else:
        if not isinstance(init, TwoLayerNet):
            raise TypeError(f"expected init as a TwoLayerNet, got {type(init).__name__}")
        if init.bias != bool(bias) or init.n_inputs != X.shape[1] or init.alpha.ndim != 1:
            raise ValueError(f"expected init with bias={bool(bias)}, {X.shape[1]} inputs and scalar output")
        U0, A0 = init.U.copy(), init.alpha.copy()
    start = TrainingHistory(
        objective=np.zeros(0), grad_norm=np.zeros(0), network=TwoLayerNet(U0, A0, act.name, float(leak), bool(bias)),
        initial=TwoLayerNet(U0, A0, act.name, float(leak), bool(bias)), wall_time=0.0, beta=beta,
        optimizer=optimizer, lr=lr, batch_size=B, init_scale=float(init_scale), seed=int(seed), loss=lossf.name,
        lr_halflife=lr_halflife)
    return _continue(start, X, y, T, callback, should_stop, report_every, tol)


def resume_training(history: TrainingHistory, X, y, steps: int, *, tol: float | None = None,
                    callback: Callable | None = None, should_stop: Callable[[], bool] | None = None,
                    report_every: int = 50) -> TrainingHistory:
    """Continue a run by ``steps`` more updates with its own settings and optimiser state.

    Chunks reproduce one long run exactly (the mini-batch order depends only on the seed and
    the epoch, the learning rate only on the global step). The returned history holds the
    whole trajectory. With ``tol``, the run stops once its :func:`stationarity` is at most
    ``tol`` (polled every ``report_every`` steps, counted from the chunk's start).

    Raises
    ------
    ValueError
        Bad input, or divergence (with advice, as :func:`train_sgd`).
    """
    if not isinstance(history, TrainingHistory):
        raise TypeError(f"expected a TrainingHistory, got {type(history).__name__}")
    net = history.network
    X, y, _, _, _ = _prepare(X, y, history.beta, history.loss, net.activation, net.leak)
    if X.shape[1] != net.n_inputs:
        raise ValueError(f"expected X with {net.n_inputs} feature columns for this run, got {X.shape[1]}")
    _, tol = _schedule(None, tol)
    return _continue(history, X, y, _positive_int("steps", steps, 0), callback, should_stop, report_every, tol)


def _schedule(lr_halflife, tol):
    if lr_halflife is not None:
        lr_halflife = _positive_int("lr_halflife", lr_halflife)
    if tol is not None:
        tol = positive_float("tol", tol)
    return lr_halflife, tol


def _continue(h: TrainingHistory, X, y, T, callback, should_stop, report_every, tol=None) -> TrainingHistory:
    net = h.network
    Xb = add_bias(X, net.bias)
    t0 = max(h.n_steps, 0)
    t_start = time.perf_counter()
    U, A, obj, gn, moments, _, stopped, flips, stat = _run(
        Xb, y, h.beta, net.sigma, make_loss(h.loss), net.U[None], net.alpha[None], [h.lr], h.optimizer,
        h.batch_size, T, [h.seed], t0, tuple(mm[None] for mm in h.moments),
        None if h.last_flip is None else h.last_flip[None],
        callback=callback, should_stop=should_stop, report_every=report_every, raise_on_divergence=True,
        lr_halflife=h.lr_halflife, tol=tol)
    wall = time.perf_counter() - t_start
    keep = 1 if h.objective.size else 0  # the chunk's first point repeats the previous last point
    return replace(
        h, objective=np.concatenate([h.objective, obj[0, keep:]]), grad_norm=np.concatenate([h.grad_norm, gn[0, keep:]]),
        network=TwoLayerNet(U[0], A[0], net.activation, net.leak, net.bias), wall_time=h.wall_time + wall,
        moments=tuple(mm[0] for mm in moments), stopped=stopped, last_flip=flips[0],
        stationary_at=int(stat[0]) if stat[0] >= 0 else h.stationary_at,
        stationarity=weights_stationarity(Xb, y, h.beta, net.sigma, make_loss(h.loss), U[0], A[0], KINK_TOL))
