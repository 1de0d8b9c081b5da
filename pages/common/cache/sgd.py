"""Cached computations of the SGD-versus-convex page: the batched comparison runs and the
stationary-point analysis and insertions (keyed by the network's weights)."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from cvx_core.datasets import Dataset
from cvx_core.model import TwoLayerNet
from cvx_core.sgd import TrainingHistory, train_runs
from cvx_core.stationary import Insertion, StationaryAnalysis, analyse_stationary, insert_violating_neuron

from ..progress import progress_bar
from . import fit as fit_module


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
    lr_halflife: int | None = None


#: A live run advances by steps // FRAMES per frame; stationarity is polled as often.
FRAMES = 20


def chunk(steps: int) -> int:
    """Steps per frame of the live run, and between two stationarity checks of any run (the
    same for both, so the live run stops where its twin in the comparison does)."""
    return max(1, int(steps) // FRAMES)


def train_kw(s: Setup) -> dict:
    """The keyword arguments of ``train_sgd`` / ``train_runs`` that ``s`` fixes."""
    return dict(width=s.width, activation=s.activation, leak=s.leak, loss=s.loss, bias=s.bias, optimizer=s.optimizer,
                batch_size=s.batch_size, init_scale=s.init_scale, lr_halflife=s.lr_halflife)


def runs(s: Setup, steps: int, lrs, seeds, data: Dataset, tol: float | None = None) -> list[TrainingHistory]:
    """All (lr, seed) runs of the comparison, batched and cached (``s.data`` identifies ``data``);
    with ``tol`` each run stops once stationary, ``steps`` being the most it may take.

    The live run's own learning rate and seed do not enter the cache key.
    """
    return _runs(replace(s, lr=0.0, seed=0), int(steps), tuple(float(v) for v in lrs), tuple(int(v) for v in seeds),
                 tol, _data=data)


@st.cache_data(show_spinner=False, max_entries=32)
def _runs(s: Setup, steps: int, lrs: tuple, seeds: tuple, tol: float | None, _data: Dataset) -> list[TrainingHistory]:
    count = len(lrs) * len(seeds)
    with progress_bar(f"Training {count} runs (batched) ...", steps,
                      lambda t: f"Step {t} of at most {steps}, {count} runs batched ...") as progress:
        return train_runs(_data.X, _data.y, s.beta, seeds=seeds, lrs=lrs, steps=steps, tol=tol, callback=progress,
                          report_every=chunk(steps), **train_kw(s))


@st.cache_data(show_spinner=False, max_entries=64)
def analysis(X: np.ndarray, y: np.ndarray, beta: float, loss: str, U: np.ndarray, alpha: np.ndarray, activation: str,
             leak: float, bias: bool, flips: np.ndarray | None, kink_tol: float) -> StationaryAnalysis:
    net = TwoLayerNet(U, alpha, activation, leak, bias)
    return analyse_stationary(net, X, y, beta, loss=loss, kink_tol=kink_tol, flips=flips,
                              max_exact_patterns=fit_module.UI_MAX_PATTERNS)


def analysis_for(h: TrainingHistory, X, y, kink_tol: float) -> StationaryAnalysis:
    """Stationary-point view of a run; bits that flipped in its last 5% of steps count as kinks."""
    net = h.network
    flips = h.recent_flips(max(1, h.n_steps // 20)) if h.n_steps else None
    return analysis(X, y, h.beta, h.loss, net.U, net.alpha, net.activation, net.leak, net.bias, flips, kink_tol)


@st.cache_data(show_spinner=False, max_entries=64)
def insertion(X: np.ndarray, y: np.ndarray, beta: float, activation: str, leak: float, loss: str, bias: bool,
              patterns: np.ndarray) -> Insertion:
    return insert_violating_neuron(X, y, beta, patterns, activation=activation, leak=leak, loss=loss, bias=bias,
                                   max_exact_patterns=fit_module.UI_MAX_PATTERNS)


def insertion_chain(h: TrainingHistory, a: StationaryAnalysis, X, y, count: int) -> list[Insertion]:
    """The first ``count`` insertions of violating neurons into the analysed run (stops when
    nothing is left to insert)."""
    net, out, D = h.network, [], a.patterns
    for _ in range(count):
        ins = insertion(X, y, h.beta, net.activation, net.leak, h.loss, net.bias, D)
        out.append(ins)
        if not ins.added:
            break
        D = ins.patterns
    return out
