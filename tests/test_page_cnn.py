"""The Convolutional networks page (AppTest, tiny data): metrics equal the engine's, every
figure drawn, the beta slider re-solves, URL parameters seed the controls, bad input is an error."""

import numpy as np
import pytest
import streamlit.runtime.pages_manager as pages_manager
from apptest_helpers import chart_spec, live_charts, metric, open_page

from cvx_core.cnn import fit_convex_cnn, patch_matrix
from cvx_core.cnn_training import train_cnn_runs
from cvx_core.patterns import cover_count, enumerate_patterns
from cvx_core.signals import make_signals

SMALL = {"cnn_n": "6", "cnn_len": "6", "cnn_steps": "200", "cnn_width": "4", "cnn_seeds": "1", "cnn_lrs": "0.03"}


def _live(at, key):
    """The arguments a live chart (pages/common/export/live_chart.py) was given (decoded)."""
    return live_charts(at)[key]


class _NoDir:
    def exists(self) -> bool:
        return False


@pytest.fixture(autouse=True)
def _navigation_only(monkeypatch):
    """Every run through app.py and st.navigation, as in a browser (see test_page_path.py)."""
    real = pages_manager.Path
    monkeypatch.setattr(pages_manager, "Path", lambda *a: _NoDir() if real(*a).name == "pages" else real(*a))


def _app(**own):
    return open_page("pages/cnn.py", {}, {**SMALL, **own}, timeout=60)


def test_metrics_and_figures_match_the_engine():
    at = _app()
    X, y = make_signals("bump", 6, 6, noise=0.1, seed=0)
    fit = fit_convex_cnn(X, y, 0.1, filter_size=2)
    assert metric(at, "Convex optimum p*") == f"{fit.objective:.6g}"
    assert metric(at, "Patterns") == f"{fit.n_patterns:,}"
    assert metric(at, "Filters") == str(fit.n_neurons)
    assert metric(at, "Patch vectors n K") == "6 x 5 = 30"
    assert float(metric(at, "Certified gap")) <= 1e-6
    # filters: one stem trace per filter, heights the network's weights (largest |alpha| first)
    spec = chart_spec(at, "cnn_filters_fig")
    order = np.argsort(-np.abs(fit.network.alpha))
    np.testing.assert_allclose(spec["data"][0]["y"], fit.network.U[order[0], :-1], rtol=1e-9)
    # filter space: the two bias slices, one line per patch vector, one diamond per filter at u_xy / |u_bias|
    space = _live(at, "cnn_space_fig")["spec"]["data"]
    diamonds = [t for t in space if t.get("marker", {}).get("symbol") == "diamond"]
    assert len(diamonds) == fit.n_neurons
    want = sorted(tuple(np.round(u[:2] / abs(u[2]), 9)) for u in fit.network.U)
    assert sorted(tuple(np.round([t["x"][0], t["y"][0]], 9)) for t in diamonds) == want
    # switched on: filter 0's bits per sample and patch
    on = chart_spec(at, "cnn_on_fig")["data"][0]["z"]
    np.testing.assert_array_equal(np.asarray(on) > 0.5, fit.network.switched_on(X)[:, :, order[0]])
    # the gradient run is the engine's, above p*
    run = train_cnn_runs(X, y, 0.1, filter_size=2, seeds=(0,), lrs=(0.03,), width=4, steps=200)[0]
    curve = _live(at, "cnn_runs_fig")["spec"]["data"][0]["y"]
    assert float(curve[-1]) == pytest.approx(run.final_objective, rel=1e-12)
    assert run.final_objective >= fit.objective
    assert len(at.get("plotly_chart")) == 4 and len(at.get("component_instance")) == 2
    assert len(at.get("download_button")) == 1


def test_choosing_a_filter_shows_its_switches_and_the_url_keeps_it():
    at = _app(cnn_log_beta="-2")
    X, y = make_signals("bump", 6, 6, noise=0.1, seed=0)
    net = fit_convex_cnn(X, y, 0.01, filter_size=2).network
    assert net.n_filters >= 2
    at.number_input(key="cnn_filter").set_value(1)
    at.run()
    assert not at.exception
    second = np.argsort(-np.abs(net.alpha))[1]
    on = chart_spec(at, "cnn_on_fig")["data"][0]["z"]
    np.testing.assert_array_equal(np.asarray(on) > 0.5, net.switched_on(X)[:, :, second])
    assert at.query_params["cnn_filter"] in ("1", ["1"])


def test_beta_slider_resolves_and_the_url_follows():
    at = _app()
    before = metric(at, "Convex optimum p*")
    at.slider(key="cnn_log_beta").set_value(-2.0)
    at.run()
    assert not at.exception
    X, y = make_signals("bump", 6, 6, noise=0.1, seed=0)
    assert metric(at, "Convex optimum p*") == f"{fit_convex_cnn(X, y, 0.01, filter_size=2).objective:.6g}" != before
    assert at.query_params["cnn_log_beta"] in ("-2", ["-2"])


