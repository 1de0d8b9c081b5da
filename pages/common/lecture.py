"""Lecture mode (``?lecture=1``): no explanatory text, chosen controls hidden, big type.

Page authors use these helpers instead of the raw streamlit calls for text that explains:

- ``explain(text)``: a caption (how to read a plot), not shown in lecture mode.
- ``note(markdown)``: an explanatory paragraph, not shown in lecture mode.
- ``show(key)``: False when the lecturer hid the control ``key`` (``?hide=n,seed,...``)
  and lecture mode is on; draw the widget only when it is True (its value still comes from
  the URL, so the view is unchanged).
- ``style(fig)``: larger fonts, markers and lines for projectors (``export.chart`` applies it).
- ``marker_size(default)``: the marker size to use in a figure builder.

In lecture mode the CSS injected by :func:`inject_css` also enlarges all text and hides every
caption in the main area and the streamlit toolbar, so pages that call ``st.caption`` directly
are covered too.
"""
from __future__ import annotations

import streamlit as st

#: Query parameter / session key of the lecture-mode switch.
KEY = "lecture"
#: Query parameter / session key of the list of controls hidden in lecture mode.
HIDE_KEY = "hide"
#: Marker and font scale in lecture mode.
SCALE = 1.6

_CSS = """
<style>
html { font-size: 20px; }
section[data-testid="stMain"] [data-testid="stCaptionContainer"] { display: none; }
[data-testid="stToolbar"], [data-testid="stDecoration"] { display: none; }
[data-testid="stMetricValue"] { font-size: 2.6rem; }
[data-testid="stMetricLabel"] p { font-size: 1.1rem; }
h1 { font-size: 2.4rem !important; }
</style>
"""


def active() -> bool:
    """True in lecture mode."""
    return bool(st.session_state.get(KEY, False))


def explain(text: str, **kwargs) -> None:
    """Render ``text`` as a caption, except in lecture mode."""
    if not active():
        st.caption(text, **kwargs)


def note(text: str, **kwargs) -> None:
    """Render explanatory markdown, except in lecture mode."""
    if not active():
        st.markdown(text, **kwargs)


def hidden_keys() -> set:
    return set(st.session_state.get(HIDE_KEY, []) or []) if active() else set()


def show(key: str) -> bool:
    """Whether to draw the control ``key`` (False when hidden in lecture mode)."""
    return key not in hidden_keys()


def marker_size(default: int = 8) -> int:
    return int(round(default * SCALE)) if active() else default


def style(fig):
    """Larger fonts, markers and lines in lecture mode (returns the same figure).

    Idempotent: a figure is styled once (the marker and line scaling would compound), so a
    figure shared between reruns and sessions (:func:`pages.common.export.cached`) is safe.
    """
    if not active() or getattr(fig, "_lecture_styled", False):
        return fig
    fig.update_layout(font=dict(size=20), title_font_size=24, legend_font_size=18,
                      hoverlabel_font_size=18, height=max(fig.layout.height or 450, 640))
    # explicit axis fonts: streamlit's plotly theme sets its own tick and title sizes
    # automargin: the builders' 10 px margins clip 18 px tick labels otherwise
    fig.update_xaxes(tickfont_size=18, title_font_size=20, automargin=True)
    fig.update_yaxes(tickfont_size=18, title_font_size=20, automargin=True)
    for tr in fig.data:
        if tr.type != "scatter":
            continue
        size = tr.marker.size
        if size is not None and tr.mode and "markers" in tr.mode and not getattr(tr.marker, "opacity", None) == 0:
            tr.marker.size = _scaled(size)
        width = tr.line.width
        if tr.mode and "lines" in tr.mode:
            tr.line.width = (width or 2) * SCALE
    fig._lecture_styled = True
    return fig


def _scaled(size):
    """A marker size (number or per-point sequence) times :data:`SCALE`."""
    return [s * SCALE for s in size] if hasattr(size, "__len__") else size * SCALE


def style_traces(traces: list | None) -> list | None:
    """Trace dicts (a live chart's overlay) with :func:`style`'s larger markers and lines in
    lecture mode (copies; the input is returned as is otherwise)."""
    if not traces or not active():
        return traces
    out = []
    for t in traces:
        t = dict(t)
        mode = t.get("mode") or ""
        marker, line = dict(t.get("marker") or {}), dict(t.get("line") or {})
        size = marker.get("size")
        if size is not None and "markers" in mode:
            marker["size"] = _scaled(size)
        if "lines" in mode:
            line["width"] = (line.get("width") or 2) * SCALE
        t["marker"], t["line"] = marker, line
        out.append(t)
    return out


def inject_css() -> None:
    """Big type and no captions/toolbar in lecture mode (call once per run)."""
    if active():
        st.html(_CSS)
