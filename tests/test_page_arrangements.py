"""AppTest of the Arrangements page: every control, counts equal the engine's, error paths."""
import re

import numpy as np
import pytest
from apptest_helpers import live_charts, metric, open_page
from cvx_core import add_bias, cover_count, enumerate_patterns, sample_patterns
from cvx_core.datasets import load_dataset

PAGE = "pages/arrangements.py"


def _open(**params):
    own = {k: v for k, v in params.items() if k.startswith("arr_")}
    return open_page(PAGE, {"n": "10", **{k: v for k, v in params.items() if k not in own}}, own)


def _metric(at, label):
    return metric(at, label, prefix=True)


def _num(s):
    return int(s.replace(",", ""))


def _captions(at):
    return " ".join(c.value for c in at.caption)


@pytest.fixture(scope="module")
def at():
    return _open()


def test_counts_equal_engine(at):
    X = load_dataset("spiral", 10, 0.0, 0, 0.0).X
    Xb = add_bias(X, True)
    P = len(enumerate_patterns(Xb))
    assert _num(_metric(at, "Patterns (engine)")) == P
    assert _num(_metric(at, "Cells drawn")) == P
    assert _num(_metric(at, "Cover's count")) == cover_count(10, 3) == P
    assert _num(_metric(at, "Found by N")) == len(sample_patterns(Xb, 64, seed=0))
    assert not at.error


def test_every_control(at):
    X = load_dataset("spiral", 10, 0.0, 0, 0.0).X
    Xb = add_bias(X, True)
    at.select_slider(key="arr_N").set_value(8).run()
    assert _num(_metric(at, "Found by N = 8")) == len(sample_patterns(Xb, 8, seed=0))
    for key, value in (("arr_theta", 200), ("arr_elev", -45)):
        at.slider(key=key).set_value(value).run()
        assert not at.exception
    m = re.search(r"pattern (\d+), and D\(u\) is pattern (\d+) \(they agree\)", _captions(at))
    assert m and m.group(1) == m.group(2)
    t, e = np.deg2rad(200), np.deg2rad(-45)
    u = np.array([np.cos(e) * np.cos(t), np.cos(e) * np.sin(t), np.sin(e)])
    E = enumerate_patterns(Xb)
    assert np.array_equal(E[int(m.group(1))], (Xb @ u) >= 0)
    at.radio(key="arr_colour").set_value("sampling").run()
    at.number_input(key="arr_cell").set_value(7).run()
    at.number_input(key="arr_point").set_value(3).run()
    assert not at.exception
    bound = at.session_state["_url_bound_keys"]  # every control of the page is written to the URL
    assert {"arr_N", "arr_theta", "arr_elev", "arr_colour", "arr_cell", "arr_point", "arr_ratio"} <= set(bound)
    at.toggle(key="arr_ratio").set_value(False).run()
    assert "p_s is the optimum" not in _captions(at)
    at.toggle(key="arr_ratio").set_value(True).run()
    m = re.search(r"Patterns used: ([\d, ]+);", _captions(at))
    assert m and all(int(v) <= len(E) for v in m.group(1).split(", "))
    assert not at.exception and not at.error


def test_n_is_drawn_over_unchanged_coverage_and_ratio_figures():
    at = _open()
    before = live_charts(at)
    at.select_slider(key="arr_N").set_value(256).run()
    after = live_charts(at)
    for key in ("arr_coverage", "arr_ratio_chart"):
        assert after[key]["spec_json"] == before[key]["spec_json"], key  # the browser keeps the figure
        (line,) = after[key + "__overlay"]["overlay"]
        assert line["x"] == [256, 256] and before[key + "__overlay"]["overlay"][0]["x"] == [64, 64], key
    P = _num(_metric(at, "Patterns (engine)"))
    assert after["arr_coverage__overlay"]["overlay"][0]["y"] == [0, P]


def test_no_bias_and_url_state():
    at = _open(bias="0", arr_N="256", arr_theta="90", arr_colour="sampling", arr_cell="3")
    assert at.select_slider(key="arr_N").value == 256
    assert at.number_input(key="arr_cell").value == 3
    assert not [s for s in at.slider if s.key == "arr_elev"]  # 2 weight coordinates: azimuth only
    assert _num(_metric(at, "Patterns (engine)")) == 20 == _num(_metric(at, "Cells drawn"))
    assert "2n wedges" in _captions(at)


