"""The Sparsity path page (AppTest, tiny data): every control, no re-solve on selection, errors."""
import pytest
import streamlit.runtime.pages_manager as pages_manager
from apptest_helpers import metric as _metric
from apptest_helpers import live_charts, open_page
from cvx_core.datasets import load_dataset
from cvx_core.path import regularization_path
from pages.common.cache import fit as cache_fit
from pages.common.cache import path as cache_path

SMALL = {"dataset": "xor", "n": "12", "seed": "3", "test": "0.25", "path_nbetas": "5", "path_ratio": "0.03"}


class _NoDir:
    def exists(self) -> bool:
        return False


@pytest.fixture(autouse=True)
def _navigation_only(monkeypatch):
    """AppTest resets Streamlit's legacy ``pages/``-folder detection before every run; with a
    ``pages/`` folder it then runs a page file alone (no app.py, no sidebar) whenever the page's
    url_path equals its file name. Hide the folder from that check so each run goes through
    app.py and st.navigation, as in a browser session."""
    real = pages_manager.Path
    monkeypatch.setattr(pages_manager, "Path", lambda *a: _NoDir() if real(*a).name == "pages" else real(*a))


@pytest.fixture
def solves(monkeypatch):
    """Count the path solves made by the page."""
    calls = []

    def counting(*args, **kwargs):
        calls.append(kwargs.get("n_betas"))
        return regularization_path(*args, **kwargs)

    monkeypatch.setattr(cache_path, "regularization_path", counting)
    cache_path.solve_path.clear()
    return calls


def _app(**params):
    p = {**SMALL, **params}
    return open_page("pages/path.py", {k: v for k, v in p.items() if not k.startswith("path_")}, p, timeout=60)


FIGURES = {"path_fig_path", "path_fig_fit", "path_fig_loss"}


def _reference(**kw):
    d = load_dataset("xor", 12, 0.0, 3, 0.25)
    return d, regularization_path(d.X, d.y, n_betas=5, min_ratio=0.03, X_test=d.X_test, y_test=d.y_test, **kw)


def test_metrics_and_figures_match_the_engine(solves):
    at = _app()
    d, ref = _reference()
    assert _metric(at, "beta_max") == f"{ref.beta_max:.4g}"
    assert _metric(at, "Betas solved") == "5"
    assert _metric(at, "Patterns") == f"{ref.n_patterns:,}"
    assert FIGURES <= set(live_charts(at))  # path, fit, error
    k = at.select_slider(key="path_k").value
    assert _metric(at, "beta") == f"{ref.betas[k]:.4g}"
    assert _metric(at, "Width") == str(ref.n_neurons[k])
    assert _metric(at, "Objective") == f"{ref.objectives[k]:.5g}"
    labels = [b.label for b in at.get("download_button")]
    assert "Path (CSV)" in labels and any("JSON" in lab for lab in labels)
    assert len(at.sidebar.selectbox) >= 1  # ran through app.py (shared controls drawn)
    assert solves == [5]


def test_slider_and_steps_move_the_selection_without_resolving(solves):
    at = _app()
    _, ref = _reference()
    at.select_slider(key="path_k").set_value(0).run()
    assert _metric(at, "Width") == "0" and _metric(at, "beta") == f"{ref.beta_max:.4g}"
    assert at.button(key="path_prev").disabled
    at.button(key="path_next").click().run()
    assert at.select_slider(key="path_k").value == 1
    assert _metric(at, "Width") == str(ref.n_neurons[1])
    at.select_slider(key="path_k").set_value(4).run()
    assert at.button(key="path_next").disabled
    at.button(key="path_prev").click().run()
    assert at.select_slider(key="path_k").value == 3
    assert _metric(at, "Certified gap") == f"{ref.gaps[3]:.1e}"
    assert at.query_params["path_k"] in ("3", ["3"])
    assert solves == [5]  # one solve; every selection only redraws


def test_path_controls_and_play(solves):
    at = _app()
    at.slider(key="path_nbetas").set_value(4).run()
    assert _metric(at, "Betas solved") == "4"
    at.select_slider(key="path_ratio").set_value(0.1).run()
    assert solves == [5, 4, 4]
    assert at.query_params["path_ratio"] in ("0.1", ["0.1"])
    assert FIGURES <= set(live_charts(at)) and not at.get("plotly_chart")
    at.toggle(key="path_play").set_value(True).run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1  # the animation
    assert at.query_params["path_play"] in ("1", ["1"])


