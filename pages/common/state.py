"""Shared controls (data, activation, loss, bias, beta), bound to the URL.

Every control has a session-state key equal to its query-parameter name. On the first run of a
session the URL seeds the controls (invalid values are ignored with a notice); after the widgets
are drawn, their values are written back to the URL so a copied link reproduces the view.
Pages bind their own controls with :func:`bind` (prefix the key with the page's short name).

User data. Besides the built-in gallery the data can be an uploaded CSV (``src=upload``) and
either can be edited by clicking on the Overview page's data plot (``add``: added points in
the data's own units, ``drop``: removed training points). Edits are in the URL; the uploaded
table is not (the URL keeps its file name and SHA-256 prefix so a link says what to upload).
The assembled data set is registered in the session under its content hash, which becomes
``Controls.source`` (empty for unedited built-in data): every cache keyed by ``Controls`` is
therefore keyed by the data's content, and :func:`pages.common.cache.data_for` returns it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlencode

import numpy as np
import streamlit as st

from cvx_core.datasets import DATASET_TITLES, DATASETS
from cvx_core.model import ACTIVATIONS, LOSSES

from . import data_io, lecture

_BOUND = "_url_bound_keys"
_NOTICES = "_url_notices"
#: Session key of the uploaded table (a :class:`data_io.TableData`), never put in the URL.
USER_TABLE = "_user_table"
#: Session key of the registry {content hash: UserDataset}.
USER_DATASETS = "_user_datasets"
_EDIT_BASE = "_edit_base"
#: Largest number of click-added points (they live in the URL).
MAX_ADDED = 200
#: Shared controls a lecturer may hide in lecture mode.
HIDEABLE = ("dataset", "n", "seed", "noise", "test", "activation", "leak", "loss", "bias", "log_beta")
ACTIVATION_TITLES = {"relu": "ReLU", "leaky": "Leaky ReLU", "abs": "Absolute value"}


def _parse_bool(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _choice(options):
    def parse(raw: str):
        if raw not in options:
            raise ValueError(raw)
        return raw
    return parse


def _ranged(kind, lo, hi):
    def parse(raw: str):
        v = kind(float(raw)) if kind is int else kind(raw)
        if not (lo <= v <= hi) or (isinstance(v, float) and not np.isfinite(v)):
            raise ValueError(raw)
        return v
    return parse


def _pattern(regex: str):
    rx = re.compile(regex)

    def parse(raw: str):
        if not rx.fullmatch(raw):
            raise ValueError(raw)
        return raw
    return parse


def _points(raw: str) -> str:
    pts = data_io.decode_points(raw)
    if len(pts) > MAX_ADDED or len({len(p) for p in pts}) > 1:
        raise ValueError(raw)
    return raw


def _indices(raw: str) -> str:
    data_io.decode_indices(raw)
    return raw


def _subset(options):
    def parse(raw: str) -> list:
        vals = [v for v in raw.split(",") if v]
        if any(v not in options for v in vals):
            raise ValueError(raw)
        return vals
    return parse


def bind(key: str, default: Any, parse: Callable[[str], Any]) -> None:
    """Register ``key`` as URL-bound; seed it from the URL (or ``default``) once per session."""
    bound = st.session_state.setdefault(_BOUND, {})
    bound[key] = (default, parse)
    if key in st.session_state:
        return
    _seed(key, default, parse)


def _seed(key: str, default: Any, parse: Callable[[str], Any]) -> None:
    raw = st.query_params.get(key)
    if raw is None:
        st.session_state[key] = default
        return
    try:
        st.session_state[key] = parse(raw)
    except (ValueError, TypeError):
        notice(f"ignored invalid URL parameter {key}={raw!r}")
        st.session_state[key] = default


def _apply_link() -> None:
    """A link carrying ``preset=...`` (a preset or a page link) re-seeds every bound control.

    Without it, controls already in the session keep their values and the URL follows them;
    with it, the view becomes exactly the link's (parameters it leaves out take defaults).
    """
    name = st.query_params.get("preset")
    if name is None:
        return
    for key, (default, parse) in list(st.session_state.get(_BOUND, {}).items()):
        _seed(key, default, parse)
    st.session_state.pop(_EDIT_BASE, None)
    del st.query_params["preset"]
    notice(f"opened {name}")


def _url_value(v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return ",".join(map(str, v))
    return str(v)


def url_state() -> dict:
    """The query string the current bound values give (empty values are left out)."""
    out = {}
    for key in st.session_state.get(_BOUND, {}):
        if key in st.session_state:
            s = _url_value(st.session_state[key])
            if s != "":
                out[key] = s
    return out


#: Query parameters that are not controls (streamlit's own, and the preset marker).
_RESERVED = ("embed", "embed_options", "preset")


def sync_url() -> None:
    """Write every bound control's current value to the query string.

    Parameters that no control claims are dropped with a notice.
    """
    bound = st.session_state.get(_BOUND, {})
    for key in [k for k in st.query_params if k not in bound and k not in _RESERVED]:
        st.toast(f"ignored unknown URL parameter {key}={st.query_params.get(key)!r}")
        del st.query_params[key]
    for key in bound:
        if key not in st.session_state:
            continue
        s = _url_value(st.session_state[key])
        if s == "":
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != s:
            st.query_params[key] = s


def notice(msg: str) -> None:
    """Queue a short message shown as a toast at the next :func:`show_notices`."""
    st.session_state.setdefault(_NOTICES, []).append(msg)


def show_notices() -> None:
    for msg in st.session_state.pop(_NOTICES, []):
        st.toast(msg)


@dataclass(frozen=True)
class Controls:
    """The shared controls' values (hashable: usable as a cache key).

    ``source`` is empty for unedited built-in data; otherwise the content hash of the user
    data (upload and/or clicked points) registered in this session (see module docstring).
    """

    dataset: str
    n: int
    noise: float
    seed: int
    test: float
    activation: str
    leak: float
    loss: str
    bias: bool
    log_beta: float
    source: str = ""

    @property
    def beta(self) -> float:
        return float(10.0 ** self.log_beta)


def _keep(key: str) -> None:
    """Keep a hidden widget's value (streamlit drops the state of widgets not drawn in a run)."""
    st.session_state[key] = st.session_state[key]


