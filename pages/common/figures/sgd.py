"""Plotly builders for the SGD-versus-convex page: pure functions ``data -> go.Figure``.

Objective everywhere: ``F = L(yhat, y) + (beta/2) sum_j (||u_j||^2 + alpha_j^2)``; the convex
optimum ``p*`` is the certified global minimum of the same F. Colours: Okabe-Ito.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cvx_core.sgd import TrainingHistory
from cvx_core.stationary import CertificateCurve

from ..imports import pandas
from ..palette import (BLACK, BLACK_SCALE, BLUE, DIVERGING, DIVERGING_SIGN, GREEN, GREY, LOW_HIGH, OFF_ON,
                       ORANGE, SERIES, SIGN, VERMILLION, rgba)
from .base import BOX, grid, scatter_traces

pd = pandas()  # not while other sessions build figures (see pages.common.imports)

#: One colour per learning rate (Okabe-Ito, then greys).
RUN_COLOURS = SERIES
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SIGN_COLOURS = SIGN


def _layout(fig: go.Figure, title: str, **kw) -> go.Figure:
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.2), **kw)
    return fig


def run_label(h: TrainingHistory) -> str:
    return f"lr={h.lr:g}, seed={h.seed}"


def side_by_side_figure(X, y, predicts: dict[str, Callable], *, regression: bool = False, X_test=None,
                        y_test=None, n_grid: int = 100) -> go.Figure:
    """Decision functions of several networks side by side on one colour scale.

    ``predicts`` maps a panel title to ``f(points) -> outputs``. For regression (1-D data) the
    curves share one panel. The black contour in each panel is the boundary ``f(x) = 0``.
    """
    if regression:
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=np.ravel(X), y=y, mode="markers", name="train",
                                 marker=dict(color=GREY, size=8, line=dict(color=BLACK, width=1)),
                                 hovertemplate="x=%{x:.4f}<br>y=%{y:.4f}<extra>train</extra>"))
        if X_test is not None and len(X_test):
            fig.add_trace(go.Scatter(x=np.ravel(X_test), y=y_test, mode="markers", name="test",
                                     marker=dict(color=GREY, size=8, symbol="diamond-open")))
        xs = np.linspace(BOX[0], BOX[1], 400)
        for (name, f), col, dash in zip(predicts.items(), (ORANGE, BLUE, GREEN), ("solid", "dash", "dot")):
            fig.add_trace(go.Scatter(x=xs, y=np.ravel(f(xs[:, None])), mode="lines", name=name,
                                     line=dict(color=col, width=3, dash=dash),
                                     hovertemplate="x=%{x:.4f}<br>f=%{y:.5f}<extra>" + name + "</extra>"))
        return _layout(fig, "Fitted functions", xaxis=dict(title="x", range=BOX), yaxis=dict(title="y"))
    xs, _, pts = grid(n_grid)
    Zs = {name: np.asarray(f(pts), dtype=float).reshape(n_grid, n_grid) for name, f in predicts.items()}
    zmax = max(max(float(np.abs(Z).max()) for Z in Zs.values()), 1e-12)
    fig = make_subplots(rows=1, cols=len(Zs), subplot_titles=list(Zs), horizontal_spacing=0.04)
    for c, (name, Z) in enumerate(Zs.items(), start=1):
        fig.add_trace(go.Heatmap(x=xs, y=xs, z=Z, coloraxis="coloraxis", opacity=0.6, name=name,
                                 hovertemplate="x1=%{x:.3f}<br>x2=%{y:.3f}<br>f=%{z:.4f}<extra>" + name + "</extra>"),
                      row=1, col=c)
        fig.add_trace(go.Contour(x=xs, y=xs, z=Z, showscale=False, contours=dict(start=0, end=0, size=1, coloring="lines"),
                                 colorscale=BLACK_SCALE, line=dict(width=2), hoverinfo="skip",
                                 showlegend=False), row=1, col=c)
        for tr in scatter_traces(X, y, "train", marker_size=7):
            tr.showlegend = c == 1
            tr.legendgroup = tr.name
            fig.add_trace(tr, row=1, col=c)
        if X_test is not None and len(X_test):
            for tr in scatter_traces(X_test, y_test, "test", symbol="diamond-open", marker_size=7):
                tr.showlegend = c == 1
                tr.legendgroup = tr.name
                fig.add_trace(tr, row=1, col=c)
        fig.update_xaxes(range=BOX, title="x1", constrain="domain", row=1, col=c)
        fig.update_yaxes(range=BOX, scaleanchor=f"x{'' if c == 1 else c}", scaleratio=1, row=1, col=c,
                         title="x2" if c == 1 else None)
    fig.update_layout(coloraxis=dict(colorscale=DIVERGING, cmin=-zmax, cmax=zmax,
                                     colorbar=dict(title="f(x)", thickness=12)))
    return _layout(fig, "")


def _subsampled(F: np.ndarray, max_points: int) -> np.ndarray:
    """At most about ``max_points`` step indices of a trace, its first and last included."""
    step = max(1, len(F) // max_points)
    return np.unique(np.r_[np.arange(0, len(F), step), len(F) - 1])


def objective_curves_figure(runs: Sequence[TrainingHistory], p_star: float | None = None, *,
                            highlight: TrainingHistory | None = None, max_points: int = 600,
                            live_legend: bool = False) -> go.Figure:
    """Objective F against iteration for several runs, log scale, with ``p*`` dashed.

    Runs are coloured by learning rate and dashed by seed; ``highlight`` is drawn thick.
    ``live_legend``: the legend entry of a live run drawn over the figure by a live chart
    (:func:`live_run_traces`) instead of ``highlight``.
    """
    fig = go.Figure()
    lrs = sorted({h.lr for h in runs})
    seeds = sorted({h.seed for h in runs})
    if live_legend:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="live run", line=dict(color=BLACK, width=4)))
    for h in list(runs) + ([highlight] if highlight is not None else []):
        F = h.objective
        idx = _subsampled(F, max_points)
        is_live = h is highlight
        gap = (F[idx] - p_star) / abs(p_star) if p_star else np.full(idx.size, np.nan)
        name = ("live run: " if is_live else "") + run_label(h) + (" (diverged)" if h.diverged else "")
        fig.add_trace(go.Scatter(
            x=idx, y=F[idx], mode="lines", name=name,
            line=dict(color=BLACK if is_live else RUN_COLOURS[lrs.index(h.lr) % len(RUN_COLOURS)],
                      dash="solid" if is_live else DASHES[seeds.index(h.seed) % len(DASHES)],
                      width=4 if is_live else 2),
            customdata=gap, hovertemplate="step %{x}<br>F=%{y:.6g}<br>gap to p*=%{customdata:.3%}<extra>" + name + "</extra>"))
    if p_star is not None:
        fig.add_hline(y=p_star, line=dict(color=GREEN, dash="dash", width=3))
        # on a log axis an annotation's y is log10 of the value (add_hline's own annotation gets it wrong)
        fig.add_annotation(x=1, xref="paper", xanchor="right", y=np.log10(p_star) if p_star > 0 else 0, yanchor="bottom",
                           text=f"convex optimum p* = {p_star:.6g}", showarrow=False, font=dict(color=GREEN))
    return _layout(fig, "Objective against iteration", xaxis=dict(title="step"),
                   yaxis=dict(title="objective F (log scale)", type="log", tickformat=",.2~r"))  # full values, not "2", "5"


def live_run_traces(h: TrainingHistory, max_points: int = 600) -> list[dict]:
    """The live run's objective curve on :func:`objective_curves_figure` (``live_legend=True``)
    as a live chart's overlay: a new live run redraws no other curve. Labelled at its last step."""
    idx = _subsampled(h.objective, max_points)
    x, y = idx.tolist(), h.objective[idx].tolist()
    text = [""] * (len(x) - 1) + [f"live run: {run_label(h)}"]
    return [dict(type="scatter", x=x, y=y, mode="lines+markers+text" if len(x) == 1 else "lines+text", text=text,
                 line=dict(color=BLACK, width=4), marker=dict(color=BLACK, size=8), showlegend=False)]


