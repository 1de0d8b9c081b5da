"""Figure builders of the Arrangements page: pure functions ``arrays -> go.Figure``.

Inputs are the arrays of :mod:`cvx_core.geometry` (cells as rings with an interior anchor and a
pattern) so every figure can be tested without a browser. Cell colours are a function of the
cell's pattern only: the number of points it activates (binned), or found / missed by the
Gaussian sample. Interactive picking uses one marker per cell at its anchor whose
``customdata[0]`` is the cell's pattern index (the row of the engine's enumeration). Large
per-cell arrays are numeric (codes into a colorscale, numeric customdata) and texts are
numpy string arrays: plotly validates object arrays and colour strings element by element,
which would dominate a rerun at n = 100 (10 000 cells).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..palette import (ANCHOR, BLACK, BLUE, BLUES, EDGE, EDGE_FAINT, EDGE_LIGHT, GREEN, GREY, GREYS,
                       MISSED as MISSED_GREY, ORANGE, PURPLE, rgba)
from .base import overlay_vline, scatter_traces

#: Above this many cells in a figure the fills are dropped: lines + one marker trace.
MAX_FILLED_CELLS = 3000
#: Sequential colour-blind-safe bins for "points activated" (light to dark).
BIN_COLOURS = BLUES
FOUND, MISSED = GREEN, MISSED_GREY
#: Linear regions of the network, light to darker grey with the number of active neurons.
REGION_GREYS = GREYS
SELECT = BLACK


def pattern_text(D: np.ndarray, group: int = 10, per_line: int = 50) -> list[str]:
    """Patterns as bit strings, grouped by ``group`` and wrapped every ``per_line`` bits (``<br>``)."""
    D = np.atleast_2d(np.asarray(D, dtype=bool))
    chars = np.where(D, "1", "0")
    out = []
    for row in chars:
        lines = []
        for s in range(0, len(row), per_line):
            chunk = row[s:s + per_line]
            lines.append(" ".join("".join(chunk[g:g + group]) for g in range(0, len(chunk), group)))
        out.append("<br>".join(lines))
    return out


def activation_bins(D: np.ndarray, n_bins: int = len(BIN_COLOURS)) -> np.ndarray:
    """Colour bin of each pattern: the fraction of points it activates, cut into ``n_bins``."""
    D = np.atleast_2d(np.asarray(D, dtype=bool))
    frac = D.sum(axis=1) / max(D.shape[1], 1)
    return np.minimum((frac * n_bins).astype(int), n_bins - 1)


def cell_colours(D: np.ndarray, found: np.ndarray | None = None) -> np.ndarray:
    """Fill colour of each cell: by activation bin, or found/missed when ``found`` is given."""
    codes, scale = colour_codes(D, found)
    return np.asarray([c for _, c in scale])[codes]


def colour_codes(D: np.ndarray, found: np.ndarray | None = None) -> tuple[np.ndarray, list]:
    """Integer colour code of each cell and the plotly colorscale that maps code i to its colour.

    Numeric marker colours keep big figures fast (plotly validates colour strings one by one).
    """
    if found is not None:
        return np.asarray(found, dtype=bool).astype(int), [[0.0, MISSED], [1.0, FOUND]]
    k = len(BIN_COLOURS)
    return activation_bins(D), [[i / (k - 1), c] for i, c in enumerate(BIN_COLOURS)]


def _rings_path(rings) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate closed rings into one path separated by NaN (plotly draws one shape each)."""
    if not len(rings):
        return np.zeros(0), np.zeros(0)
    parts = [np.vstack([r, [np.nan, np.nan]]) for r in rings]
    xy = np.vstack(parts)
    return xy[:, 0], xy[:, 1]