def _bind_all() -> None:
    bind("dataset", "spiral", _choice(DATASETS))
    bind("n", 40, _ranged(int, 4, 400))
    bind("noise", 0.0, _ranged(float, 0.0, 0.5))
    bind("seed", 0, _ranged(int, 0, 10_000))
    bind("test", 0.0, _ranged(float, 0.0, 0.5))
    bind("activation", "relu", _choice(ACTIVATIONS))
    bind("leak", 0.1, _ranged(float, 0.0, 0.9))
    bind("loss", "squared", _choice(LOSSES))
    bind("bias", True, _parse_bool)
    bind("log_beta", -2.0, _ranged(float, -4.0, 1.0))
    bind("src", "builtin", _choice(("builtin", "upload")))
    bind("file", "", _pattern(r"[\w .()\-]{1,120}"))
    bind("sha", "", _pattern(r"[0-9a-f]{6,64}"))
    bind("rescale", True, _parse_bool)
    bind("add", "", _points)
    bind("drop", "", _indices)
    bind(lecture.KEY, False, _parse_bool)
    bind(lecture.HIDE_KEY, [], _subset(HIDEABLE))
    bind("fmt", "png", _choice(("png", "svg")))
    bind("srvexp", False, _parse_bool)


def shared_controls() -> Controls:
    """Draw the shared controls in the sidebar and return their values."""
    _apply_link()
    _bind_all()
    ss = st.session_state
    lecture.inject_css()
    table = ss.get(USER_TABLE)
    using_upload = ss["src"] == "upload" and table is not None
    sb = st.sidebar
    if table is not None:
        sb.radio("Data source", ("builtin", "upload"), key="src", horizontal=True,
                 format_func={"builtin": "Built-in", "upload": f"Uploaded {table.name}"}.get)
        using_upload = ss["src"] == "upload"
    elif ss["src"] == "upload":
        _keep("src")
        sb.info(f"This link was made with uploaded data {ss['file'] or '(unnamed file)'}"
                f"{' (SHA-256 ' + ss['sha'][:12] + '...)' if ss['sha'] else ''}. Uploaded data is not stored "
                "in links: upload the same file on the Overview page to reproduce this view. "
                "Showing the built-in data set meanwhile.")
    shown = lambda key: lecture.show(key) and not (using_upload and key in ("dataset", "n", "noise"))  # noqa: E731
    if shown("dataset"):
        sb.selectbox("Data set", DATASETS, key="dataset", format_func=DATASET_TITLES.get)
        if not lecture.active():
            _gallery(sb)
    c1, c2 = sb.columns(2)
    if shown("n"):
        c1.number_input("Samples n", 4, 400, step=4, key="n")
    if shown("seed"):
        c2.number_input("Seed", 0, 10_000, step=1, key="seed")
    if shown("noise"):
        sb.slider("Noise", 0.0, 0.5, step=0.01, key="noise")
    if shown("test"):
        sb.slider("Test fraction", 0.0, 0.5, step=0.05, key="test")
    if shown("activation"):
        sb.selectbox("Activation", ACTIVATIONS, key="activation", format_func=ACTIVATION_TITLES.get)
    if ss["activation"] == "leaky" and shown("leak"):
        sb.slider("Leak", 0.0, 0.9, step=0.05, key="leak")
    if shown("loss"):
        sb.selectbox("Loss", LOSSES, key="loss")
    if shown("bias"):
        sb.toggle("Bias (appended as a regularised last weight)", key="bias")
    if shown("log_beta"):
        sb.slider("log10 beta", -4.0, 1.0, step=0.05, key="log_beta",
                  help="Weight-decay strength beta; the objective is L + (beta/2) sum(||u_j||^2 + alpha_j^2).")
    sb.caption(f"beta = {10 ** ss['log_beta']:.3g}")
    for key in HIDEABLE:
        if key in ss and not (shown(key) and (key != "leak" or ss["activation"] == "leaky")):
            _keep(key)
    source = _user_source(table if using_upload else None, sb)
    return Controls(ss["dataset"], int(ss["n"]), float(ss["noise"]), int(ss["seed"]), float(ss["test"]),
                    ss["activation"], float(ss["leak"]), ss["loss"], bool(ss["bias"]), float(ss["log_beta"]),
                    source)


