"""URL binding of the shared controls, presets, lecture mode, user-data plumbing (AppTest, tiny data)."""
import pytest
from apptest_helpers import open_app, rerun
from pages.common.cache import data as cache_data
from pages.common.cache import fit as cache_fit
from pages.common.controls import presets

SMALL = {"dataset": "xor", "n": "10", "log_beta": "-1", "seed": "2"}


@pytest.fixture(autouse=True)
def _tiny_limit(monkeypatch):
    # keep every fit in these tests tiny: exact enumeration beyond 300 patterns is refused
    monkeypatch.setattr(cache_fit, "UI_MAX_PATTERNS", 300)


def _app(**params):
    return open_app({**SMALL, **params})


def _controls(at):
    return at.session_state["controls"]


def test_url_seeds_controls_and_controls_write_back():
    at = _app(activation="abs", loss="hinge", bias="0")
    c = _controls(at)
    assert (c.dataset, c.n, c.seed, c.activation, c.loss, c.bias, c.log_beta) == ("xor", 10, 2, "abs", "hinge", False, -1.0)
    assert c.source == ""
    at.slider(key="log_beta").set_value(-0.5)
    rerun(at)
    assert at.query_params["log_beta"] == "-0.5"
    assert _controls(at).log_beta == -0.5


def test_invalid_and_unknown_parameters_are_ignored_with_a_notice():
    at = _app(n="9999", activation="tanh", bogus="1", add="1,2", drop="x", log_beta="nan")
    toasts = " ".join(t.value for t in at.toast)
    for word in ("n='9999'", "activation='tanh'", "bogus", "drop='x'", "log_beta='nan'",
                 "expected 3 numbers per point"):
        assert word in toasts
    c = _controls(at)
    assert c.n == 40 and c.activation == "relu" and c.log_beta == -2.0 and c.source == ""
    assert "bogus" not in at.query_params


def test_clicked_points_in_the_link_reach_data_for():
    at = _app(add="0.5,0.5,1;-0.5,0.25,-1", drop="0")
    c = _controls(at)
    assert c.source != ""
    base = cache_data.dataset("xor", 10, 0.0, 2, 0.0)
    at2 = _app()
    assert _controls(at2).source == ""
    # the registered data: base minus point 0, plus the two clicked points (same content -> same key)
    from pages.common.data.table import compose
    u = compose("xor", "classification", base.X, base.y, test=0, seed=0, rescale=False, dropped=[0],
                added=[(0.5, 0.5, 1.0), (-0.5, 0.25, -1.0)], split=False, X_test=base.X_test, y_test=base.y_test)
    assert c.source == u.key
    assert any("+2 clicked, -1 removed" in cap.value for cap in at.sidebar.caption)


def test_changing_the_base_data_clears_the_edits():
    at = _app(add="0.5,0.5,1")
    assert _controls(at).source
    at.number_input(key="seed").set_value(3)
    rerun(at)
    assert _controls(at).source == "" and at.session_state["add"] == ""
    assert any("cleared" in t.value for t in at.toast)


def test_upload_link_without_the_file_says_so_and_uses_builtin_data():
    at = _app(src="upload", file="mydata.csv", sha="0123456789ab")
    info = " ".join(i.value for i in at.sidebar.info)
    assert "mydata.csv" in info and "not stored in links" in info
    assert _controls(at).source == ""
    assert at.query_params["src"] in ("upload", ["upload"])


def test_preset_link_reseeds_every_control():
    at = _app(activation="abs", noise="0.2")
    p = presets.by_name("Regression: piecewise-linear fit")
    at.query_params.clear()
    at.query_params.update(p.query())
    at.query_params["n"] = "8"  # keep the test tiny
    rerun(at)
    c = _controls(at)
    assert (c.dataset, c.activation, c.noise, c.n) == ("regression1d", "relu", 0.1, 8)  # abs reset to default
    assert "preset" not in at.query_params


def test_share_link_carries_every_bound_control():
    at = _app(activation="leaky", leak="0.3")
    assert not at.sidebar.code  # the closed box draws nothing (lazy)
    at.session_state["share_open"] = True
    rerun(at)
    links = [c.value for c in at.sidebar.code]
    assert any("activation=leaky" in s and "leak=0.3" in s and "dataset=xor" in s for s in links)
    assert any("lecture=1" in s for s in links)


def test_lecture_mode_hides_text_and_chosen_controls():
    at = _app(lecture="1", hide="n,seed")
    labels = [w.label for w in at.sidebar.number_input]
    assert "Samples n" not in labels and "Seed" not in labels
    assert _controls(at).n == 10 and _controls(at).seed == 2  # hidden, still from the URL
    assert not any("How to read" in c.value for c in at.caption)
    normal = _app()
    assert any("How to read" in c.value for c in normal.caption)
    assert "Samples n" in [w.label for w in normal.sidebar.number_input]


def test_gallery_button_picks_a_data_set():
    at = _app()
    assert not [b for b in at.button if b.key == "_pick_moons"]  # closed gallery: nothing drawn (lazy)
    at.session_state["_gallery_open"] = True
    rerun(at)
    at.button(key="_pick_moons").click()
    rerun(at)
    assert _controls(at).dataset == "moons"


def test_share_box_settings_live_on_while_the_box_is_closed():
    # The box draws its widgets only while open; their values must survive the runs without them.
    at = _app()
    at.session_state["share_open"] = True
    rerun(at)
    at.toggle(key="lecture").set_value(True)
    at.radio(key="fmt").set_value("svg")
    rerun(at)
    at.session_state["share_open"] = False
    rerun(at)
    rerun(at)
    assert at.session_state["lecture"] is True and at.session_state["fmt"] == "svg"
    assert not at.main.expander  # lecture mode is on: the Overview's panels are hidden
