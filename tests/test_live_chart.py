"""The live chart component: its served files, its identity across reruns, clicks, errors."""
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from streamlit.testing.v1 import AppTest

from pages.common.export import chart as export
from pages.common.export import live_chart


def test_component_dir_holds_the_page_and_plotly_js(tmp_path):
    d = live_chart.component_dir(tmp_path)
    assert (d / "index.html").read_bytes() == live_chart.HTML.read_bytes()
    assert (d / "plotly.min.js").read_bytes() == live_chart.plotly_js().read_bytes()
    stamp = (d / "plotly.min.js").stat().st_mtime_ns
    assert live_chart.component_dir(tmp_path) == d  # reused, not copied again
    assert (d / "plotly.min.js").stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [d.name]  # no temporary copies left behind


def test_component_dir_repairs_an_incomplete_copy(tmp_path):
    d = live_chart.component_dir(tmp_path)
    (d / "plotly.min.js").unlink()
    assert live_chart.component_dir(tmp_path) == d
    assert (d / "plotly.min.js").stat().st_size == live_chart.plotly_js().stat().st_size


def test_page_loads_plotly_from_its_own_directory():
    html = live_chart.HTML.read_text()
    assert 'loadScript("plotly.min.js")' in html and 'fetch("plotly.min.js")' in html
    assert "await Plotly.react(gd" in html and "Plotly.newPlot(" not in html  # updates in place
    assert "streamlit:componentReady" in html and "streamlit:setComponentValue" in html


def test_figure_json_is_plotly_json_serialised_once():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    js = live_chart.figure_json(fig)
    assert js == pio.to_json(fig, validate=False)
    assert live_chart.figure_json(fig) is js


@pytest.mark.parametrize("value, expected", [
    (None, []),
    ({}, []),
    ({"selection": {"points": []}, "seq": 3}, []),
    ({"selection": {"points": [{"customdata": [7, 2], "curve_number": 1}]}, "seq": 1},
     [{"customdata": [7, 2], "curve_number": 1}]),
])
def test_clicked_points(value, expected):
    assert live_chart.clicked_points(value) == expected


def test_a_live_chart_needs_a_key_and_takes_only_on_select():
    fig = go.Figure()
    with pytest.raises(ValueError, match="needs a key"):
        live_chart.show(fig, key=None)
    with pytest.raises(TypeError, match="does not take \\['use_container_width'\\]"):
        export.chart(fig, key="k", live=True, use_container_width=True)


def _instances(at):
    import streamlit.testing.v1.element_tree as et

    out = {}

    def walk(node):
        if isinstance(node, et.UnknownElement) and node.type == "component_instance":
            out[node.proto.id.rsplit("-", 1)[-1]] = node.proto
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


def test_arrangement_charts_keep_their_identity_when_u_moves():
    """The browser keeps a chart while its element id stays: moving u must change the figures'
    data but not the ids (st.plotly_chart's id hashes the figure, so it would remount)."""
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.query_params.update({"n": "10"})
    at.run()
    at.switch_page("pages/arrangements.py")
    at.run()
    assert not at.exception, at.exception
    before = _instances(at)
    assert {"arr_data_chart", "arr_weight_chart", "arr_zonotope", "arr_coverage"} <= set(before)
    at.slider(key="arr_theta").set_value(200).run()
    assert not at.exception, at.exception
    after = _instances(at)
    for key in ("arr_weight_chart", "arr_zonotope", "arr_weight_chart__overlay", "arr_zonotope__overlay"):
        assert after[key].id == before[key].id, key
    # u moves on the overlay instances alone: the figures are not sent again
    for key in ("arr_weight_chart", "arr_zonotope"):
        assert after[key].json_args == before[key].json_args, key
        assert after[key + "__overlay"].json_args != before[key + "__overlay"].json_args, \
            f"{key} did not show the new direction"
    assert after["arr_coverage"].json_args == before["arr_coverage"].json_args


def test_overlay_arguments_are_plain_json():
    import json

    import numpy as np

    over = [{"x": np.array([0.5, 1.0]), "y": [np.float64(2.0), None], "marker": {"size": np.int64(14)}}]
    plain = live_chart._plain(over)
    assert json.loads(json.dumps(plain)) == [{"x": [0.5, 1.0], "y": [2.0, None], "marker": {"size": 14}}]


def test_overlay_needs_a_live_chart_and_downloads_include_it():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], name="base"))
    star = {"type": "scatter", "x": [0.5], "y": [0.5], "mode": "markers", "name": "u"}
    with pytest.raises(ValueError, match="live chart"):
        export.chart(fig, key="k", overlay=[star])
    both = export.with_overlay(fig, [star])
    assert [t.name for t in both.data] == ["base", "u"] and len(fig.data) == 1  # a copy
    assert export.with_overlay(fig, None) is fig


def test_lecture_mode_scales_overlay_traces_and_turns_on_automargin(monkeypatch):
    from pages.common import lecture

    star = {"type": "scatter", "x": [1.0], "y": [2.0], "mode": "lines+markers",
            "marker": {"size": [0, 14]}, "line": {"width": 2}}
    assert lecture.style_traces([star])[0] is star  # not in lecture mode: untouched
    monkeypatch.setattr(lecture, "active", lambda: True)
    big = lecture.style_traces([star])[0]
    assert big["marker"]["size"] == [0, 14 * lecture.SCALE] and big["line"]["width"] == 2 * lecture.SCALE
    assert star["marker"]["size"] == [0, 14]  # a copy
    fig = lecture.style(go.Figure(go.Scatter(x=[0, 1], y=[0, 1])))
    assert fig.layout.xaxis.automargin and fig.layout.yaxis.automargin
