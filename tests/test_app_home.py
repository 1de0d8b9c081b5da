"""The Overview page: upload, click edits, refusals, solver trouble, exports, certify (AppTest, tiny data)."""
import json
import dataclasses

import numpy as np
import pytest
import streamlit as st
import cvx_core
from apptest_helpers import metric as _metric
from apptest_helpers import open_app, rerun
from cvx_core.datasets import load_dataset
from pages.common.cache import fit as cache_fit
from pages.common.data import editing as userdata
from pages.common.data import table as data_io

SMALL = {"dataset": "xor", "n": "10", "log_beta": "-1", "seed": "5"}


def _table_csv(n=12, seed=0, scale=(100.0, 0.01)) -> bytes:
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (n, 2)) * np.array(scale) + np.array([50.0, 3.0])
    y = np.where(X[:, 0] > 50, "yes", "no")
    y[:2] = ["yes", "no"]
    return ("height,weight,answer\n" + "\n".join(f"{float(a)!r},{float(b)!r},{c}" for (a, b), c in zip(X, y)) + "\n").encode()


def _app(**params):
    return open_app({**SMALL, **params})


def test_home_shows_metrics_exports_presets_and_a_snippet():
    at = _app()
    c = at.session_state["controls"]
    from pages.common.data.registry import data_for

    data = data_for(c)
    f = cvx_core.fit_convex(data.X, data.y, c.beta, activation=c.activation, leak=c.leak, loss=c.loss, bias=c.bias)
    assert float(_metric(at, "Objective")) == pytest.approx(f.objective, rel=1e-4)  # shown to 5 digits
    assert float(_metric(at, "Certified gap")) <= 1e-6
    assert int(_metric(at, "Active neurons")) == f.n_neurons
    assert _metric(at, "Status") == f.status == "optimal"
    assert not [b for b in at.download_button if "JSON" in b.label]  # closed export box: nothing made (lazy)
    at.session_state["home_export_open"] = True
    rerun(at)
    assert [b.label for b in at.download_button if "JSON" in b.label or "CSV" in b.label]
    assert any("cvx_core.fit_convex" in c.value for c in at.code)
    assert not at.get("page_link")  # closed teaching scenarios: no links drawn (lazy)
    at.session_state["home_presets_open"] = True
    rerun(at)
    assert len([p for p in at.get("page_link")]) >= 3


def _open_box(at, key: str, run: bool = True) -> None:
    """Open a lazy box (an expander keyed ``key``) for the next run. AppTest does not send an
    expander's state back as a browser does: a test re-opens the box before each run."""
    at.session_state[key] = True
    if run:
        rerun(at)


def test_upload_then_malformed_upload_keeps_the_previous_data():
    at = _app()
    assert not at.file_uploader  # closed boxes draw no uploader (lazy: a first page loads less code)
    _open_box(at, "home_upload_open")
    up = at.file_uploader(key="home_upload")
    up.set_value(("survey.csv", _table_csv(), "text/csv"))
    _open_box(at, "home_upload_open", run=False)
    rerun(at)
    c = at.session_state["controls"]
    assert c.source != ""
    data = at.session_state["_user_datasets"][c.source]
    assert data.X.shape == (12, 2) and np.abs(data.X).max() <= 1 + 1e-12  # rescaled to the box
    assert any("uploaded survey.csv" in cap.value for cap in at.sidebar.caption)
    assert any("center" in cap.value and "half-width" in cap.value for cap in at.caption)
    assert float(_metric(at, "Objective")) > 0
    # a broken file: clear message, previous data still in use
    at.file_uploader(key="home_upload").set_value(("bad.csv", b"height,weight,answer\n1,2,yes\n1,abc,yes\n3,4,no\n", "text/csv"))
    _open_box(at, "home_upload_open", run=False)
    rerun(at)
    errs = " ".join(e.value for e in at.error)
    assert "bad.csv" in errs and "text in numeric column 'weight'" in errs and "stays in use" in errs
    assert at.session_state["controls"].source == c.source
    # a 100 MB file is refused by its size
    at.file_uploader(key="home_upload").set_value(("huge.csv", b"a,b,c\n" + b"1" * 100_000_000, "text/csv"))
    _open_box(at, "home_upload_open", run=False)
    rerun(at)
    assert any("100.0 MB; the limit" in e.value for e in at.error)
    assert at.session_state["controls"].source == c.source
    # rescaling off: the data is in the file's units; on again: back in the box (reversible)
    at.toggle(key="rescale").set_value(False)
    _open_box(at, "home_upload_open", run=False)
    rerun(at)
    raw_source = at.session_state["controls"].source
    raw = at.session_state["_user_datasets"][raw_source]
    assert raw.X[:, 0].max() > 10
    # closing the box (its toggle no longer drawn) keeps the choice and the data in use
    at.session_state["home_upload_open"] = False
    rerun(at)
    assert not at.file_uploader and at.session_state["rescale"] is False
    assert at.session_state["controls"].source == raw_source
    _open_box(at, "home_upload_open")
    at.toggle(key="rescale").set_value(True)
    _open_box(at, "home_upload_open", run=False)
    rerun(at)
    assert at.session_state["controls"].source == c.source


