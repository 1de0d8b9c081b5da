"""AppTest of the SGD-versus-convex page: every control, the player, numbers equal the engine's."""
import numpy as np
import pytest
import cvx_core
from apptest_helpers import metric as _metric
from apptest_helpers import live_charts, open_page
from cvx_core.datasets import load_dataset
from cvx_core.sgd import train_runs, train_sgd
from cvx_core.stationary import analyse_stationary, insert_violating_neuron
from pages.common.figures.sgd import run_label

PAGE = "pages/sgd.py"
N = 12
BETA = 0.01  # the shared default log10 beta = -2
SMALL = {"sgd_steps": "100", "sgd_width": "6", "sgd_nseeds": "2"}
TOL = 0.01  # the default stationarity tolerance; 100 steps never reach it
#: The page's defaults (Adam, full batch, a halving step), polled for stationarity every
#: steps // 20 = 5 steps like the page.
RUN_KW = dict(optimizer="adam", batch_size=400, lr_halflife=3000, tol=TOL, report_every=5)


def _open(**params):
    own = {k: v for k, v in params.items() if k.startswith("sgd_")}
    return open_page(PAGE, {"n": str(N), **{k: v for k, v in params.items() if k not in own}}, {**SMALL, **own})


def _data(name="spiral"):
    d = load_dataset(name, N, 0.0, 0, 0.0)
    return d.X, d.y


def _kw(**over):
    kw = dict(width=6, lr=0.01, seed=0, init_scale=1.0, **RUN_KW)
    kw.update(over)
    return kw


@pytest.fixture(scope="module")
def at():
    return _open()


def test_numbers_equal_the_engine(at):
    X, y = _data()
    fit = cvx_core.fit_convex(X, y, BETA)
    assert _metric(at, "Convex p*") == f"{fit.objective:.5g}"
    h0 = train_sgd(X, y, BETA, steps=0, **_kw())
    assert _metric(at, "SGD objective") == f"{h0.final_objective:.5g}"
    runs = train_runs(X, y, BETA, seeds=(0, 1), lrs=(0.003, 0.01), width=6, steps=100, **RUN_KW)
    df = at.dataframe[0].value
    assert len(df) == 4
    np.testing.assert_allclose(df["final objective"], [h.final_objective for h in runs], rtol=1e-9)
    np.testing.assert_allclose(df["gap to p* (relative)"], (df["final objective"] - fit.objective) / fit.objective)
    assert (df["final objective"] >= fit.objective).all()
    a = analyse_stationary(h0.network, X, y, BETA)
    assert _metric(at, "Restricted optimum") == f"{a.restricted_objective:.5g}"
    assert _metric(at, "cert / beta") == f"{a.certificate.certificate:.4f}"
    assert not at.error and not at.warning
    assert len(at.get("download_button")) >= 3  # runs CSV, live network JSON, convex network JSON


def test_player_step_play_pause_reset_and_new_seed():
    at = _open()
    X, y = _data()
    at.button(key="sgd_step").click().run()  # one frame: steps // 20 = 5
    assert _metric(at, "SGD objective") == f"{train_sgd(X, y, BETA, steps=5, **_kw()).final_objective:.5g}"
    at.button(key="sgd_play").click().run()
    assert at.session_state["sgd_playing"]
    assert "step 10 of at most 100 (playing)" in at.get("progress")[0].proto.text
    at.run()
    assert "step 15 of at most 100" in at.get("progress")[0].proto.text
    at.button(key="sgd_pause").click().run()
    assert not at.session_state["sgd_playing"]
    at.run()
    assert "step 15 of at most 100" in at.get("progress")[0].proto.text  # paused: no progress
    assert _metric(at, "SGD objective") == f"{train_sgd(X, y, BETA, steps=15, **_kw()).final_objective:.5g}"
    at.button(key="sgd_reset").click().run()
    assert "step 0 of at most 100" in at.get("progress")[0].proto.text
    assert _metric(at, "SGD objective") == f"{train_sgd(X, y, BETA, steps=0, **_kw()).final_objective:.5g}"
    at.button(key="sgd_newseed").click().run()
    assert at.session_state["sgd_seed"] == 1
    assert _metric(at, "SGD objective") == f"{train_sgd(X, y, BETA, steps=0, **_kw(seed=1)).final_objective:.5g}"
    assert not at.exception