def _segments_path(segs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    segs = np.asarray(segs, dtype=float).reshape(-1, 2, 2)
    xy = np.concatenate([segs, np.full((len(segs), 1, 2), np.nan)], axis=1).reshape(-1, 2)
    return xy[:, 0], xy[:, 1]


def _picture_title(pic) -> str:
    if pic.kind == "wedges":
        return f"weight space: {pic.n_cells} wedges"
    return f"u_bias = {pic.sign:+d}: {pic.n_cells} cells"  # short: two subplot titles share a half-width row


def arrangement_figure(pictures, pattern_index, *, labels=None, found=None, norms=None,
                       selected: int | None = None, point: int | None = None,
                       direction=None, direction_legend: bool = False, max_filled: int = MAX_FILLED_CELLS,
                       axis_titles: tuple = ("u1", "u2")) -> go.Figure:
    """The arrangement's cells, one subplot per planar picture (wedges, or the two bias slices).

    Parameters
    ----------
    pictures : sequence of PlaneCells
    pattern_index : sequence of int arrays
        For each picture, the engine's row index of each cell's pattern (hover and picking).
    labels : sequence of lists of str, optional
        Hover text of each cell's pattern (default :func:`pattern_text`); False for none.
    found : sequence of bool arrays, optional
        Cells found by the Gaussian sample (others greyed); colours by activation otherwise.
    norms : sequence of (C, 2) arrays, optional
        Group norms ``||v_i||, ||w_i||`` of the fit for each cell (NaN when unknown).
    selected : int, optional
        Pattern index to outline (in every picture that has it).
    point : int, optional
        Data row whose hyperplane (line) is drawn thick.
    direction : array_like of shape (d',), optional
        A weight vector u to mark (its ray for wedges; ``u_xy / |u_bias|`` on its slice; see
        :func:`direction_traces`).
    direction_legend : bool
        Without ``direction``: the legend entry of u alone (u itself drawn over the figure).
    max_filled : int
        Above this many cells in total, cells are not filled: lines plus one marker trace.
    axis_titles : (str, str)
        Names of the two drawn weight coordinates (e.g. ("u1", "u_bias") for 1-D data with bias).
    """
    n_pics, gap = len(pictures), 0.06
    width = (1.0 - gap * (n_pics - 1)) / n_pics
    total = sum(p.n_cells for p in pictures)
    filled = total <= max_filled
    traces, legend = [], set()  # legend groups already shown (an overlay may be in one slice only)
    layout = dict(margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.15),
                  clickmode="event+select", dragmode="pan", height=480, annotations=[])

    def first(group):
        new = group not in legend
        legend.add(group)
        return new

    # Plain dicts and one go.Figure call: plotly validates each object once (figures are rebuilt
    # on every rerun; make_subplots and per-trace add_trace calls cost more than the data).
    for j, pic in enumerate(pictures):
        sx = "" if j == 0 else str(j + 1)
        ax = dict(xaxis="x" + sx, yaxis="y" + sx)
        idx = np.asarray(pattern_index[j], dtype=int)
        f = None if found is None else np.asarray(found[j], dtype=bool)
        colours = cell_colours(pic.patterns, f)
        if filled:
            for colour in dict.fromkeys(colours):
                sel = np.flatnonzero(colours == colour)
                x, y = _rings_path([pic.rings[i] for i in sel])
                traces.append(dict(type="scatter", x=x, y=y, mode="lines", fill="toself", fillcolor=colour,
                                   line=dict(color=EDGE, width=0.6), hoverinfo="skip", showlegend=False,
                                   meta="cells", **ax))
        else:
            x, y = _segments_path(pic.segments)
            traces.append(dict(type="scattergl", x=x, y=y, mode="lines", line=dict(color=EDGE, width=0.6),
                               hoverinfo="skip", showlegend=False, meta="lines", **ax))
        if labels is False:  # too many cells to send every pattern: index, counts and norms only
            lab = np.full(pic.n_cells, "")
        else:
            lab = np.char.add("<br>", np.asarray(labels[j] if labels is not None else pattern_text(pic.patterns)))
        if f is not None:
            lab = np.char.add(lab, np.where(f, "<br>found by the sample", "<br>missed by the sample"))
        nv = np.full((pic.n_cells, 2), np.nan) if norms is None else np.asarray(norms[j], dtype=float)
        custom = np.c_[idx, pic.patterns.sum(axis=1), nv].astype(float)  # numeric: fast to validate and send
        norm_txt = "" if norms is None else "<br>group norms ||v||=%{customdata[2]:.4g}, ||w||=%{customdata[3]:.4g}"
        codes, scale = colour_codes(pic.patterns, f)
        traces.append(dict(
            type="scatter" if pic.n_cells <= max_filled else "scattergl",
            x=pic.anchors[:, 0], y=pic.anchors[:, 1], mode="markers", customdata=custom, text=lab,
            marker=dict(size=5 if filled else 4, color=codes, colorscale=scale, cmin=0, cmax=len(scale) - 1,
                        line=dict(color=EDGE_FAINT, width=0.5)),
            hovertemplate="pattern %{customdata[0]}: activates %{customdata[1]} points"
                          "%{text}" + norm_txt + "<extra></extra>",
            showlegend=False, meta="anchors", **ax))
        if norms is not None:
            live = np.flatnonzero(np.nansum(nv, axis=1) > 0)
            if live.size:
                traces.append(dict(type="scatter", x=pic.anchors[live, 0], y=pic.anchors[live, 1], mode="markers",
                                   marker=dict(size=11, symbol="diamond-open", color=PURPLE, line=dict(width=2)),
                                   name="cells of the fit's neurons", legendgroup="live", showlegend=first("live"),
                                   hoverinfo="skip", meta="live", **ax))
        if selected is not None:
            for i in np.flatnonzero(idx == selected):
                traces.append(dict(type="scatter", x=pic.rings[i][:, 0], y=pic.rings[i][:, 1], mode="lines",
                                   line=dict(color=SELECT, width=3), name=f"selected pattern {selected}",
                                   legendgroup="sel", showlegend=first("sel"), hoverinfo="skip", meta="selected", **ax))
        if point is not None:
            k = np.flatnonzero(pic.segment_rows == point)
            if k.size:
                x, y = _segments_path(pic.segments[k])
                traces.append(dict(type="scatter", x=x, y=y, mode="lines", line=dict(color=ORANGE, width=4),
                                   name=f"hyperplane of point {point}", legendgroup="pt", showlegend=first("pt"),
                                   hoverinfo="skip", meta="point", **ax))
        if direction is None and direction_legend and j == 0:
            traces.append(_direction_trace(pic, [None], [None], ax))  # legend entry only
        lo = j * (width + gap)
        layout["xaxis" + sx] = dict(domain=[lo, lo + width], anchor="y" + sx, range=[-pic.view, pic.view],
                                    title=dict(text=axis_titles[0]))
        layout["yaxis" + sx] = dict(anchor="x" + sx, range=[-pic.view, pic.view],
                                    title=dict(text=axis_titles[1] if j == 0 else ""),
                                    scaleanchor="x" + sx, scaleratio=1)
        layout["annotations"].append(dict(text=_picture_title(pic), x=lo + width / 2, y=1.0, xref="paper",
                                          yref="paper", xanchor="center", yanchor="bottom", showarrow=False,
                                          font=dict(size=14)))
    if direction is not None:
        traces += direction_traces(pictures, direction)
    return go.Figure(data=traces, layout=layout)


