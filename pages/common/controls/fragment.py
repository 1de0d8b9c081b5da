"""Display-only controls rerun a part of the page (a Streamlit fragment), not the whole app.

A full run also redraws the sidebar, the "Share and present" box and everything above the
control, and sends all of it to the browser again. :func:`page_fragment` makes the part of a
page that a display-only control changes (the control and what it shows) a fragment, so that
control reruns only that part.

app.py writes the URL after each full run (:func:`..url.sync_url`); a fragment's own rerun
writes it at its end, so the address bar stays the share link. The share box's links are
drawn by full runs only: while the box is open, the part runs as plain code (every control
then reruns the whole app), so the links it shows stay right.

A widget inside a fragment never interrupts a running script (Streamlit queues its rerun), so
a Stop button (:mod:`.stop`) inside one could not end a long computation: a page runs such a
part as plain code while its computation is due (``plain=True``).
"""
from __future__ import annotations

import functools
from typing import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ..url import sync_url
from .share import OPEN_KEY


def fragment_rerun() -> bool:
    """True while Streamlit reruns a fragment alone (app.py does not run)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def page_fragment(body: Callable[[], None] | None = None, *, plain: bool = False):
    """``body`` as a fragment (see the module docstring); call the result once per run.

    Define ``body`` in the page with a name of its own: a fragment's identity is its function's
    name and its place on the page. ``plain``: run it as plain code this time. Also a decorator
    factory: ``@page_fragment(plain=...)``.
    """
    if body is None:
        return lambda f: page_fragment(f, plain=plain)

    @functools.wraps(body)
    def run() -> None:
        try:
            body()
        finally:  # also after st.stop() inside the part
            if fragment_rerun():
                sync_url()

    if plain or st.session_state.get(OPEN_KEY):
        return run
    return st.fragment(run)
