"""Exports: the reproducing snippet (executed), model JSON round trip and certify, data CSV, figures."""
import json
import pickle
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import plotly.graph_objects as go
import pytest

import cvx_core
from cvx_core.datasets import load_dataset
from pages.common.cache.keys import Controls
from pages.common.data import table as data_io
from pages.common.export import chart as export_chart
from pages.common.export import files, snippet as snippets


def _run(code: str) -> dict:
    ns: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, "<snippet>", "exec"), ns)  # noqa: S102 - the test's purpose
    return ns


def _ref(X, y, c, patterns="exact"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cvx_core.fit_convex(X, y, c.beta, activation=c.activation, leak=c.leak, loss=c.loss,
                                   bias=c.bias, patterns=patterns)


@pytest.fixture(scope="module")
def builtin():
    c = Controls("xor", 12, 0.05, 3, 0.25, "relu", 0.1, "squared", True, -1.3)
    d = load_dataset(c.dataset, c.n, c.noise, c.seed, c.test)
    return c, d, _ref(d.X, d.y, c)


def test_snippet_reproduces_builtin_fit(builtin, capsys):
    c, d, ref = builtin
    ns = _run(snippets.snippet(c, d))
    assert ns["fit"].objective == pytest.approx(ref.objective, rel=1e-9)
    assert ns["fit"].n_neurons == ref.n_neurons
    assert "objective" in capsys.readouterr().out


def test_snippet_reproduces_user_data_with_edits_and_sampling():
    c = Controls("moons", 10, 0.0, 0, 0.0, "leaky", 0.2, "squared", True, -1.0, source="x")
    d = load_dataset("moons", 10, 0.0, 0)
    u = data_io.compose("moons", "classification", d.X, d.y, test=0, seed=0, rescale=False, dropped=[2],
                        added=[(0.3, -0.2, 1.0)], split=False, X_test=d.X_test, y_test=d.y_test)
    for patterns in ("exact", 40):
        ref = _ref(u.X, u.y, c, patterns)
        ns = _run(snippets.snippet(c, u, patterns))
        assert ns["fit"].objective == pytest.approx(ref.objective, rel=1e-9)
        assert ns["fit"].exact_patterns == (patterns == "exact")


def test_snippet_reads_csv_for_large_user_data(tmp_path, monkeypatch):
    c = Controls("xor", 8, 0.0, 0, 0.0, "relu", 0.1, "squared", True, -1.0, source="x")
    d = load_dataset("xor", 8, 0.0, 1)
    u = data_io.compose("xor", "classification", d.X, d.y, test=0, seed=0, rescale=False, dropped=[], added=[],
                        split=False, X_test=d.X_test, y_test=d.y_test)
    monkeypatch.setattr(snippets, "SNIPPET_INLINE_ROWS", 3)
    (tmp_path / "data_train.csv").write_text(files.train_csv(u))
    monkeypatch.chdir(tmp_path)
    code = snippets.snippet(c, u)
    assert "np.loadtxt" in code
    assert _run(code)["fit"].objective == pytest.approx(_ref(u.X, u.y, c).objective, rel=1e-9)


def test_model_json_round_trip_and_certify(builtin):
    c, d, ref = builtin
    text = files.model_json(ref)
    assert json.loads(text)["trained"]["beta"] == pytest.approx(c.beta)
    net = files.load_network(text.encode())
    np.testing.assert_allclose(net.predict(d.X), ref.network.predict(d.X), rtol=1e-12, atol=1e-12)
    cert = files.certify_network(net, d, c.beta, c.loss)
    assert cert.objective == pytest.approx(ref.objective, rel=1e-6)
    # certify() bounds with lambda = y - yhat only (no solver dual), so it is looser than ref.gap
    assert 0 <= cert.gap < 1e-3 and cert.certificate == pytest.approx(1.0, abs=1e-3)
    # a perturbed network is not optimal and its gap says so
    worse = cvx_core.TwoLayerNet(net.U * 1.3, net.alpha, net.activation, net.leak, net.bias)
    cw = files.certify_network(worse, d, c.beta, c.loss)
    assert cw.objective > cert.objective and cw.gap > 1e-3
    assert cw.lower_bound <= ref.objective * (1 + 1e-9)


@pytest.mark.parametrize("payload, words", [
    (b"", "empty"),
    (b"{" + b" " * (files.MAX_JSON_BYTES + 1), "limit"),
    (b"not json", "valid JSON"),
    (b'{"U": [[1, 2, 3]]}', "missing"),
    (b'{"U": [[1, 2, 3]], "alpha": ["a"]}', "numeric"),
    (b"\xff\xfe\x00\x01", "not text"),
])
def test_bad_network_files_are_refused(payload, words):
    with pytest.raises(ValueError, match=words):
        files.load_network(payload)


def test_pickles_are_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    with pytest.raises(ValueError):
        files.load_network(pickle.dumps(Evil()))
    assert not marker.exists()


def test_certify_refuses_input_mismatch(builtin):
    _, d, _ = builtin
    net = cvx_core.TwoLayerNet(np.ones((2, 2)), np.ones(2), "relu", 0.1, True)  # 1 input + bias
    with pytest.raises(ValueError, match="1 input feature"):
        files.certify_network(net, d, 0.1, "squared")


def test_data_csv_round_trips_through_the_uploader():
    rng = np.random.default_rng(1)
    X = rng.normal([50.0, 3.0], [10.0, 2.0], size=(15, 2))
    y = np.where(rng.random(15) > 0.5, 1.0, -1.0)
    u = data_io.compose("up", "classification", X, y, test=0.2, seed=0, rescale=True, dropped=[], added=[])
    t = data_io.parse_csv(files.data_csv(u, raw=True).encode())
    np.testing.assert_allclose(np.sort(t.X, axis=0), np.sort(X, axis=0), rtol=1e-12)
    t2 = data_io.parse_csv(files.data_csv(u).encode())
    np.testing.assert_array_equal(t2.X, np.vstack([u.X, u.X_test]))
    assert files.data_csv(u, split=True).splitlines()[0].endswith(",split")


def test_chart_config_sets_the_client_side_format():
    assert export_chart.chart_config("f", "svg")["toImageButtonOptions"] == {"format": "svg", "filename": "f"}
    assert export_chart.chart_config("g", "png")["toImageButtonOptions"]["scale"] == 2
    with pytest.raises(ValueError):
        export_chart.figure_bytes(go.Figure(), "gif")


@pytest.mark.skipif(not export_chart.server_export_available(), reason="kaleido or chromium not installed")
def test_server_side_svg_export_draws_the_figure():
    """The SVG is the figure: its size, title, axis titles, one group per trace (the live chart's
    overlay included, without a legend entry), legend names, and a falling line that falls."""
    fig = go.Figure([go.Scatter(x=[0, 1], y=[1, 0], name="falling", mode="lines"),
                     go.Scatter(x=[0, 1], y=[0, 1], name="rising", mode="markers")])
    fig.update_layout(title="Two runs", xaxis_title="step", yaxis_title="objective F")
    star = {"type": "scatter", "x": [0.5], "y": [0.5], "mode": "markers", "name": "u*"}
    svg = export_chart.figure_bytes(fig, "svg", width=300, height=200, overlay=[star])
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.attrib["width"], root.attrib["height"]) == ("300", "200")
    texts = {el.attrib.get("class"): [] for el in root.iter()}
    for el in root.iter():
        texts[el.attrib.get("class")].append(el.text)
    assert texts["gtitle"] == ["Two runs"]
    assert texts["xtitle"] == ["step"] and texts["ytitle"] == ["objective F"]
    assert texts["legendtext"] == ["falling", "rising"]  # the overlay adds no legend entry
    traces = [el for el in root.iter() if (el.attrib.get("class") or "").startswith("trace scatter")]
    assert len(traces) == 3  # two traces and the overlay
    path = next(el for el in traces[0].iter() if el.tag.endswith("path") and el.attrib.get("d", "").startswith("M"))
    (x0, y0), (x1, y1) = [tuple(map(float, pt.split(","))) for pt in path.attrib["d"][1:].split("L")[:2]]
    assert x1 > x0 and y1 > y0  # left to right and down the page (SVG y grows downwards): it falls
    assert export_chart.figure_bytes(fig, "svg", width=300, height=200) != svg  # the overlay is drawn
