"""The shared controls (data, activation, loss, bias, beta) in the sidebar, bound to the URL.

Every control's session key is its query-parameter name (:mod:`pages.common.url`). Pages read
the values as ``st.session_state["controls"]`` (a :class:`..cache.keys.Controls`, set by app.py).
"""
from __future__ import annotations

import streamlit as st

from cvx_core.datasets import DATASET_TITLES, DATASETS
from cvx_core.model import ACTIVATIONS, LOSSES

from .. import lecture
from ..cache.keys import Controls
from ..data import registry
from ..url import apply_link, bind_all, keep, parser
from .gallery import gallery
from .hideable import HIDEABLE, SHARED
ACTIVATION_TITLES = {"relu": "ReLU", "leaky": "Leaky ReLU", "abs": "Absolute value"}

#: URL key -> (default, parser) of every app-wide control.
CONTROLS = {
    "dataset": ("spiral", parser(options=DATASETS)),
    "n": (40, parser(int, lo=4, hi=400)),
    "noise": (0.0, parser(float, lo=0.0, hi=0.5)),
    "seed": (0, parser(int, lo=0, hi=10_000)),
    "test": (0.0, parser(float, lo=0.0, hi=0.5)),
    "activation": ("relu", parser(options=ACTIVATIONS)),
    "leak": (0.1, parser(float, lo=0.0, hi=0.9)),
    "loss": ("squared", parser(options=LOSSES)),
    "bias": (True, parser(bool)),
    "log_beta": (-2.0, parser(float, lo=-4.0, hi=1.0)),
    "src": ("builtin", parser(options=("builtin", "upload"))),
    "file": ("", parser(regex=r"[\w .()\-]{1,120}")),
    "sha": ("", parser(regex=r"[0-9a-f]{6,64}")),
    "rescale": (True, parser(bool)),
    "add": ("", parser(check=registry.check_points)),
    "drop": ("", parser(check=registry.check_indices)),
    lecture.KEY: (False, parser(bool)),
    lecture.HIDE_KEY: ([], parser(options=tuple(HIDEABLE), many=True)),
    "fmt": ("png", parser(options=("png", "svg"))),
    "srvexp": (False, parser(bool)),
}


def shared_controls() -> Controls:
    """Draw the shared controls in the sidebar and return their values."""
    if apply_link():
        registry.forget_edit_base()
    bind_all(CONTROLS)
    ss = st.session_state
    lecture.inject_css()
    table = registry.uploaded_table()
    using_upload = ss["src"] == "upload" and table is not None
    sb = st.sidebar
    if table is not None:
        sb.radio("Data source", ("builtin", "upload"), key="src", horizontal=True,
                 format_func={"builtin": "Built-in", "upload": f"Uploaded {table.name}"}.get)
        using_upload = ss["src"] == "upload"
    elif ss["src"] == "upload":
        keep("src")
        sb.info(f"This link was made with uploaded data {ss['file'] or '(unnamed file)'}"
                f"{' (SHA-256 ' + ss['sha'][:12] + '...)' if ss['sha'] else ''}. Uploaded data is not stored "
                "in links: upload the same file on the Overview page to reproduce this view. "
                "Showing the built-in data set meanwhile.")
    shown = lambda key: lecture.show(key) and not (using_upload and key in ("dataset", "n", "noise"))  # noqa: E731
    if shown("dataset"):
        sb.selectbox("Data set", DATASETS, key="dataset", format_func=DATASET_TITLES.get)
        if not lecture.active():
            gallery(sb)
    c1, c2 = sb.columns(2)
    if shown("n"):
        c1.number_input("Samples n", 4, 400, step=4, key="n")
    if shown("seed"):
        c2.number_input("Seed", 0, 10_000, step=1, key="seed")
    if shown("noise"):
        sb.slider("Noise", 0.0, 0.5, step=0.01, key="noise")
    if shown("test"):
        sb.slider("Test fraction", 0.0, 0.5, step=0.05, key="test")
    if shown("activation"):
        sb.selectbox("Activation", ACTIVATIONS, key="activation", format_func=ACTIVATION_TITLES.get)
    if ss["activation"] == "leaky" and shown("leak"):
        sb.slider("Leak", 0.0, 0.9, step=0.05, key="leak")
    if shown("loss"):
        sb.selectbox("Loss", LOSSES, key="loss")
    if shown("bias"):
        sb.toggle("Bias (appended as a regularised last weight)", key="bias")
    if shown("log_beta"):
        sb.slider("log10 beta", -4.0, 1.0, step=0.05, key="log_beta",
                  help="Weight-decay strength beta; the objective is L + (beta/2) sum(||u_j||^2 + alpha_j^2).")
    sb.caption(f"beta = {10 ** ss['log_beta']:.3g}")
    keep(*(key for key in SHARED if not (shown(key) and (key != "leak" or ss["activation"] == "leaky"))))
    source = registry.assemble(table if using_upload else None, sb)
    return Controls(ss["dataset"], int(ss["n"]), float(ss["noise"]), int(ss["seed"]), float(ss["test"]),
                    ss["activation"], float(ss["leak"]), ss["loss"], bool(ss["bias"]), float(ss["log_beta"]),
                    source)