def test_play_runs_to_the_end():
    at = _open(sgd_steps="40")
    at.button(key="sgd_play").click().run()
    for _ in range(25):
        if not at.session_state["sgd_playing"]:
            break
        at.run()
    assert not at.session_state["sgd_playing"]
    assert "step 40 of at most 40" in at.get("progress")[0].proto.text
    assert at.button(key="sgd_play").disabled
    X, y = _data()
    assert _metric(at, "Run objective") == f"{train_sgd(X, y, BETA, steps=40, **_kw()).final_objective:.5g}"


def test_every_training_control():
    at = _open()
    X, y = _data()
    at.selectbox(key="sgd_opt").set_value("sgd").run()
    assert not at.number_input(key="sgd_batch").disabled
    at.number_input(key="sgd_batch").set_value(4).run()
    at.number_input(key="sgd_width").set_value(5).run()
    at.select_slider(key="sgd_init").set_value(0.3).run()
    at.number_input(key="sgd_seed").set_value(3).run()
    at.select_slider(key="sgd_lr").set_value("0.01").run()
    at.button(key="sgd_step").click().run()
    ref = train_sgd(X, y, BETA, steps=5, **_kw(optimizer="sgd", batch_size=4, width=5, init_scale=0.3, seed=3, lr=0.01))
    assert _metric(at, "SGD objective") == f"{ref.final_objective:.5g}"
    at.selectbox(key="sgd_opt").set_value("adam").run()
    at.number_input(key="sgd_steps").set_value(60).run()
    at.multiselect(key="sgd_lrs").set_value(["0.001", "0.01", "0.03"]).run()
    at.number_input(key="sgd_nseeds").set_value(1).run()
    df = at.dataframe[0].value
    runs = train_runs(X, y, BETA, seeds=(3,), lrs=(0.001, 0.01, 0.03), width=5, steps=60, init_scale=0.3,
                      **{**RUN_KW, "batch_size": 4, "report_every": 3})
    np.testing.assert_allclose(df["final objective"], [h.final_objective for h in runs], rtol=1e-9)
    assert df["steps"].tolist() == [60, 60, 60]
    assert not at.exception and not at.error


def test_stationary_controls_and_insertion():
    at = _open()
    X, y = _data()
    at.selectbox(key="sgd_run").set_value("1").run()  # lr=0.003, seed=1
    h = train_runs(X, y, BETA, seeds=(0, 1), lrs=(0.003,), width=6, steps=100, **RUN_KW)[1]
    a = analyse_stationary(h.network, X, y, BETA, flips=h.recent_flips(5))
    assert _metric(at, "Run objective") == f"{a.objective:.5g}"
    assert _metric(at, "Points on a kink") == str(a.n_kink_points)
    at.select_slider(key="sgd_kink").set_value(1e-2).run()
    loose = analyse_stationary(h.network, X, y, BETA, kink_tol=1e-2, flips=h.recent_flips(5))
    assert _metric(at, "Points on a kink") == str(loose.n_kink_points)
    assert loose.n_kink_points >= a.n_kink_points
    assert not at.button(key="sgd_insert").disabled  # a 100-step run is far from optimal
    at.button(key="sgd_insert").click().run()
    ins = insert_violating_neuron(X, y, BETA, a.patterns)
    text = " ".join(str(m.value) for m in at.markdown)
    assert "Insertion 1" in text and f"{ins.after.objective:.6g}" in text
    at.button(key="sgd_insert").click().run()
    text = " ".join(str(m.value) for m in at.markdown)
    assert "Insertion 2" in text
    at.selectbox(key="sgd_run").set_value("live").run()  # another run: the insertions start over
    assert "Insertion 1" not in " ".join(str(m.value) for m in at.markdown)
    assert not at.exception


