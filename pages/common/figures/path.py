"""Figures of the sparsity-path page: pure functions ``PathResult (+ data) -> go.Figure``.

A neuron of the path is a pair (pattern ``i``, sign ``s``): ``v_i`` (output weight > 0, drawn
in vermillion, solid) or ``w_i`` (output weight < 0, drawn in blue, dashed). The beta axis is
logarithmic and reversed, so the network grows from left (``beta_max``, zero network) to right.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cvx_core.path import PathResult

from ..palette import BLACK, BLACK_SCALE, BLUE, DIVERGING, GREEN, GREY, ORANGE, PURPLE, VERMILLION
from .base import BOX, decision_figure, grid, overlay_vline, regression_figure, scatter_traces

SIGN_STYLE = {1: dict(color=VERMILLION, dash="solid"), -1: dict(color=BLUE, dash="dash")}


def neuron_name(i: int, s: int) -> str:
    """``v<i>`` for output weight > 0, ``w<i>`` for output weight < 0 (docs/math.md section 3)."""
    return f"{'v' if s > 0 else 'w'}{i}"


def _neuron_hover(path: PathResult, i: int, s: int) -> str:
    sign = "alpha > 0" if s > 0 else "alpha < 0"
    return f"neuron {neuron_name(i, s)}: pattern #{i}, {sign}<br>D = {path.pattern_label(i, 48)}"


def _beta_axis(betas: np.ndarray) -> dict:
    """Log-scale, reversed beta axis with labelled ticks at 1, 2, 5 x 10^k inside the path's range."""
    lo, hi = float(betas.min()), float(betas.max())
    vals = [m * 10.0 ** e for e in range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 1)
            for m in (1, 2, 5)]
    vals = [v for v in vals if lo * 0.999 <= v <= hi * 1.001]
    if len(vals) < 2:
        return dict(type="log", autorange="reversed")
    return dict(type="log", autorange="reversed", tickvals=vals, ticktext=[f"{v:g}" for v in vals])


def _joined(xs_list, ys_list, texts):
    """Concatenate curves into one trace, separated by None (one trace per sign is much faster
    to build and send than one per neuron)."""
    x, y, t = [], [], []
    for xs, ys, tx in zip(xs_list, ys_list, texts):
        x += list(xs) + [None]
        y += list(ys) + [None]
        t += [tx] * len(xs) + [""]
    return x, y, t


