"""Figures on the page and their downloads.

- :func:`chart` shows a plotly figure with the lecture-mode styling and a modebar camera
  button that downloads PNG or SVG in the browser (client-side, always available), plus
  server-side PNG/SVG downloads rendered by kaleido with the machine's Chromium when both are
  installed (:func:`server_export_available`) and the session turned them on ("Share and
  present" box, ``?srvexp=1``), generated only when clicked.
- :func:`cached` builds a figure once per server process for a key of everything it shows
  (rebuilding plotly figures was most of a rerun when one control moved).
"""
from __future__ import annotations

import functools
import importlib.util
import shutil
import threading
from collections import OrderedDict

import streamlit as st

from .. import lecture
from ..imports import figure_build
from . import live_chart

_MIME = {"png": "image/png", "svg": "image/svg+xml"}


#: Figures kept for reuse (least recently used first out).
MAX_CACHED_FIGURES = 64


def cached(key: tuple, build):
    """``build()`` for ``key``, built once per server process and shared by all sessions.

    ``key`` must name everything the figure shows (data, settings, selection). Constructing a
    plotly figure validates every property and was most of a rerun's time when a single slider
    moved; a cached figure is never modified after it is built (lecture styling is applied
    here, once, with the lecture flag part of the key).
    """
    return _figure.get((key, lecture.active()), build)


class _FigureCache:
    """The last :data:`MAX_CACHED_FIGURES` figures by key, for the whole process.

    Keyed by Python's own hash: ``st.cache_resource`` hashed each key with its recursive
    hasher, 3-4 ms per figure on the SGD page's keys, on every rerun. An unhashable key
    builds the figure without caching it.
    """

    def __init__(self) -> None:
        self._figures: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, build):
        try:
            with self._lock:
                fig = self._figures.get(key)
                if fig is not None:
                    self._figures.move_to_end(key)
                    return fig
        except TypeError:
            return _built(build)
        fig = _built(build)  # outside the lock: other sessions' hits go on
        with self._lock:
            self._figures[key] = fig
            while len(self._figures) > MAX_CACHED_FIGURES:
                self._figures.popitem(last=False)
        return fig

    def clear(self) -> None:
        with self._lock:
            self._figures.clear()


def _built(build):
    """``build()``, lecture-styled and frozen, built inside the figure-build gate."""
    with figure_build():
        return frozen(lecture.style(build()))


_figure = _FigureCache()


def frozen(fig):
    """``fig`` with its plain-data form computed once: ``fig.to_dict()`` returns that dict.

    ``st.plotly_chart`` calls ``to_dict()`` on every rerun, a deep copy plus a base64 encoding
    of every array (about two thirds of a display-only rerun's time in the chart calls). Only
    for figures never modified afterwards; nothing may modify the returned dict.
    """
    data = fig.to_dict()
    object.__setattr__(fig, "to_dict", lambda: data)  # plotly's __setattr__ accepts only its properties
    return fig


def chart_config(filename: str = "figure", fmt: str | None = None) -> dict:
    """Plotly config: the modebar camera button downloads ``filename.png`` (2x) or ``.svg``."""
    fmt = fmt or st.session_state.get("fmt", "png")
    opts = {"format": fmt, "filename": filename}
    if fmt == "png":
        opts["scale"] = 2
    return {"displaylogo": False, "toImageButtonOptions": opts}


@functools.lru_cache(maxsize=1)
def server_export_available() -> bool:
    """True when kaleido is installed and finds a Chromium to render with."""
    if importlib.util.find_spec("kaleido") is None:  # not imported: the Overview asks on every first page
        return False
    return any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome", "chrome"))


@functools.lru_cache(maxsize=16)  # not st.cache_data: deferred downloads run outside the script thread
def _render(fig_json: str, fmt: str, width: int, height: int) -> bytes:
    import plotly.io as pio

    return pio.to_image(pio.from_json(fig_json), format=fmt, width=width, height=height,
                        scale=2 if fmt == "png" else 1)


def figure_bytes(fig, fmt: str = "png", width: int = 900, height: int = 700, overlay: list | None = None) -> bytes:
    """Render ``fig`` (with the ``overlay`` traces of a live chart) on the server (kaleido +
    Chromium); raises RuntimeError when unavailable."""
    if fmt not in _MIME:
        raise ValueError(f"expected format 'png' or 'svg', got {fmt!r}")
    if not server_export_available():
        raise RuntimeError("server-side export needs kaleido and Chromium; use the camera button on the figure")
    return _render(with_overlay(fig, overlay).to_json(), fmt, width, height)


def with_overlay(fig, overlay: list | None):
    """``fig`` with the ``overlay`` traces added (a copy; ``fig`` itself when there are none)."""
    if not overlay:
        return fig
    import plotly.graph_objects as go

    out = go.Figure(fig)
    out.add_traces([{**t, "showlegend": False} for t in overlay])  # the figure holds the legend entry
    return out


def chart(fig, *, key: str | None = None, filename: str = "figure", server: bool = True, live: bool = False,
          overlay: list | None = None, **kwargs):
    """``st.plotly_chart`` with lecture styling, the download config and optional server export.

    ``live=True`` draws it with :func:`pages.common.live_chart.show` instead (needs ``key``; the
    browser updates the chart in place when its figure changes; ``overlay`` traces are drawn
    over it without redrawing it; ``on_select`` is the only extra keyword it takes). Other extra
    keyword arguments go to ``st.plotly_chart`` (e.g. ``on_select``). Returns the chart's value.
    Downloads include the overlay.
    """
    lecture.style(fig)
    if overlay and not live:
        raise ValueError("overlay traces need a live chart (live=True)")
    if live:
        overlay = lecture.style_traces(overlay)
        out = live_chart.show(fig, key=key, config=chart_config(filename), themed=not lecture.active(),
                              on_select=kwargs.pop("on_select", None), overlay=overlay)
        if kwargs:
            raise TypeError(f"a live chart does not take {sorted(kwargs)}")
    else:
        if lecture.active():
            kwargs.setdefault("theme", None)  # streamlit's theme would override the large lecture fonts
        with figure_build():  # st.plotly_chart validates the figure again (plotly's validators)
            out = st.plotly_chart(fig, width="stretch", config=chart_config(filename), key=key, **kwargs)
    if server and st.session_state.get("srvexp") and server_export_available() and not lecture.active():
        # a compact horizontal row of small buttons: columns would squeeze their labels in a half-width column
        row = st.container(horizontal=True, gap="small", wrap=False)
        for fmt in ("png", "svg"):
            row.download_button(
                fmt.upper(), data=functools.partial(figure_bytes, fig, fmt, overlay=overlay), file_name=f"{filename}.{fmt}",
                mime=_MIME[fmt], key=f"{key or 'dl_' + filename}_{fmt}", type="tertiary", width="content",
                icon=":material/download:",
                help=f"Download {filename}.{fmt}, rendered on the server (a few seconds)",
            )
    return out