def test_invalid_url_value_is_ignored():
    at = _open(arr_N="100", arr_cell="-7")
    assert at.select_slider(key="arr_N").value == 64
    assert at.number_input(key="arr_cell").value == -1


def test_regression_data_and_bad_combinations():
    at = _open(dataset="regression1d")  # 1-D data with bias: 2 weight coordinates
    assert _num(_metric(at, "Patterns (engine)")) == 20
    at = _open(dataset="regression1d", bias="0")  # a single weight coordinate: nothing to draw
    assert at.error and "2 or 3 weight coordinates" in at.error[0].value
    at = _open(dataset="regression1d", loss="hinge")  # the engine refuses real targets for hinge
    assert at.error and "labels" in at.error[0].value
    assert _num(_metric(at, "Cells drawn")) == 20  # the geometry is still drawn


def test_picked_index_reads_every_customdata_encoding():
    from pages.common.controls.arrangements import picked_index

    assert picked_index([]) == -1
    assert picked_index([{"x": 1.0}]) == -1
    assert picked_index([{"customdata": {"0": 39, "1": 11}}]) == 39  # a row of a numeric 2-D array
    assert picked_index([{"customdata": [7, 2]}]) == 7
    assert picked_index([{"customdata": 4}]) == 4  # a point of a 1-D customdata (data space)


def test_fit_key_identifies_the_fit_by_content():
    import cvx_core
    from pages.common.cache.keys import fit_key

    d = load_dataset("xor", 8, 0.0, 1, 0.0)
    f1 = cvx_core.fit_convex(d.X, d.y, 0.1)
    f2 = cvx_core.fit_convex(d.X, d.y, 0.2)
    assert f1.n_patterns == f2.n_patterns
    assert fit_key("c", f1) == fit_key("c", f1) != fit_key("c", f2)


def test_lecture_mode_can_hide_the_pages_own_controls():
    at = _open(lecture="1", hide="arr_N,arr_theta", arr_N="256")
    labels = [w.label for w in list(at.main.slider) + list(at.main.select_slider)]
    assert not [lab for lab in labels if lab.startswith(("Gaussian directions N", "Direction u: azimuth"))]
    at.run()
    assert not at.exception and at.session_state["arr_N"] == 256
    assert _metric(at, "Found by N = 256")  # the hidden N still drives the page


@pytest.mark.parametrize("loss", ["squared", "logistic", "hinge"])
def test_ratio_curve_is_the_bound_its_legend_names(loss):
    """The ratio figure's curves (docs/math.md section 7): lambda_s is the subsampled program's
    dual vector, kappa = max(1, cert(lambda_s)/beta) over all patterns, the lower curve
    g(lambda_s / kappa) / p*; and the inequalities drawn above them hold: p* <= p_s <= kappa p*,
    g(lambda_s / kappa) <= p*."""
    import cvx_core
    from cvx_core.model import make_loss
    from pages.common.cache import arrangements as ca
    from pages.common.cache.keys import Controls

    c = Controls("xor", 12, 0.05, 3, 0.0, "relu", 0.1, loss, True, -1.3)
    d = load_dataset(c.dataset, c.n, c.noise, c.seed, c.test)
    y = d.y
    p_star = cvx_core.fit_convex(d.X, y, c.beta, loss=loss).objective
    rc = ca.ratio_curve(c, p_star, _data=d)
    lossf, Xb = make_loss(loss), add_bias(d.X, True)
    for N, ratio, kappa, lower in zip(rc["N"], rc["ratio"], rc["kappa"], rc["lower"]):
        fs = cvx_core.fit_convex(d.X, y, c.beta, loss=loss, patterns=sample_patterns(Xb, int(N), seed=c.seed))
        assert kappa >= 1 and ratio == pytest.approx(fs.objective / p_star, rel=1e-9)
        assert lower * p_star == pytest.approx(lossf.dual(fs.dual / kappa, y), rel=1e-6, abs=1e-9)
        assert 1 - 1e-6 <= ratio <= kappa * (1 + 1e-6) and lower <= 1 + 1e-6, (N, ratio, kappa, lower)
