"""Arrangements: activation patterns as cells of a hyperplane arrangement, the zonotope, subsampling."""
from functools import partial

import numpy as np
import streamlit as st

from cvx_core.geometry import direction_from_angles, kinks_1d
from pages.common import errors, lecture, solve
from pages.common.cache import arrangements as ca
from pages.common.cache.keys import data_key, fit_key
from pages.common.controls.arrangements import CONTROLS, picked_index
from pages.common.controls.fragment import page_fragment
from pages.common.controls.hideable import keep_hidden
from pages.common.controls.routing import through_app
from pages.common.data.registry import data_for
from pages.common.export.chart import cached, chart
from pages.common.export.live_chart import clicked_points
from pages.common.figures import arrangements as fa
from pages.common.url import bind_all

through_app()  # a fresh server may run this file alone (legacy pages/ mode)
c, ss = st.session_state["controls"], st.session_state
st.title("Hyperplane arrangements and zonotopes")
lecture.note("Every direction u of a hidden neuron switches on a subset of the points, its *activation pattern*. "
             "The patterns are the cells of the arrangement of the points' hyperplanes in weight space; there are "
             "finitely many, so training is a finite convex program. The bias is the last weight coordinate.")
st.latex(r"\begin{gathered}D(u)=\mathrm{diag}\big(1[\tilde X u\ge 0]\big),\qquad \tilde X=[X,\ 1]\\"
         r"K_D=\{u:(2D-I)\tilde X u\ge 0\}\end{gathered}")  # two lines: one is too wide at 1024 px
key, data = data_key(c), data_for(c)
with st.spinner("Enumerating patterns and drawing cells..."):
    view = errors.attempt(lambda: ca.arrangement(key, c.bias, _X=data.X), doing="drawing the arrangement",
                          bad="Cannot draw the arrangement")
if view is None:
    st.stop()
P, dim = view.n_patterns, view.Xb.shape[1]

bind_all(CONTROLS)  # the page's own controls, bound to the URL
ss["arr_cell"] = ss["arr_cell"] if ss["arr_cell"] < P else -1
ss["arr_point"] = ss["arr_point"] if ss["arr_point"] < len(data.X) else -1


def _picked(chart_key, target):  # a click on a chart writes the picked index into a bound control
    ss[target] = picked_index(clicked_points(ss.get(chart_key)))


