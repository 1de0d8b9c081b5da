"""Cached calls into the engine, keyed by small hashable arguments.

Results are frozen dataclasses of numpy arrays (picklable), so ``st.cache_data`` returns a
copy per session and no mutable object is shared across sessions.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

import cvx_core
from cvx_core.datasets import Dataset, load_dataset

from .state import Controls


@st.cache_data(show_spinner=False, max_entries=64)
def dataset(name: str, n: int, noise: float, seed: int, test: float) -> Dataset:
    return load_dataset(name, n, noise, seed, test)


def data_for(c: Controls) -> Dataset:
    """The training/test data selected by the shared controls."""
    return dataset(c.dataset, c.n, c.noise, c.seed, c.test)


def labels_for(c: Controls, y: np.ndarray) -> np.ndarray:
    """Targets as the loss expects them (regression targets stay real)."""
    return y


@st.cache_data(show_spinner=False, max_entries=256)
def fit(name: str, n: int, noise: float, seed: int, test: float, activation: str, leak: float,
        loss: str, bias: bool, beta: float, patterns="exact") -> cvx_core.ConvexFit:
    data = dataset(name, n, noise, seed, test)
    return cvx_core.fit_convex(data.X, data.y, beta, activation=activation, leak=leak, loss=loss,
                               bias=bias, patterns=patterns)


def fit_for(c: Controls, patterns="exact") -> cvx_core.ConvexFit:
    """The convex fit for the shared controls (exact patterns unless told otherwise)."""
    return fit(c.dataset, c.n, c.noise, c.seed, c.test, c.activation, c.leak, c.loss, c.bias, c.beta, patterns)