#: A stationary run within this relative gap of p* counts as having found the global optimum.
AT_OPTIMUM = 1e-3


def gap_meaning(h: TrainingHistory, p_star: float | None, tol: float) -> str:
    """What a run's remaining gap to ``p*`` means, from its stationarity against ``tol``."""
    if h.diverged:
        return "diverged: lower the learning rate"
    if h.stationarity > tol:
        return f"unfinished: not stationary ({h.stationarity:.1e} > {tol:g}), part of the gap is training left to do"
    if p_star is None:
        return "stationary"
    if (h.final_objective - p_star) / abs(p_star) <= AT_OPTIMUM:
        return "stationary at the global optimum p*"
    return ("stationary above p*: a spurious stationary point (another pattern set); "
            "the certificate below names a neuron to add")


def final_gaps_table(runs: Sequence[TrainingHistory], p_star: float | None, tol: float) -> pd.DataFrame:
    """One row per run: final objective, relative gap to p*, gradient norm, stationarity, status
    and what the gap means (:func:`gap_meaning`)."""
    rows = []
    for h in runs:
        status = (f"diverged at step {h.diverged_at}" if h.diverged else f"stationary at step {h.stationary_at}"
                  if h.stationary and h.n_steps == h.stationary_at else "stopped" if h.stopped else "finished")
        rows.append({
            "learning rate": h.lr, "seed": h.seed, "steps": h.n_steps, "final objective": h.final_objective,
            "gap to p* (relative)": (h.final_objective - p_star) / abs(p_star) if p_star else np.nan,
            "gradient norm": float(h.grad_norm[-1]), "stationarity": h.stationarity,
            "status": status, "what the gap means": gap_meaning(h, p_star, tol),
        })
    return pd.DataFrame(rows)


