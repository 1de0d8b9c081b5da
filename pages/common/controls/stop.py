"""A Stop button beside a long cached computation (a path, the batched comparison runs).

A click on any widget ends the running script at its next message to the browser; the progress
bars inside the long computations send one every few hundred milliseconds, so Stop ends the
computation that soon. Its callback records which computation was stopped: the next run shows
"stopped" with a button to start it again, instead of starting it anew at once (an interrupted
cached call leaves nothing in the cache). Changing a setting gives a new key and a fresh start.
"""
from __future__ import annotations

from typing import Callable, TypeVar

import streamlit as st

T = TypeVar("T")


def _flag(name: str) -> str:
    return f"{name}_stopped"


def _stop(name: str, key) -> None:
    st.session_state[_flag(name)] = key


def _restart(name: str) -> None:
    st.session_state.pop(_flag(name), None)


def run_or_offer(name: str, key, what: str, compute: Callable[[], T]) -> T | None:
    """``compute()`` with a Stop button shown while it runs; None (and a button to run it again)
    when the user stopped the computation ``key`` before.

    ``name`` prefixes the widget keys; ``what`` names the computation ("The path").
    """
    if st.session_state.get(_flag(name)) == key:
        st.info(f"{what} was stopped before it finished; nothing below it is shown.")
        st.button("Run it again", key=f"{name}_restart", on_click=_restart, args=(name,), icon=":material/replay:")
        return None
    _restart(name)
    slot = st.empty()
    slot.button("Stop", key=f"{name}_stop", on_click=_stop, args=(name, key), icon=":material/stop:",
                help="end this computation (the page keeps everything above it)")
    try:
        return compute()
    finally:
        slot.empty()
