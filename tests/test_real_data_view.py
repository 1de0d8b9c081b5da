"""The real-data section of the SGD page: figure values equal the CSV's, the section renders and follows its data set."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from pages.common import real_data_section as rdv
from pages.common.palette import WHITE
from pages.common.figures.real_data import objective_ratios, ratio_figure

CSV = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "real_data.csv"
pytestmark = pytest.mark.skipif(not CSV.is_file(), reason="benchmarks/results/real_data.csv not produced")


@pytest.fixture(scope="module")
def df():
    return pd.read_csv(CSV)


def _points(fig, method):
    """x values of the best-run marker (filled, size 12) and of the best-to-worst line of ``method``."""
    best = [t.x[0] for t in fig.data if t.mode == "markers" and t.y[0] == method and t.marker.size == 12]
    line = [tuple(t.x) for t in fig.data if t.mode == "lines" and t.y[0] == method]
    return best, line


@pytest.mark.parametrize("dataset", ["breast_cancer", "diabetes", "wine"])
def test_figure_values_are_the_csv_ratios(df, dataset):
    g = df[df["dataset"] == dataset]
    lowest = g["objective"].min()
    fig = ratio_figure(df, dataset)
    assert fig.layout.xaxis.type == "log"
    for _, row in g.iterrows():
        best, line = _points(fig, row["method"])
        hovers = [t.hovertemplate for t in fig.data if t.y[0] == row["method"]]
        assert hovers and all(f"best objective {row['objective']:.6g}" in h for h in hovers)
        assert best == pytest.approx([row["objective"] / lowest], rel=1e-12)
        if row["n_runs"] > 1:
            assert line == [pytest.approx((row["objective"] / lowest, row["objective_max"] / lowest), rel=1e-12)]
            median = [t.x[0] for t in fig.data if t.mode == "markers" and t.y[0] == row["method"]
                      and t.marker.color == WHITE]
            assert median == pytest.approx([row["objective_median"] / lowest], rel=1e-12)
        else:
            assert line == []
    xs = [t.x[0] for t in fig.data if t.mode == "markers" and t.marker.size == 12]
    assert min(xs) == pytest.approx(1.0) and all(x >= 1.0 - 1e-12 for x in xs)
    # every row has its own category, winners included
    assert set(fig.layout.yaxis.categoryarray) == set(g["method"])


def test_ratios_and_table_agree_with_the_csv(df):
    r = objective_ratios(df, "iris")
    g = df[df["dataset"] == "iris"]
    np.testing.assert_allclose(r["worst"], g["objective_max"] / g["objective"].min())
    t = rdv.study_table(df, "iris")
    assert list(t["method"]) == list(g["method"])
    np.testing.assert_allclose(t["objective (best)"], g["objective"])
    single = (g["n_runs"] == 1).to_numpy()
    spread = t["median / max"].to_numpy()
    assert (spread[single] == "").all() and (spread[~single] != "").all()
    assert list(t["runs (diverged)"]) == [f"{r} ({d})" for r, d in zip(g["n_runs"], g["n_diverged"])]
    with pytest.raises(ValueError, match="expected a data set"):
        objective_ratios(df, "no_such_set")


def test_missing_csv_gives_none(tmp_path):
    assert rdv.load_study(tmp_path / "real_data.csv") is None


def _table(at):
    return next(d.value for d in at.dataframe if "method" in d.value.columns and "kappa" in d.value.columns)


def test_section_renders_and_the_selectbox_changes_the_table(df):
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.query_params.update({"n": "12"})
    at.run()
    at.query_params.update({"sgd_steps": "50", "sgd_width": "4", "sgd_nseeds": "1", "sgd_lrs": "0.01"})
    at.switch_page("pages/sgd.py")
    at.run()
    assert not at.exception, at.exception
    assert "Real data (precomputed study)" in [e.label for e in at.expander]
    assert not any("kappa" in d.value.columns for d in at.dataframe)  # closed: not built (lazy)
    at.session_state["sgd_rd_open"] = True
    at.run()
    sb = at.selectbox(key=rdv.KEY)
    first = df["dataset"].iloc[0]
    assert sb.value == first
    t = _table(at)
    np.testing.assert_allclose(t["objective (best)"], df.loc[df["dataset"] == first, "objective"])
    sb.set_value("diabetes").run()
    assert not at.exception, at.exception
    t = _table(at)
    g = df[df["dataset"] == "diabetes"]
    assert list(t["method"]) == list(g["method"])
    np.testing.assert_allclose(t["objective (best)"], g["objective"])
    assert "test R^2 (best)" in t.columns
    assert at.query_params[rdv.KEY] == "diabetes"  # bound to the URL
    assert any("1 = lowest found" in c.value for c in at.caption)


def _section():
    from pages.common.real_data_section import render_real_data_section

    render_real_data_section()


def test_missing_csv_says_how_to_produce_it(tmp_path, monkeypatch):
    monkeypatch.setattr(rdv, "CSV", tmp_path / "real_data.csv")
    at = AppTest.from_function(_section, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    assert len(at.info) == 1 and "python benchmarks/real_data.py" in at.info[0].value
    assert not at.dataframe and not at.selectbox
