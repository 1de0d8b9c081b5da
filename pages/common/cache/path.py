"""The cached regularization path (solved once per data and settings; later reruns only redraw),
with its progress bar inside the cached call (:mod:`pages.common.progress`)."""
from __future__ import annotations

import streamlit as st

from cvx_core.datasets import Dataset
from cvx_core.path import PathResult, regularization_path

from ..progress import progress_bar


@st.cache_data(show_spinner=False, max_entries=32)
def solve_path(key: tuple, activation: str, leak: float, loss: str, bias: bool, n_betas: int, min_ratio: float,
               patterns, seed: int, _data: Dataset) -> PathResult:
    """The path of ``_data`` (identified by ``key``) over ``n_betas`` betas down to ``min_ratio`` beta_max."""
    with progress_bar(f"Solving the path over {n_betas} betas (warm starts) ...", n_betas,
                      lambda i: f"Solved {i} of {n_betas} betas (warm starts) ...") as progress:
        return regularization_path(_data.X, _data.y, n_betas=n_betas, min_ratio=min_ratio, activation=activation,
                                   leak=leak, loss=loss, bias=bias, patterns=patterns, seed=seed,
                                   X_test=_data.X_test, y_test=_data.y_test, callback=progress)
