"""Plotly figure builders shared by several pages: pure functions ``data -> go.Figure``.

Colours are the Okabe-Ito colour-blind-safe palette; the decision function uses a diverging
blue-orange scale centred at 0, readable on light and dark themes.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..palette import BLACK, BLACK_SCALE, BLUE, DIVERGING, GREEN, GREY, LABEL, ORANGE, PURPLE

BOX = (-1.25, 1.25)


def grid(n_grid: int = 120, box=BOX) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A square grid over ``box``: returns (xs, ys, points of shape (n_grid^2, 2))."""
    xs = np.linspace(box[0], box[1], n_grid)
    gx, gy = np.meshgrid(xs, xs)
    return xs, xs, np.c_[gx.ravel(), gy.ravel()]


def scatter_traces(X: np.ndarray, y: np.ndarray, name: str = "train", symbol: str = "circle",
                   marker_size: int = 8) -> list[go.Scatter]:
    """Points coloured by label (+1 orange, -1 blue) with exact values on hover."""
    out = []
    for lab, txt in ((1.0, "+1"), (-1.0, "-1")):
        col = LABEL[lab]
        m = y == lab
        if not np.any(m):
            continue
        out.append(go.Scatter(
            x=X[m, 0], y=X[m, 1], mode="markers", name=f"{name} y={txt}",
            marker=dict(color=col, size=marker_size, symbol=symbol, line=dict(color=BLACK, width=1)),
            customdata=np.flatnonzero(m),
            hovertemplate="point %{customdata}<br>x1=%{x:.4f}<br>x2=%{y:.4f}<extra>y=" + txt + "</extra>",
        ))
    return out


def decision_figure(X, y, predict=None, *, X_test=None, y_test=None, title: str = "",
                    n_grid: int = 120, zmax: float | None = None, marker_size: int = 8) -> go.Figure:
    """2-D classification data over the sign-coloured decision function ``predict(grid)``.

    The black contour is the decision boundary ``f(x) = 0``.
    """
    fig = go.Figure()
    if predict is not None:
        xs, ys, pts = grid(n_grid)
        # float32: half the bytes sent and decoded for the two grids (colours and the f = 0 line
        # need no more; hover shows 4 decimals)
        Z = np.asarray(predict(pts), dtype=np.float32).reshape(n_grid, n_grid)
        zm = zmax if zmax is not None else max(float(np.abs(Z).max()), 1e-12)
        fig.add_trace(go.Heatmap(x=xs, y=ys, z=Z, zmin=-zm, zmax=zm, colorscale=DIVERGING, opacity=0.55,
                                 showscale=False, hovertemplate="x1=%{x:.3f}<br>x2=%{y:.3f}<br>f=%{z:.4f}<extra></extra>"))
        fig.add_trace(go.Contour(x=xs, y=ys, z=Z, showscale=False, contours=dict(start=0, end=0, size=1, coloring="lines"), colorscale=BLACK_SCALE,
                                 line=dict(color=BLACK, width=2), hoverinfo="skip", name="f = 0"))
    for tr in scatter_traces(X, y, "train", marker_size=marker_size):
        fig.add_trace(tr)
    if X_test is not None and len(X_test):
        for tr in scatter_traces(X_test, y_test, "test", symbol="diamond-open", marker_size=marker_size):
            fig.add_trace(tr)
    fig.update_layout(title=title, xaxis=dict(range=BOX, title="x1", constrain="domain"),
                      yaxis=dict(range=BOX, title="x2", scaleanchor="x", scaleratio=1),
                      margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.15))
    return fig


def overlay_vline(x: float, y0: float, y1: float, *, yaxis: str = "y", color: str = GREEN, width: float = 2,
                  dash: str = "solid") -> dict:
    """A vertical line at ``x`` from ``y0`` to ``y1`` as a live chart's overlay trace (a dict).

    Give the data's extent on that axis: the line then spans the panel without changing its
    autorange where the overlay is added to the figure (downloads)."""
    return dict(type="scatter", x=[x, x], y=[y0, y1], mode="lines", yaxis=yaxis, showlegend=False,
                line=dict(color=color, width=width, dash=dash))


def regression_figure(x, y, predict=None, *, x_test=None, y_test=None, title: str = "",
                      extra_curves: dict | None = None) -> go.Figure:
    """1-D regression data with the fitted function(s) on a fine grid."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=np.ravel(x), y=y, mode="markers", name="train",
                             marker=dict(color=BLUE, size=8, line=dict(color=BLACK, width=1))))
    if x_test is not None and len(x_test):
        fig.add_trace(go.Scatter(x=np.ravel(x_test), y=y_test, mode="markers", name="test",
                                 marker=dict(color=ORANGE, size=8, symbol="diamond-open")))
    xs = np.linspace(BOX[0], BOX[1], 400)
    curves = dict(extra_curves or {})
    if predict is not None:
        curves = {"fit": predict, **curves}
    colours = [GREEN, PURPLE, ORANGE, GREY]
    for (name, f), col in zip(curves.items(), colours):
        fig.add_trace(go.Scatter(x=xs, y=np.asarray(f(xs[:, None])).ravel(), mode="lines", name=name,
                                 line=dict(color=col, width=3)))
    fig.update_layout(title=title, xaxis=dict(title="x", range=BOX), yaxis=dict(title="y"),
                      margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.15))
    return fig


def add_click_layer(fig: go.Figure, data, predict=None, n_grid: int = 61) -> go.Figure:
    """An invisible grid of points over the plot so that a click anywhere yields coordinates."""
    if data.X.shape[1] == 2:
        xs = ys = np.linspace(BOX[0], BOX[1], n_grid)
    else:
        xs = np.linspace(BOX[0], BOX[1], n_grid)
        lo, hi = float(np.min(data.y)), float(np.max(data.y))
        pad = 0.3 * max(hi - lo, 1e-6)
        ys = np.linspace(lo - pad, hi + pad, n_grid)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    if predict is not None and data.X.shape[1] == 2:
        f = np.asarray(predict(np.c_[gx, gy])).ravel()
        hover = "x1=%{x:.3f}<br>x2=%{y:.3f}<br>f=%{customdata:.4f}<extra>click</extra>"
    else:
        f = np.zeros_like(gx)
        hover = "x=%{x:.3f}<br>y=%{y:.3f}<extra>click</extra>"
    fig.add_trace(go.Scatter(x=gx, y=gy, mode="markers", marker=dict(size=9, opacity=0), customdata=f,
                             hovertemplate=hover, showlegend=False, name="click layer"))
    return fig