def _direction_trace(pic, x, y, ax) -> dict:
    if pic.kind == "wedges":
        return dict(type="scatter", x=x, y=y, mode="lines+markers", line=dict(color=SELECT, width=2, dash="dash"),
                    marker=dict(symbol="star", size=[0, 14][-len(x):], color=SELECT), name="direction u",
                    hoverinfo="skip", meta="direction", **ax)
    return dict(type="scatter", x=x, y=y, mode="markers", marker=dict(symbol="star", size=14, color=SELECT),
                name="direction u (scaled to |u_bias| = 1)", hoverinfo="skip", meta="direction", **ax)


def direction_traces(pictures, direction) -> list[dict]:
    """The weight vector u on the arrangement's pictures (trace dicts): its ray on the wedges,
    ``u_xy / |u_bias|`` on the bias slice of its sign; legend entry on the first one only.

    Separate from :func:`arrangement_figure` so a live chart can draw u over an unchanged
    figure (``arrangement_figure(..., direction_legend=True)`` then holds the legend entry).
    """
    u = np.asarray(direction, dtype=float)
    out = []
    for j, pic in enumerate(pictures):
        ax = dict(xaxis="x" + ("" if j == 0 else str(j + 1)), yaxis="y" + ("" if j == 0 else str(j + 1)))
        if pic.kind == "wedges":
            r = pic.extent * u / max(np.linalg.norm(u), 1e-300)
            out.append(_direction_trace(pic, [0.0, float(r[0])], [0.0, float(r[1])], ax))
        elif abs(u[2]) > 1e-9 and np.sign(u[2]) == pic.sign:
            p = u[:2] / abs(u[2])
            out.append(_direction_trace(pic, [float(p[0])], [float(p[1])], ax))
    for k, t in enumerate(out):
        t["showlegend"] = k == 0
    return out


