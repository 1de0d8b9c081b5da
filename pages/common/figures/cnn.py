"""Plotly builders of the Convolutional networks page: pure functions ``data -> go.Figure``.

Signals and images coloured by label (+1 orange, -1 blue), filters as stems (signals) or tiles
(images) titled with their output weight, which patches switch a filter on, and the gradient
runs' objectives against the certified convex optimum.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..palette import BLACK, DIVERGING, GREY, LABEL, OFF_ON, PURPLE, SERIES, SIGN

#: At most this many samples drawn (signals) or tiled (images), and filters drawn.
MAX_SAMPLES, MAX_FILTERS = 12, 12
#: Panels per row of the sample and filter figures (each has half the page's width).
TILES_PER_ROW = 4
#: Points drawn per training curve (every k-th step beyond this; the last always).
MAX_CURVE_POINTS = 400


def _layout(fig: go.Figure, title: str, height: int, **kw) -> go.Figure:
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=60, b=10), height=height,
                      legend=dict(orientation="h", y=-0.3), **kw)  # below the x axis title
    return fig


def _grid(k: int, cols: int) -> tuple[int, int]:
    return max(1, -(-k // cols)), min(cols, max(k, 1))


def _tiles(k: int, cols: int, titles: list[str], hgap: float, vgap: float, axis: dict) -> dict:
    """Layout of ``k`` small panels in rows of ``cols`` (left to right, top down), panel ``t`` on
    axes ``x{t+1}``/``y{t+1}`` with ``axis`` applied to both, titled above by ``titles``: plain
    data, drawn in one ``go.Figure`` call (make_subplots and per-panel updates validated every
    property and were most of a data change's figure time)."""
    rows, cols = _grid(k, cols)
    w, h = (1 - hgap * (cols - 1)) / cols, (1 - vgap * (rows - 1)) / rows
    layout, notes = {}, []
    for t in range(max(k, 1)):
        r, c = divmod(t, cols)
        x0, top = c * (w + hgap), 1 - r * (h + vgap)
        sx = "" if t == 0 else str(t + 1)
        layout["xaxis" + sx] = dict(axis, domain=[max(x0, 0.0), min(x0 + w, 1.0)], anchor="y" + sx)
        layout["yaxis" + sx] = dict(axis, domain=[max(top - h, 0.0), min(top, 1.0)], anchor="x" + sx)
        if t < len(titles):
            notes.append(dict(text=titles[t], x=x0 + w / 2, y=top, xref="paper", yref="paper", xanchor="center",
                              yanchor="bottom", showarrow=False, font=dict(size=11)))
    layout["annotations"] = notes
    return layout


def _ax(t: int) -> dict:
    sx = "" if t == 0 else str(t + 1)
    return dict(xaxis="x" + sx, yaxis="y" + sx)


def signals_figure(X: np.ndarray, y: np.ndarray, predictions: np.ndarray | None = None) -> go.Figure:
    """The first samples: signals as lines over their positions, images as tiles; the title of
    each tile (and the hover of each line) gives the label and the fit's prediction."""
    k = min(len(X), MAX_SAMPLES)
    pred = (lambda j: f" f={predictions[j]:+.2f}") if predictions is not None else (lambda j: "")
    if X.ndim == 2:
        fig = go.Figure()
        for j in range(k):
            fig.add_trace(go.Scatter(x=np.arange(X.shape[1]), y=X[j], mode="lines+markers",
                                     line=dict(color=LABEL[float(y[j])], width=2), marker=dict(size=5),
                                     name=f"y = {y[j]:+g}", legendgroup=str(y[j]), showlegend=j == int(np.argmax(y == y[j])),
                                     hovertemplate=f"sample {j}, y = {y[j]:+g},{pred(j)}<br>position %{{x}}: %{{y:.3f}}<extra></extra>"))
        return _layout(fig, f"First {k} signals (colour: label)", 320, xaxis=dict(title="position"),
                       yaxis=dict(title="value"))
    rows, cols = _grid(k, TILES_PER_ROW)  # short titles: the figure has half the page's width
    layout = _tiles(k, cols, [f"{j}: y={y[j]:+g}{pred(j)}" for j in range(k)], 0.03, 0.12, dict(visible=False))
    for t in range(k):
        layout["yaxis" + ("" if t == 0 else str(t + 1))]["scaleanchor"] = "x" + ("" if t == 0 else str(t + 1))
    traces = [dict(type="heatmap", z=X[j][::-1], colorscale=DIVERGING, zmid=0, showscale=False,
                   hovertemplate=f"sample {j}<br>value %{{z:.2f}}<extra></extra>", **_ax(j)) for j in range(k)]
    return _layout(go.Figure(traces, layout), f"First {k} images", 140 * rows + 60)


def filters_figure(U: np.ndarray, alpha: np.ndarray, filter_size: int, bias: bool, images: bool) -> go.Figure:
    """Each filter ``u_j``: stems over its h positions (signals) or an h x h tile (images), the
    bias as a grey stem/caption, titled with ``alpha_j`` (vermillion > 0, blue < 0); largest
    ``|alpha_j|`` first."""
    order = np.argsort(-np.abs(alpha))[:MAX_FILTERS]
    k = len(order)
    rows, cols = _grid(k, TILES_PER_ROW)
    titles = [f"<span style='color:{SIGN[1.0 if alpha[j] > 0 else -1.0]}'>\u03b1={alpha[j]:+.2g}</span>"
              + (f" b={U[j, -1]:+.2g}" if bias else "") for j in order]
    top = float(np.abs(U).max()) if U.size else 1.0
    layout = _tiles(k, cols, titles or ["no filter: beta above beta_max"], 0.04, 0.18,
                    dict(visible=False) if images else dict(showticklabels=False, zeroline=True, zerolinecolor=BLACK))
    traces = []
    for t, j in enumerate(order):
        w = U[j, :-1] if bias else U[j]
        sx = "" if t == 0 else str(t + 1)
        if images:
            traces.append(dict(type="heatmap", z=w.reshape(filter_size, filter_size)[::-1], colorscale=DIVERGING,
                               zmin=-top, zmax=top, showscale=False, hovertemplate="weight %{z:.3f}<extra></extra>",
                               **_ax(t)))
            layout["yaxis" + sx]["scaleanchor"] = "x" + sx
        else:
            traces.append(dict(type="bar", x=np.arange(filter_size), y=w, marker=dict(color=SIGN[1.0 if alpha[j] > 0 else -1.0]),
                               width=0.25, hovertemplate="position %{x}: %{y:.3f}<extra></extra>", showlegend=False,
                               **_ax(t)))
            layout["yaxis" + sx]["range"] = [-1.1 * top, 1.1 * top]
    if not images:
        for name, ax in layout.items():
            if name.startswith("xaxis"):
                ax.update(showticklabels=True, zeroline=False, dtick=1)
    return _layout(go.Figure(traces, layout), f"Learned filters (largest |alpha| first, {k} of {len(alpha)})",
                   (125 if images else 170) * rows + 70)


def switched_on_figure(on: np.ndarray, y: np.ndarray, j: int) -> go.Figure:
    """Which patches switch filter j on: ``1[x~_k' u_j >= 0]`` per sample (rows, label in the
    axis) and patch position k (columns)."""
    n, K = on.shape
    labels = [f"{i} ({y[i]:+g})" for i in range(n)]
    fig = go.Figure(go.Heatmap(z=on.astype(float), x=np.arange(K), y=labels, colorscale=OFF_ON, zmin=0, zmax=1,
                               showscale=False, xgap=1, ygap=1,
                               hovertemplate="sample %{y}<br>patch %{x}: %{z}<extra></extra>"))
    return _layout(fig, f"Filter {j}: patches that switch it on (green)", max(220, 18 * n + 90),
                   xaxis=dict(title="patch position k", dtick=1 if K <= 30 else None),
                   yaxis=dict(title="sample (label)", autorange="reversed"))


def runs_figure(histories, p_star: float | None) -> go.Figure:
    """Objective of every gradient run against its step, with the certified convex optimum p*."""
    fig = go.Figure()
    lrs = sorted({h.lr for h in histories})
    for h in histories:
        colour = SERIES[lrs.index(h.lr) % len(SERIES)]
        steps = np.unique(np.r_[np.arange(0, len(h.objective), max(1, len(h.objective) // MAX_CURVE_POINTS)),
                                len(h.objective) - 1])
        fig.add_trace(go.Scatter(x=steps, y=h.objective[steps], mode="lines",
                                 line=dict(color=colour, width=2), name=f"lr={h.lr:g}, seed={h.seed}",
                                 hovertemplate="step %{x}<br>F = %{y:.6g}<extra>" + f"lr={h.lr:g}, seed={h.seed}</extra>"))
    shapes = []
    if p_star is not None:
        shapes.append(dict(type="line", xref="paper", x0=0, x1=1, y0=p_star, y1=p_star,
                           line=dict(color=BLACK, width=2, dash="dash")))
        fig.add_trace(go.Scatter(x=[0], y=[p_star], mode="markers", marker=dict(color=BLACK, size=1), name="convex p*",
                                 hovertemplate=f"certified convex optimum {p_star:.6g}<extra></extra>"))
    return _layout(fig, "Gradient runs on the same objective (dashed: certified convex optimum)", 380,
                   shapes=shapes, xaxis=dict(title="step"), yaxis=dict(title="objective F", type="log"))


def counts_figure(nK, engine, cover, bound, sampled: tuple[int, int] | None = None) -> go.Figure:
    """Exact pattern counts of the patch vectors against n K (where enumerated; NaN elsewhere),
    with Cover's count and bound; ``sampled`` = (n K, distinct patterns of the fit's sampled
    directions) marks what the program used when enumeration was out of reach."""
    traces = [go.Scatter(x=nK, y=bound, mode="lines", name="bound 2r(e(nK-1)/r)^r", line=dict(color=GREY, dash="dash")),
              go.Scatter(x=nK, y=cover, mode="lines", name="Cover's count (rank h')", line=dict(color=SERIES[0], width=3))]
    if np.isfinite(engine).any():
        traces.append(go.Scatter(x=nK, y=engine, mode="markers", name="enumerated (engine)",
                                 marker=dict(color=SERIES[1], size=10, symbol="circle-open", line=dict(width=2.5))))
    if sampled is not None:
        traces.append(go.Scatter(x=[sampled[0]], y=[sampled[1]], mode="markers", name="sampled (the fit's program)",
                                 marker=dict(color=PURPLE, size=12, symbol="diamond")))
    return _layout(go.Figure(traces), "Patterns against the number of patch vectors", 360,
                   xaxis=dict(title="patch vectors n K", type="log"), yaxis=dict(title="patterns P", type="log"))


def _clip(poly: np.ndarray, a: np.ndarray, c: float) -> np.ndarray:
    """The part of the convex polygon ``poly`` (k, 2) where ``a . p + c >= 0`` (Sutherland-Hodgman)."""
    if len(poly) == 0:
        return poly
    v = poly @ a + c
    out = []
    for i in range(len(poly)):
        j = (i + 1) % len(poly)
        if v[i] >= 0:
            out.append(poly[i])
        if (v[i] >= 0) != (v[j] >= 0):
            out.append(poly[i] + v[i] / (v[i] - v[j]) * (poly[j] - poly[i]))
    return np.array(out).reshape(-1, 2)


def filter_space_figure(Z: np.ndarray, U: np.ndarray, alpha: np.ndarray, n: int,
                        axis_titles: tuple = ("u1", "u2")) -> go.Figure:
    """Filter space for h' = 2 (the plane) or 3 (the slices ``u_bias = +1`` and ``-1``): every
    patch vector ``z_r`` (row ``k n + i`` of the patch matrix ``Z``) is the line ``z_r' u = 0``;
    each filter ``u_j`` is a point (``u_xy / |u_bias|`` on the slice of its bias's sign; without a
    bias the direction ``u / ||u||``) and its cell, the region where every patch keeps the sign it
    has at ``u_j``, is shaded (vermillion: ``alpha_j > 0``, blue: ``alpha_j < 0``). ``axis_titles``
    names the two drawn coordinates (filter size 1 with a bias: ``("u1", "u_bias")``)."""
    bias = Z.shape[1] == 3
    slices = (1, -1) if bias else (0,)
    fig = make_subplots(rows=1, cols=len(slices), horizontal_spacing=0.08,
                        subplot_titles=[f"u_bias = {s:+d}" for s in slices] if bias else [f"filter space ({', '.join(axis_titles)})"])
    for col, sgn in enumerate(slices, start=1):
        A, c = (Z[:, :2], sgn * Z[:, 2]) if bias else (Z, np.zeros(len(Z)))
        mine = [j for j in range(len(alpha)) if (not bias and np.linalg.norm(U[j]) > 0)
                or (bias and np.sign(U[j, 2]) == sgn)]
        pts = np.array([U[j, :2] / abs(U[j, 2]) if bias else U[j] / np.linalg.norm(U[j]) for j in mine]).reshape(-1, 2)
        na = np.hypot(A[:, 0], A[:, 1])
        live = na > 1e-12
        dist = np.abs(c[live]) / na[live]
        view = 1.3 * max(float(np.abs(pts).max(initial=0.0)), float(np.median(dist)) if dist.size else 0.0, 1.0)
        far = 4 * view
        box = np.array([[-far, -far], [far, -far], [far, far], [-far, far]])
        # lines: the closest point to the origin plus/minus a long way along the line
        p0 = -(c[live] / na[live] ** 2)[:, None] * A[live]
        t = np.stack([-A[live, 1], A[live, 0]], axis=1) / na[live, None]
        seg = np.stack([p0 - far * t, p0 + far * t, np.full_like(p0, np.nan)], axis=1).reshape(-1, 2)
        fig.add_trace(go.Scatter(x=seg[:, 0], y=seg[:, 1], mode="lines", line=dict(color=GREY, width=0.8),
                                 hoverinfo="skip", showlegend=False), 1, col)
        rows = np.flatnonzero(live)
        fig.add_trace(go.Scatter(x=p0[:, 0], y=p0[:, 1], mode="markers", marker=dict(color=GREY, size=3),
                                 text=[f"sample {r % n}, patch {r // n}" for r in rows], showlegend=False,
                                 hovertemplate="%{text}: its line z'u = 0<extra></extra>"), 1, col)
        for j, p in zip(mine, pts):
            sign = 1.0 if alpha[j] > 0 else -1.0
            cell = box
            on = Z @ U[j] >= 0
            for k in rows:
                s_k = 1.0 if on[k] else -1.0
                cell = _clip(cell, s_k * A[k], s_k * c[k])
            if len(cell):
                fig.add_trace(go.Scatter(x=np.r_[cell[:, 0], cell[0, 0]], y=np.r_[cell[:, 1], cell[0, 1]], mode="lines",
                                         fill="toself", fillcolor=SIGN[sign], opacity=0.35, line=dict(color=SIGN[sign], width=2),
                                         hoverinfo="skip", showlegend=False), 1, col)
            fig.add_trace(go.Scatter(x=[p[0]], y=[p[1]], mode="markers", name=f"filter (alpha {'>' if sign > 0 else '<'} 0)",
                                     marker=dict(color=SIGN[sign], size=11, symbol="diamond", line=dict(color=BLACK, width=1)),
                                     legendgroup=str(sign), showlegend=False,
                                     hovertemplate=f"filter, alpha = {alpha[j]:+.3f}<br>active on {int(on.sum())} of "
                                                   f"{len(on)} patches<extra></extra>"), 1, col)
        fig.update_xaxes(range=[-view, view], title_text=axis_titles[0], row=1, col=col)
        fig.update_yaxes(range=[-view, view], title_text=axis_titles[1] if col == 1 else "", scaleanchor=f"x{col if col > 1 else ''}",
                         scaleratio=1, row=1, col=col)
    return _layout(fig, "Filter space: each patch vector a line, each filter a point in its cell", 460)
