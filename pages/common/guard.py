"""One cached fit with every failure shown on the page, never as a traceback.

``fit(c, key=...)`` returns the :class:`cvx_core.ConvexFit` for the shared controls or None,
after showing:

- ``st.error`` for bad input (e.g. labels that do not suit the loss) and for sizes that would
  explode (the message gives the predicted number of patterns), with a control that switches
  to sampled patterns instead (URL-bound ``<key>_samples``; 0 = exact);
- ``st.warning`` naming the status when the solver failed or was inaccurate.

``through_app()`` (first line of every page) makes a page run under ``app.py``'s navigation.
"""
from __future__ import annotations

import warnings

import streamlit as st

import cvx_core

from . import cache
from .state import _ranged, bind


#: Session-state flag: True while app.py runs the page (set and cleared by app.py).
VIA_APP = "_run_via_app"
_TRIES = "_legacy_pages_reruns"


def through_app() -> None:
    """Rerun through ``app.py`` when a page file runs without it (then nothing below runs).

    Streamlit decides once per server process, when the first session starts, whether the app
    uses the legacy ``pages/`` folder mode: it does while a ``pages/`` folder exists and no
    ``st.navigation`` call has run yet (AppTest decides again on every run). Then the page file
    named like the requested url path runs alone, without ``app.py``'s shared controls and URL
    sync: a fresh server's first visitor following a shared link (``/path?...``), or a test. This
    turns the legacy mode off (what ``st.navigation`` does on each of ``app.py``'s runs) and
    reruns the same page and query string, now through ``app.py``. Should that not take (a later
    Streamlit), the fallback is the main page with the link's parameters.
    """
    ss = st.session_state
    if ss.get(VIA_APP):
        return
    tries = ss.get(_TRIES, 0)
    if tries < 2:
        ss[_TRIES] = tries + 1
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()
    st.switch_page("app.py", query_params=st.query_params.to_dict())


def ran_via_app(running: bool) -> None:
    """app.py marks the page run it makes (``True`` before ``nav.run()``, ``False`` after)."""
    st.session_state[VIA_APP] = running
    if running:
        st.session_state[_TRIES] = 0


def _samples_input(key: str) -> None:
    st.number_input("Sampled patterns (0 = exact enumeration)", 0, 100_000, step=500, key=key,
                    help="Gaussian directions u ~ N(0, I); the distinct patterns 1[X~u >= 0] they hit "
                         "define a subsampled convex program whose optimum is an upper bound.")


def fit(c, *, key: str = "home", spinner: str = "Solving the convex program...", patterns="exact"):
    """The fit for controls ``c`` (None after showing what went wrong)."""
    skey = f"{key}_samples"
    bind(skey, 0, _ranged(int, 0, 100_000))
    n_s = int(st.session_state[skey])
    pat = n_s if n_s > 0 else patterns
    try:
        with st.spinner(spinner), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the status on the result says it
            f = cache.fit_for(c, pat)
    except ValueError as exc:
        st.error(f"Cannot fit: {exc}")
        if "sample" in str(exc):
            _samples_input(skey)
            st.caption(f"Enter e.g. {cache.DEFAULT_SAMPLES:,} to solve over sampled patterns instead.")
        return None
    except RuntimeError as exc:
        st.warning(f"The solver failed: {exc}. Try a larger beta, another loss, or fewer points.")
        return None
    except Exception as exc:  # noqa: BLE001 - the user must never see a traceback
        st.error(f"Unexpected error while fitting ({type(exc).__name__}): {exc}")
        return None
    if n_s > 0:
        _samples_input(skey)
        st.info(f"Sampled patterns: {f.n_patterns:,} distinct patterns from {n_s:,} Gaussian directions. "
                "The optimum over them is an upper bound on the exact one; the certificate below is over "
                "the sampled patterns only.")
    if f.status != "optimal":
        st.warning(f"Solver status: **{f.status}** -- {cvx_core.STATUSES.get(f.status, 'not certified')} "
                   f"(certified relative gap {f.gap:.1e}, solver {f.solver}). The numbers below are what the "
                   "solver returned; the gap says how far from optimal they can be.")
    return f