def sensitivity_figure(runs: Sequence[TrainingHistory], p_star: float | None = None,
                       convex_time: float | None = None) -> go.Figure:
    """Final objective over a learning-rate x seed grid, with the convex optimum beside it."""
    lrs = sorted({h.lr for h in runs})
    seeds = sorted({h.seed for h in runs})
    Z = np.full((len(lrs), len(seeds)), np.nan)
    text = np.full(Z.shape, "", dtype=object)
    for h in runs:
        i, j = lrs.index(h.lr), seeds.index(h.seed)
        if h.diverged:
            text[i, j] = f"diverged<br>step {h.diverged_at}"
            continue
        Z[i, j] = h.final_objective
        text[i, j] = f"{h.final_objective:.4g}" + (f"<br>+{(h.final_objective - p_star) / abs(p_star):.1%}" if p_star else "")
    finite = Z[np.isfinite(Z)]
    cands = ([p_star] if p_star is not None else []) + ([float(finite.min())] if finite.size else [])
    lo = min(cands) if cands else 0.0
    hi = float(finite.max()) if finite.size else lo + 1
    cols = 2 if p_star is not None else 1
    fig = make_subplots(rows=1, cols=cols, column_widths=[0.82, 0.18][:cols], horizontal_spacing=0.08,
                        subplot_titles=["SGD runs: final objective", "convex"][:cols])
    ylab = [f"lr={v:g}" for v in lrs]
    fig.add_trace(go.Heatmap(
        z=Z, x=[f"seed {s}" for s in seeds], y=ylab, text=text, texttemplate="%{text}", coloraxis="coloraxis",
        hovertemplate="%{y}, %{x}<br>final F=%{z:.6g}<extra></extra>"), row=1, col=1)
    if p_star is not None:
        t = f"p* = {p_star:.4g}" + (f"<br>{convex_time:.2f} s" if convex_time is not None else "")
        fig.add_trace(go.Heatmap(z=[[p_star]], x=["optimum"], y=["certified"], text=[[t]], texttemplate="%{text}",
                                 coloraxis="coloraxis", hovertemplate="certified convex optimum p*=%{z:.6g}<extra></extra>"),
                      row=1, col=2)
    fig.update_layout(coloraxis=dict(colorscale=LOW_HIGH, cmin=lo, cmax=max(hi, lo * (1 + 1e-9) + 1e-12),
                                     colorbar=dict(title="F", thickness=12)))
    return _layout(fig, "")


def pattern_figure(patterns: np.ndarray, labels: Sequence[str], kinks: np.ndarray | None = None,
                   margins: np.ndarray | None = None) -> go.Figure:
    """The live neurons' activation patterns: one row per neuron, one column per point.

    ``patterns`` (m_live, n) bool; ``kinks`` and ``margins`` (n, m_live) mark points on a kink.
    """
    P = np.asarray(patterns, dtype=float)
    m, n = P.shape
    fig = go.Figure()
    cd = margins.T if margins is not None else np.full(P.shape, np.nan)
    fig.add_trace(go.Heatmap(z=P, x=np.arange(n), y=list(labels), zmin=0, zmax=1, showscale=False,
                             colorscale=OFF_ON, xgap=1, ygap=1, customdata=cd,
                             hovertemplate="%{y}<br>point %{x}: 1[x~'u >= 0] = %{z:.0f}<br>"
                                           "relative margin %{customdata:.2e}<extra></extra>"))
    if kinks is not None and np.any(kinks):
        k, j = np.nonzero(np.asarray(kinks))
        fig.add_trace(go.Scatter(x=k, y=[labels[i] for i in j], mode="markers", name="on a kink",
                                 marker=dict(symbol="x", size=10, color=VERMILLION, line=dict(width=1)),
                                 hovertemplate="point %{x} sits on the kink of %{y}<extra></extra>"))
    return _layout(fig, "", xaxis=dict(title="data point k"), yaxis=dict(title="live neuron", autorange="reversed"),
                   height=max(260, 14 * m + 120))