def region_text(geometry) -> np.ndarray:
    """Hover text of each linear region: the indices of its active neurons."""
    return np.array([", ".join(map(str, np.flatnonzero(r))) or "none" for r in geometry.region_active])


def data_space_figure(X, y, *, geometry=None, regions_text=None, alpha=None, family=(), activated=None,
                      cell_line=None, point: int | None = None, half_width: float = 1.25) -> go.Figure:
    """2-D data with the fit's neurons (lines, active side shaded) and its linear regions.

    Parameters
    ----------
    X : ndarray of shape (n, 2); y : ndarray of shape (n,)
    geometry : NeuronGeometry, optional
    regions_text : array of str, optional
        :func:`region_text` of ``geometry`` (pass it when cached).
    alpha : ndarray of shape (m,), optional
        Output weights (line colour by sign).
    family : sequence of int
        Neurons whose pattern is the selected cell's (drawn thick).
    activated : ndarray of bool, shape (n,), optional
        Points activated by the selected cell (ringed).
    cell_line : ndarray of shape (2, 2), optional
        The line ``{x : u'[x, 1] = 0}`` of the selected cell's anchor direction u.
    point : int, optional
        Data row to mark.
    """
    traces = []  # plain dicts, validated once by go.Figure
    if geometry is not None:
        n_act = geometry.region_active.sum(axis=1)
        top = max(int(n_act.max()) if n_act.size else 0, 1)
        for b in range(len(REGION_GREYS)):
            sel = np.flatnonzero(np.minimum(n_act * len(REGION_GREYS) // (top + 1), len(REGION_GREYS) - 1) == b)
            if sel.size:
                x, yy = _rings_path([geometry.region_rings[i] for i in sel])
                traces.append(dict(type="scatter", x=x, y=yy, mode="lines", fill="toself", fillcolor=REGION_GREYS[b],
                                   line=dict(color=EDGE_LIGHT, width=0.5), hoverinfo="skip", showlegend=False,
                                   meta="regions"))
        if geometry.n_regions:
            txt = region_text(geometry) if regions_text is None else np.asarray(regions_text)
            traces.append(dict(type="scatter", x=geometry.region_anchors[:, 0], y=geometry.region_anchors[:, 1],
                               mode="markers", marker=dict(size=3, color=ANCHOR), customdata=n_act, text=txt,
                               name=f"{geometry.n_regions} linear regions (grey: more active neurons)",
                               hovertemplate="linear region: %{customdata} active neurons<br>"
                                             "neurons %{text}<extra></extra>", meta="region anchors"))
        signs = np.sign(np.asarray(alpha if alpha is not None else np.ones(len(geometry.segments))).reshape(-1))
        for sgn, col in ((1, GREEN), (-1, PURPLE)):
            rings = [r for j, r in enumerate(geometry.active_rings) if len(r) and (signs[j] >= 0) == (sgn > 0)]
            if rings:
                x, yy = _rings_path(rings)
                traces.append(dict(type="scatter", x=x, y=yy, mode="none", fill="toself", fillcolor=col, opacity=0.35,
                                   hoverinfo="skip", showlegend=False, meta="active side"))
        for sgn, col, name in ((1, GREEN, "neuron, alpha > 0 (strip: active side)"),
                               (-1, PURPLE, "neuron, alpha < 0 (strip: active side)")):
            sel = np.flatnonzero((signs >= 0) == (sgn > 0))
            if sel.size:
                x, yy = _segments_path(geometry.segments[sel])
                traces.append(dict(type="scatter", x=x, y=yy, mode="lines", line=dict(color=col, width=1.5),
                                   name=name, hoverinfo="skip", meta="neurons"))
        fam = sorted(set(int(f) for f in family))
        if fam:
            x, yy = _segments_path(geometry.segments[fam])
            traces.append(dict(type="scatter", x=x, y=yy, mode="lines", line=dict(color=SELECT, width=5),
                               name="neurons of the selected cell", hoverinfo="skip", meta="family"))
    if cell_line is not None and np.all(np.isfinite(cell_line)):
        traces.append(dict(type="scatter", x=cell_line[:, 0], y=cell_line[:, 1], mode="lines",
                           line=dict(color=SELECT, width=2, dash="dash"),
                           name="a hyperplane of the selected cell", hoverinfo="skip", meta="cell line"))
    traces += scatter_traces(X, y, "train")
    if activated is not None and np.any(activated):
        k = np.flatnonzero(activated)
        traces.append(dict(type="scatter", x=X[k, 0], y=X[k, 1], mode="markers", customdata=k,
                           marker=dict(size=15, symbol="circle-open", color=SELECT, line=dict(width=2.5)),
                           name=f"{k.size} points activated by the selected cell",
                           hovertemplate="point %{customdata} (activated)<extra></extra>", meta="activated"))
    if point is not None and 0 <= point < len(X):
        traces.append(dict(type="scatter", x=[X[point, 0]], y=[X[point, 1]], mode="markers",
                           marker=dict(size=20, symbol="star-open", color=ORANGE, line=dict(width=3)),
                           name=f"point {point}", hoverinfo="skip", meta="point"))
    h = half_width
    return go.Figure(data=traces, layout=dict(
        xaxis=dict(range=[-h, h], title=dict(text="x1"), constrain="domain"),
        yaxis=dict(range=[-h, h], title=dict(text="x2"), scaleanchor="x", scaleratio=1),
        margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.15),
        clickmode="event+select", height=480))


def data_space_figure_1d(x, y, *, predict=None, kinks=(), alpha=None, activated=None, point=None,
                         half_width: float = 1.25) -> go.Figure:
    """1-D data: the fit, its kinks (neurons) as vertical lines; linear regions are the intervals."""
    x = np.ravel(x)
    y = np.asarray(y)
    traces = []
    xs = np.linspace(-half_width, half_width, 400)
    if predict is not None:
        traces.append(dict(type="scatter", x=xs, y=np.ravel(predict(xs[:, None])), mode="lines", name="fit",
                           line=dict(color=GREEN, width=3), meta="fit"))
    signs = np.sign(np.asarray(alpha if alpha is not None else np.ones(len(kinks))).reshape(-1))
    shapes = [_vline(k, color=GREEN if signs[j] >= 0 else PURPLE, width=1, dash="dot")
              for j, k in enumerate(np.asarray(kinks, dtype=float)) if np.isfinite(k) and abs(k) <= half_width]
    traces.append(dict(type="scatter", x=x, y=y, mode="markers", name="train", customdata=np.arange(len(x)),
                       marker=dict(color=BLUE, size=8, line=dict(color=BLACK, width=1)),
                       hovertemplate="point %{customdata}<br>x=%{x:.4f}<br>y=%{y:.4f}<extra></extra>"))
    if activated is not None and np.any(activated):
        k = np.flatnonzero(activated)
        traces.append(dict(type="scatter", x=x[k], y=y[k], mode="markers", customdata=k,
                           marker=dict(size=15, symbol="circle-open", color=SELECT, line=dict(width=2.5)),
                           name=f"{k.size} points activated by the selected cell",
                           hovertemplate="point %{customdata} (activated)<extra></extra>", meta="activated"))
    if point is not None and 0 <= point < len(x):
        traces.append(dict(type="scatter", x=[x[point]], y=[y[point]], mode="markers", name=f"point {point}",
                           marker=dict(size=20, symbol="star-open", color=ORANGE, line=dict(width=3)),
                           hoverinfo="skip", meta="point"))
    return go.Figure(data=traces, layout=dict(
        xaxis=dict(title=dict(text="x"), range=[-half_width, half_width]), yaxis=dict(title=dict(text="y")),
        shapes=shapes, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.15),
        clickmode="event+select", height=480))


