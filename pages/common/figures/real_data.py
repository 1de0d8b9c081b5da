"""Plotly builder for the real-data study (``benchmarks/results/real_data.csv``): pure functions.

Every method in the study is scored on the same training objective
``F = L(yhat, y) + (beta/2) sum_j (||u_j||^2 + ||alpha_j||_1^2)`` at the same beta. Objectives of
different data sets have different sizes, so the figure divides by the lowest objective any
method found for the data set: 1 is the winner, 2 is twice as high.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..imports import pandas
from ..palette import BLACK, BLUE, GREEN, GREY, ORANGE, PURPLE, WHITE

pd = pandas()  # not while other sessions build figures (see pages.common.imports)

#: Colour of a method family, by the prefix of its name in the study.
METHOD_COLOURS = (("convex", GREEN), ("SGD", BLUE), ("Adam", ORANGE), ("sklearn", PURPLE))


def method_colour(method: str) -> str:
    return next((c for prefix, c in METHOD_COLOURS if method.startswith(prefix)), GREY)


def objective_ratios(df: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Objectives of one data set's rows divided by the lowest objective found for that data set.

    Parameters
    ----------
    df : DataFrame
        The study table (columns ``dataset, method, objective, objective_median, objective_max``).
    dataset : str
        The data set to take.

    Returns
    -------
    DataFrame with ``method`` and ``best, median, worst`` (ratios, NaN where every run diverged),
    in the study's row order.

    Raises
    ------
    ValueError
        If ``dataset`` is not in the table or none of its rows has a finite objective.
    """
    g = df[df["dataset"] == dataset]
    if g.empty:
        raise ValueError(f"expected a data set of the study {sorted(df['dataset'].unique())}, got {dataset!r}")
    lowest = np.nanmin(g["objective"].to_numpy(dtype=float)) if g["objective"].notna().any() else np.nan
    if not np.isfinite(lowest) or lowest <= 0:
        raise ValueError(f"no finite positive objective for {dataset!r}")
    return pd.DataFrame({
        "method": g["method"].to_numpy(),
        "best": g["objective"].to_numpy(dtype=float) / lowest,
        "median": g["objective_median"].to_numpy(dtype=float) / lowest,
        "worst": g["objective_max"].to_numpy(dtype=float) / lowest,
    })


def ratio_figure(df: pd.DataFrame, dataset: str) -> go.Figure:
    """Objective / lowest objective of every method on ``dataset`` (log x axis, one row per method).

    A line runs from a method's best run to its worst non-diverged run; the filled dot is the best
    run, the open circle the median. Single-run methods (the convex program) are one dot.
    """
    g = df[df["dataset"] == dataset].reset_index(drop=True)
    r = objective_ratios(df, dataset)
    lowest = float(np.nanmin(g["objective"].to_numpy(dtype=float)))
    fig = go.Figure()
    for i, row in g.iterrows():
        m = row["method"]
        col = method_colour(m)
        best, med, worst = (float(r.loc[i, k]) for k in ("best", "median", "worst"))
        if not np.isfinite(best):
            continue  # every run diverged: nothing to place on the axis (the table says so)
        runs = int(row["n_runs"])
        hover = (f"<b>{m}</b><br>best objective {row['objective']:.6g} (x {best:.4g})"
                 + (f"<br>median {row['objective_median']:.6g} (x {med:.4g})"
                    f"<br>worst {row['objective_max']:.6g} (x {worst:.4g})" if runs > 1 else "")
                 + f"<br>lowest for {dataset}: {lowest:.6g}"
                 + f"<br>runs {runs} ({int(row['n_diverged'])} diverged)<extra></extra>")
        if runs > 1 and np.isfinite(worst):
            fig.add_trace(go.Scatter(x=[best, worst], y=[m, m], mode="lines", line=dict(color=col, width=3),
                                     hovertemplate=hover, showlegend=False))
            fig.add_trace(go.Scatter(x=[med], y=[m], mode="markers", hovertemplate=hover, showlegend=False,
                                     marker=dict(color=WHITE, size=9, symbol="circle",
                                                 line=dict(color=col, width=2))))
        fig.add_trace(go.Scatter(x=[best], y=[m], mode="markers", hovertemplate=hover, showlegend=False,
                                 marker=dict(color=col, size=12, line=dict(color=BLACK, width=1))))
    fig.add_vline(x=1.0, line=dict(color=GREY, dash="dash"))  # 1 = the lowest objective found
    top = float(np.nanmax(np.r_[r["best"], r["worst"]]))
    fig.update_layout(
        title=f"{dataset}: training objective / lowest objective found (same beta, same objective)",
        xaxis=dict(type="log", range=[np.log10(0.97), np.log10(top * 1.08)], title="objective / lowest objective for this data set (log scale)"),
        yaxis=dict(categoryorder="array", categoryarray=list(g["method"])[::-1], title=None),
        height=120 + 45 * len(g), margin=dict(l=10, r=10, t=60, b=10), hovermode="closest",
    )
    return fig
