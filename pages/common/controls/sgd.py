"""The SGD-versus-convex page's own controls (URL keys ``sgd_*``) and its training player.

The live run is a :class:`cvx_core.sgd.TrainingHistory` kept in ``st.session_state`` and
advanced in chunks (:func:`tick`, :func:`step`), so a run never blocks the page and Pause stops
it between chunks. Reset restarts from the same initialisation (it depends only on the seed);
New seed draws another.
"""
from __future__ import annotations

from dataclasses import astuple

import streamlit as st

from cvx_core.sgd import OPTIMIZERS, TrainingHistory, resume_training, train_sgd
from cvx_core.stationary import Insertion, StationaryAnalysis

from ..cache.keys import Controls, data_key
from ..cache.sgd import Setup, insertion_chain, train_kw
from ..url import bind_all, parser

LR_OPTIONS = ("0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3")
INIT_OPTIONS = (0.1, 0.3, 1.0, 3.0)
KINK_OPTIONS = (1e-8, 1e-6, 1e-4, 1e-2)
SHORT = {"gd": "GD", "sgd": "SGD", "adam": "Adam"}  # option labels that fit the narrow column at 1024 px
OPT_TITLES = {"gd": "Gradient descent (full batch)", "sgd": "SGD (mini-batch)", "adam": "Adam"}
#: A live run advances by steps // FRAMES per frame.
FRAMES = 20
LIVE, PLAYING, ERROR, INSERTS = "sgd_live", "sgd_playing", "sgd_error", "sgd_inserts"

#: URL key -> (default, parser) of the page's own controls.
CONTROLS = {
    "sgd_opt": ("gd", parser(options=OPTIMIZERS)),
    "sgd_width": (50, parser(int, lo=1, hi=200)),
    "sgd_steps": (2000, parser(int, lo=10, hi=20000)),
    "sgd_lr": ("0.003", parser(options=LR_OPTIONS)),
    "sgd_batch": (10, parser(int, lo=1, hi=400)),
    "sgd_init": (1.0, parser(float, options=INIT_OPTIONS)),
    "sgd_seed": (0, parser(int, lo=0, hi=10_000)),
    "sgd_lrs": (["0.003", "0.01"], parser(options=LR_OPTIONS, many=True, nonempty=True)),
    "sgd_nseeds": (3, parser(int, lo=1, hi=8)),
    "sgd_run": ("live", parser()),
    "sgd_kink": (1e-4, parser(float, options=KINK_OPTIONS)),
}


def settings_panel() -> None:
    """Bind the page's controls to the URL and draw the "Training settings" expander."""
    bind_all(CONTROLS)
    ss = st.session_state
    with st.expander("Training settings", expanded=True):
        r = st.columns(4)  # rows of at most four: six inputs in one row squeeze their labels at 1024 px
        r[0].selectbox("Optimizer", OPTIMIZERS, key="sgd_opt", format_func=SHORT.get,
                       help="GD: gradient descent (full batch); SGD: mini-batch stochastic gradient; Adam")
        r[1].number_input("Width m", 1, 200, key="sgd_width", help="number of hidden neurons")
        r[2].number_input("Steps", 10, 20000, step=100, key="sgd_steps")
        r[3].number_input("Batch size", 1, 400, key="sgd_batch", disabled=ss["sgd_opt"] == "gd",
                          help="samples per step for SGD and Adam; gradient descent always uses the full batch")
        r = st.columns([2, 1, 2])
        r[0].select_slider("Init scale", INIT_OPTIONS, key="sgd_init", help="U ~ scale N(0, 1/d'), alpha ~ scale N(0, 1/m)")
        r[1].number_input("Seed", 0, 10_000, key="sgd_seed", help="initialisation seed")
        r[2].select_slider("Learning rate of the live run", LR_OPTIONS, key="sgd_lr")
        r = st.columns([3, 1])
        r[0].multiselect("Learning rates to compare", LR_OPTIONS, key="sgd_lrs")
        r[1].number_input("Seeds to compare", 1, 8, key="sgd_nseeds")


def setup_for(c: Controls) -> Setup:
    """The live run's setup from the shared controls and the page's own."""
    ss = st.session_state
    return Setup(data_key(c), c.beta, c.activation, c.leak, c.loss, c.bias, ss["sgd_opt"], int(ss["sgd_width"]),
                 float(ss["sgd_lr"]), int(ss["sgd_batch"]), float(ss["sgd_init"]), int(ss["sgd_seed"]))


# --------------------------------------------------------------------------- live run
def live(s: Setup, X, y) -> TrainingHistory:
    """The session's live run for ``s`` (a fresh one at step 0 when the setup changed)."""
    ss = st.session_state
    cur = ss.get(LIVE)
    if cur is None or cur[0] != astuple(s):  # a tuple: survives a reload of this module
        h = train_sgd(X, y, s.beta, lr=s.lr, seed=s.seed, steps=0, **train_kw(s))
        ss[LIVE] = (astuple(s), h)
        ss.pop(ERROR, None)
        return h
    return cur[1]


def chunk(steps: int) -> int:
    return max(1, int(steps) // FRAMES)


def step(s: Setup, X, y, n_steps: int) -> None:
    """Advance the live run by ``n_steps`` (stops playing and records the error on divergence)."""
    h = live(s, X, y)
    try:
        st.session_state[LIVE] = (astuple(s), resume_training(h, X, y, n_steps))
    except ValueError as exc:
        st.session_state[ERROR] = str(exc)
        st.session_state[PLAYING] = False


def tick(s: Setup, X, y, steps: int) -> bool:
    """One frame of play: a chunk while below ``steps``. Returns True when the run just finished."""
    ss = st.session_state
    if not ss.get(PLAYING):
        return False
    h = live(s, X, y)
    if h.n_steps < steps:
        step(s, X, y, min(chunk(steps), steps - h.n_steps))
    if live(s, X, y).n_steps >= steps or not ss.get(PLAYING):
        ss[PLAYING] = False
        return True
    return False


def set_playing(on: bool) -> None:
    st.session_state[PLAYING] = on


def reset() -> None:
    """Back to step 0 with the same initialisation."""
    st.session_state.pop(LIVE, None)
    st.session_state.pop(ERROR, None)
    st.session_state[PLAYING] = False


def new_seed() -> None:
    st.session_state["sgd_seed"] = (int(st.session_state["sgd_seed"]) + 1) % 10_001
    reset()


def insertions(key, a: StationaryAnalysis, h: TrainingHistory, X, y) -> list[Insertion]:
    """The chain of insertions requested so far for the analysed run ``key``."""
    k = st.session_state.get(INSERTS, (None, 0))
    if k[0] != key or a.n_live == 0:
        st.session_state[INSERTS] = (key, 0)
        return []
    return insertion_chain(h, a, X, y, k[1])


def insert_one(key) -> None:
    k = st.session_state.get(INSERTS, (None, 0))
    st.session_state[INSERTS] = (key, k[1] + 1 if k[0] == key else 1)
