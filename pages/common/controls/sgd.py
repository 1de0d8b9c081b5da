"""The SGD-versus-convex page's own controls (URL keys ``sgd_*``) and its training player.

The live run is a :class:`cvx_core.sgd.TrainingHistory` kept in ``st.session_state`` and
advanced in chunks (:func:`tick`, :func:`step`), so a run never blocks the page and Pause stops
it between chunks. Reset restarts from the same initialisation (it depends only on the seed);
New seed draws another.
"""
from __future__ import annotations

from dataclasses import astuple, replace

import streamlit as st

from cvx_core.sgd import OPTIMIZERS, TrainingHistory, resume_training, train_sgd
from cvx_core.stationary import Insertion, StationaryAnalysis

from .. import lecture
from ..cache.keys import Controls, data_key
from ..cache.sgd import Setup, chunk, insertion_chain, train_kw
from ..url import bind_all, keep, parser

LR_OPTIONS = ("0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3")
INIT_OPTIONS = (0.1, 0.3, 1.0, 3.0)
KINK_OPTIONS = (1e-8, 1e-6, 1e-4, 1e-2)
TOL_OPTIONS = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3)
HALFLIFE_OPTIONS = (0, 500, 1000, 2000, 3000, 5000, 10000)  # 0: constant
SHORT = {"gd": "GD", "sgd": "SGD", "adam": "Adam"}  # option labels that fit the narrow column at 1024 px
OPT_TITLES = {"gd": "Gradient descent (full batch)", "sgd": "SGD (mini-batch)", "adam": "Adam"}
LIVE, PLAYING, ERROR, INSERTS = "sgd_live", "sgd_playing", "sgd_error", "sgd_inserts"

#: The lecture defaults, measured on the default data (spiral, n = 40, beta = 0.01; see the
#: commit that set them): every run ends stationary, 0.6-1.2 % above p*.
DEFAULTS_NOTE = (
    "Defaults: Adam (full batch), learning rates 0.003 and 0.01 halving every 3 000 steps, each run trained until stationary "
    "(stationarity <= 0.01, at most 30 000 steps). Why: a ReLU network's optima sit on kinks, where a fixed step hops "
    "across instead of settling (plain gradient descent with 2 000 steps ends 4-7x above p*, far from stationary); a "
    "halving step settles, and stationarity (the smallest subgradient, allowing any slope at a kink) reaches the "
    "tolerance, while the gradient itself stays about 0.3 even at the global optimum. What is left is the honest gap."
)

#: URL key -> (default, parser) of the page's own controls.
CONTROLS = {
    "sgd_opt": ("adam", parser(options=OPTIMIZERS)),
    "sgd_width": (50, parser(int, lo=1, hi=200)),
    "sgd_steps": (30000, parser(int, lo=10, hi=50000)),
    "sgd_until": (True, parser(bool)),
    "sgd_tol": (1e-2, parser(float, options=TOL_OPTIONS)),
    "sgd_halflife": (3000, parser(int, options=HALFLIFE_OPTIONS)),
    "sgd_lr": ("0.01", parser(options=LR_OPTIONS)),
    "sgd_batch": (400, parser(int, lo=1, hi=400)),  # at least n: full batch, which the defaults were measured with
    "sgd_init": (1.0, parser(float, options=INIT_OPTIONS)),
    "sgd_seed": (0, parser(int, lo=0, hi=10_000)),
    "sgd_lrs": (["0.003", "0.01"], parser(options=LR_OPTIONS, many=True, nonempty=True)),
    "sgd_nseeds": (3, parser(int, lo=1, hi=8)),
    "sgd_run": ("live", parser()),
    "sgd_kink": (1e-4, parser(float, options=KINK_OPTIONS)),
}
#: The controls of the "Training settings" expander (lecture mode hides them together, "sgd_settings").
SETTINGS = ("sgd_opt", "sgd_width", "sgd_steps", "sgd_batch", "sgd_init", "sgd_seed", "sgd_lr", "sgd_lrs",
            "sgd_nseeds", "sgd_until", "sgd_tol", "sgd_halflife")