# --------------------------------------------------------------------------- data set gallery
_SHORT_TITLES = {"spiral": "Spirals", "moons": "Moons", "circles": "Circles", "xor": "XOR", "blobs": "Blobs",
                 "regression1d": "1-D regr."}

def _pick(name: str) -> None:
    st.session_state["dataset"] = name
    st.session_state["src"] = "builtin"


def _gallery(sb) -> None:
    from .cache import thumbnail

    # Lazy: the thumbnails are images registered with the media-file manager on every rerun
    # while drawn; they are drawn only while the expander is open.
    with sb.expander("Gallery", expanded=False, key="_gallery_open", on_change="rerun") as gal:
        if not gal.open:
            return
        cols = st.columns(2)
        for i, name in enumerate(DATASETS):
            with cols[i % 2]:
                st.image(thumbnail(name), width="stretch")
                st.button(_SHORT_TITLES[name], key=f"_pick_{name}", on_click=_pick, args=(name,),
                          type="primary" if st.session_state["dataset"] == name else "secondary",
                          width="stretch")


# --------------------------------------------------------------------------- user data
def _user_source(table, sb) -> str:
    """Assemble the user data (upload and/or clicked edits); return its content hash or ''."""
    from .cache import dataset as builtin_dataset

    ss = st.session_state
    base_sig = (("upload", table.sha) if table is not None else ("builtin", ss["dataset"], int(ss["n"]),
                float(ss["noise"])), int(ss["seed"]), float(ss["test"]))
    prev = ss.get(_EDIT_BASE)
    if prev is not None and prev != base_sig and (ss["add"] or ss["drop"]):
        notice("cleared the clicked/removed points: the underlying data changed")
        ss["add"], ss["drop"] = "", ""
    ss[_EDIT_BASE] = base_sig
    if table is None and not (ss["add"] or ss["drop"]):
        return ""
    task = table.task if table is not None else ("regression" if ss["dataset"] == "regression1d" else "classification")
    width = 2 if task == "regression" else 3
    try:
        added = data_io.decode_points(ss["add"], width)
    except ValueError:
        notice(f"ignored the added points: expected {width} numbers per point for {task} data")
        ss["add"], added = "", []
    dropped = data_io.decode_indices(ss["drop"])
    if table is None and not (added or dropped):
        return ""
    edits = ([f"+{len(added)} clicked"] if added else []) + ([f"-{len(dropped)} removed"] if dropped else [])
    suffix = f" ({', '.join(edits)})" if edits else ""
    try:
        if table is not None:
            desc = f"uploaded {table.name}" + (", rescaled to the box" if ss["rescale"] else "") + suffix
            ds = data_io.compose(f"upload:{table.name}", task, table.X, table.y, test=float(ss["test"]),
                                 seed=int(ss["seed"]), rescale=bool(ss["rescale"]), dropped=dropped,
                                 added=added, description=desc)
        else:
            base = builtin_dataset(ss["dataset"], int(ss["n"]), float(ss["noise"]), int(ss["seed"]), float(ss["test"]))
            desc = f"{DATASET_TITLES[ss['dataset']]} (n={ss['n']}, seed={ss['seed']})" + suffix
            ds = data_io.compose(ss["dataset"], task, base.X, base.y, test=0.0, seed=0, rescale=False,
                                 dropped=dropped, added=added, description=desc, split=False,
                                 X_test=base.X_test, y_test=base.y_test)
    except ValueError as exc:
        sb.error(f"Could not assemble the data: {exc}. The clicked edits were cleared.")
        ss["add"], ss["drop"] = "", ""
        return ""
    reg = ss.setdefault(USER_DATASETS, {})
    reg.pop(ds.key, None)
    reg[ds.key] = ds
    while len(reg) > 4:
        reg.pop(next(iter(reg)))
    sb.caption(f"Data: {ds.description}, {ds.X.shape[0]} training points"
               + (f", {ds.X_test.shape[0]} test" if len(ds.X_test) else ""))
    return ds.key