def test_exact_enumeration_too_large_is_refused_and_sampling_offered(monkeypatch):
    monkeypatch.setattr(cache_fit, "UI_MAX_PATTERNS", 50)
    at = _app(seed="6")
    errs = " ".join(e.value for e in at.error)
    assert "exact enumeration would need about" in errs and "sample patterns instead" in errs
    at.number_input(key="home_samples").set_value(60)
    rerun(at)
    assert not at.error
    assert any("Sampled patterns" in i.value for i in at.info)
    sampled = int(_metric(at, "Patterns").replace(",", ""))
    assert sampled <= 60
    objective = float(_metric(at, "Objective"))
    # then the pattern search: more patterns, an objective no higher, and what its certificate means
    at.checkbox(key="home_search").check()
    rerun(at)
    assert not at.error
    info = " ".join(i.value for i in at.info)
    assert "Pattern search: 60 Gaussian directions" in info and "certified over the patterns found" in info
    assert int(_metric(at, "Patterns").replace(",", "")) > sampled
    assert float(_metric(at, "Objective")) <= objective * (1 + 1e-6)


def test_solver_failure_and_inaccuracy_are_warnings_not_tracebacks(monkeypatch):
    def fail(*a, **k):
        raise RuntimeError("every solver failed at beta=0.1: status infeasible_inaccurate")

    monkeypatch.setattr(cvx_core, "fit_convex", fail)
    at = _app(seed="7")
    assert any("solver failed" in w.value and "infeasible_inaccurate" in w.value for w in at.warning)
    real = cvx_core.convex.fit_convex

    def inaccurate(*a, **k):
        return dataclasses.replace(real(*a, **k), status="inaccurate")

    monkeypatch.setattr(cvx_core, "fit_convex", inaccurate)
    at = _app(seed="8")
    assert any("Solver status: **inaccurate**" in w.value for w in at.warning)
    assert _metric(at, "Status") == "inaccurate"
    assert any("is not certified optimal" in m.value for m in at.caption)


def test_certify_an_uploaded_network_and_refuse_garbage():
    at = _app(seed="9")
    d = load_dataset("xor", 10, 0.0, 9)
    f = cvx_core.fit_convex(d.X, d.y, 0.1)
    _open_box(at, "home_certify_open")
    at.file_uploader(key="cert_upload").set_value(("net.json", f.network.to_json().encode(), "application/json"))
    _open_box(at, "home_certify_open", run=False)
    rerun(at)
    gap = float(_metric(at, "Certified gap"))
    assert 0 <= gap < 1e-3
    assert float(_metric(at, "Objective of the network")) == pytest.approx(f.objective, rel=1e-6)
    at.file_uploader(key="cert_upload").set_value(("evil.json", b"\x80\x04\x95pickle", "application/json"))
    _open_box(at, "home_certify_open", run=False)
    rerun(at)
    assert any("evil.json" in e.value for e in at.error)


def test_lecture_mode_home_has_no_panels_or_click_controls():
    at = _app(lecture="1")
    assert not at.main.expander
    assert not at.get("button_group")
    assert float(_metric(at, "Objective")) > 0


