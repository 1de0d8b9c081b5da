"""Cached calls of the Convolutional networks page: data, the convex fit, pattern counts and the
batched gradient runs, keyed by a small frozen :class:`Setup`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cvx_core import cnn, cnn_training
from cvx_core.patterns import auto_choice, cover_bound, cover_count, data_rank, enumerate_patterns
from cvx_core.signals import IMAGES, make_signals

from ..progress import progress_bar

#: Exact enumeration up to this Cover's count of the patch vectors, else sampled directions.
UI_MAX_PATTERNS = 10_000
#: Gaussian directions sampled when enumeration is out of reach (images: rank h*h + 1).
UI_SAMPLES = 2_000


@dataclass(frozen=True)
class Setup:
    """Everything that fixes the data and the program except beta (hashable)."""

    data: str
    n: int
    length: int
    noise: float
    seed: int
    filter_size: int
    stride: int
    pooling: str
    activation: str
    leak: float
    loss: str
    bias: bool

    @property
    def images(self) -> bool:
        return self.data in IMAGES

    def fit_kw(self) -> dict:
        return dict(filter_size=self.filter_size, stride=self.stride, pooling=self.pooling,
                    activation=self.activation, leak=self.leak, loss=self.loss, bias=self.bias)


@st.cache_data(show_spinner=False, max_entries=32)
def data(s: Setup) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of the built-in set (labels -1/+1; the patches are checked here too)."""
    X, y = make_signals(s.data, s.n, s.length, noise=s.noise, seed=s.seed)
    cnn.patches(X, s.filter_size, s.stride)  # a filter larger than the signal: the error names both
    return X, y


@st.cache_data(show_spinner=False, max_entries=32)
def patch_design(s: Setup) -> np.ndarray:
    """The patch matrix ``Z`` (nK, h') of the data."""
    return cnn.patch_matrix(data(s)[0], s.filter_size, s.stride, s.bias)


def patterns_choice(s: Setup):
    """"exact" when Cover's count of the patch vectors is at most :data:`UI_MAX_PATTERNS`, else
    the number of directions to sample."""
    return auto_choice(patch_design(s), max_exact=UI_MAX_PATTERNS, n_samples=UI_SAMPLES)


@st.cache_data(show_spinner=False, max_entries=128)
def fit(s: Setup, beta: float):
    X, y = data(s)
    return cnn.fit_convex_cnn(X, y, beta, patterns=patterns_choice(s), seed=s.seed, **s.fit_kw())


@st.cache_data(show_spinner=False, max_entries=16)
def counts(s: Setup) -> dict:
    """Pattern counts of the patch vectors of the first m samples, m on a small grid: Cover's
    count in rank h' (the cells of a general-position arrangement) and its bound for every m,
    the engine's exact enumeration where Cover's count is at most :data:`UI_MAX_PATTERNS`
    (NaN beyond)."""
    X, _ = data(s)
    out = {"nK": [], "engine": [], "cover": [], "bound": []}
    for m in np.unique(np.round(np.geomspace(1, s.n, 6)).astype(int)):
        Z = cnn.patch_matrix(X[:m], s.filter_size, s.stride, s.bias)
        out["nK"].append(len(Z))
        out["cover"].append(float(cover_count(len(Z), Z.shape[1])))
        out["bound"].append(cover_bound(len(Z), Z.shape[1]))
        small = cover_count(len(Z), data_rank(Z)) <= UI_MAX_PATTERNS
        out["engine"].append(float(enumerate_patterns(Z).shape[0]) if small else np.nan)
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


@st.cache_data(show_spinner=False, max_entries=32)
def runs(s: Setup, beta: float, optimizer: str, lrs: tuple, n_seeds: int, width: int, steps: int, batch: int = 0):
    """Gradient runs (every lr x seed) on the same CNN objective, batched in one tensor;
    ``batch`` samples per step (0: full batch). A progress bar while they run (its updates
    are also where a Stop click ends them)."""
    X, y = data(s)
    kw = s.fit_kw()
    count = len(lrs) * n_seeds
    with progress_bar(f"Training {count} runs (batched) ...", steps,
                      lambda t: f"Step {t} of {steps}, {count} runs batched ...") as progress:
        return cnn_training.train_cnn_runs(X, y, beta, seeds=tuple(range(n_seeds)), lrs=lrs, width=width,
                                           optimizer=optimizer, steps=steps, batch_size=batch or None,
                                           callback=progress, report_every=max(1, steps // 20), **kw)
