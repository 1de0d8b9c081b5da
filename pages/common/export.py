"""Exports: figures (PNG/SVG), model weights (JSON) and their upload, data (CSV), a Python snippet.

- :func:`chart` shows a plotly figure with the lecture-mode styling and a modebar camera
  button that downloads PNG or SVG in the browser (client-side, always available), plus
  server-side PNG/SVG downloads rendered by kaleido with the machine's Chromium when both are
  installed (:func:`server_export_available`) and the session turned them on ("Share and
  present" box, ``?srvexp=1``), generated only when clicked.
- :func:`cached` builds a figure once per server process for a key of everything it shows
  (rebuilding plotly figures was most of a rerun when one control moved).
- :func:`model_json` / :func:`load_network` write and read a network as JSON (never pickle).
- :func:`snippet` writes a short Python script that reproduces the current fit with
  ``cvx_core`` (tests execute it and compare the objective).
"""
from __future__ import annotations

import functools
import hashlib
import json
import shutil
import threading
from collections import OrderedDict

import numpy as np
import streamlit as st

import cvx_core
from cvx_core.datasets import Dataset

from . import data_io, lecture, live_chart

#: Largest accepted network JSON upload.
MAX_JSON_BYTES = 1_000_000
#: Up to this many points the snippet embeds the data; above, it reads the downloaded CSV.
SNIPPET_INLINE_ROWS = 500
_MIME = {"png": "image/png", "svg": "image/svg+xml"}


# --------------------------------------------------------------------------- figures
_FIGURES: "OrderedDict[tuple, object]" = OrderedDict()
_FIGURES_LOCK = threading.Lock()
#: Figures kept for reuse (least recently used first out).
MAX_CACHED_FIGURES = 64


def fingerprint(*arrays) -> str:
    """Content hash of numpy arrays (for :func:`cached` keys that involve computed results)."""
    h = hashlib.sha1()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def cached(key: tuple, build):
    """``build()`` for ``key``, built once per server process and shared by all sessions.

    ``key`` must name everything the figure shows (data, settings, selection). Constructing a
    plotly figure validates every property and was most of a rerun's time when a single slider
    moved; a cached figure is never modified after it is built (lecture styling is applied
    here, once, with the lecture flag part of the key).
    """
    k = (key, lecture.active())
    with _FIGURES_LOCK:
        fig = _FIGURES.get(k)
        if fig is not None:
            _FIGURES.move_to_end(k)
            return fig
    fig = lecture.style(build())
    with _FIGURES_LOCK:
        _FIGURES[k] = fig
        while len(_FIGURES) > MAX_CACHED_FIGURES:
            _FIGURES.popitem(last=False)
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
    try:
        import kaleido  # noqa: F401
    except ImportError:
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


# --------------------------------------------------------------------------- model JSON
def model_json(fit: cvx_core.ConvexFit) -> str:
    """The fitted network as JSON (:meth:`TwoLayerNet.to_dict` plus what it was trained with)."""
    obj = fit.network.to_dict()
    obj["trained"] = {"beta": fit.beta, "loss": fit.loss, "objective": fit.objective, "gap": fit.gap,
                      "n_neurons": fit.n_neurons, "status": fit.status}
    return json.dumps(obj, indent=1)