# --------------------------------------------------------------------------- click edits
@pytest.fixture()
def session():
    for k in ("add", "drop"):
        st.session_state[k] = ""
    yield st.session_state
    for k in ("add", "drop"):
        del st.session_state[k]


def test_click_adds_points_of_the_chosen_class_and_removes_nearest(session):
    base = load_dataset("moons", 8, 0.0, 0)
    mk = lambda: data_io.compose("moons", "classification", base.X, base.y, test=0, seed=0, rescale=False,  # noqa: E731
                                 dropped=data_io.decode_indices(session["drop"]),
                                 added=data_io.decode_points(session["add"]), split=False,
                                 X_test=base.X_test, y_test=base.y_test)
    assert "added" in userdata.apply_click(mk(), 0.2, -0.4, "pos")
    assert "added" in userdata.apply_click(mk(), -0.6, 0.1, "neg")
    d = mk()
    assert d.X.shape[0] == 10 and list(d.y[-2:]) == [1.0, -1.0]
    assert userdata.apply_click(d, 0.2, -0.4, "pos") == "a point is already there"
    # nearest to an added point removes that point from the added list
    userdata.apply_click(mk(), -0.59, 0.11, "remove")
    assert data_io.decode_points(session["add"]) == [(0.2, -0.4, 1.0)]
    # nearest to a base point drops it by its base index
    userdata.apply_click(mk(), *base.X[3], "remove")
    assert data_io.decode_indices(session["drop"]) == [3]
    d = mk()
    assert d.X.shape[0] == 8 and not np.any(np.all(d.X == base.X[3], axis=1))
    userdata.undo_last()
    assert session["add"] == ""
    userdata.reset_edits()
    assert session["drop"] == ""


def test_click_on_rescaled_upload_stores_the_files_units(session):
    t = data_io.parse_csv(_table_csv())
    d = data_io.compose("upload", "classification", t.X, t.y, test=0, seed=0, rescale=True, dropped=[], added=[])
    userdata.apply_click(d, 0.5, -0.5, "neg")
    (pt,) = data_io.decode_points(session["add"])
    np.testing.assert_allclose(pt[:2], d.to_raw(np.array([0.5, -0.5])), rtol=1e-5)
    d2 = data_io.compose("upload", "classification", t.X, t.y, test=0, seed=0, rescale=True, dropped=[],
                         added=data_io.decode_points(session["add"]))
    np.testing.assert_allclose(d2.X[-1], [0.5, -0.5], atol=1e-6)  # same place on screen


def test_click_on_regression_adds_x_and_target(session):
    r = load_dataset("regression1d", 6, 0.0, 0)
    d = data_io.compose("regression1d", "regression", r.X, r.y, test=0, seed=0, rescale=False, dropped=[],
                        added=[], split=False, X_test=r.X_test, y_test=r.y_test)
    userdata.apply_click(d, 0.25, 1.5, "add")
    assert data_io.decode_points(session["add"]) == [(0.25, 1.5)]


def _marker_sizes(at) -> list:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [tr.get("marker", {}).get("size") for tr in spec["data"]]


def test_cached_figure_is_shared_and_styled_once_in_lecture_mode(monkeypatch):
    # Two sessions with the same controls get the figure built once (export.chart.cached); lecture
    # styling scales marker sizes, so styling the shared figure again would compound them.
    from pages.common.export import chart as export_chart
    from pages.common.figures import base

    export_chart._figure.clear()
    builds, real = [], base.decision_figure
    monkeypatch.setattr(base, "decision_figure", lambda *a, **k: builds.append(1) or real(*a, **k))
    first, second = _app(lecture="1"), _app(lecture="1")
    assert len(builds) == 1
    assert _marker_sizes(first) == _marker_sizes(second)
    assert any(s is not None for s in _marker_sizes(first))
    plain = _app()  # not in lecture mode: a separate entry with unscaled markers
    assert len(builds) == 2
    assert _marker_sizes(plain) != _marker_sizes(first)


def test_server_rendered_figure_buttons_only_when_turned_on():
    from pages.common.export import chart as export

    def labels(at):
        return [b.label for b in at.download_button]

    assert not {"PNG", "SVG"} & set(labels(_app()))
    if export.server_export_available():
        assert {"PNG", "SVG"} <= set(labels(_app(srvexp="1")))
