"""The Convolutional networks page's own controls (URL keys ``cnn_*``)."""
from __future__ import annotations

import streamlit as st

from cvx_core.cnn import CNN_OPTIMIZERS, POOLINGS
from cvx_core.signals import IMAGES, SIGNAL_TITLES, SIGNALS

from .. import lecture
from ..cache.cnn import Setup
from ..cache.keys import Controls
from ..url import bind_all, keep, parser
from .hideable import keep_hidden

LR_OPTIONS = ("0.001", "0.003", "0.01", "0.03", "0.1")
BETA_RANGE = (-4.0, 1.0)

#: URL key -> (default, parser). Defaults: issue 21's second case (n = 12 signals of length 8,
#: filter 2 with a bias: 84 patch vectors, about 7 000 patterns, every one enumerated), at a
#: beta (0.1) where Adam with 32 filters ends within a few percent of p* (measured, seeds 0 and 1:
#: 1.7-1.8 % after 2 000 steps at lr 0.03, in 0.15 s; at beta = 0.01 the optimum has 17 filters and
#: 2 000 steps end 30-200 % above).
CONTROLS = {
    "cnn_data": ("bump", parser(options=SIGNALS + IMAGES)),
    "cnn_n": (12, parser(int, lo=2, hi=60)),
    "cnn_len": (8, parser(int, lo=3, hi=32)),
    "cnn_noise": (0.1, parser(float, lo=0.0, hi=0.5)),
    "cnn_seed": (0, parser(int, lo=0, hi=10_000)),
    "cnn_h": (2, parser(int, lo=1, hi=5)),
    "cnn_stride": (1, parser(int, lo=1, hi=4)),
    "cnn_pool": ("sum", parser(options=POOLINGS)),
    "cnn_log_beta": (-1.0, parser(float, lo=BETA_RANGE[0], hi=BETA_RANGE[1])),
    "cnn_filter": (0, parser(int, lo=0, hi=1000)),
    "cnn_opt": ("adam", parser(options=CNN_OPTIMIZERS)),
    "cnn_lrs": (["0.03"], parser(options=LR_OPTIONS, many=True, nonempty=True)),
    "cnn_seeds": (3, parser(int, lo=1, hi=6)),
    "cnn_width": (32, parser(int, lo=1, hi=64)),
    "cnn_steps": (2000, parser(int, lo=100, hi=20_000)),
    "cnn_batch": (0, parser(int, lo=0, hi=60)),
}
#: The gradient runs' settings (hidden together, as "cnn_training").
TRAINING = ("cnn_opt", "cnn_lrs", "cnn_seeds", "cnn_width", "cnn_steps", "cnn_batch")


def controls(c: Controls) -> Setup:
    """Bind and draw the data and filter controls; the activation, loss and bias are the
    sidebar's shared ones. Returns the page's :class:`Setup`."""
    bind_all(CONTROLS)
    ss = st.session_state
    show = lecture.show
    k = st.columns([3, 2, 2, 2, 2])
    if show("cnn_data"):
        k[0].selectbox("Data set", SIGNALS + IMAGES, key="cnn_data", format_func=SIGNAL_TITLES.get)
    if show("cnn_n"):
        k[1].number_input("Samples n", 2, 60, key="cnn_n")
    if show("cnn_len"):
        k[2].number_input("Image side" if ss["cnn_data"] in IMAGES else "Signal length", 3, 32, key="cnn_len")
    if show("cnn_noise"):
        k[3].slider("Noise", 0.0, 0.5, step=0.05, key="cnn_noise")
    if show("cnn_seed"):
        k[4].number_input("Seed", 0, 10_000, key="cnn_seed")
    k = st.columns([2, 2, 2, 5])
    if show("cnn_h"):
        k[0].number_input("Filter size h", 1, 5, key="cnn_h", help="h samples (images: h x h pixels)")
    if show("cnn_stride"):
        k[1].number_input("Stride", 1, 4, key="cnn_stride")
    if show("cnn_pool"):
        k[2].radio("Pooling", POOLINGS, key="cnn_pool", horizontal=True)
    if show("cnn_log_beta"):
        k[3].slider("log10 beta", *BETA_RANGE, step=0.05, key="cnn_log_beta",
                    help="the objective is L + (beta/2) sum_j (||u_j||^2 + alpha_j^2)")
    keep_hidden(CONTROLS)
    return Setup(ss["cnn_data"], int(ss["cnn_n"]), int(ss["cnn_len"]), float(ss["cnn_noise"]), int(ss["cnn_seed"]),
                 int(ss["cnn_h"]), int(ss["cnn_stride"]), ss["cnn_pool"], c.activation, c.leak, c.loss, c.bias)


def training_controls() -> None:
    """The gradient runs' settings, in an expander (hidden as a whole in lecture mode when
    "cnn_training" is hidden: their values stay)."""
    if not lecture.show("cnn_training"):
        keep(*TRAINING)
        return
    with st.expander("Gradient training settings", expanded=not lecture.active()):
        k = st.columns([2, 3, 2, 2, 2, 2])
        k[0].radio("Optimizer", CNN_OPTIMIZERS, key="cnn_opt", horizontal=True,
                   format_func={"gd": "GD", "adam": "Adam"}.get)
        k[1].multiselect("Learning rates", LR_OPTIONS, key="cnn_lrs")
        k[2].number_input("Seeds", 1, 6, key="cnn_seeds")
        k[3].number_input("Filters m", 1, 64, key="cnn_width")
        k[4].number_input("Steps", 100, 20_000, step=100, key="cnn_steps")
        k[5].number_input("Batch size (0 = full)", 0, 60, key="cnn_batch",
                          help="Samples per step: 0 or n is full-batch descent; fewer is SGD (or mini-batch "
                               "Adam), its loss gradient scaled by n / batch size; the curves show the full objective")
