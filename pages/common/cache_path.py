"""Cached regularization paths for the sparsity-path page.

The path is keyed by the data arrays themselves (hashed by content) and the model settings,
so it is solved once per setting and every later rerun (moving the beta slider, playing) only
redraws. The progress bar lives inside the cached function: on a cache hit Streamlit replays
its messages, which end with the bar removed, so nothing shows.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from cvx_core.path import PathResult, regularization_path

from . import cache
from .state import Controls


@st.cache_data(show_spinner=False, max_entries=32)
def path(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, activation: str, leak: float,
         loss: str, bias: bool, n_betas: int, min_ratio: float) -> PathResult:
    bar = st.progress(0.0, text=f"Solving the path over {n_betas} betas (warm starts) ...")

    def progress(i: int, n: int) -> None:
        bar.progress(i / n, text=f"Solved {i} of {n} betas (warm starts) ...")

    try:
        return regularization_path(X, y, n_betas=n_betas, min_ratio=min_ratio, activation=activation, leak=leak,
                                   loss=loss, bias=bias, X_test=X_test, y_test=y_test, callback=progress)
    finally:
        bar.empty()


def path_for(c: Controls, n_betas: int, min_ratio: float) -> PathResult:
    """The path for the shared controls' data and model, ``n_betas`` betas down to ``min_ratio * beta_max``."""
    data = cache.data_for(c)
    return path(data.X, cache.labels_for(c, data.y), data.X_test, cache.labels_for(c, data.y_test),
                c.activation, c.leak, c.loss, c.bias, int(n_betas), float(min_ratio))