def load_network(data: bytes) -> cvx_core.TwoLayerNet:
    """A network from uploaded JSON bytes (size-checked, parsed with ``json``; never unpickled).

    Raises
    ------
    ValueError
        Empty or too large file, not UTF-8 JSON, or not a network (message from
        :meth:`TwoLayerNet.from_json`).
    """
    if len(data) == 0:
        raise ValueError("the file is empty: expected a network JSON with keys U, alpha, activation, bias")
    if len(data) > MAX_JSON_BYTES:
        raise ValueError(f"the file is {len(data) / 1e6:.1f} MB; the limit for a network JSON is "
                         f"{MAX_JSON_BYTES / 1e6:.1f} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("expected a UTF-8 JSON file; this file is not text") from None
    return cvx_core.TwoLayerNet.from_json(text)


def certify_network(net: cvx_core.TwoLayerNet, data: Dataset, beta: float, loss: str) -> cvx_core.Certificate:
    """Certificate of an uploaded network on the current data (ValueError on a mismatch)."""
    d = data.X.shape[1]
    if net.n_inputs != d:
        raise ValueError(f"this network takes {net.n_inputs} input feature(s) but the data has {d}")
    return cvx_core.certify(net, data.X, data.y, beta, loss=loss)


# --------------------------------------------------------------------------- data CSV
def data_csv(data: Dataset, raw: bool = False, split: bool = False) -> str:
    """Training then test data as CSV in the upload format (``raw``: undo the box rescaling;
    ``split``: add a train/test column, which makes the file no longer re-uploadable)."""
    X = np.vstack([data.X, data.X_test]) if len(data.X_test) else data.X
    y = np.concatenate([data.y, data.y_test]) if len(data.y_test) else data.y
    if raw and hasattr(data, "to_raw"):
        X = data.to_raw(X)
    text = data_io.to_csv(X, y)
    if not split:
        return text
    labels = ["train"] * len(data.y) + ["test"] * len(data.y_test)
    lines = text.splitlines()
    return "\n".join([lines[0] + ",split"] + [ln + "," + s for ln, s in zip(lines[1:], labels)]) + "\n"


def train_csv(data: Dataset) -> str:
    """Training data only, in the upload format (three or two columns)."""
    return data_io.to_csv(data.X, data.y)


# --------------------------------------------------------------------------- Python snippet
def _array_literal(A: np.ndarray) -> str:
    A = np.asarray(A, dtype=float)
    if A.ndim == 1:
        return "np.array([" + ", ".join(repr(float(v)) for v in A) + "])"
    rows = ",\n    ".join("[" + ", ".join(repr(float(v)) for v in r) + "]" for r in A)
    return f"np.array([\n    {rows},\n]).reshape(-1, {A.shape[1]})"


def snippet(c, data: Dataset, patterns="exact", csv_name: str = "data_train.csv") -> str:
    """A short Python script that reproduces ``fit_for(c, patterns)`` with ``cvx_core``.

    Built-in data is regenerated from its name and seed; user data is embedded (up to
    :data:`SNIPPET_INLINE_ROWS` points) or read from the training CSV (``csv_name``).
    """
    if isinstance(patterns, np.ndarray):
        raise ValueError("the snippet reproduces exact or sampled (int) patterns only")
    lines = ["import numpy as np", "import cvx_core"]
    if not c.source:
        lines += ["from cvx_core.datasets import load_dataset", "",
                  f"data = load_dataset({c.dataset!r}, n={c.n}, noise={c.noise!r}, seed={c.seed}, "
                  f"test_fraction={c.test!r})",
                  "X, y = data.X, data.y"]
    elif data.X.shape[0] <= SNIPPET_INLINE_ROWS:
        lines += ["", f"# {getattr(data, 'description', 'user data')} (training set, model coordinates)",
                  f"X = {_array_literal(data.X)}", f"y = {_array_literal(data.y)}"]
    else:
        lines += ["", f"# the training CSV downloaded from the dashboard ({csv_name})",
                  f"table = np.loadtxt({csv_name!r}, delimiter=',', skiprows=1, ndmin=2)",
                  "X, y = table[:, :-1], table[:, -1]"]
    pat = repr(patterns) if isinstance(patterns, str) else str(int(patterns))
    lines += ["",
              f"fit = cvx_core.fit_convex(X, y, beta={c.beta!r}, activation={c.activation!r}, leak={c.leak!r},",
              f"                          loss={c.loss!r}, bias={c.bias!r}, patterns={pat})",
              'print(f"objective {fit.objective:.10g}  certified gap {fit.gap:.1e}  "',
              '      f"active neurons {fit.n_neurons}  status {fit.status}")',
              ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- panels
def export_panel(c, data: Dataset, fit, patterns="exact") -> None:
    """Downloads for the current view: model JSON, data CSV, and the reproducing snippet."""
    tag = c.dataset if not c.source else "user"
    cols = st.columns(3)
    if fit is not None:
        cols[0].download_button("Model weights (JSON)", model_json(fit), file_name=f"network_{tag}.json",
                                mime="application/json", icon=":material/data_object:", key="exp_json")
    cols[1].download_button("Data (CSV)", data_csv(data), file_name=f"data_{tag}.csv", mime="text/csv",
                            icon=":material/table:", key="exp_csv")
    rescaled = hasattr(data, "to_raw") and (np.any(data.half != 1) or np.any(data.center != 0))
    if rescaled:
        cols[2].download_button("Data in the file's units (CSV)", data_csv(data, raw=True),
                                file_name=f"data_{tag}_raw.csv", mime="text/csv", key="exp_csv_raw")
    st.caption("Figures: the camera icon on each figure downloads it in the browser "
               f"({st.session_state.get('fmt', 'png').upper()}; change the format under Share and present)"
               + ("; the PNG/SVG buttons under a figure render it on the server." if server_export_available() else "."))
    try:
        code = snippet(c, data, patterns)
    except ValueError as exc:
        st.info(f"No snippet: {exc}")
        return
    st.markdown("**Reproduce this result in Python** (needs only `cvx_core`):")
    st.code(code, language="python")
    if c.source and data.X.shape[0] > SNIPPET_INLINE_ROWS:
        st.download_button("Training data for the snippet (CSV)", train_csv(data), file_name="data_train.csv",
                           mime="text/csv", key="exp_train_csv")


def certify_panel(c, data: Dataset) -> None:
    """Upload a network's weights as JSON and certify it on the current data at the current beta."""
    up = st.file_uploader("Network JSON (keys U, alpha, activation, leak, bias; as exported above)",
                          type=["json"], key="cert_upload", max_upload_size=1)
    lecture.explain("U has one row per hidden neuron (input weights, then the bias weight when bias is true); "
                    "alpha holds the output weights. The file is parsed as JSON, never unpickled.")
    if up is None:
        return
    try:
        if up.size > MAX_JSON_BYTES:  # refuse before reading
            raise ValueError(f"the file is {up.size / 1e6:.1f} MB; the limit for a network JSON is "
                             f"{MAX_JSON_BYTES / 1e6:.1f} MB")
        net = load_network(up.getvalue())
        with st.spinner("Certifying over the activation patterns..."):
            cert = certify_network(net, data, c.beta, c.loss)
    except (ValueError, TypeError) as exc:
        st.error(f"{up.name}: {exc}")
        return
    except RuntimeError as exc:
        st.warning(f"{up.name}: the certificate could not be computed: {exc}")
        return
    m = st.columns(4)
    m[0].metric("Objective of the network", f"{cert.objective:.6g}")
    m[1].metric("Certified gap", f"{cert.gap:.1e}", help="(objective - certified lower bound) / objective")
    m[2].metric("cert / beta", f"{cert.certificate:.4f}", help="<= 1 and a stationary network means globally optimal")
    m[3].metric("Neurons", net.n_neurons)
    verdict = "globally optimal (gap <= 1e-6)" if cert.globally_optimal else "not certified optimal"
    st.markdown(f"**{up.name}**: {verdict} at beta = {c.beta:.3g} with the {c.loss} loss; lower bound "
                f"{cert.lower_bound:.6g} over {'all' if cert.exact else 'sampled'} {cert.n_patterns:,} patterns.")
    if not cert.globally_optimal:
        st.caption(f"A neuron to insert: direction u* = ({', '.join(f'{v:.3f}' for v in cert.u_star)}) with output sign "
                   f"{cert.u_star_sign:+d} violates the dual constraint most.")
    if net.activation != c.activation or net.bias != c.bias:
        st.info(f"The network's own activation ({net.activation}) and bias ({net.bias}) are used, "
                f"not the sidebar's ({c.activation}, {c.bias}).")
