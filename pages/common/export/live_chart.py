"""A plotly chart that keeps its identity across reruns and redraws with ``Plotly.react``.

``st.plotly_chart`` (Streamlit 1.67) hashes the whole figure into the element's identity, so
every change of a figure remounts the chart: ``Plotly.newPlot`` instead of ``Plotly.react``,
and a new WebGL context for a 3-D scene. Moving the Arrangements page's direction u changes
its two large figures, and the remounts were most of the 1.75 s a step took in Chromium
(measured in the page: newPlot of the arrangement 470-540 ms against 150-200 ms for react,
the zonotope 680-1170 ms against 140-270 ms).

:func:`show` draws a figure in a small Streamlit component (``assets/live_chart.html`` in an
iframe, with the ``plotly.min.js`` of the installed plotly package) whose identity is its
``key`` alone, so the browser keeps one plotly graph per key and updates it in place. Clicks
on points come back as the component's value in ``st.plotly_chart``'s selection format:
``{"selection": {"points": [{"curve_number", "point_index", "x", "y", "customdata", ...}]}}``
(a double click clears the pick).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

import plotly
import plotly.io as pio
import streamlit as st
from streamlit.components import v1 as components

#: The component's page (copied next to plotly.min.js into the served directory).
HTML = Path(__file__).resolve().parents[3] / "assets" / "live_chart.html"
#: Component name as Streamlit registers it.
NAME = "convex_nn_live_chart"
#: Key suffix of a chart's overlay instance (see :func:`show`).
OVERLAY_SUFFIX = "__overlay"

_LOCK = threading.Lock()
_DECLARED: dict[int, object] = {}


def plotly_js() -> Path:
    """The plotly.js bundle shipped with the installed plotly package (same version as figures)."""
    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def component_dir(root: Path | None = None) -> Path:
    """A directory holding the component's ``index.html`` and ``plotly.min.js``.

    Streamlit serves a component's files from one directory and refuses symlinks that lead out
    of it, so both files are copied once into a directory named by a hash of their versions
    (under the system temporary directory unless ``root`` is given). Several server processes
    may race here: each builds a private copy and renames it into place; the first one wins.
    """
    root = Path(tempfile.gettempdir()) if root is None else Path(root)
    html, js = HTML.read_bytes(), plotly_js()
    tag = hashlib.sha1(html + f"{plotly.__version__}:{js.stat().st_size}".encode()).hexdigest()[:12]
    target = root / f"convex-nn-explorer-live-chart-{tag}"
    files = ("index.html", "plotly.min.js")
    if all((target / f).is_file() for f in files):
        return target
    if target.exists():  # left incomplete by hand (renames are atomic): start again
        shutil.rmtree(target, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp", dir=root))
    try:
        shutil.copyfile(js, tmp / "plotly.min.js")
        (tmp / "index.html").write_bytes(html)
        os.rename(tmp, target)
    except OSError:
        if not all((target / f).is_file() for f in files):
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _component():
    """The declared component, once per Streamlit runtime (each AppTest run has its own)."""
    from streamlit.runtime import Runtime

    rid = id(Runtime.instance()) if Runtime.exists() else 0
    with _LOCK:
        comp = _DECLARED.get(rid)
        if comp is None:
            comp = _DECLARED[rid] = components.declare_component(NAME, path=str(component_dir()))
    return comp


def figure_json(fig) -> str:
    """``fig`` as plotly JSON, serialised once per figure object.

    The figures shown here come from :func:`pages.common.export.chart.cached`, which never modifies a
    figure after building it; serialising a 1 MB arrangement on every rerun cost ~50 ms.
    """
    js = getattr(fig, "_live_json", None)
    if js is None:
        js = pio.to_json(fig, validate=False)
        fig._live_json = js
    return js


def show(fig, *, key: str, config: dict | None = None, themed: bool = True, on_select=None,
         overlay: list | None = None):
    """Draw ``fig`` in the live chart with element key ``key``; returns the last click.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure (not modified afterwards: its JSON is kept on it).
    key : str
        The chart's identity: the same key across reruns updates the same plotly graph.
    config : dict, optional
        Plotly config (modebar, download options).
    themed : bool
        Replace the figure's template with one from the app's theme colours (as
        ``st.plotly_chart(theme="streamlit")``); False keeps the figure's own look.
    on_select : callable, optional
        Called (no arguments) after a click or double click on the chart; clicks are only
        reported when it is given. The value is then in ``st.session_state[key]``.
    overlay : list of dict, optional
        ``scatter`` traces (x, y, mode, marker symbol/size/colour, line colour/width/dash, text,
        xaxis, yaxis) drawn on a layer over the axes, or ``scatter3d`` traces projected with
        the scene's current camera (on top, no occlusion): changing them redraws nothing else
        (on the arrangement, plotly's redraw of every cell took 150-200 ms; a zonotope frame
        under software WebGL ~80 ms). The legend entries belong in ``fig``; the camera
        button's download includes the overlay. Passed through
        a second, invisible instance keyed ``key + "__overlay"`` (pass ``[]`` rather than None
        to keep it when there is nothing to draw).

    Returns
    -------
    dict or None
        ``{"selection": {"points": [...]}, "seq": n}`` after a click, else None.
    """
    if not key:
        raise ValueError("a live chart needs a key: it is the chart's identity across reruns")
    comp = _component()
    okey = f"{key}{OVERLAY_SUFFIX}" if overlay is not None else None
    # config and overlay go as JSON text: Streamlit tests every other argument for a dataframe,
    # and that test imports pandas (0.26 s on a fresh server's first chart)
    out = comp(spec=figure_json(fig), config=json.dumps(config or {}), themed=bool(themed),
               selectable=on_select is not None, overlay_key=okey, key=key, default=None, on_change=on_select)
    if okey is not None:
        # A separate, invisible instance carries the overlay: changing it alone leaves the chart's
        # arguments (the figure) unchanged, so Streamlit does not send the figure again (1.3 MB
        # for the arrangement at n = 40).
        comp(target=key, overlay=json.dumps(_plain(overlay)), key=okey, default=None)
        st.html(_HIDE_OVERLAY_INSTANCES)  # style only: Streamlit renders it without a block
    return out


# An overlay instance is an empty frame: out of the column's flow (no gap under the chart).
_HIDE_OVERLAY_INSTANCES = (f'<style>div[class*="st-key-"][class*="{OVERLAY_SUFFIX}"]'
                           "{position:absolute !important;width:0;height:0;overflow:hidden}</style>")


def _plain(obj):
    """``obj`` with numpy scalars and arrays as Python numbers and lists (JSON arguments)."""
    import numpy as np

    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def clicked_points(value) -> list:
    """The clicked points of a live chart's value (or of an ``st.plotly_chart`` selection)."""
    if not value:
        return []
    sel = value.get("selection") if hasattr(value, "get") else None
    return list((sel or {}).get("points", []) or [])
