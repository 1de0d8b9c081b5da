"""Cached computations and the training player of the SGD-versus-convex page.

- :func:`runs`: the comparison (learning rates x seeds), trained as one batched tensor and
  cached by the data arrays and the settings.
- The live run is a :class:`cvx_core.sgd.TrainingHistory` kept in ``st.session_state`` and
  advanced in chunks (:func:`tick`, :func:`step`), so a run never blocks the page and Pause
  stops it between chunks. Reset restarts from the same initialisation (it depends only on the
  seed); New seed draws another.
- :func:`analysis` and :func:`insertion`: the stationary-point view, cached by the network's
  weights.
"""
from __future__ import annotations

from dataclasses import astuple, dataclass, replace

import numpy as np
import streamlit as st

import cvx_core
from cvx_core.model import TwoLayerNet
from cvx_core.sgd import OPTIMIZERS, TrainingHistory, resume_training, train_runs, train_sgd
from cvx_core.stationary import Insertion, StationaryAnalysis, analyse_stationary, insert_violating_neuron

from . import cache
from .state import Controls, bind

LR_OPTIONS = ("0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3")
INIT_OPTIONS = (0.1, 0.3, 1.0, 3.0)
KINK_OPTIONS = (1e-8, 1e-6, 1e-4, 1e-2)
OPT_TITLES = {"gd": "Gradient descent (full batch)", "sgd": "SGD (mini-batch)", "adam": "Adam"}
#: A live run advances by steps // FRAMES per frame.
FRAMES = 20
LIVE, PLAYING, ERROR, INSERTS = "sgd_live", "sgd_playing", "sgd_error", "sgd_inserts"


# --------------------------------------------------------------------------- controls
def _parser(kind, lo=None, hi=None, options=None):
    def parse(raw: str):
        v = kind(float(raw)) if kind is int else kind(raw)
        if options is not None and v not in options:
            raise ValueError(raw)
        if lo is not None and not lo <= v <= hi:
            raise ValueError(raw)
        return v
    return parse


def _lr_list(raw: str) -> list:
    vals = [v for v in raw.split(",") if v]
    if not vals or any(v not in LR_OPTIONS for v in vals):
        raise ValueError(raw)
    return vals


def bind_controls() -> None:
    """Bind the page's own controls to the URL (keys prefixed ``sgd_``)."""
    bind("sgd_opt", "gd", _parser(str, options=OPTIMIZERS))
    bind("sgd_width", 50, _parser(int, 1, 200))
    bind("sgd_steps", 2000, _parser(int, 10, 20000))
    bind("sgd_lr", "0.003", _parser(str, options=LR_OPTIONS))
    bind("sgd_batch", 10, _parser(int, 1, 400))
    bind("sgd_init", 1.0, _parser(float, options=INIT_OPTIONS))
    bind("sgd_seed", 0, _parser(int, 0, 10_000))
    bind("sgd_lrs", ["0.003", "0.01"], _lr_list)
    bind("sgd_nseeds", 3, _parser(int, 1, 8))
    bind("sgd_run", "live", _parser(str))
    bind("sgd_kink", 1e-4, _parser(float, options=KINK_OPTIONS))


@dataclass(frozen=True)
class Setup:
    """Everything that fixes a training run except its length (hashable)."""

    data: tuple
    beta: float
    activation: str
    leak: float
    loss: str
    bias: bool
    optimizer: str
    width: int
    lr: float
    batch_size: int
    init_scale: float
    seed: int


def setup_for(c: Controls) -> Setup:
    ss = st.session_state
    return Setup(cache.data_key(c), c.beta, c.activation, c.leak, c.loss, c.bias, ss["sgd_opt"], int(ss["sgd_width"]),
                 float(ss["sgd_lr"]), int(ss["sgd_batch"]), float(ss["sgd_init"]), int(ss["sgd_seed"]))


def _train_kw(s: Setup) -> dict:
    return dict(width=s.width, activation=s.activation, leak=s.leak, loss=s.loss, bias=s.bias, optimizer=s.optimizer,
                batch_size=s.batch_size, init_scale=s.init_scale)


# --------------------------------------------------------------------------- comparison
def runs(X: np.ndarray, y: np.ndarray, s: Setup, steps: int, lrs, seeds) -> list[TrainingHistory]:
    """All (lr, seed) runs of the comparison, batched and cached; a progress bar while it trains.

    The live run's own learning rate and seed do not enter the cache key.
    """
    return _runs(X, y, replace(s, lr=0.0, seed=0), int(steps), tuple(float(v) for v in lrs), tuple(int(v) for v in seeds))