def settings_panel() -> None:
    """Bind the page's controls to the URL and draw the "Training settings" expander."""
    bind_all(CONTROLS)
    ss = st.session_state
    if not lecture.show("sgd_settings"):  # hidden as a whole in lecture mode; the values stay
        keep(*SETTINGS)
        return
    with st.expander("Training settings", expanded=True):
        r = st.columns(4)  # rows of at most four: six inputs in one row squeeze their labels at 1024 px
        r[0].selectbox("Optimizer", OPTIMIZERS, key="sgd_opt", format_func=SHORT.get,
                       help="GD: gradient descent (full batch); SGD: mini-batch stochastic gradient; Adam")
        r[1].number_input("Width m", 1, 200, key="sgd_width", help="number of hidden neurons")
        r[2].number_input("Steps (at most)" if ss["sgd_until"] else "Steps", 10, 50000, step=1000, key="sgd_steps")
        r[3].number_input("Batch size", 1, 400, key="sgd_batch", disabled=ss["sgd_opt"] == "gd",
                          help="samples per step for SGD and Adam (n or more: the full batch); gradient descent always uses the full batch")
        r = st.columns([2, 1, 2])
        r[0].select_slider("Init scale", INIT_OPTIONS, key="sgd_init", help="U ~ scale N(0, 1/d'), alpha ~ scale N(0, 1/m)")
        r[1].number_input("Seed", 0, 10_000, key="sgd_seed", help="initialisation seed")
        r[2].select_slider("Learning rate of the live run", LR_OPTIONS, key="sgd_lr")
        r = st.columns([3, 1])
        r[0].multiselect("Learning rates to compare", LR_OPTIONS, key="sgd_lrs")
        r[1].number_input("Seeds to compare", 1, 8, key="sgd_nseeds")
        r = st.columns([1, 1, 2])
        r[0].checkbox("Train until stationary", key="sgd_until",
                      help="stop each run once its stationarity (the smallest subgradient of F) is at most the tolerance")
        r[1].select_slider("Tolerance", TOL_OPTIONS, key="sgd_tol", format_func=lambda v: f"{v:g}",
                           disabled=not ss["sgd_until"])
        r[2].select_slider("Learning rate halves every", HALFLIFE_OPTIONS, key="sgd_halflife",
                           format_func=lambda v: f"{v} steps" if v else "never (constant)",
                           help="lr_t = lr 2^(-t/H): a decaying step settles at a kink instead of hopping across it")
        st.caption(DEFAULTS_NOTE)


def setup_for(c: Controls) -> Setup:
    """The live run's setup from the shared controls and the page's own."""
    ss = st.session_state
    return Setup(data_key(c), c.beta, c.activation, c.leak, c.loss, c.bias, ss["sgd_opt"], int(ss["sgd_width"]),
                 float(ss["sgd_lr"]), int(ss["sgd_batch"]), float(ss["sgd_init"]), int(ss["sgd_seed"]),
                 int(ss["sgd_halflife"]) or None)


def comparison_key(c: Controls) -> tuple:
    """What the comparison's runs depend on (the live run's own learning rate and seed do not
    enter, as in :func:`..cache.sgd.runs`): a key for its figures and for "already computed"."""
    ss = st.session_state
    s = setup_for(c)
    lrs = tuple(float(v) for v in ss["sgd_lrs"]) or (s.lr,)
    seeds = tuple(range(s.seed, s.seed + int(ss["sgd_nseeds"])))
    return ("sgd_runs", c, astuple(replace(s, lr=0.0, seed=0)), int(ss["sgd_steps"]), lrs, seeds, tol())


def tol() -> float | None:
    """The stationarity tolerance at which runs stop (None: they run all their steps)."""
    ss = st.session_state
    return float(ss["sgd_tol"]) if ss["sgd_until"] else None


def finished(h: TrainingHistory, steps: int) -> bool:
    """The live run has used its steps, or is stationary while training until stationary."""
    return h.n_steps >= steps or (tol() is not None and h.stationary)


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


def step(s: Setup, X, y, n_steps: int, steps: int) -> None:
    """Advance the live run by ``n_steps`` of at most ``steps`` (stops playing and records the
    error on divergence); with a tolerance it stops once stationary."""
    h = live(s, X, y)
    try:
        st.session_state[LIVE] = (astuple(s), resume_training(h, X, y, n_steps, tol=tol(), report_every=chunk(steps)))
    except ValueError as exc:
        st.session_state[ERROR] = str(exc)
        st.session_state[PLAYING] = False


def tick(s: Setup, X, y, steps: int) -> bool:
    """One frame of play: a chunk while below ``steps``. Returns True when the run just finished."""
    ss = st.session_state
    if not ss.get(PLAYING):
        return False
    h = live(s, X, y)
    if not finished(h, steps):
        step(s, X, y, min(chunk(steps), steps - h.n_steps), steps)
    if finished(live(s, X, y), steps) or not ss.get(PLAYING):
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
