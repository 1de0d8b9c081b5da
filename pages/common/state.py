"""Shared controls (data, activation, loss, bias, beta), bound to the URL.

Every control has a session-state key equal to its query-parameter name. On the first run of a
session the URL seeds the controls (invalid values are ignored with a notice); after the widgets
are drawn, their values are written back to the URL so a copied link reproduces the view.
Pages bind their own controls with :func:`bind` (prefix the key with the page's short name).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import streamlit as st

from cvx_core.datasets import DATASET_TITLES, DATASETS
from cvx_core.model import ACTIVATIONS, LOSSES

_BOUND = "_url_bound_keys"
_NOTICES = "_url_notices"


def _parse_bool(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _choice(options):
    def parse(raw: str):
        if raw not in options:
            raise ValueError(raw)
        return raw
    return parse


def _ranged(kind, lo, hi):
    def parse(raw: str):
        v = kind(float(raw)) if kind is int else kind(raw)
        if not (lo <= v <= hi) or (isinstance(v, float) and not np.isfinite(v)):
            raise ValueError(raw)
        return v
    return parse


def bind(key: str, default: Any, parse: Callable[[str], Any]) -> None:
    """Register ``key`` as URL-bound; seed it from the URL (or ``default``) once per session."""
    bound = st.session_state.setdefault(_BOUND, {})
    bound[key] = type(default)
    if key in st.session_state:
        return
    raw = st.query_params.get(key)
    if raw is None:
        st.session_state[key] = default
        return
    try:
        st.session_state[key] = parse(raw)
    except (ValueError, TypeError):
        st.session_state.setdefault(_NOTICES, []).append(f"ignored invalid URL parameter {key}={raw!r}")
        st.session_state[key] = default


def sync_url() -> None:
    """Write every bound control's current value to the query string."""
    for key in st.session_state.get(_BOUND, {}):
        if key not in st.session_state:
            continue
        v = st.session_state[key]
        s = ("1" if v else "0") if isinstance(v, bool) else (f"{v:g}" if isinstance(v, float) else str(v))
        if st.query_params.get(key) != s:
            st.query_params[key] = s


def show_notices() -> None:
    for msg in st.session_state.pop(_NOTICES, []):
        st.toast(msg)


@dataclass(frozen=True)
class Controls:
    """The shared controls' values (hashable: usable as a cache key)."""

    dataset: str
    n: int
    noise: float
    seed: int
    test: float
    activation: str
    leak: float
    loss: str
    bias: bool
    log_beta: float

    @property
    def beta(self) -> float:
        return float(10.0 ** self.log_beta)


def shared_controls() -> Controls:
    """Draw the shared controls in the sidebar and return their values."""
    bind("dataset", "spiral", _choice(DATASETS))
    bind("n", 40, _ranged(int, 4, 400))
    bind("noise", 0.0, _ranged(float, 0.0, 0.5))
    bind("seed", 0, _ranged(int, 0, 10_000))
    bind("test", 0.0, _ranged(float, 0.0, 0.5))
    bind("activation", "relu", _choice(ACTIVATIONS))
    bind("leak", 0.1, _ranged(float, 0.0, 0.9))
    bind("loss", "squared", _choice(LOSSES))
    bind("bias", True, _parse_bool)
    bind("log_beta", -2.0, _ranged(float, -4.0, 1.0))
    sb = st.sidebar
    sb.selectbox("Data set", DATASETS, key="dataset", format_func=DATASET_TITLES.get)
    c1, c2 = sb.columns(2)
    c1.number_input("Samples n", 4, 400, step=4, key="n")
    c2.number_input("Seed", 0, 10_000, step=1, key="seed")
    sb.slider("Noise", 0.0, 0.5, step=0.01, key="noise")
    sb.slider("Test fraction", 0.0, 0.5, step=0.05, key="test")
    sb.selectbox("Activation", ACTIVATIONS, key="activation",
                 format_func={"relu": "ReLU", "leaky": "Leaky ReLU", "abs": "Absolute value"}.get)
    if st.session_state["activation"] == "leaky":
        sb.slider("Leak", 0.0, 0.9, step=0.05, key="leak")
    sb.selectbox("Loss", LOSSES, key="loss")
    sb.toggle("Bias (appended as a regularised last weight)", key="bias")
    sb.slider("log10 beta", -4.0, 1.0, step=0.05, key="log_beta",
              help="Weight-decay strength beta; the objective is L + (beta/2) sum(||u_j||^2 + alpha_j^2).")
    sb.caption(f"beta = {10 ** st.session_state['log_beta']:.3g}")
    ss = st.session_state
    return Controls(ss["dataset"], int(ss["n"]), float(ss["noise"]), int(ss["seed"]), float(ss["test"]),
                    ss["activation"], float(ss["leak"]), ss["loss"], bool(ss["bias"]), float(ss["log_beta"]))
