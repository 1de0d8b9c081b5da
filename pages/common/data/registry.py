"""The session's user data: the uploaded table and the data assembled from it and the clicks.

Besides the built-in gallery the data can be an uploaded CSV (``src=upload``) and either can be
edited by clicking on the Overview page's data plot (``add``: added points in the data's own
units, ``drop``: removed training points). Edits are in the URL; the uploaded table is not (the
URL keeps its file name and SHA-256 prefix so a link says what to upload). The assembled data
set is registered in the session under its content hash, which becomes ``Controls.source``
(empty for unedited built-in data), so every cache keyed by ``Controls`` or
:func:`..cache.keys.data_key` is keyed by the data's content; :func:`data_for` returns it.
"""
from __future__ import annotations

import re

import streamlit as st

from cvx_core.datasets import DATASET_TITLES, Dataset

from .. import errors
from ..cache.data import dataset
from ..cache.keys import Controls
from ..url import notice
from . import table as tb

#: Session key of the uploaded table (a :class:`table.TableData`), never put in the URL.
USER_TABLE = "_user_table"
#: Session key of the registry {content hash: UserDataset}.
USER_DATASETS = "_user_datasets"
_EDIT_BASE = "_edit_base"
#: Largest number of click-added points (they live in the URL).
MAX_ADDED = 200
#: User data sets kept per session.
MAX_REGISTERED = 4


def user_dataset(key: str) -> tb.UserDataset:
    """The registered user data set with content hash ``key`` (KeyError when unknown)."""
    reg = st.session_state.get(USER_DATASETS, {})
    if key not in reg:
        raise KeyError(f"no user data with key {key[:12]}... in this session")
    return reg[key]


def data_for(c: Controls) -> Dataset:
    """The training/test data selected by the shared controls (user data when ``c.source``)."""
    if c.source:
        return user_dataset(c.source)
    return dataset(c.dataset, c.n, c.noise, c.seed, c.test)


def uploaded_table():
    """The session's uploaded table, or None."""
    return st.session_state.get(USER_TABLE)


def set_table(table) -> None:
    """Make ``table`` (a validated :class:`table.TableData`) the session's uploaded data.

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


def forget_edit_base() -> None:
    """After a link re-seeded the controls: the edits in it belong to its own data."""
    st.session_state.pop(_EDIT_BASE, None)


def check_points(raw: str) -> None:
    """URL check of ``add``: at most :data:`MAX_ADDED` points of one width (ValueError)."""
    pts = tb.decode_points(raw)
    if len(pts) > MAX_ADDED or len({len(p) for p in pts}) > 1:
        raise ValueError(raw)


def check_indices(raw: str) -> None:
    """URL check of ``drop``: non-negative indices (ValueError)."""
    tb.decode_indices(raw)


def assemble(table, sb) -> str:
    """Assemble the user data (upload ``table`` and/or clicked edits); return its content hash or ''.

    Reads the shared controls from the session, registers the data, and writes its caption
    (or an error) into the sidebar ``sb``.
    """
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
        added = tb.decode_points(ss["add"], width)
    except ValueError:
        notice(f"ignored the added points: expected {width} numbers per point for {task} data")
        ss["add"], added = "", []
    dropped = tb.decode_indices(ss["drop"])
    if table is None and not (added or dropped):
        return ""
    edits = ([f"+{len(added)} clicked"] if added else []) + ([f"-{len(dropped)} removed"] if dropped else [])
    suffix = f" ({', '.join(edits)})" if edits else ""
    try:
        if table is not None:
            desc = f"uploaded {table.name}" + (", rescaled to the box" if ss["rescale"] else "") + suffix
            ds = tb.compose(f"upload:{table.name}", task, table.X, table.y, test=float(ss["test"]),
                            seed=int(ss["seed"]), rescale=bool(ss["rescale"]), dropped=dropped,
                            added=added, description=desc)
        else:
            base = dataset(ss["dataset"], int(ss["n"]), float(ss["noise"]), int(ss["seed"]), float(ss["test"]))
            desc = f"{DATASET_TITLES[ss['dataset']]} (n={ss['n']}, seed={ss['seed']})" + suffix
            ds = tb.compose(ss["dataset"], task, base.X, base.y, test=0.0, seed=0, rescale=False,
                            dropped=dropped, added=added, description=desc, split=False,
                            X_test=base.X_test, y_test=base.y_test)
    except ValueError as exc:
        errors.bad_input(f"Could not assemble the data: {exc}. The clicked edits were cleared.", sb)
        ss["add"], ss["drop"] = "", ""
        return ""
    reg = ss.setdefault(USER_DATASETS, {})
    reg.pop(ds.key, None)
    reg[ds.key] = ds
    while len(reg) > MAX_REGISTERED:
        reg.pop(next(iter(reg)))
    sb.caption(f"Data: {ds.description}, {ds.X.shape[0]} training points"
               + (f", {ds.X_test.shape[0]} test" if len(ds.X_test) else ""))
    return ds.key