def path_figure(path: PathResult, selected: int | None = None, selection_legend: bool = False) -> go.Figure:
    """Top: active neurons against beta. Bottom: one curve per neuron (group norm against beta).

    Dashed grey lines mark the betas where the active set changes (hover lists who enters and
    leaves); the green line is the selected beta. The panels share one x axis.
    ``selection_legend``: the legend entry of the selection drawn over the figure by a live
    chart (:func:`path_selection_traces`) when ``selected`` is None.
    """
    b = path.betas
    traces = [go.Scatter(
        x=b, y=path.n_neurons, mode="lines+markers", line=dict(shape="hv", color=GREY), marker=dict(size=5),
        name="active neurons", showlegend=False, yaxis="y2",
        hovertemplate="beta=%{x:.4g}<br>active neurons: %{y}<extra></extra>")]
    ids = path.ever_active()
    norms = path.neuron_norms()
    for s, label in ((1, "v_i (alpha > 0)"), (-1, "w_i (alpha < 0)")):
        cols = [j for j in range(len(ids)) if ids[j][1] == s]
        x, y, t = _joined([b] * len(cols), [norms[:, j] for j in cols],
                          [_neuron_hover(path, int(ids[j][0]), s) for j in cols])
        traces.append(go.Scatter(x=x if x else [None], y=y if y else [None], text=t if t else None, mode="lines",
                                 line=dict(width=1.5, **SIGN_STYLE[s]), opacity=0.85, name=label,
                                 hovertemplate="%{text}<br>beta=%{x:.4g}<br>group norm=%{y:.4g}<extra></extra>"))
    top = float(norms.max()) if norms.size and norms.max() > 0 else 1.0
    changes = path.active_set_changes()
    if changes.size:
        xs, ys, tx = [], [], []
        for k in changes:
            new, old = path.active_set(int(k)), path.active_set(int(k) - 1)
            enter = ", ".join(neuron_name(i, s) for i, s in sorted(new - old)) or "none"
            leave = ", ".join(neuron_name(i, s) for i, s in sorted(old - new)) or "none"
            t = f"active set changes at beta={b[k]:.4g}<br>enter: {enter}<br>leave: {leave}"
            xs.append([b[k], b[k]])
            ys.append([0.0, top])
            tx.append(t)
        x, y, t = _joined(xs, ys, tx)
        traces.append(go.Scatter(x=x, y=y, text=t, mode="lines", line=dict(color=GREY, dash="dot", width=1),
                                 name="active set changes", hovertemplate="%{text}<extra></extra>"))
    shapes = []
    if selected is not None:
        k = int(selected)
        shapes.append(dict(type="line", xref="x", yref="paper", x0=b[k], x1=b[k], y0=0, y1=1,
                           line=dict(color=GREEN, width=2)))
        act = [j for j in range(len(ids)) if norms[k, j] > 0]
        traces.append(go.Scatter(
            x=[b[k]] * len(act), y=[norms[k, j] for j in act], mode="markers", name="selected beta",
            marker=dict(color=GREEN, size=7, line=dict(color=BLACK, width=1)),
            text=[_neuron_hover(path, int(ids[j][0]), int(ids[j][1])) for j in act],
            hovertemplate="%{text}<br>beta=%{x:.4g}<br>group norm=%{y:.4g}<extra>selected</extra>"))
        traces.append(go.Scatter(x=[b[k]], y=[path.n_neurons[k]], mode="markers", showlegend=False, yaxis="y2",
                                 marker=dict(color=GREEN, size=9, line=dict(color=BLACK, width=1)),
                                 hovertemplate="selected beta=%{x:.4g}<br>active neurons: %{y}<extra></extra>"))
    elif selection_legend:
        traces.append(_legend_only("selected beta"))
    return go.Figure(data=traces, layout=dict(
        title="Group norm of each neuron", hovermode="closest", height=520,  # short: the figure is half-width
        xaxis=dict(title="beta, decreasing (log scale)", anchor="y", **_beta_axis(b)),
        yaxis=dict(domain=[0, 0.72], title="group norm ||v_i|| or ||w_i||", rangemode="tozero"),
        yaxis2=dict(domain=[0.78, 1], title="active", rangemode="tozero", anchor="x"),
        shapes=shapes, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.15)))


def _legend_only(name: str) -> go.Scatter:
    return go.Scatter(x=[None], y=[None], mode="lines+markers", name=name, line=dict(color=GREEN, width=2),
                      marker=dict(color=GREEN, size=7))


def path_selection_traces(path: PathResult, k: int) -> list[dict]:
    """The selected beta ``betas[k]`` on :func:`path_figure` as trace dicts (a live chart's
    overlay, drawn without redrawing the path): the green line on both panels, a dot on
    each active neuron's curve and on the count."""
    b, k = path.betas, int(k)
    norms = path.neuron_norms()
    act = norms[k][norms[k] > 0]
    dot = dict(color=GREEN, size=7)
    top = float(norms.max()) if norms.size else 0.0
    return [overlay_vline(float(b[k]), 0.0, top), overlay_vline(float(b[k]), 0.0, float(path.n_neurons.max()), yaxis="y2"),
            dict(type="scatter", x=[float(b[k])] * len(act), y=act.tolist(), mode="markers", marker=dot,
                 showlegend=False),
            dict(type="scatter", x=[float(b[k])], y=[float(path.n_neurons[k])], mode="markers", yaxis="y2",
                 marker=dict(dot, size=9), showlegend=False)]


