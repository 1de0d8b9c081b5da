"""AppTest helpers shared by the page and UI tests: launching app.py, reruns, reading metrics."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

#: app.py, relative to this directory (AppTest resolves the path from the calling test file).
APP = "../app.py"


def metric(at: AppTest, label: str, *, prefix: bool = False) -> str:
    """The value of the metric labelled ``label`` (or whose label starts with it)."""
    for m in at.metric:
        if m.label == label or (prefix and m.label.startswith(label)):
            return m.value
    raise KeyError(f"no metric {label!r}; metrics: {[m.label for m in at.metric]}")


def rerun(at: AppTest) -> AppTest:
    """Run app.py again on the default page.

    AppTest builds a fresh PagesManager per run; with a ``pages/`` folder next to app.py it then
    treats the finished page's hash as a v1 page and runs that file alone (no app.py, no
    sidebar). Clearing the page hashes makes every run start from app.py, as a browser does.
    """
    at._finished_page_script_hash = ""
    at._page_hash = ""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_app(params: dict, timeout: float = 60) -> AppTest:
    """app.py (the Overview page) opened with query ``params``."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(page: str, shared: dict, own: dict | None = None, timeout: float = 120) -> AppTest:
    """``page`` (e.g. "pages/sgd.py") opened through app.py: a first run with the ``shared``
    parameters registers the pages (streamlit finds url_path pages only after a run), then the
    page's ``own`` parameters are added and the page runs."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update(shared)
    at.run()
    at.query_params.update(own or {})
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _decode(v):
    """Plotly JSON values: typed arrays (``{"dtype", "bdata"[, "shape"]}``) as numpy arrays."""
    import base64

    import numpy as np

    if isinstance(v, dict) and "bdata" in v and "dtype" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        if "shape" in v:
            a = a.reshape([int(s) for s in str(v["shape"]).split(",")])
        return a
    if isinstance(v, dict):
        return {k: _decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_decode(x) for x in v]
    return v


def chart_spec(at: AppTest, key: str) -> dict:
    """The plotly figure (data and layout, arrays decoded) of the ``st.plotly_chart`` with element key ``key``."""
    import json

    for ch in at.get("plotly_chart"):
        if ch.proto.id.endswith(f"-{key}"):
            return _decode(json.loads(ch.proto.spec))
    raise KeyError(f"no chart with key {key!r}")


def live_charts(at: AppTest) -> dict:
    """Every live chart (``pages/common/export/live_chart.py``) by element key: its arguments,
    with ``"spec"`` (the figure) decoded like :func:`chart_spec` and ``"spec_json"`` as sent (an
    overlay instance, keyed ``<chart key>__overlay``, holds ``"overlay"``: its traces)."""
    import json

    import streamlit.testing.v1.element_tree as et

    out = {}

    def walk(node):
        if isinstance(node, et.UnknownElement) and node.type == "component_instance":
            args = json.loads(node.proto.json_args)
            if "spec" in args:
                args["spec_json"], args["spec"] = args["spec"], _decode(json.loads(args["spec"]))
            for name in ("config", "overlay"):  # sent as JSON text (see live_chart.show)
                if isinstance(args.get(name), str):
                    args[name] = json.loads(args[name])
            out[node.proto.id.rsplit("-", 1)[-1]] = args
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out
