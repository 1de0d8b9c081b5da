"""Click editing of the data plot: the click mode, undo/reset, and what a click does.

Edits are stored in the URL-bound strings ``add`` (points in the data's own units) and ``drop``
(indices of removed base training points); :func:`.registry.assemble` builds the data from them
on every run, so every page sees the edited data through :func:`.registry.data_for`.
"""
from __future__ import annotations

import functools

import numpy as np
import streamlit as st

from ..url import bind, notice, parser
from . import table as data_io
from .registry import MAX_ADDED

CLICK_KEY = "home_click"
CLICK_MODES = {"off": "Off", "pos": "Add +1 (orange)", "neg": "Add -1 (blue)", "add": "Add a point",
               "remove": "Remove nearest"}
_ROUND = "_click_round"
#: Fewest training points an edit may leave.
MIN_POINTS = 3


# --------------------------------------------------------------------------- click editing
def click_modes(task: str) -> list[str]:
    return ["off", "add", "remove"] if task == "regression" else ["off", "pos", "neg", "remove"]


def _origin(data) -> np.ndarray:
    """Base index of each training row (>= 0) or -(k + 1) for the k-th added point."""
    return getattr(data, "origin", None) if getattr(data, "origin", None) is not None else np.arange(len(data.y))


def apply_click(data, x: float, y: float, mode: str) -> str:
    """Apply one click at display coordinates ``(x, y)``; returns a message (the state is updated)."""
    ss = st.session_state
    d = data.X.shape[1]
    added = data_io.decode_points(ss.get("add", ""))
    dropped = data_io.decode_indices(ss.get("drop", ""))
    if mode in ("pos", "neg", "add"):
        if len(added) >= MAX_ADDED:
            return f"at most {MAX_ADDED} added points (they are stored in the link)"
        p_disp = np.array([x, y])[:d]
        if np.any(np.all(np.isclose(data.X, p_disp, atol=1e-9), axis=1)):
            return "a point is already there"
        raw = data.to_raw(p_disp) if hasattr(data, "to_raw") else p_disp
        pt = tuple(float(v) for v in raw) + ((1.0,) if mode == "pos" else (-1.0,) if mode == "neg" else (float(y),))
        added.append(pt)
        ss["add"] = data_io.encode_points(added)
        return f"added a point at ({', '.join(f'{v:.3g}' for v in pt[:d])})"
    if mode == "remove":
        if len(data.y) <= MIN_POINTS:
            return f"keeping at least {MIN_POINTS} training points"
        pts = data.X if d == 2 else np.c_[data.X[:, 0], data.y]
        i = data_io.nearest(pts, (x, y))
        o = int(_origin(data)[i])
        if o < 0:
            added.pop(-o - 1)
            ss["add"] = data_io.encode_points(added)
        else:
            ss["drop"] = data_io.encode_indices(sorted(set(dropped) | {o}))
        return f"removed the point at ({', '.join(f'{v:.3g}' for v in pts[i])})"
    return ""


def _on_select(chart_key: str, data) -> None:
    ev = st.session_state.get(chart_key)
    pts = (ev or {}).get("selection", {}).get("points", []) if ev else []
    if not pts:
        return
    p = pts[0]
    msg = apply_click(data, float(p["x"]), float(p["y"]), st.session_state.get(CLICK_KEY, "off"))
    if msg:
        notice(msg)
    st.session_state[_ROUND] = st.session_state.get(_ROUND, 0) + 1  # fresh chart, no stale selection


def undo_last() -> None:
    added = data_io.decode_points(st.session_state.get("add", ""))
    if added:
        st.session_state["add"] = data_io.encode_points(added[:-1])


def reset_edits() -> None:
    st.session_state["add"], st.session_state["drop"] = "", ""


def edit_controls(task: str) -> str:
    """The click-mode selector and undo/reset buttons; returns the mode."""
    modes = click_modes(task)
    bind(CLICK_KEY, "off", parser(options=tuple(CLICK_MODES)))
    if st.session_state[CLICK_KEY] not in modes:
        st.session_state[CLICK_KEY] = "off"
    # a wrapping row: fixed columns truncate the mode labels and button labels at 1024 px
    c1 = c2 = c3 = st.container(horizontal=True, gap="small", vertical_alignment="bottom")
    c1.segmented_control("Click on the plot to", modes, key=CLICK_KEY, format_func=CLICK_MODES.get)
    has_add = bool(st.session_state.get("add"))
    c2.button("Undo last added", on_click=undo_last, disabled=not has_add, icon=":material/undo:")
    c3.button("Reset edits", on_click=reset_edits, disabled=not (has_add or st.session_state.get("drop")),
              icon=":material/restart_alt:")
    return st.session_state[CLICK_KEY] or "off"


def chart_target(data, mode: str) -> dict:
    """The key and click handler of the Overview's data chart (``export.chart(fig, **...)``):
    when ``mode`` is not "off", a click edits the data (see :func:`apply_click`)."""
    if mode == "off":
        return {"key": "home_data_fig"}
    key = f"home_click_fig_{st.session_state.get(_ROUND, 0)}"
    return {"key": key, "on_select": functools.partial(_on_select, key, data), "selection_mode": "points"}