def _vline(x, **line) -> dict:
    return dict(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1, line=line)


def _hline(y, **line) -> dict:
    return dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=y, y1=y, line=line)


def _curves_layout(xtitle, ytitle, shapes, height, **extra) -> dict:
    if extra.get("type") == "log":  # full values on a log axis (plotly otherwise labels 0.5 and 20 as "5" and "2")
        extra.setdefault("tickformat", ",.2~r")
    return dict(xaxis=dict(title=dict(text=xtitle), type="log", tickformat=",.2~r"),
                yaxis=dict(title=dict(text=ytitle), **extra),
                shapes=shapes, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.2),
                height=height)


def counts_figure(ns, engine, cover, bound, *, current_n: int | None = None) -> go.Figure:
    """Pattern counts against n: exact enumeration, Cover's formula and the bound (log scale)."""
    traces = [
        dict(type="scatter", x=ns, y=bound, mode="lines", name="bound 2r(e(n-1)/r)^r",
             line=dict(color=GREY, dash="dash"), hovertemplate="n=%{x}<br>bound=%{y:.4g}<extra></extra>"),
        dict(type="scatter", x=ns, y=cover, mode="lines", name="Cover's count", line=dict(color=BLUE, width=3),
             hovertemplate="n=%{x}<br>Cover=%{y:,}<extra></extra>"),
        dict(type="scatter", x=ns, y=engine, mode="markers", name="enumerated (engine)",
             marker=dict(color=ORANGE, size=10, symbol="circle-open", line=dict(width=2.5)),
             hovertemplate="n=%{x}<br>enumerated=%{y:,}<extra></extra>"),
    ]
    shapes = [] if current_n is None else [_vline(current_n, color=SELECT, width=1, dash="dot")]
    return go.Figure(data=traces, layout=_curves_layout("number of points n", "number of patterns P", shapes, 380,
                                                        type="log", dtick=1))  # one label per decade


