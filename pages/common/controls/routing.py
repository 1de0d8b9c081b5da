"""Routing: every page runs under ``app.py``'s navigation (shared controls, URL sync).

``through_app()`` (first line of every page) makes a page run under ``app.py``;
``ran_via_app`` is how app.py marks the page run it makes.
"""
from __future__ import annotations

import streamlit as st


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