def test_a_batch_size_trains_by_sgd_and_the_url_keeps_it():
    """Batch size 3 of n = 6: the gradient runs are the engine's mini-batch runs, still above p*."""
    at = _app(cnn_batch="3", cnn_opt="gd")
    X, y = make_signals("bump", 6, 6, noise=0.1, seed=0)
    fit = fit_convex_cnn(X, y, 0.1, filter_size=2)
    run = train_cnn_runs(X, y, 0.1, filter_size=2, seeds=(0,), lrs=(0.03,), width=4, steps=200, optimizer="gd",
                         batch_size=3)[0]
    curve = _live(at, "cnn_runs_fig")["spec"]["data"][0]["y"]
    assert float(curve[-1]) == pytest.approx(run.final_objective, rel=1e-12)
    assert run.batch_size == 3 and run.final_objective >= fit.objective
    full = train_cnn_runs(X, y, 0.1, filter_size=2, seeds=(0,), lrs=(0.03,), width=4, steps=200, optimizer="gd")[0]
    assert run.final_objective != full.final_objective  # the batches made a difference
    assert at.query_params["cnn_batch"] in ("3", ["3"])


def test_url_seeds_images_without_bias_and_mean_pooling():
    at = open_page("pages/cnn.py", {"bias": "0", "loss": "logistic"},
                   {**SMALL, "cnn_data": "bars_crosses", "cnn_len": "4", "cnn_pool": "mean", "cnn_stride": "2"},
                   timeout=60)
    X, y = make_signals("bars_crosses", 6, 4, noise=0.1, seed=0)
    fit = fit_convex_cnn(X, y, 0.1, filter_size=2, stride=2, pooling="mean", bias=False, loss="logistic")
    assert fit.exact_patterns  # 24 patch vectors in R^4: Cover's count 4 048
    assert metric(at, "Convex optimum p*") == f"{fit.objective:.6g}"
    assert any("Filter space is drawn for filter size 2 on signals" in i.value for i in at.info)


def test_pattern_counts_enumerate_where_they_can_and_mark_the_sampled_program():
    """Images, side 5 (16 patch vectors per sample in R^5): the first sample's cells are
    enumerated, two samples' are beyond the page's limit (Cover's count 72 914), and the fit
    samples directions; Cover's line covers every n K and the diamond is the fit's program."""
    at = _app(cnn_data="bars_crosses", cnn_len="5")
    X, y = make_signals("bars_crosses", 6, 5, noise=0.1, seed=0)
    fit = fit_convex_cnn(X, y, 0.1, filter_size=2, patterns=2000)
    assert not fit.exact_patterns
    traces = {t["name"]: t for t in chart_spec(at, "cnn_counts_fig")["data"]}
    nK = np.asarray(traces["Cover's count (rank h')"]["x"], dtype=float)
    assert nK[0] == 16 and nK[-1] == 96
    np.testing.assert_array_equal(traces["Cover's count (rank h')"]["y"], [cover_count(int(k), 5) for k in nK])
    engine = np.asarray(traces["enumerated (engine)"]["y"], dtype=float)
    assert engine[0] == enumerate_patterns(patch_matrix(X[:1], 2, 1, True)).shape[0] == cover_count(16, 5)
    assert np.isnan(engine[1:]).all()
    diamond = traces["sampled (the fit's program)"]
    assert (diamond["x"][0], diamond["y"][0]) == (96, fit.n_patterns)


def test_a_filter_longer_than_the_signal_is_a_clear_error():
    at = _app(cnn_len="4", cnn_h="5")
    assert any("at least filter_size = 5 samples, got length 4" in e.value for e in at.error)
    assert not at.exception


def test_lecture_mode_hides_chosen_page_controls_and_keeps_their_values():
    at = _app()
    at.number_input(key="cnn_n").set_value(7)
    at.run()
    p_star = metric(at, "Convex optimum p*")
    at.session_state["lecture"] = True
    at.session_state["hide"] = ["cnn_n", "cnn_h", "cnn_training"]
    at.run()
    at.run()  # a second run without the widgets: their values must survive it
    assert not at.exception
    labels = [w.label for w in at.main.number_input]
    assert "Samples n" not in labels and "Filter size h" not in labels and "Seed" in labels
    assert not [e for e in at.main.expander if e.label == "Gradient training settings"]
    assert at.session_state["cnn_n"] == 7 and at.session_state["cnn_steps"] == 200
    assert metric(at, "Convex optimum p*") == p_star  # the same view, without the controls



def test_stopped_training_is_offered_again_not_restarted(monkeypatch):
    from pages.common.controls import stop

    keys, real = [], stop.run_or_offer
    monkeypatch.setattr(stop, "run_or_offer", lambda name, key, *a: keys.append((name, key)) or real(name, key, *a))
    at = _app()
    assert keys[-1][0] == "cnn_runs" and len(at.get("component_instance")) == 2  # filter space and runs charts
    at.session_state["cnn_runs_stopped"] = keys[-1][1]  # what the Stop button's callback records
    at.run()
    assert any("The gradient training was stopped" in i.value for i in at.info)
    assert len(at.get("component_instance")) == 1  # no runs chart
    at.button(key="cnn_runs_restart").click().run()
    assert not at.exception and len(at.get("component_instance")) == 2