def test_divergence_is_reported_not_raised():
    at = _open(sgd_opt="gd", sgd_lr="0.3", sgd_init="3", sgd_lrs="0.3,0.001", sgd_width="50")
    at.button(key="sgd_step").click().run()
    assert any("lower the learning rate" in e.value for e in at.error)
    df = at.dataframe[0].value
    assert df["status"].str.startswith("diverged").sum() == 2
    assert not at.exception


@pytest.mark.parametrize("params", [{"dataset": "regression1d"}, {"bias": "0"}], ids=["regression", "no-bias"])
def test_figures_and_metrics_carry_the_engines_numbers(params):
    """Regression data and no bias: every curve and number of the page is the engine's own."""
    at = _open(**params)
    assert not at.exception and not at.error
    name, bias = params.get("dataset", "spiral"), params.get("bias") != "0"
    X, y = _data(name)
    fit = cvx_core.fit_convex(X, y, BETA, bias=bias)
    runs = train_runs(X, y, BETA, seeds=(0, 1), lrs=(0.003, 0.01), width=6, steps=100, bias=bias, **RUN_KW)
    h0 = train_sgd(X, y, BETA, steps=0, bias=bias, **_kw())
    assert _metric(at, "Convex p*") == f"{fit.objective:.5g}"
    assert _metric(at, "SGD objective") == f"{h0.final_objective:.5g}"
    charts = live_charts(at)
    curves = charts["sgd_fig_curves"]["spec"]
    by_name = {t["name"]: t for t in curves["data"]}
    for h in runs:  # each run's curve: its objective trace, first and last step included
        t = by_name[run_label(h)]
        assert t["x"][0] == 0 and t["x"][-1] == len(h.objective) - 1
        np.testing.assert_allclose(t["y"], h.objective[np.asarray(t["x"], dtype=int)], rtol=1e-12)
    (live,) = charts["sgd_fig_curves__overlay"]["overlay"]  # drawn over the runs' curves
    np.testing.assert_allclose(live["y"], h0.objective, rtol=1e-12)
    assert live["text"][-1] == "live run: " + run_label(h0) and "live run" in by_name
    (p_line,) = [s for s in curves["layout"]["shapes"] if s["type"] == "line"]
    assert p_line["y0"] == pytest.approx(fit.objective, rel=1e-9)  # the dashed p* floor
    side = charts["sgd_fig_live"]["spec"]
    (cvx,) = [t for t in side["data"] if t.get("name") == "Convex optimum"]
    if name == "regression1d":  # the fitted curves themselves
        np.testing.assert_allclose(cvx["y"], fit.network.predict(np.asarray(cvx["x"])[:, None]).ravel(), rtol=1e-9)
    else:  # the decision function on the grid
        xs = np.asarray(cvx["x"])
        gx, gy = np.meshgrid(xs, np.asarray(cvx["y"]))
        Z = fit.network.predict(np.c_[gx.ravel(), gy.ravel()]).reshape(len(xs), len(xs))
        np.testing.assert_allclose(np.asarray(cvx["z"]), Z, rtol=1e-9, atol=1e-12)


def test_bad_loss_for_data_shows_errors_and_keeps_running():
    at = _open(dataset="regression1d", loss="logistic")
    # bad input is an error (the error ladder), the page goes on without the convex optimum
    assert any(e.value.startswith("No convex optimum for these settings") and "labels" in e.value for e in at.error)
    assert any(e.value.startswith("Cannot train") and "labels" in e.value for e in at.error)
    assert not at.exception


