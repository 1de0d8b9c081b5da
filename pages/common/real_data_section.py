"""The real-data study on the SGD-versus-convex page: a precomputed table, never re-run in the app.

``benchmarks/real_data.py`` trains the convex program (the default estimator), SGD, Adam and
scikit-learn's MLP on scikit-learn's bundled data sets at one beta and writes
``benchmarks/results/real_data.csv`` (one row per data set and method) and ``real_data.md``
(the same table plus the study settings). This module reads them (cached, keyed by the file's
modification time so a fresh study shows up) and draws one data set at a time.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from . import errors, lecture
from .cache.real_data import read_csv, read_settings
from .export.chart import cached, chart
from .figures.real_data import objective_ratios, ratio_figure
from .imports import pandas
from .palette import GREEN, rgba
from .url import bind, parser

pd = pandas()  # not while other sessions build figures (see pages.common.imports)

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
CSV = RESULTS / "real_data.csv"
MD = RESULTS / "real_data.md"
KEY = "sgd_rd_set"


def load_study(path: Path | None = None) -> pd.DataFrame | None:
    """The study table (default :data:`CSV`), or None when it has not been produced."""
    path = CSV if path is None else path
    return read_csv(str(path), path.stat().st_mtime) if path.is_file() else None


def _fmt(v, spec: str) -> str:
    return "" if pd.isna(v) else format(v, spec)


def study_table(df: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """The rows of ``dataset`` as displayed, one per method (as in ``real_data.md``).

    Numbers that exist for every row stay numeric; the spreads (blank for a single run), P (blank
    for gradient methods) and the MLP's own objective are text, so a blank is a blank.
    """
    g = df[df["dataset"] == dataset].reset_index(drop=True)
    metric = "test R^2" if g["metric_name"].iloc[0] == "R2" else "test accuracy"
    multi = g["n_runs"] > 1
    return pd.DataFrame({
        "method": g["method"],
        "P": [_fmt(v, ".0f") for v in g["P"]],
        "kappa": g["kappa"],
        "neurons": g["neurons"].astype(int),
        "objective (best)": g["objective"],
        "/ lowest": objective_ratios(df, dataset)["best"],
        "median / max": [f"{_fmt(a, '.4g')} / {_fmt(b, '.4g')}" if m else ""
                         for a, b, m in zip(g["objective_median"], g["objective_max"], multi)],
        f"{metric} (best)": g["test_metric"],
        "min - max": [f"{_fmt(a, '.3f')} - {_fmt(b, '.3f')}" if m else ""
                      for a, b, m in zip(g["test_metric_min"], g["test_metric_max"], multi)],
        "runs (diverged)": [f"{r} ({d})" for r, d in zip(g["n_runs"], g["n_diverged"])],
        "time total (s)": g["time_total_s"],
        "best run": g["best_setting"].fillna(""),
        "MLP own objective": [_fmt(v, ".4g") for v in g["own_objective"]],
    })


def settings_text(r0: pd.Series) -> str:
    """One line of study settings for a data set, from its CSV columns (nothing hard-coded)."""
    gd = (f"; SGD/Adam width m = {r0['width']:g}, {r0['epochs']:g} epochs"
          if np.isfinite(r0.get("width", np.nan)) and np.isfinite(r0.get("epochs", np.nan)) else "")
    return (f"Settings (from the study's CSV): beta = {r0['beta']:g} for every method, the same standardised split; "
            f"training set a stratified subsample of n_train = {int(r0['n_train'])} samples, the rest the test "
            f"set (n_test = {int(r0['n_test'])}), d = {int(r0['d'])} features{gd}. All settings: the popover below or "
            "benchmarks/results/real_data.md.")


def _highlight_lowest(col: pd.Series) -> list[str]:
    lowest = np.nanmin(col.to_numpy(dtype=float))
    return [f"font-weight: bold; background-color: {rgba(GREEN, 0.25)}" if v == lowest else "" for v in col]


def render_real_data_section() -> None:
    """Selectbox, table and figure of the precomputed real-data study (call inside an expander)."""
    df = load_study()
    if df is None:
        st.info(f"No precomputed study found ({CSV}). Produce it with "
                "`python benchmarks/real_data.py` (several minutes; the app never runs the study itself).")
        return
    sets = list(dict.fromkeys(df["dataset"]))

    bind(KEY, sets[0], parser(options=sets))
    if st.session_state[KEY] not in sets:  # a session from before the study was re-run
        st.session_state[KEY] = sets[0]
    first = df.groupby("dataset", sort=False).first()  # first non-empty value of each column
    st.selectbox("Data set", sets, key=KEY, format_func=lambda s: f"{s} ({first.loc[s, 'task']}, "
                 f"n_train = {first.loc[s, 'n_train']}, d = {first.loc[s, 'd']})")
    ds = st.session_state[KEY]
    r0 = first.loc[ds]
    lecture.explain(settings_text(r0))
    table = study_table(df, ds)
    fmt = {"kappa": "{:.3g}", "objective (best)": "{:.4g}", "/ lowest": "{:.3f}", "time total (s)": "{:.1f}"}
    fmt |= {c: "{:.3f}" for c in table.columns if c.startswith("test ")}
    st.dataframe(table.style.format(fmt).apply(_highlight_lowest, subset=["objective (best)"]),
                 hide_index=True, width="stretch", key="sgd_rd_table")
    win = table.loc[table["objective (best)"].idxmin()]
    lecture.explain(
        f"Highlighted: the lowest training objective on {ds}, {win['objective (best)']:.6g} by {win['method']}. "
        f"P = patterns of the convex program; kappa = cert/beta of each method's best network over a sampled set "
        f"of {int(r0['kappa_patterns'])} patterns (<= 1: no sampled pattern improves it); median / max and test "
        "min - max are over all non-diverged runs (learning rates x seeds). 'MLP own objective' is what "
        "scikit-learn minimises (free hidden biases and output intercept), lower than ours for the same network.")
    try:
        fig = cached(("real_data", CSV.stat().st_mtime, ds), lambda: ratio_figure(df, ds))
    except ValueError as exc:
        errors.bad_input(str(exc))
        return
    chart(fig, key="sgd_rd_fig", filename=f"real_data_{ds}", server=False)
    lecture.explain(
        "How to read this: x = training objective / the lowest objective any method found for this data set "
        "(1 = lowest found, the dashed line; log scale), one row per method; the filled dot is the best run, the line reaches its "
        "worst run and the open circle is the median. Convex rows are certified optimal over their own patterns "
        "(P in the table): 'convex (default)' is the estimator as a user gets it, 200 sampled patterns and then the "
        "patterns its sphere search found violated, never seeded from SGD. That is not every pattern, so a gradient "
        "method could still beat it; kappa is measured over a sampled set of patterns, so it is a lower estimate "
        "of the true kappa. Hover for exact values.")
    if MD.is_file():
        with st.popover("All study settings (real_data.md)"):
            st.markdown("\n".join(read_settings(str(MD), MD.stat().st_mtime)))