def loss_selection_traces(path: PathResult, k: int) -> list[dict]:
    """The selected beta's green line on :func:`loss_figure` (a live chart's overlay)."""
    x = float(path.betas[int(k)])
    losses = [path.train_loss]  # and the test loss's error bars, when there is a test split
    if path.test_loss is not None:
        losses += [path.test_loss - path.test_loss_se, path.test_loss + path.test_loss_se]
    losses = np.concatenate(losses)
    out = [overlay_vline(x, float(np.nanmin(losses)), float(np.nanmax(losses)))]
    if path.train_accuracy is not None:
        accs = [v for v in (path.train_accuracy, path.test_accuracy) if v is not None]
        out.append(overlay_vline(x, float(np.nanmin(accs)), float(np.nanmax(accs)), yaxis="y2"))
    return out


def loss_figure(path: PathResult, selected: int | None = None) -> go.Figure:
    """Mean per-sample training and test loss (test with +-1 standard error) against beta, and
    accuracy for classification (lower panel, same x axis); stars mark the validation-best beta
    and the one-SE choice; the green line is the selected beta."""
    classify = path.train_accuracy is not None
    b = path.betas
    traces = [go.Scatter(x=b, y=path.train_loss, mode="lines+markers", name="train loss", line=dict(color=BLUE),
                         hovertemplate="beta=%{x:.4g}<br>train loss=%{y:.5g}<extra></extra>")]
    if path.test_loss is not None:
        traces.append(go.Scatter(
            x=b, y=path.test_loss, mode="lines+markers", name="test loss", line=dict(color=ORANGE),
            error_y=dict(type="data", array=path.test_loss_se, visible=True, thickness=1, color=ORANGE),
            customdata=path.test_loss_se,
            hovertemplate="beta=%{x:.4g}<br>test loss=%{y:.5g} +- %{customdata:.2g} (1 SE)<extra></extra>"))
        for idx, name, sym in ((path.best_index, "best (min test loss)", "star"),
                               (path.one_se_index, "one-SE choice", "star-diamond")):
            traces.append(go.Scatter(
                x=[b[idx]], y=[path.test_loss[idx]], mode="markers", name=name,
                marker=dict(symbol=sym, size=16, color=PURPLE, line=dict(color=BLACK, width=1)),
                hovertemplate=f"{name}<br>beta=%{{x:.4g}}<br>test loss=%{{y:.5g}}<br>width={path.n_neurons[idx]}<extra></extra>"))
    if classify:
        traces.append(go.Scatter(x=b, y=path.train_accuracy, mode="lines+markers", name="train accuracy", yaxis="y2",
                                 line=dict(color=BLUE, dash="dot"),
                                 hovertemplate="beta=%{x:.4g}<br>train accuracy=%{y:.3f}<extra></extra>"))
        if path.test_accuracy is not None:
            traces.append(go.Scatter(x=b, y=path.test_accuracy, mode="lines+markers", name="test accuracy", yaxis="y2",
                                     line=dict(color=ORANGE, dash="dot"),
                                     hovertemplate="beta=%{x:.4g}<br>test accuracy=%{y:.3f}<extra></extra>"))
    shapes = []
    if selected is not None:
        x = b[int(selected)]
        shapes.append(dict(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1, line=dict(color=GREEN, width=2)))
    layout = dict(
        title="Training and test error along the path", hovermode="closest", height=420, shapes=shapes,
        xaxis=dict(title="beta (log scale, decreasing to the right)", anchor="y2" if classify else "y", **_beta_axis(b)),
        yaxis=dict(title=f"mean {path.loss} loss", domain=[0.45, 1] if classify else [0, 1], anchor="x"),
        margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2))
    if classify:
        layout["yaxis2"] = dict(title="accuracy", range=[0, 1.05], domain=[0, 0.38], anchor="x")
    return go.Figure(data=traces, layout=layout)