def test_url_binding():
    at = _open(sgd_opt="adam", sgd_width="7", sgd_lrs="0.001", sgd_nseeds="1", sgd_kink="bogus")
    assert at.selectbox(key="sgd_opt").value == "adam"
    assert at.number_input(key="sgd_width").value == 7
    assert at.multiselect(key="sgd_lrs").value == ["0.001"]
    assert at.select_slider(key="sgd_kink").value == 1e-4  # invalid value ignored
    assert len(at.dataframe[0].value) == 1


def test_defaults_converge_and_say_what_the_gap_means():
    """The lecture defaults on the default data (n = 40): every run of the comparison ends
    stationary, above the certified p*, and the table says so; the numbers are the engine's."""
    at = open_page(PAGE, {})
    assert any(c.value.startswith("Defaults: Adam") for c in at.caption)
    X, y = load_dataset("spiral", 40, 0.0, 0, 0.0).X, load_dataset("spiral", 40, 0.0, 0, 0.0).y
    p_star = cvx_core.fit_convex(X, y, BETA).objective
    runs = train_runs(X, y, BETA, seeds=(0, 1, 2), lrs=(0.003, 0.01), width=50, steps=30000,
                      **{**RUN_KW, "report_every": 1500})
    df = at.dataframe[0].value
    np.testing.assert_allclose(df["final objective"], [h.final_objective for h in runs], rtol=1e-9)
    assert df["steps"].tolist() == [h.stationary_at for h in runs] and (df["steps"] < 30000).all()
    assert (df["stationarity"] <= TOL).all()
    assert (df["final objective"] >= p_star).all()
    stationary_above = df["gap to p* (relative)"] > 1e-3
    assert df["what the gap means"][stationary_above].str.startswith("stationary above p*").all()
    assert df["what the gap means"][~stationary_above].str.startswith("stationary at the global optimum").all()
    assert not at.error and not at.warning
    # "stationary above p*" means another pattern set: the certificate then names a neuron to add
    first_above = str(int(np.flatnonzero(stationary_above.to_numpy())[0]))
    at.selectbox(key="sgd_run").set_value(first_above).run()
    assert float(_metric(at, "cert / beta")) > 1 and not at.button(key="sgd_insert").disabled


def test_play_stops_once_stationary_and_without_the_option_runs_all_steps():
    at = _open(sgd_steps="2000", sgd_tol="0.1")  # lr 0.01, seed 0 reaches 0.1 after 700 steps
    at.button(key="sgd_play").click().run()
    for _ in range(30):
        if not at.session_state["sgd_playing"]:
            break
        at.run()
    X, y = _data()
    ref = train_sgd(X, y, BETA, steps=2000, **_kw(tol=0.1, report_every=100))
    assert ref.stationary and ref.n_steps < 2000
    assert f"step {ref.n_steps} of at most 2000 (stationary)" in at.get("progress")[0].proto.text
    assert at.button(key="sgd_play").disabled
    assert _metric(at, "Stationarity") == f"{ref.stationarity:.1e}"
    assert any("what the gap means:** stationary" in str(m.value) for m in at.markdown)
    at.checkbox(key="sgd_until").uncheck().run()  # without the option the same run goes on to 2000 steps
    assert not at.button(key="sgd_play").disabled
    df = at.dataframe[0].value
    assert (df["steps"] == 2000).all()
    unfinished = df["stationarity"] > 0.1
    assert unfinished.any() and df["what the gap means"][unfinished].str.startswith("unfinished").all()


def test_lecture_mode_can_hide_the_training_settings():
    at = _open(lecture="1", hide="sgd_settings")
    assert not [e for e in at.main.expander if e.label == "Training settings"]
    at.run()
    assert not at.exception
    # the hidden settings still come from the URL: 100 steps of a width-6 network
    assert at.session_state["sgd_steps"] == 100 and at.session_state["sgd_width"] == 6
    assert at.session_state["hide"] == ["sgd_settings"]