def test_selection_is_drawn_over_unchanged_path_and_error_figures(solves):
    """Moving the selected beta sends the path and error figures unchanged (the browser keeps
    them) and draws the selection over them; the fit is the network at the new beta."""
    at = _app()
    _, ref = _reference()
    at.select_slider(key="path_k").set_value(1).run()
    before = live_charts(at)
    at.select_slider(key="path_k").set_value(3).run()
    after = live_charts(at)
    for key in ("path_fig_path", "path_fig_loss"):
        assert after[key]["spec_json"] == before[key]["spec_json"], key
        lines = [t for t in after[key + "__overlay"]["overlay"] if t["mode"] == "lines"]
        assert lines and all(t["x"] == [pytest.approx(ref.betas[3])] * 2 for t in lines), key
    dots = [t for t in after["path_fig_path__overlay"]["overlay"] if t["mode"] == "markers"]
    assert len(dots[0]["y"]) == ref.n_neurons[3] and dots[1]["y"] == [ref.n_neurons[3]]
    assert after["path_fig_fit"]["spec_json"] != before["path_fig_fit"]["spec_json"]
    assert after["path_fig_fit"]["spec"]["layout"]["title"]["text"].startswith(f"beta = {ref.betas[3]:.3g}:")
    assert solves == [5]


def test_url_selects_beta():
    _, ref = _reference()
    at = _app(path_k="2")
    assert at.select_slider(key="path_k").value == 2
    assert _metric(at, "beta") == f"{ref.betas[2]:.4g}"


def test_without_test_split_says_how_to_get_validation():
    at = _app(test="0")
    assert any("test fraction" in i.value for i in at.info)


def test_bad_labels_show_an_error_and_keep_running():
    at = _app(dataset="regression1d", loss="logistic")
    assert any("Cannot compute the path" in e.value for e in at.error)
    assert not at.get("plotly_chart") and not FIGURES & set(live_charts(at))


def test_solver_failure_is_a_warning(monkeypatch):
    def fail(*a, **k):
        raise RuntimeError("every solver failed at beta=0.1: test")

    monkeypatch.setattr(cache_path, "regularization_path", fail)
    cache_path.solve_path.clear()
    at = _app(seed="4")
    assert any("solver failed" in w.value for w in at.warning)
    cache_path.solve_path.clear()


def test_unexpected_engine_error_is_shown_not_raised(monkeypatch):
    def boom(*a, **k):
        raise IndexError("engine bug")

    monkeypatch.setattr(cache_path, "regularization_path", boom)
    cache_path.solve_path.clear()
    at = _app(seed="6")
    assert any("Unexpected error" in e.value and "engine bug" in e.value for e in at.error)
    cache_path.solve_path.clear()


def test_too_many_patterns_offers_sampling(monkeypatch):
    monkeypatch.setattr(cache_fit, "UI_MAX_PATTERNS", 20)
    at = _app()
    assert any("sample" in e.value for e in at.error)
    at.number_input(key="path_samples").set_value(60).run()
    assert not at.exception and not at.error
    assert any("Sampled patterns" in i.value for i in at.info)
    assert int(_metric(at, "Patterns").replace(",", "")) <= 60


def test_snippet_reproduces_the_path():
    at = _app()
    code = next(c.value for c in at.code if "regularization_path" in c.value)
    ns = {}
    exec(code.replace("print(path.to_csv())", ""), ns)  # noqa: S102 - our own generated code
    k = at.select_slider(key="path_k").value
    assert f"{ns['path'].objectives[k]:.5g}" == _metric(at, "Objective")
    assert ns["net"].n_neurons == int(_metric(at, "Width"))


def test_lecture_mode_hides_explanations():
    at = _app(lecture="1")
    assert not at.exception
    assert not [c for c in at.caption if c.value.startswith("How to read this")]
    assert not [c for c in at.code if "regularization_path" in c.value]


def test_lecture_mode_can_hide_the_paths_own_controls():
    at = _app(lecture="1", hide="path_ratio,seed")
    assert [s.key for s in at.main.select_slider] == ["path_k"]  # not path_ratio
    assert [s.label for s in at.main.slider] == ["Number of betas (log-spaced)"]
    assert at.session_state["path_ratio"] == 0.03 and at.session_state["hide"] == ["path_ratio", "seed"]
    assert not [m for m in list(at.main.caption) + list(at.sidebar.caption) + list(at.toast)
                if "ignored invalid URL parameter" in m.value]