def zonotope_figure(Z, *, order=None, triangles=None, labels=None, found=None, selected_vertex=None,
                    highlight=None, direction=None, direction_legend: bool = False) -> go.Figure:
    """The zonotope ``sum_k [0, x_k]``: vertices (one per pattern) with their patterns on hover.

    Parameters
    ----------
    Z : ndarray of shape (P, 2) or (P, 3)
        Vertex i is ``Xb' D_i``.
    order : int array, optional
        Boundary order of the vertices (2-D).
    triangles : ndarray of shape (T, 3), optional
        Boundary triangles (3-D).
    labels : list of str, optional
        Pattern text of each vertex (hover; printed next to the vertex when P <= 24); default
        the pattern index only.
    found : bool array, optional
        Vertices found by the Gaussian sample (others greyed).
    selected_vertex : int, optional
        The vertex maximising u'z (for ``direction`` u), starred.
    highlight : int, optional
        A selected pattern's vertex, ringed.
    direction : array_like, optional
        u, drawn as an arrow from the zonotope's centre.
    direction_legend : bool
        3-D, without ``selected_vertex`` and ``direction``: their legend entries alone (a live
        chart draws :func:`zonotope_direction_traces` over the figure).
    """
    Z = np.asarray(Z, dtype=float)
    P, dim = Z.shape
    labels = labels if labels is not None else [""] * P
    codes, scale = (np.zeros(P, int), [[0.0, ORANGE], [1.0, ORANGE]]) if found is None else colour_codes(None, found)
    colours = dict(color=codes, colorscale=scale, cmin=0, cmax=1)
    hover = "vertex = pattern %{customdata}<br>%{hovertext}<extra></extra>" if any(labels) else \
        "vertex = pattern %{customdata}<extra></extra>"
    custom, hovertext = np.arange(P), np.asarray(labels)
    centre = Z.mean(axis=0) if P else np.zeros(dim)
    fig = go.Figure()
    if dim == 2:
        if order is not None and len(order) > 2:
            ring = Z[np.r_[order, order[:1]]]
            fig.add_trace(go.Scatter(x=ring[:, 0], y=ring[:, 1], mode="lines", fill="toself",
                                     fillcolor=rgba(BLUE, 0.12), line=dict(color=BLUE, width=2),
                                     hoverinfo="skip", name="zonotope", meta="zonotope"))
        fig.add_trace(go.Scatter(x=Z[:, 0], y=Z[:, 1], mode="markers+text" if P <= 24 else "markers",
                                 text=[l.replace("<br>", "") for l in labels] if P <= 24 else None,
                                 textposition="top center", textfont=dict(size=9), customdata=custom,
                                 hovertext=hovertext, marker=dict(size=9, line=dict(color=BLACK, width=1), **colours),
                                 hovertemplate=hover, name="vertices (patterns)", meta="vertices"))
        if highlight is not None:
            fig.add_trace(go.Scatter(x=[Z[highlight, 0]], y=[Z[highlight, 1]], mode="markers",
                                     marker=dict(size=18, symbol="circle-open", color=SELECT, line=dict(width=3)),
                                     name=f"selected pattern {highlight}", hoverinfo="skip", meta="highlight"))
        if direction is not None:
            u = np.asarray(direction, dtype=float)
            span = max(float(np.ptp(Z, axis=0).max()) if P else 1.0, 1e-9)
            tip = centre + 0.45 * span * u / max(np.linalg.norm(u), 1e-300)
            fig.add_annotation(x=tip[0], y=tip[1], ax=centre[0], ay=centre[1], xref="x", yref="y",
                               axref="x", ayref="y", showarrow=True, arrowhead=3, arrowwidth=2, text="u")
        if selected_vertex is not None:
            fig.add_trace(go.Scatter(x=[Z[selected_vertex, 0]], y=[Z[selected_vertex, 1]], mode="markers",
                                     marker=dict(size=18, symbol="star", color=SELECT),
                                     name=f"argmax u'z = pattern {selected_vertex}", hoverinfo="skip", meta="argmax"))
        fig.update_layout(xaxis=dict(title="z1", constrain="domain"), yaxis=dict(title="z2", scaleanchor="x", scaleratio=1))
    else:
        if triangles is not None and len(triangles):
            t = np.asarray(triangles)
            fig.add_trace(go.Mesh3d(x=Z[:, 0], y=Z[:, 1], z=Z[:, 2], i=t[:, 0], j=t[:, 1], k=t[:, 2],
                                    color=BLUE, opacity=0.18, flatshading=True, hoverinfo="skip",
                                    name="zonotope", meta="zonotope"))
        fig.add_trace(go.Scatter3d(x=Z[:, 0], y=Z[:, 1], z=Z[:, 2], mode="markers", customdata=custom,
                                   hovertext=hovertext, marker=dict(size=3 if P > 200 else 5, **colours), hovertemplate=hover,
                                   name="vertices (patterns)", meta="vertices"))
        if highlight is not None:
            fig.add_trace(go.Scatter3d(x=[Z[highlight, 0]], y=[Z[highlight, 1]], z=[Z[highlight, 2]], mode="markers",
                                       marker=dict(size=10, symbol="circle-open", color=SELECT),
                                       name=f"selected pattern {highlight}", hoverinfo="skip", meta="highlight"))
        if selected_vertex is not None or direction is not None:
            for t in zonotope_direction_traces(Z, selected_vertex, direction, legend=True):
                fig.add_trace(t)
        elif direction_legend:
            for t in zonotope_direction_traces(Z, 0, np.ones(3), legend=True):  # legend entries only
                name = "argmax u'z (its pattern: below)" if t["meta"] == "argmax" else t["name"]
                fig.add_trace({**t, "x": [None], "y": [None], "z": [None], "name": name})
            # the scene's box holds the arrow in every direction (its extent set the box before),
            # in the zonotope's own proportions
            half = np.maximum(np.ptp(Z, axis=0) if P else np.ones(3), 1e-9) * 0.6
            box = centre[None, :] + np.array([[-1.0], [1.0]]) * half[None, :]
            fig.add_trace(go.Scatter3d(x=box[:, 0], y=box[:, 1], z=box[:, 2], mode="markers",
                                       marker=dict(size=1, opacity=0), hoverinfo="skip", showlegend=False,
                                       meta="extent"))
        fig.update_layout(scene=dict(xaxis_title="z1", yaxis_title="z2", zaxis_title="z3 (bias)", aspectmode="data"))
    fig.update_layout(margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.1), height=480)
    return fig


