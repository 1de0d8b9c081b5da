"""Cached calls into the engine, keyed by small hashable arguments.

Results are frozen dataclasses of numpy arrays (picklable), so ``st.cache_data`` returns a
copy per session and no mutable object is shared across sessions.

User data (an uploaded CSV and/or points added by clicking) is registered in the session by
:mod:`pages.common.state` under its content hash, which is ``Controls.source``.
:func:`data_for` and :func:`fit_for` resolve it, so every page that goes through them (or
passes ``Controls`` as a cache key and calls :func:`data_for` inside) sees the user's data;
fits of user data are cached under the content hash, never under a name.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import streamlit as st

import cvx_core
from cvx_core.datasets import Dataset, load_dataset, make_dataset
from cvx_core.model import add_bias
from cvx_core.patterns import MAX_EXACT_PATTERNS, predicted_pattern_count

from .state import Controls, user_dataset

#: Exact enumeration above this many predicted patterns is refused in the UI (the engine's own
#: limit, MAX_EXACT_PATTERNS, is for scripts; an interactive solve must stay within seconds).
UI_MAX_PATTERNS = 10_000
#: Largest number of training points solved interactively (exact or sampled patterns).
UI_MAX_N = 1_000
#: Default number of sampled patterns offered when exact enumeration is refused.
DEFAULT_SAMPLES = 2_000


@st.cache_data(show_spinner=False, max_entries=64)
def dataset(name: str, n: int, noise: float, seed: int, test: float) -> Dataset:
    return load_dataset(name, n, noise, seed, test)


def data_for(c: Controls) -> Dataset:
    """The training/test data selected by the shared controls (user data when ``c.source``)."""
    if c.source:
        return user_dataset(c.source)
    return dataset(c.dataset, c.n, c.noise, c.seed, c.test)


def data_key(c: Controls) -> tuple:
    """A small hashable key for the data of ``c`` (for your own cached functions)."""
    return ("user", c.source) if c.source else (c.dataset, c.n, c.noise, c.seed, c.test)


def data_by_key(key: tuple) -> Dataset:
    """The data set for a :func:`data_key` (built-in or the session's user data)."""
    return user_dataset(key[1]) if key[0] == "user" else dataset(*key)


def check_size(X: np.ndarray, bias: bool, patterns="exact") -> None:
    """Refuse exact enumeration that would not finish interactively, before any work.

    Raises
    ------
    ValueError
        Naming the predicted number of patterns (Cover's count) and the alternative.
    """
    if X.shape[0] > UI_MAX_N:
        raise ValueError(
            f"{X.shape[0]:,} training points is more than an interactive solve handles (limit {UI_MAX_N:,}); "
            "subsample the data (or raise the test fraction), or script the engine with cvx_core.fit_convex"
        )
    if not (isinstance(patterns, str) and patterns == "exact"):
        return
    Xb = add_bias(X, bias)
    P = predicted_pattern_count(Xb)
    limit = min(UI_MAX_PATTERNS, MAX_EXACT_PATTERNS)
    if P > limit:
        raise ValueError(
            f"exact enumeration would need about {P:,} activation patterns for n = {X.shape[0]} points "
            f"(limit {limit:,} for an interactive solve); sample patterns instead "
            f"(e.g. {DEFAULT_SAMPLES:,} Gaussian directions), or use fewer points"
        )


# Last fit per (data, settings), used only to seed the working set of the next solve at a
# neighbouring beta (a beta slider then re-solves in a few rounds). Fits are frozen records;
# the result of a solve is certified whatever the seed, so sharing the hint is harmless.
_WARM: "OrderedDict[tuple, cvx_core.ConvexFit]" = OrderedDict()
_WARM_LOCK = threading.Lock()


def _warm_fit(key: tuple, X, y, beta, **kw) -> cvx_core.ConvexFit:
    with _WARM_LOCK:
        warm = _WARM.get(key)
    f = cvx_core.fit_convex(X, y, beta, warm_start=warm, **kw)
    with _WARM_LOCK:
        _WARM[key] = f
        _WARM.move_to_end(key)
        while len(_WARM) > 32:
            _WARM.popitem(last=False)
    return f


@st.cache_data(show_spinner=False, max_entries=256)
def fit(name: str, n: int, noise: float, seed: int, test: float, activation: str, leak: float,
        loss: str, bias: bool, beta: float, patterns="exact") -> cvx_core.ConvexFit:
    data = dataset(name, n, noise, seed, test)
    check_size(data.X, bias, patterns)
    key = (name, n, noise, seed, test, activation, leak, loss, bias, str(patterns))
    return _warm_fit(key, data.X, data.y, beta, activation=activation, leak=leak, loss=loss,
                     bias=bias, patterns=patterns)


@st.cache_data(show_spinner=False, max_entries=128)
def fit_data(key: str, activation: str, leak: float, loss: str, bias: bool, beta: float, patterns,
             _data: Dataset) -> cvx_core.ConvexFit:
    """Fit user data ``_data`` whose content hash is ``key`` (the cache key; ``_data`` is not hashed)."""
    check_size(_data.X, bias, patterns)
    return _warm_fit((key, activation, leak, loss, bias, str(patterns)), _data.X, _data.y, beta,
                     activation=activation, leak=leak, loss=loss, bias=bias, patterns=patterns)


def fit_for(c: Controls, patterns="exact") -> cvx_core.ConvexFit:
    """The convex fit for the shared controls (exact patterns unless told otherwise).

    Raises ``ValueError`` for bad input or a size that would explode (with the predicted
    number of patterns), ``RuntimeError`` when every solver fails.
    """
    if c.source:
        return fit_data(c.source, c.activation, c.leak, c.loss, c.bias, c.beta, patterns, _data=data_for(c))
    return fit(c.dataset, c.n, c.noise, c.seed, c.test, c.activation, c.leak, c.loss, c.bias, c.beta, patterns)


@st.cache_data(show_spinner=False)
def thumbnail(name: str, size: int = 72) -> str:
    """A small SVG scatter of a built-in data set (for the gallery)."""
    X, y = make_dataset(name, 60, 0.0, 0)
    pad = 4
    if X.shape[1] == 1:
        pts = np.c_[X[:, 0], (y - y.min()) / max(np.ptp(y), 1e-12) * 2 - 1]
        cols = ["#0072B2"] * len(y)
    else:
        pts = X
        cols = ["#E69F00" if t > 0 else "#0072B2" for t in y]
    sx = (pts[:, 0] + 1.05) / 2.1 * (size - 2 * pad) + pad
    sy = size - ((pts[:, 1] + 1.05) / 2.1 * (size - 2 * pad) + pad)
    dots = "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.6" fill="{c}"/>' for a, b, c in zip(sx, sy, cols))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{size}" height="{size}">'
            f'<rect width="{size}" height="{size}" rx="6" fill="#f4f4f4"/>{dots}</svg>')
