"""The cached convex fit, with the UI's size limits.

Warm starts. A fit at a new beta is seeded with the fit at the nearest point of a grid in
log10(beta) (:data:`WARM_GRID`), itself a cached fit under its own key: the result depends on
its arguments only (not on which beta a session happened to solve before), and a slider step
still re-solves in a few rounds. Measured (AppTest, Overview page, spiral, 24 new betas in
0.05 steps): median rerun 76 ms at n = 40 and 144 ms at n = 100 with the old "last fit"
store, 157 / 332 ms without warm starts; see the commit message for the grid's numbers.
"""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

import cvx_core
from cvx_core.datasets import Dataset
from cvx_core.model import add_bias
from cvx_core.patterns import MAX_EXACT_PATTERNS, predicted_pattern_count

from .keys import Controls, data_key

#: Exact enumeration above this many predicted patterns is refused in the UI (the engine's own
#: limit, MAX_EXACT_PATTERNS, is for scripts; an interactive solve must stay within seconds).
UI_MAX_PATTERNS = 10_000
#: Largest number of training points solved interactively (exact or sampled patterns).
UI_MAX_N = 1_000
#: Default number of sampled patterns offered when exact enumeration is refused.
DEFAULT_SAMPLES = 2_000
#: Grids in log10(beta), coarse to fine, of the fits that seed the others (whole decades seed
#: the quarter decades, which seed every other beta: a slider step of 0.05 is at most 0.1 away).
WARM_GRIDS = (1.0, 0.25)


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
    P = predicted_pattern_count(add_bias(X, bias))
    limit = min(UI_MAX_PATTERNS, MAX_EXACT_PATTERNS)
    if P > limit:
        raise ValueError(
            f"exact enumeration would need about {P:,} activation patterns for n = {X.shape[0]} points "
            f"(limit {limit:,} for an interactive solve); sample patterns instead "
            f"(e.g. {DEFAULT_SAMPLES:,} Gaussian directions), or use fewer points"
        )


def warm_seed(beta: float) -> float | None:
    """The beta whose fit seeds the fit at ``beta``: the nearest point of the finest grid of
    :data:`WARM_GRIDS` that ``beta`` is not on (None on the coarsest grid: a cold start)."""
    lg = math.log10(beta)
    for step in reversed(WARM_GRIDS):
        a = round(lg / step) * step
        if abs(lg - a) > 1e-9:
            return float(10.0 ** a)
    return None


def _on_grid(beta: float) -> bool:
    lg = math.log10(beta)
    return any(abs(lg - round(lg / step) * step) <= 1e-9 for step in WARM_GRIDS)


def _patterns(patterns) -> dict:
    """``fit_convex``'s pattern arguments: ``("search", k)`` is the pattern search from ``k``
    sampled directions (a hashable cache key), anything else is passed as ``patterns``."""
    if isinstance(patterns, tuple):
        return {"patterns": "search", "search_samples": int(patterns[1])}
    return {"patterns": patterns}


@st.cache_resource(show_spinner=False, max_entries=64)
def _grid_fit(key: tuple, activation: str, leak: float, loss: str, bias: bool, beta: float, patterns,
              _data: Dataset) -> cvx_core.ConvexFit:
    """A fit on a warm-start grid (itself seeded from the next coarser grid), kept as one shared
    object and never handed to a page: its pattern matrix is then the same object in every fit
    it seeds, which the solver's setup cache recognises (a pickled copy, as ``st.cache_data``
    keeps, made each warm solve about 2.5x slower)."""
    seed = warm_seed(beta)
    warm = None
    if seed is not None:
        try:
            warm = _grid_fit(key, activation, leak, loss, bias, seed, patterns, _data=_data)
        except (ValueError, RuntimeError):
            warm = None  # the fit below reports its own failure
    return cvx_core.fit_convex(_data.X, _data.y, beta, activation=activation, leak=leak, loss=loss, bias=bias,
                               warm_start=warm, **_patterns(patterns))


@st.cache_data(show_spinner=False, max_entries=256)
def fit(key: tuple, activation: str, leak: float, loss: str, bias: bool, beta: float, patterns,
        _data: Dataset) -> cvx_core.ConvexFit:
    """The convex fit of ``_data`` (identified by ``key``, :func:`keys.data_key`) at ``beta``,
    warm-started from the fit at :func:`warm_seed` (the module docstring says why)."""
    if isinstance(patterns, np.ndarray):  # explicit patterns: nothing to share
        return cvx_core.fit_convex(_data.X, _data.y, beta, activation=activation, leak=leak, loss=loss, bias=bias,
                                   patterns=patterns)
    if _on_grid(beta):
        return _grid_fit(key, activation, leak, loss, bias, beta, patterns, _data=_data)
    try:
        warm = _grid_fit(key, activation, leak, loss, bias, warm_seed(beta), patterns, _data=_data)
    except (ValueError, RuntimeError):
        warm = None  # the fit below reports its own failure
    return cvx_core.fit_convex(_data.X, _data.y, beta, activation=activation, leak=leak, loss=loss, bias=bias,
                               warm_start=warm, **_patterns(patterns))


def fit_for(c: Controls, data: Dataset, patterns="exact") -> cvx_core.ConvexFit:
    """The convex fit for the shared controls ``c`` on their data ``data``.

    Raises ``ValueError`` for bad input or a size that would explode (with the predicted
    number of patterns), ``RuntimeError`` when every solver fails.
    """
    check_size(data.X, c.bias, patterns)
    return fit(data_key(c), c.activation, c.leak, c.loss, c.bias, c.beta, patterns, _data=data)