def zonotope_direction_traces(Z, selected_vertex=None, direction=None, legend: bool = False) -> list[dict]:
    """The 3-D zonotope's marks for a direction u (trace dicts): the vertex maximising u'z and
    the arrow u from the centre. Separate from :func:`zonotope_figure` so a live chart can draw
    them over an unchanged figure."""
    Z = np.asarray(Z, dtype=float)
    out = []
    if selected_vertex is not None:
        v = int(selected_vertex)
        out.append(dict(type="scatter3d", x=[float(Z[v, 0])], y=[float(Z[v, 1])], z=[float(Z[v, 2])], mode="markers",
                        marker=dict(size=16, symbol="diamond", color=SELECT), name=f"argmax u'z = pattern {v}",
                        hoverinfo="skip", meta="argmax", showlegend=legend))
    if direction is not None:
        u = np.asarray(direction, dtype=float)
        centre = Z.mean(axis=0) if len(Z) else np.zeros(3)
        span = max(float(np.ptp(Z, axis=0).max()) if len(Z) else 1.0, 1e-9)
        tip = centre + 0.6 * span * u / max(np.linalg.norm(u), 1e-300)
        out.append(dict(type="scatter3d", x=[float(centre[0]), float(tip[0])], y=[float(centre[1]), float(tip[1])],
                        z=[float(centre[2]), float(tip[2])], mode="lines+text", text=["", "u"],
                        line=dict(color=SELECT, width=6), name="direction u", hoverinfo="skip", meta="direction",
                        showlegend=legend))
    return out