def symlog(v):
    """``v`` on ``[-1, 1]`` and ``sign(v) (1 + log10 |v|)`` outside: continuous and monotone, so the
    band ``|c| <= beta`` keeps its linear detail and violations of any size stay readable."""
    v = np.asarray(v, dtype=float)
    a = np.abs(v)
    return np.where(a <= 1, v, np.sign(v) * (1 + np.log10(np.maximum(a, 1))))


def _symlog_ticks(vmax: float) -> tuple[list, list]:
    top = int(np.ceil(np.log10(max(vmax, 1.0)))) if vmax > 1 else 0
    vals = [0.0, 0.5, 1.0] + [10.0**k for k in range(1, top + 1)]
    vals = sorted({-v for v in vals} | set(vals))
    return [float(symlog(v)) for v in vals], [f"{v + 0.0:g}" for v in vals]


def certificate_figure(curve: CertificateCurve, certificate: float) -> go.Figure:
    """The certificate curve ``c(u) = lambda' sigma(X~ u)`` against the band ``|c| <= beta``.

    Plotted as ``c(u) / beta`` on a symmetric-log scale (:func:`symlog`, ticks show the true
    values). Angle (d' = 2): a curve with the band shaded; sphere (d' = 3): a map over
    longitude x latitude with contours at +-1. Live neurons are dots (colour = sign of alpha),
    the direction u* of the certificate a star.
    """
    b = curve.beta
    V = curve.values / b
    vmax = max(float(np.abs(V).max()), abs(curve.u_star_value) / b, 1.0)
    tv, tt = _symlog_ticks(vmax)
    fig = go.Figure()
    if curve.kind == "angle":
        x = curve.lon
        fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[np.ones(x.size), -np.ones(x.size)], fill="toself",
                                 fillcolor=rgba(GREEN, 0.18), line=dict(width=0), name="band |c| <= beta",
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=symlog(V), mode="lines", name="c(u) / beta", line=dict(color=BLACK, width=2),
                                 customdata=V, hovertemplate="angle %{x:.2f} deg<br>c/beta=%{customdata:.5f}<extra></extra>"))
        pos = dict(x=curve.neurons[:, 0], y=symlog(curve.neuron_values / b))
        star = dict(x=[curve.u_star[0]], y=[float(symlog(curve.u_star_value / b))])
        xa = dict(title=f"angle of u = ({curve.axes[0]}, {curve.axes[1]}) in degrees", range=[-180, 180])
        ya = dict(title="c(u) / beta (symmetric log scale)", tickvals=tv, ticktext=tt)
    else:
        Z = symlog(V)
        zm = float(symlog(vmax))
        fig.add_trace(go.Heatmap(x=curve.lon, y=curve.lat, z=Z, zmid=0, zmin=-zm, zmax=zm, customdata=V,
                                 colorscale=DIVERGING_SIGN,
                                 colorbar=dict(title="c/beta", thickness=12, tickvals=tv, ticktext=tt),
                                 hovertemplate="lon %{x:.1f}, lat %{y:.1f}<br>c/beta=%{customdata:.5f}<extra></extra>"))
        fig.add_trace(go.Contour(x=curve.lon, y=curve.lat, z=V, showscale=False, hoverinfo="skip", name="|c| = beta",
                                 contours=dict(coloring="none", start=-1, end=1, size=2, showlabels=True),
                                 line=dict(color=BLACK, width=1.5)))
        pos = dict(x=curve.neurons[:, 0], y=curve.neurons[:, 1])
        star = dict(x=[curve.u_star[0]], y=[curve.u_star[1]])
        xa = dict(title="longitude of u (deg)", range=[-180, 180])
        ya = dict(title="latitude of u (deg): bias = sin(lat)", range=[-90, 90])
    if curve.neurons.shape[0]:
        fig.add_trace(go.Scatter(**pos, mode="markers", name="live neurons",
                                 marker=dict(size=9, color=[SIGN_COLOURS.get(float(s), GREY) for s in curve.neuron_signs],
                                             line=dict(color=BLACK, width=1)),
                                 customdata=np.c_[curve.neuron_values / b, curve.neuron_signs],
                                 hovertemplate="neuron: c/beta=%{customdata[0]:.5f}, sign(alpha)=%{customdata[1]:+.0f}<extra></extra>"))
    viol = certificate > 1 + 1e-6
    fig.add_trace(go.Scatter(**star, mode="markers", name="u* (most violated)" if viol else "u* (max |c|)",
                             marker=dict(symbol="star", size=18, color=VERMILLION if viol else GREEN,
                                         line=dict(color=BLACK, width=1)),
                             hovertemplate=f"u*: c/beta = {curve.u_star_value / b:.5f}<extra></extra>"))
    return _layout(fig, f"max |c(u)| / beta = {certificate:.4g}", xaxis=xa, yaxis=ya)
