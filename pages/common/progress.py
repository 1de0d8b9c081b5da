"""A progress bar for a long cached computation (a path, batched training runs).

Used inside the cached call: on a cache hit Streamlit replays its messages, which end with the
bar removed, so nothing shows. Its updates are also where a Stop click
(:mod:`pages.common.controls.stop`) ends the computation.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import streamlit as st


@contextmanager
def progress_bar(start: str, total: int, label: Callable[[int], str]) -> Iterator[Callable]:
    """Show ``start``, yield ``update(done, *ignored)`` that moves the bar to ``done / total``
    with the text ``label(done)``, and remove the bar afterwards (also on an error or a Stop)."""
    bar = st.progress(0.0, text=start)

    def update(done: int, *_) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=label(done))

    try:
        yield update
    finally:
        bar.empty()