def coverage_figure(Ns, found, n_exact: int, *, current_N: int | None = None) -> go.Figure:
    """Distinct patterns found by N Gaussian directions, with the exact count as asymptote."""
    traces = [dict(type="scatter", x=Ns, y=found, mode="lines+markers", name="patterns found",
                   line=dict(color=GREEN, width=3), hovertemplate="N=%{x:,}<br>found=%{y:,}<extra></extra>")]
    shapes = [_hline(n_exact, color=SELECT, dash="dash")]
    if current_N is not None:
        shapes.append(_vline(current_N, color=GREY, dash="dot"))
    layout = _curves_layout("Gaussian directions N", "distinct patterns found", shapes, 360, rangemode="tozero")
    layout["annotations"] = [dict(text=f"exact count P = {n_exact:,}", xref="paper", yref="y", x=1, y=n_exact,
                                  xanchor="right", yanchor="top", showarrow=False)]
    return go.Figure(data=traces, layout=layout)


def n_marker_traces(current_N: int, y_lo: float, y_hi: float) -> list[dict]:
    """The current N of the coverage and ratio figures as a live chart's overlay (``y_lo`` to
    ``y_hi``: the data's extent), so moving N redraws neither figure."""
    return [overlay_vline(float(current_N), float(y_lo), float(y_hi), color=GREY, width=1, dash="dot")]


def ratio_figure(Ns, ratio, kappa, lower, *, current_N: int | None = None) -> go.Figure:
    """Approximation ratio p_s / p* of the subsampled program, its bound kappa, and g(lambda_s/kappa)/p*."""
    lower = np.where(np.asarray(lower, dtype=float) > 0, lower, np.nan)  # log axis: a bound <= 0 is left out
    traces = [
        dict(type="scatter", x=Ns, y=kappa, mode="lines+markers", name="kappa = max(1, cert(lambda_s)/beta)",
             line=dict(color=PURPLE, dash="dash"), hovertemplate="N=%{x:,}<br>kappa=%{y:.6f}<extra></extra>"),
        dict(type="scatter", x=Ns, y=ratio, mode="lines+markers", name="p_s / p*", line=dict(color=GREEN, width=3),
             hovertemplate="N=%{x:,}<br>p_s/p*=%{y:.6f}<extra></extra>"),
        dict(type="scatter", x=Ns, y=lower, mode="lines+markers", name="lower bound g(lambda_s/kappa) / p*",
             line=dict(color=BLUE), hovertemplate="N=%{x:,}<br>bound/p*=%{y:.6f}<extra></extra>"),
    ]
    shapes = [_hline(1.0, color=SELECT, width=1)]
    if current_N is not None:
        shapes.append(_vline(current_N, color=GREY, dash="dot"))
    return go.Figure(data=traces, layout=_curves_layout("Gaussian directions N", "relative to p*", shapes, 360,
                                                        type="log"))