@st.cache_data(show_spinner=False, max_entries=32)
def _runs(X: np.ndarray, y: np.ndarray, s: Setup, steps: int, lrs: tuple, seeds: tuple) -> list[TrainingHistory]:
    bar = st.progress(0.0, text=f"Training {len(lrs) * len(seeds)} runs (batched) ...")

    def progress(t: int, _F) -> None:
        bar.progress(min(t / steps, 1.0), text=f"Step {t} of {steps}, {len(lrs) * len(seeds)} runs batched ...")

    try:
        return train_runs(X, y, s.beta, seeds=seeds, lrs=lrs, steps=steps, callback=progress,
                          report_every=max(1, steps // 20), **_train_kw(s))
    finally:
        bar.empty()


def convex_for(c: Controls) -> tuple[cvx_core.ConvexFit | None, str | None]:
    """The certified convex optimum of the shared controls, or (None, reason)."""
    try:
        return cache.fit_for(c), None
    except (ValueError, RuntimeError) as exc:
        return None, str(exc)


# --------------------------------------------------------------------------- live run
def live(s: Setup, X, y) -> TrainingHistory:
    """The session's live run for ``s`` (a fresh one at step 0 when the setup changed)."""
    ss = st.session_state
    cur = ss.get(LIVE)
    if cur is None or cur[0] != astuple(s):  # a tuple: survives a reload of this module
        h = train_sgd(X, y, s.beta, lr=s.lr, seed=s.seed, steps=0, **_train_kw(s))
        ss[LIVE] = (astuple(s), h)
        ss.pop(ERROR, None)
        return h
    return cur[1]


def chunk(steps: int) -> int:
    return max(1, int(steps) // FRAMES)


def step(s: Setup, X, y, n_steps: int) -> None:
    """Advance the live run by ``n_steps`` (stops playing and records the error on divergence)."""
    h = live(s, X, y)
    try:
        st.session_state[LIVE] = (astuple(s), resume_training(h, X, y, n_steps))
    except ValueError as exc:
        st.session_state[ERROR] = str(exc)
        st.session_state[PLAYING] = False


def tick(s: Setup, X, y, steps: int) -> bool:
    """One frame of play: a chunk while below ``steps``. Returns True when the run just finished."""
    ss = st.session_state
    if not ss.get(PLAYING):
        return False
    h = live(s, X, y)
    if h.n_steps < steps:
        step(s, X, y, min(chunk(steps), steps - h.n_steps))
    if live(s, X, y).n_steps >= steps or not ss.get(PLAYING):
        ss[PLAYING] = False
        return True
    return False


def set_playing(on: bool) -> None:
    st.session_state[PLAYING] = on


def reset() -> None:
    """Back to step 0 with the same initialisation."""
    st.session_state.pop(LIVE, None)
    st.session_state.pop(ERROR, None)
    st.session_state[PLAYING] = False


def new_seed() -> None:
    st.session_state["sgd_seed"] = (int(st.session_state["sgd_seed"]) + 1) % 10_001
    reset()


# --------------------------------------------------------------------------- stationary view
@st.cache_data(show_spinner=False, max_entries=64)
def analysis(X: np.ndarray, y: np.ndarray, beta: float, loss: str, U: np.ndarray, alpha: np.ndarray, activation: str,
             leak: float, bias: bool, flips: np.ndarray | None, kink_tol: float) -> StationaryAnalysis:
    net = TwoLayerNet(U, alpha, activation, leak, bias)
    return analyse_stationary(net, X, y, beta, loss=loss, kink_tol=kink_tol, flips=flips,
                              max_exact_patterns=cache.UI_MAX_PATTERNS)


def analysis_for(h: TrainingHistory, X, y, kink_tol: float) -> StationaryAnalysis:
    """Stationary-point view of a run; bits that flipped in its last 5% of steps count as kinks."""
    net = h.network
    flips = h.recent_flips(max(1, h.n_steps // 20)) if h.n_steps else None
    return analysis(X, y, h.beta, h.loss, net.U, net.alpha, net.activation, net.leak, net.bias, flips, kink_tol)


@st.cache_data(show_spinner=False, max_entries=64)
def insertion(X: np.ndarray, y: np.ndarray, beta: float, activation: str, leak: float, loss: str, bias: bool,
              patterns: np.ndarray) -> Insertion:
    return insert_violating_neuron(X, y, beta, patterns, activation=activation, leak=leak, loss=loss, bias=bias,
                                   max_exact_patterns=cache.UI_MAX_PATTERNS)


def insertions(key, a: StationaryAnalysis, h: TrainingHistory, X, y) -> list[Insertion]:
    """The chain of insertions requested so far for the analysed run ``key``."""
    k = st.session_state.get(INSERTS, (None, 0))
    if k[0] != key or a.n_live == 0:
        st.session_state[INSERTS] = (key, 0)
        return []
    net, out, D = h.network, [], a.patterns
    for _ in range(k[1]):
        ins = insertion(X, y, h.beta, net.activation, net.leak, h.loss, net.bias, D)
        out.append(ins)
        if not ins.added:
            break
        D = ins.patterns
    return out


def insert_one(key) -> None:
    k = st.session_state.get(INSERTS, (None, 0))
    st.session_state[INSERTS] = (key, k[1] + 1 if k[0] == key else 1)
