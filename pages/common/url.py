"""URL state: every bound control's session key is its query-parameter name.

On the first run of a session the URL seeds a control (an invalid value is ignored with a
notice); after the page ran, :func:`sync_url` writes every bound value back, so a copied link
reproduces the view. :func:`parser` is the one way to read a query-parameter value.
"""
from __future__ import annotations

import re
from typing import Any, Callable
from urllib.parse import urlencode

import numpy as np
import streamlit as st

_BOUND = "_url_bound_keys"
_NOTICES = "_url_notices"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
#: Query parameters that are not controls (streamlit's own, and the preset marker).
_RESERVED = ("embed", "embed_options", "preset")


def parser(kind: type = str, *, lo=None, hi=None, options=None, regex: str | None = None, many: bool = False,
           nonempty: bool = False, check: Callable[[str], Any] | None = None) -> Callable[[str], Any]:
    """A parser of one query-parameter value; it raises ``ValueError`` for an invalid one.

    ``kind`` is ``str``, ``int`` (``"40"`` or ``"40.0"``), ``float`` (finite) or ``bool``
    (``1/true/yes/on`` or ``0/false/no/off``). The value must lie in ``[lo, hi]``, be one of
    ``options``, match ``regex`` in full, and pass ``check(raw)`` (which raises ``ValueError``),
    as far as these are given. ``many``: a comma-separated list of such values (``nonempty``:
    at least one).
    """
    rx = re.compile(regex) if regex is not None else None

    def one(raw: str):
        if kind is bool:
            if raw.lower() not in _TRUE + _FALSE:
                raise ValueError(raw)
            v = raw.lower() in _TRUE
        elif kind is int:
            v = int(float(raw))
        else:
            v = kind(raw)
        if isinstance(v, float) and not np.isfinite(v):
            raise ValueError(raw)
        if lo is not None and not lo <= v <= hi:
            raise ValueError(raw)
        if options is not None and v not in options:
            raise ValueError(raw)
        if rx is not None and not rx.fullmatch(raw):
            raise ValueError(raw)
        if check is not None:
            check(raw)
        return v

    if not many:
        return one

    def parse_list(raw: str) -> list:
        vals = [one(v) for v in raw.split(",") if v]
        if nonempty and not vals:
            raise ValueError(raw)
        return vals
    return parse_list


def bind(key: str, default: Any, parse: Callable[[str], Any]) -> None:
    """Register ``key`` as URL-bound; seed it from the URL (or ``default``) once per session."""
    bound = st.session_state.setdefault(_BOUND, {})
    bound[key] = (default, parse)
    if key in st.session_state:
        return
    _seed(key, default, parse)


def bind_all(controls: dict) -> None:
    """:func:`bind` each ``key: (default, parser)`` of ``controls``."""
    for key, (default, parse) in controls.items():
        bind(key, default, parse)


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


def apply_link() -> bool:
    """A link carrying ``preset=...`` (a preset or a page link) re-seeds every bound control.

    Without it, controls already in the session keep their values and the URL follows them;
    with it, the view becomes exactly the link's (parameters it leaves out take defaults).
    Returns True when it re-seeded.
    """
    name = st.query_params.get("preset")
    if name is None:
        return False
    for key, (default, parse) in list(st.session_state.get(_BOUND, {}).items()):
        _seed(key, default, parse)
    del st.query_params["preset"]
    notice(f"opened {name}")
    return True


def keep(*keys: str) -> None:
    """Keep hidden widgets' values (streamlit drops the state of widgets not drawn in a run);
    keys not in the session are skipped."""
    ss = st.session_state
    for key in keys:
        if key in ss:
            ss[key] = ss[key]


def url_value(v: Any) -> str:
    """A control's value as written in the URL."""
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
            s = url_value(st.session_state[key])
            if s != "":
                out[key] = s
    return out


def sync_url() -> None:
    """Write every bound control's current value to the query string.

    Parameters that no control claims are dropped with a notice.
    """
    bound = st.session_state.get(_BOUND, {})
    drop = [k for k in st.query_params if k not in bound and k not in _RESERVED]
    for key in drop:
        st.toast(f"ignored unknown URL parameter {key}={st.query_params.get(key)!r}")
    changed = {}
    for key in bound:
        if key not in st.session_state:
            continue
        s = url_value(st.session_state[key])
        if s == "":
            if key in st.query_params:
                drop.append(key)
        elif st.query_params.get(key) != s:
            changed[key] = s
    # one message to the browser: each assignment or deletion sends its own (17 on a fresh
    # session's first page)
    if drop:
        st.query_params.from_dict({**{k: v for k, v in st.query_params.items() if k not in drop}, **changed})
    elif changed:
        st.query_params.update(changed)


def share_link(base_url: str | None = None, state: dict | None = None, **extra) -> str:
    """The link that reproduces the current view (``extra`` overrides parameters; ``state``: a
    :func:`url_state` already read, for several links of one view)."""
    params = {**(url_state() if state is None else state), **extra}
    params = {k: url_value(v) for k, v in params.items() if url_value(v) != ""}
    if base_url is None:
        try:
            base_url = st.context.url or ""
        except Exception:  # noqa: BLE001 - no browser context (tests)
            base_url = ""
    return f"{base_url}?{urlencode(params, safe=',;:')}"


def notice(msg: str) -> None:
    """Queue a short message shown as a toast at the next :func:`show_notices`."""
    st.session_state.setdefault(_NOTICES, []).append(msg)


def show_notices() -> None:
    for msg in st.session_state.pop(_NOTICES, []):
        st.toast(msg)