def _line_in_box(u: np.ndarray, box=BOX, n_pts: int = 25) -> np.ndarray | None:
    """Points of the line ``u0 x1 + u1 x2 + u2 = 0`` inside the square ``box`` (None if it misses)."""
    a, c, e = u
    lo, hi = box
    pts = []
    if abs(c) > 1e-12:
        for x in (lo, hi):
            y = -(a * x + e) / c
            if lo - 1e-12 <= y <= hi + 1e-12:
                pts.append((x, y))
    if abs(a) > 1e-12:
        for y in (lo, hi):
            x = -(c * y + e) / a
            if lo - 1e-12 <= x <= hi + 1e-12:
                pts.append((x, y))
    if len(pts) < 2:
        return None
    pts = np.array(pts)
    p, q = pts[0], pts[np.argmax(np.linalg.norm(pts - pts[0], axis=1))]
    if np.allclose(p, q):
        return None
    t = np.linspace(0, 1, n_pts)[:, None]
    return p + t * (q - p)


def _widths(norms: np.ndarray) -> np.ndarray:
    top = norms.max() if norms.size and norms.max() > 0 else 1.0
    return 0.75 + 3.25 * norms / top


def neuron_traces(path: PathResult, k: int, box=BOX) -> list[go.Scatter]:
    """The active neurons at ``betas[k]`` as lines in data space, width proportional to norm.

    2-D data: the line ``x~' u = 0`` where the neuron switches on. 1-D data: the neuron's
    contribution ``alpha sigma(x~' u)`` as a curve.
    """
    net = path.network(k)
    ids = path.neuron_ids[k]
    norms = np.array([path.group_norms[k, i, 0 if s > 0 else 1] for i, s in ids])
    out = []
    d = net.n_inputs
    xs = np.linspace(box[0], box[1], 200)
    for (i, s), u, a, w, nrm in zip(ids, net.U, net.alpha, _widths(norms), norms):
        txt = f"{_neuron_hover(path, int(i), int(s))}<br>group norm={nrm:.4g}"
        if d == 2:
            u3 = u if net.bias else np.r_[u, 0.0]
            pts = _line_in_box(u3, box)
            if pts is None:
                continue
            x, y = pts[:, 0], pts[:, 1]
        else:
            x = xs
            y = float(np.sum(a)) * net.sigma((np.c_[xs, np.ones_like(xs)] if net.bias else xs[:, None]) @ u)
        out.append(go.Scatter(x=x, y=y, mode="lines", line=dict(width=float(w), **SIGN_STYLE[int(s)]),
                              name=neuron_name(int(i), int(s)), showlegend=False, text=[txt] * len(x),
                              hovertemplate="%{text}<extra></extra>"))
    return out


def fit_figure(path: PathResult, k: int, X, y, X_test=None, y_test=None) -> go.Figure:
    """The fit at ``betas[k]``: decision function (2-D) or fitted curve (1-D), with its neurons."""
    net = path.network(k)
    neurons = neuron_traces(path, k)
    title = f"beta = {path.betas[k]:.3g}: {path.n_neurons[k]} neurons"  # short: the figure is half-width
    if net.n_inputs == 2:
        title += f", {len(neurons)} drawn"  # the others switch outside the plotted box
        fig = decision_figure(X, y, net.predict, X_test=X_test, y_test=y_test, title=title, n_grid=90)
    elif net.n_inputs == 1:
        fig = regression_figure(X, y, net.predict, x_test=X_test, y_test=y_test, title=title)
    else:
        raise ValueError(f"expected 1-D or 2-D data to draw the fit, got {net.n_inputs} features")
    keys = [go.Scatter(x=[None], y=[None], mode="lines", line=SIGN_STYLE[1], name="neuron, alpha > 0"),
            go.Scatter(x=[None], y=[None], mode="lines", line=SIGN_STYLE[-1], name="neuron, alpha < 0")]
    # neurons under the data points (2-D: above the heatmap and boundary), so points stay visible
    n_under = 2 if net.n_inputs == 2 else 0
    n_old = len(fig.data)
    fig.add_traces(neurons + keys)
    d = fig.data
    fig.data = d[:n_under] + d[n_old:n_old + len(neurons)] + d[n_under:n_old] + d[n_old + len(neurons):]
    fig.update_layout(height=520)
    return fig