def user_dataset(key: str):
    """The registered user data set with content hash ``key`` (KeyError when unknown)."""
    reg = st.session_state.get(USER_DATASETS, {})
    if key not in reg:
        raise KeyError(f"no user data with key {key[:12]}... in this session")
    return reg[key]


def set_table(table) -> None:
    """Make ``table`` (a validated :class:`data_io.TableData`) the session's uploaded data.

    Call from a widget callback (it sets the ``src`` widget's state).
    """
    ss = st.session_state
    ss[USER_TABLE] = table
    ss["src"] = "upload"
    ss["file"] = re.sub(r"[^\w .()\-]", "_", table.name)[:120] or "data.csv"
    ss["sha"] = table.sha[:12]
    ss["add"], ss["drop"] = "", ""


def clear_table() -> None:
    ss = st.session_state
    ss.pop(USER_TABLE, None)
    ss["src"], ss["file"], ss["sha"], ss["add"], ss["drop"] = "builtin", "", "", "", ""


# --------------------------------------------------------------------------- sharing
def share_link(base_url: str | None = None, **extra) -> str:
    """The link that reproduces the current view (``extra`` overrides parameters)."""
    params = {**url_state(), **{k: v for k, v in extra.items()}}
    params = {k: _url_value(v) for k, v in params.items() if _url_value(v) != ""}
    if base_url is None:
        try:
            base_url = st.context.url or ""
        except Exception:  # noqa: BLE001 - no browser context (tests)
            base_url = ""
    return f"{base_url}?{urlencode(params, safe=',;:')}"


def share_box() -> None:
    """The sidebar's "Share and present" box: copyable links, lecture mode, figure format.

    Call after the page ran (app.py does), so the link includes the page's own controls.
    """
    ss = st.session_state
    with st.sidebar.expander("Share and present", expanded=False):
        st.toggle("Lecture mode", key=lecture.KEY,
                  help="Hides explanatory text and the controls chosen below; larger fonts and markers.")
        st.multiselect("Hide in lecture mode", HIDEABLE, key=lecture.HIDE_KEY)
        st.radio("Figure download format (camera icon on each figure)", ("png", "svg"), key="fmt", horizontal=True)
        st.toggle("Server-rendered PNG/SVG buttons under each figure", key="srvexp",
                  help="Exact renders by kaleido + Chromium on the server (a few seconds each). Off by default: "
                       "every download button costs each rerun time when many people use one server.")
        st.caption("Link to this exact view (copy with the icon on the right):")
        st.code(share_link(), language=None, wrap_lines=True)
        st.caption("Lecture link (no explanatory text, large type):")
        st.code(share_link(lecture=True), language=None, wrap_lines=True)
        st.caption("Embed link (for an iframe in slides or a web page; no streamlit chrome):")
        st.code(share_link(lecture=True, embed="true"), language=None, wrap_lines=True)
        if ss.get("src") == "upload":
            st.warning(f"Uploaded data is not stored in the link: it records only the file name "
                       f"({ss.get('file')}) and its SHA-256 prefix ({ss.get('sha')}); whoever opens it "
                       "must upload the same file. Clicked points are in the link.")
        else:
            st.caption("Clicked/removed points are part of the link; uploaded data never is.")