@page_fragment
def arrangement_views() -> None:
    """The page's own controls and all they show: a fragment (the arrangement is not recomputed)."""
    show = lecture.show
    k = st.columns([3, 2, 2, 2])
    if show("arr_N"):
        k[0].select_slider("Gaussian directions N (subsampling)", ca.N_OPTIONS, key="arr_N")
    if show("arr_theta"):
        k[1].slider("Direction u: azimuth (degrees)", 0, 359, key="arr_theta")
    if dim == 3 and show("arr_elev"):
        k[2].slider("Direction u: elevation (degrees)", -89, 89, key="arr_elev")
    if show("arr_colour"):
        k[3].radio("Colour cells by", ["activation", "sampling"], key="arr_colour", horizontal=True,
                   format_func={"activation": "points activated", "sampling": "found by N"}.get)
    k = st.columns([2, 2, 3])
    k[0].number_input(f"Selected pattern (0..{P - 1}, -1 none)", -1, P - 1, key="arr_cell")
    k[1].number_input(f"Selected point (0..{len(data.X) - 1}, -1 none)", -1, len(data.X) - 1, key="arr_point")
    if show("arr_ratio"):
        k[2].toggle("Approximation ratio against N", key="arr_ratio",
                    help=f"One convex solve over the sampled patterns per N in {ca.RATIO_GRID} (cached), each certified over all patterns")
    keep_hidden(CONTROLS)

    fit = solve.fit(c, data, key="arr", spinner="Solving the convex program over all patterns (cached)...")
    fkey = fit_key(c, fit) if fit else None
    sel, pt = (ss["arr_cell"] if ss["arr_cell"] >= 0 else None), (ss["arr_point"] if ss["arr_point"] >= 0 else None)
    u = direction_from_angles(ss["arr_theta"], ss["arr_elev"] if dim == 3 else None)
    dinfo = ca.direction_info(view, u)
    samp = ca.sampled(key, c.bias, ss["arr_N"], c.seed, _X=data.X)
    sinfo = ca.selection_info(view, sel, fit.network if fit else None, c.bias) if sel is not None else None
    # Figure-cache keys: everything each figure shows (export.cached); sampling colours depend on N.
    found_key = (ss["arr_colour"], ss["arr_N"] if ss["arr_colour"] == "sampling" else None, c.seed)
    u_key = (ss["arr_theta"], ss["arr_elev"] if dim == 3 else None)

    m = st.columns(3) + st.columns(3)  # two rows: six metrics in one row are unreadable at 1024 px
    m[0].metric("Patterns (engine)", f"{P:,}", help="cvx_core.enumerate_patterns(add_bias(X, bias))")
    m[1].metric("Cells drawn", f"{view.n_drawn:,}" if view.drawn else "not drawn")
    m[2].metric("Cover's count", f"{view.cover:,}", help=f"2 sum_(k<r) C(n-1, k), rank r = {view.rank}")
    m[3].metric("Cover's bound", f"{view.bound:,.0f}", help="2r(e(n-1)/r)^r")
    m[4].metric(f"Found by N = {ss['arr_N']:,}", f"{samp['n_found']:,}", f"{samp['n_found'] / P:.1%} of P",
                delta_color="off", delta_arrow="off")
    m[5].metric("Solve time", f"{fit.solve_time:.2f} s" if fit else "-", help=fit.status if fit else None)

    left, right = st.columns([2, 3])
    with left:
        st.subheader("Data space")
        act = None if sinfo is None else sinfo["activated"]
        if data.X.shape[1] == 2:
            g, g_text = ca.neurons(fkey, _net=fit.network) if fit else (None, None)
            build = partial(fa.data_space_figure, data.X, data.y, geometry=g, regions_text=g_text,
                            alpha=fit.network.alpha if fit else None, family=sinfo["family"] if sinfo else (),
                            activated=act, cell_line=sinfo["line"] if sinfo else None, point=pt)
        else:
            build = partial(fa.data_space_figure_1d, data.X, data.y, predict=fit.network.predict if fit else None,
                            kinks=kinks_1d(fit.network.U, c.bias) if fit else (),
                            alpha=fit.network.alpha if fit else None, activated=act, point=pt)
        fig = cached(("arr_data", key, c.bias, fkey, sel, pt), build)
        chart(fig, key="arr_data_chart", filename="arrangement_data_space", live=True,
                     on_select=lambda: _picked("arr_data_chart", "arr_point"))
        lecture.explain(("How to read this: each neuron of the fit is a line x~'u_j = 0 (green: alpha_j > 0, purple: "
                         "alpha_j < 0) with a strip on its active side; the grey polygons are the network's linear regions "
                         "(darker: more active neurons; hover a dot for the list). " if data.X.shape[1] == 2 else
                         "How to read this: each neuron of the fit is a kink x = -u_bias/u_1 (dotted; green: alpha_j > 0, "
                         "purple: alpha_j < 0); the linear regions are the intervals between kinks. ")
                        + "Click a point to see its hyperplane in weight space; a selected cell rings the points it "
                        "activates" + (" and draws one of its hyperplanes." if data.X.shape[1] == 2 else "."))
    with right:
        st.subheader("Weight space: the arrangement")
        if view.drawn:
            f = samp["cells"] if ss["arr_colour"] == "sampling" else None
            # u is drawn over the cached figure (a live chart overlay): moving u redraws no cell
            fig = cached(("arr_weight", key, c.bias, fkey, found_key, sel, pt), lambda: fa.arrangement_figure(
                view.pictures, view.pattern_index, labels=view.labels or False, found=f,
                norms=ca.cell_norms(fkey, _fit=fit, _view=view) if fit else None, selected=sel, point=pt, direction_legend=True,
                axis_titles=("u1", "u_bias") if dim == 2 and c.bias else ("u1", "u2")))
            chart(fig, key="arr_weight_chart", filename="arrangement_weight_space", live=True,
                         overlay=fa.direction_traces(view.pictures, u),
                         on_select=lambda: _picked("arr_weight_chart", "arr_cell"))
            total = sum(p.n_cells for p in view.pictures)
            lecture.explain(
                "How to read this: each polygon is one cell K_D, i.e. one pattern; hover or click its dot for the pattern "
                "(1 = active point), its index and the fit's group norms ||v||, ||w||; purple diamonds mark cells holding a "
                "neuron of the fit. " + ("Each point is the line x_k1 u1 + x_k2 u2 + s = 0 in the slice u_bias = s; a cell "
                "crossing u_bias = 0 appears in both slices (double-click to zoom out: the box holds every vertex)."
                if dim == 3 else "Each point is a line through the origin (no bias, or 1-D data with the bias as u_bias) "
                "and the cells are 2n wedges.")
                + (f" {total:,} cells: above {fa.MAX_FILLED_CELLS:,} the fills are off (one line trace and one marker per "
                   "cell keep it responsive)." if total > fa.MAX_FILLED_CELLS else "")
                + (f" Above {ca.MAX_LABELLED_PATTERNS:,} patterns the hover omits the bit string: click a cell to see its "
                   "points." if view.labels is None else ""))
        else:
            st.info(f"{P:,} cells are too many to draw (limit {ca.MAX_DRAWN_PATTERNS:,}); reduce n to see them.")

    st.subheader("How many patterns?")
    cc = ca.counts_curve(key, c.bias, _X=data.X)
    st.latex(r"\begin{gathered}P\;=\;2\sum_{k=0}^{r-1}\binom{n-1}{k}\;\le\;2r\Big(\frac{e(n-1)}{r}\Big)^r\\"
             r"\text{(Cover 1965, rank } r \text{ in general position)}\end{gathered}")
    chart(cached(("arr_counts", key, c.bias), lambda: fa.counts_figure(
        cc["n"], cc["engine"], cc["cover"], cc["bound"], current_n=len(data.X))),
                 key="arr_counts", filename="pattern_counts")
    lecture.explain(f"How to read this: circles are the engine's exact enumeration for the first n points, the blue line "
                    f"Cover's count (equal in general position), the dashed line the bound. With rank r = {view.rank} the "
                    "count is polynomial in n, of degree r - 1.")

    st.subheader("The zonotope: vertices are patterns")
    st.latex(r"Z(\tilde X)=\sum_k [0,\tilde x_k],\qquad \arg\max_{z\in Z} u^\top z=\tilde X^\top D(u)\mathbf 1")
    if view.drawn:
        found_v = samp["vertices"] if ss["arr_colour"] == "sampling" else None
        if dim == 3:  # u's marks drawn over the cached scene (a live chart overlay): no WebGL re-render
            zfig = cached(("arr_zonotope", key, c.bias, found_key, sel), lambda: fa.zonotope_figure(
                view.vertices, triangles=view.triangles, labels=view.vertex_labels, found=found_v, highlight=sel,
                direction_legend=True))
            chart(zfig, key="arr_zonotope", filename="zonotope", live=True,
                         overlay=fa.zonotope_direction_traces(view.vertices, dinfo["vertex"], u))
        else:
            zfig = cached(("arr_zonotope", key, c.bias, found_key, sel, u_key), lambda: fa.zonotope_figure(
                view.vertices, order=view.order, labels=view.vertex_labels, found=found_v,
                selected_vertex=dinfo["vertex"], highlight=sel, direction=u))
            chart(zfig, key="arr_zonotope", filename="zonotope", live=True)
        lecture.explain(f"How to read this: each vertex X~'D1 is one pattern (hover for it); the {'diamond' if dim == 3 else 'star'} is the vertex that "
                        f"maximises u'z for the direction u of the sliders: pattern {dinfo['vertex']}, and D(u) is pattern "
                        f"{dinfo['index']} ({'they agree' if dinfo['agree'] else 'they differ: u lies on a hyperplane'}). "
                        "The normal cone at a vertex is its cell." + (" Drag to rotate." if dim == 3 else "")
                        + (" With this many vertices the hover gives the pattern's index only (its bits are in the "
                           "arrangement's hover)." if view.vertex_labels is None else ""))

    st.subheader("Subsampling: what N Gaussian directions find")
    cov = ca.coverage(key, c.bias, c.seed, _X=data.X)
    # the current N is drawn over the cached curve (a live chart overlay): moving N redraws neither curve
    chart(cached(("arr_coverage", key, c.bias, c.seed), lambda: fa.coverage_figure(cov["N"], cov["found"], P)),
          key="arr_coverage", filename="coverage", live=True, overlay=fa.n_marker_traces(ss["arr_N"], 0, P))
    lecture.explain("How to read this: a cell is found with probability equal to its normalised solid angle, so large "
                    "cells are found first and the small ones need many more directions; the curve approaches the exact "
                    "count P. Colour the cells by 'found by N' to see which ones are missed (grey).")
    if ss["arr_ratio"] and fit is not None and fit.exact_patterns:
        st.latex(r"\begin{gathered}p^\ast\le p_s\le\kappa\,p^\ast,\qquad g(\lambda_s/\kappa)\le p^\ast\\"
                 r"\kappa=\max\Big(1,\tfrac{\mathrm{cert}(\lambda_s)}{\beta}\Big)\end{gathered}")
        with st.spinner(f"Solving the subsampled programs for N in {ca.RATIO_GRID} (cached)..."):
            rc = errors.attempt(lambda: ca.ratio_curve(c, fit.objective, _data=data), doing="computing the ratio",
                                bad="Approximation ratio not available")
        if rc is not None:
            shown = np.r_[rc["ratio"], rc["kappa"], rc["lower"]].astype(float)
            shown = shown[np.isfinite(shown) & (shown > 0)]  # a log axis
            chart(cached(("arr_ratio", c), lambda: fa.ratio_figure(rc["N"], rc["ratio"], rc["kappa"], rc["lower"])),
                  key="arr_ratio_chart", filename="approximation_ratio", live=True,
                  overlay=fa.n_marker_traces(ss["arr_N"], shown.min(), shown.max()) if shown.size else [])
            lecture.explain(f"How to read this: p_s is the optimum of the convex program over the N directions' patterns "
                            f"(p* = {fit.objective:.6g}, the exact optimum); kappa is cert(lambda_s)/beta of its dual vector "
                            "lambda_s over all patterns and bounds the ratio from above, g(lambda_s/kappa) bounds p* from below (log "
                            f"scale; a bound <= 0 is not drawn). Patterns used: {', '.join(map(str, rc['P_s']))}; solve "
                            f"times {', '.join(f'{t:.2f}' for t in rc['time'])} s.")


arrangement_views()