def animation_figure(path: PathResult, X, y, n_grid: int = 60) -> go.Figure:
    """The fit and its neurons over the whole path as a plotly animation (play / pause / slider)."""
    K = path.n_betas
    d = path.network(0).n_inputs
    if d not in (1, 2):
        raise ValueError(f"expected 1-D or 2-D data to animate the fit, got {d} features")
    m_max = max(1, int(path.n_neurons.max()))
    xs, _, pts = grid(n_grid)
    xline = np.linspace(BOX[0], BOX[1], 300)

    def frame_traces(k):
        net = path.network(k)
        if d == 2:
            Z = net.predict(pts).reshape(n_grid, n_grid)
            zm = max(float(np.abs(Z).max()), 1e-12)
            base = [go.Heatmap(x=xs, y=xs, z=Z, zmin=-zm, zmax=zm, colorscale=DIVERGING, opacity=0.55, showscale=False,
                               hovertemplate="x1=%{x:.3f}<br>x2=%{y:.3f}<br>f=%{z:.4f}<extra></extra>"),
                    go.Contour(x=xs, y=xs, z=Z, showscale=False, contours=dict(start=0, end=0, size=1, coloring="lines"),
                               colorscale=BLACK_SCALE, line=dict(width=2), hoverinfo="skip")]
        else:
            base = [go.Scatter(x=xline, y=net.predict(xline[:, None]), mode="lines", name="fit",
                               line=dict(color=GREEN, width=3))]
        neurons = neuron_traces(path, k)
        neurons += [go.Scatter(x=[None], y=[None], mode="lines", showlegend=False)] * (m_max - len(neurons))
        return base + neurons

    n_base = 2 if d == 2 else 1
    data = frame_traces(0)
    if d == 2:
        data += scatter_traces(X, y)
    else:
        data.append(go.Scatter(x=np.ravel(X), y=y, mode="markers", name="train",
                               marker=dict(color=BLUE, size=8, line=dict(color=BLACK, width=1))))
    idx = list(range(n_base + m_max))
    label = lambda k: f"{path.betas[k]:.3g}"
    frames = [go.Frame(data=frame_traces(k), traces=idx, name=str(k),
                       layout=dict(title=f"beta = {path.betas[k]:.4g}: {path.n_neurons[k]} active neurons, "
                                         f"objective {path.objectives[k]:.5g}"))
              for k in range(K)]
    fig = go.Figure(data=data, frames=frames)
    anim = dict(frame=dict(duration=600, redraw=True), transition=dict(duration=0), fromcurrent=True, mode="immediate")
    fig.update_layout(
        title=f"beta = {path.betas[0]:.4g}: {path.n_neurons[0]} active neurons",
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=-0.08, xanchor="left", yanchor="top",
                          buttons=[dict(label="Play", method="animate", args=[None, anim]),
                                   dict(label="Pause", method="animate",
                                        args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")])])],
        sliders=[dict(active=0, x=0.15, len=0.85, y=-0.04, yanchor="top", currentvalue=dict(prefix="beta = "),
                      steps=[dict(label=label(k), method="animate",
                                  args=[[str(k)], dict(frame=dict(duration=0, redraw=True), mode="immediate")])
                             for k in range(K)])],
        xaxis=dict(range=BOX, title="x1" if d == 2 else "x", constrain="domain"),
        yaxis=dict(range=BOX, title="x2", scaleanchor="x", scaleratio=1) if d == 2 else dict(title="y"),
        margin=dict(l=10, r=10, t=40, b=90), height=600, showlegend=False,
    )
    return fig
