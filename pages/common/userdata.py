"""User-data widgets: CSV upload with preview, click-to-edit data plots, explicit rescaling.

Edits are stored in the URL-bound strings ``add`` (points in the data's own units) and ``drop``
(indices of removed base training points); :mod:`pages.common.state` assembles the data from
them on every run, so every page sees the edited data through ``cache.data_for``.
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from . import data_io, lecture
from .figures import BOX
from .state import MAX_ADDED, USER_TABLE, bind, clear_table, notice, set_table, _choice

CLICK_KEY = "home_click"
CLICK_MODES = {"off": "Off", "pos": "Add +1 (orange)", "neg": "Add -1 (blue)", "add": "Add a point",
               "remove": "Remove nearest"}
_ROUND = "_click_round"
_UPLOAD_ERROR = "_upload_error"
#: Fewest training points an edit may leave.
MIN_POINTS = 3


# --------------------------------------------------------------------------- upload
def _on_upload() -> None:
    f = st.session_state.get("home_upload")
    if f is None:  # the file was removed from the widget: keep the data loaded
        return
    try:
        data_io.check_size(int(f.size))
        table = data_io.parse_csv(f.getvalue(), f.name)
    except ValueError as exc:
        st.session_state[_UPLOAD_ERROR] = f"{f.name}: {exc}"
        return
    st.session_state.pop(_UPLOAD_ERROR, None)
    set_table(table)
    notice(f"loaded {table.name}: {table.n} rows")


def upload_panel(data) -> None:
    """CSV upload, validation message, preview of the loaded table, rescaling control."""
    ss = st.session_state
    st.file_uploader(
        "CSV with a header: x1,x2,label (two classes) or x,y (1-D regression)", type=["csv", "txt"],
        key="home_upload", on_change=_on_upload, max_upload_size=max(1, data_io.MAX_BYTES // 1_000_000),
    )
    if ss.get(_UPLOAD_ERROR):
        st.error(ss[_UPLOAD_ERROR].rstrip(".") + "." + (" The previously loaded data stays in use." if ss.get(USER_TABLE) else ""))
    table = ss.get(USER_TABLE)
    if table is None:
        lecture.explain(f"Up to {data_io.MAX_ROWS:,} rows and {data_io.MAX_BYTES / 1e6:.0f} MB. The label column is the "
                        "last one; two distinct labels are mapped to -1/+1.")
        return
    mapping = ", ".join(f"{k} -> {v:+d}" for k, v in table.label_map.items())
    st.success(f"Loaded **{table.name}**: {table.n} rows, {table.task}"
               + (f", labels {mapping}" if mapping else "") + f". SHA-256 {table.sha[:12]}...")
    st.dataframe(pd.DataFrame(np.c_[table.X, table.y], columns=list(table.columns)).head(8), height=200)
    st.toggle("Rescale the features to the box [-1, 1]", key="rescale",
              help="Each feature column is mapped affinely onto [-1, 1]; switch off to train in the file's units.")
    if ss["src"] == "upload" and hasattr(data, "center"):
        rows = [f"{c}: center {m:.6g}, half-width {h:.6g}" for c, m, h in zip(table.columns, data.center, data.half)]
        st.caption(("In use: x_box = (x - center) / half-width, so x = x_box * half-width + center. "
                    if ss["rescale"] else "Not rescaled (identity). ") + "; ".join(rows) + ". "
                   "Data downloads offer both the box and the file's units.")
    st.button("Forget the uploaded data", on_click=clear_table, icon=":material/delete:")


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
    bind(CLICK_KEY, "off", _choice(tuple(CLICK_MODES)))
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


def add_click_layer(fig: go.Figure, data, predict=None, n_grid: int = 61) -> go.Figure:
    """An invisible grid of points over the plot so that a click anywhere yields coordinates."""
    if data.X.shape[1] == 2:
        xs = ys = np.linspace(BOX[0], BOX[1], n_grid)
    else:
        xs = np.linspace(BOX[0], BOX[1], n_grid)
        lo, hi = float(np.min(data.y)), float(np.max(data.y))
        pad = 0.3 * max(hi - lo, 1e-6)
        ys = np.linspace(lo - pad, hi + pad, n_grid)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    if predict is not None and data.X.shape[1] == 2:
        f = np.asarray(predict(np.c_[gx, gy])).ravel()
        hover = "x1=%{x:.3f}<br>x2=%{y:.3f}<br>f=%{customdata:.4f}<extra>click</extra>"
    else:
        f = np.zeros_like(gx)
        hover = "x=%{x:.3f}<br>y=%{y:.3f}<extra>click</extra>"
    fig.add_trace(go.Scatter(x=gx, y=gy, mode="markers", marker=dict(size=9, opacity=0), customdata=f,
                             hovertemplate=hover, showlegend=False, name="click layer"))
    return fig


def chart_with_clicks(fig: go.Figure, data, mode: str, filename: str):
    """Show ``fig``; when ``mode`` is not "off", clicks edit the data (see :func:`apply_click`)."""
    from .export import chart

    if mode == "off":
        return chart(fig, key="home_data_fig", filename=filename)
    key = f"home_click_fig_{st.session_state.get(_ROUND, 0)}"
    return chart(fig, key=key, filename=filename, on_select=functools.partial(_on_select, key, data),
                 selection_mode="points")
