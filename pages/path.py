"""Sparsity path: group norms of the convex program's neurons as beta falls from beta_max."""
import numpy as np
import streamlit as st

from pages.common import errors, lecture, solve
from pages.common.controls.path import CONTROLS, RATIOS, SELECTED, SELECTED_PARSER
from pages.common.controls.fragment import page_fragment
from pages.common.controls.hideable import keep_hidden
from pages.common.controls.routing import through_app
from pages.common.data.registry import data_for
from pages.common.export.chart import cached, chart
from pages.common.export.snippet import path_snippet
from pages.common.figures.path import (animation_figure, fit_figure, loss_figure, loss_selection_traces, path_figure,
                                       path_selection_traces)
from pages.common.imports import figure_build
from pages.common.url import bind, bind_all

through_app()  # a fresh server may run this file alone (legacy pages/ mode)
c = st.session_state["controls"]
ss = st.session_state
st.title("Sparsity path")
st.caption("The path ignores the sidebar's log10 beta: it solves a grid of betas from beta_max down, and the "
           "selected beta is chosen with this page's slider below.")
lecture.note(
    "Each neuron of the convex program is a group (an activation pattern and a sign): its norm is zero for "
    "beta above **beta_max** and grows as beta falls. The optimiser, not you, decides the width. "
    "Every point is solved with a warm start from the previous one and certified by its dual gap."
)
bind_all(CONTROLS)
left, right = st.columns(2)
if lecture.show("path_ratio"):
    left.select_slider("Smallest beta, as a fraction of beta_max", RATIOS, key="path_ratio", format_func=lambda v: f"{v:g}")
if lecture.show("path_nbetas"):
    right.slider("Number of betas (log-spaced)", 3, 40, key="path_nbetas")
keep_hidden(CONTROLS)

data = data_for(c)
path = solve.path(c, data, ss["path_nbetas"], ss["path_ratio"])
if path is None:
    st.stop()
K = path.n_betas

m = st.columns(3) + st.columns(3)  # two rows: five metrics in one row are unreadable at 1024 px
m[0].metric("beta_max", f"{path.beta_max:.4g}", help="smallest beta at which the zero network is optimal (exact over the patterns)")
m[1].metric("Betas solved", K)
m[2].metric("Path time", f"{path.total_time:.2f} s", help="all solves plus beta_max; cached afterwards")
m[3].metric("Patterns", f"{path.n_patterns:,}", help="exact enumeration" if path.exact_patterns else "sampled")
m[4].metric("Worst gap", f"{path.gaps.max():.1e}", help="largest relative duality gap over the path")
bad = [f"{b:.3g} ({s})" for b, s in zip(path.betas, path.statuses) if s != "optimal"]
if bad:
    errors.solver_outcome("Solver status other than optimal at beta = " + ", ".join(bad))

bind(SELECTED, int(np.argmin(np.abs(np.log(path.betas) - np.log(c.beta)))), SELECTED_PARSER)
ss[SELECTED] = min(ss[SELECTED], K - 1)


def _step(delta: int) -> None:
    ss["path_k"] = int(np.clip(ss["path_k"] + delta, 0, K - 1))


@page_fragment
def selected_beta_view() -> None:
    """The selected beta and everything it shows: a fragment (moving it solves nothing)."""
    s0, s1, s2 = st.columns([6, 1, 1], vertical_alignment="bottom")
    s0.select_slider("Selected beta (snaps to the computed path; nothing is re-solved)", range(K), key="path_k",
                     format_func=lambda k: f"{path.betas[k]:.3g}")
    s1.button("Prev", key="path_prev", help="one step to a larger beta", on_click=_step, args=(-1,), disabled=ss["path_k"] == 0, width="stretch")
    s2.button("Next", key="path_next", help="one step to a smaller beta", on_click=_step, args=(1,), disabled=ss["path_k"] == K - 1, width="stretch")
    k = ss["path_k"]

    m = st.columns(3) + st.columns(3)
    m[0].metric("beta", f"{path.betas[k]:.4g}", help=f"{path.betas[k] / path.beta_max:.3g} x beta_max")
    m[1].metric("Objective", f"{path.objectives[k]:.5g}", help=f"L(yhat, y) + beta * sum of group norms = {path.objectives[k]:.10g}")
    m[2].metric("Certified gap", f"{path.gaps[k]:.1e}", help=f"(objective - dual lower bound) / objective; cert(lambda)/beta = {path.certificates[k]:.6f}")
    m[3].metric("Width", int(path.n_neurons[k]), help="active neurons after pruning: blocks with norm > 1e-6 x the largest")
    m[4].metric("Solve time", f"{path.solve_times[k]:.2f} s", help="this beta, warm-started from the previous one")

    pkey = ("path", c, ss["path_nbetas"], ss["path_ratio"])  # everything the path's figures show
    a, b = st.columns(2)
    with a:  # the selected beta is drawn over the path (a live chart's overlay): moving it redraws no curve
        chart(cached(pkey + ("path",), lambda: path_figure(path, selection_legend=True)), key="path_fig_path",
              filename="sparsity_path", live=True, overlay=path_selection_traces(path, k))
        lecture.explain("How to read this: each line is one neuron, a group of the convex program (pattern D_i with sign + "
                        "for v_i, output weight > 0, solid vermillion; sign - for w_i, output weight < 0, dashed blue); its "
                        "height is the group norm ||u|| |alpha|. beta decreases to the right; the top panel counts active "
                        "neurons. Dotted grey lines mark where the active set changes (hover: who enters and leaves); green "
                        "is the selected beta. The optimal objective is unique but the optimal neurons need not be: "
                        "neighbouring patterns with nearly the same hyperplane can trade norm, so curves may jump.")
    with b:
        try:
            chart(cached(pkey + (k, "fit"), lambda: fit_figure(path, k, data.X, data.y, data.X_test, data.y_test)),
                  key="path_fig_fit", filename="path_fit", live=True)
            lecture.explain("How to read this: the network at the selected beta. Each active neuron is drawn in data space "
                            "(2-D: the line x~'u = 0 where it switches on; 1-D: its contribution alpha sigma(x~'u)); line "
                            "width grows with its group norm; hover names its pattern. A 2-D neuron whose line misses the "
                            "plotted box is on (or off) over the whole box and is not drawn.")
        except ValueError as exc:
            errors.bad_input(str(exc))

    chart(cached(pkey + ("loss",), lambda: loss_figure(path)), key="path_fig_loss", filename="path_error", live=True,
          overlay=loss_selection_traces(path, k))
    if path.test_loss is None:
        st.info("Set a test fraction in the sidebar to see test error, the best beta and the one-standard-error choice.")
        lecture.explain("How to read this: mean per-sample training loss (no penalty) at each beta; green is the selected beta.")
    else:
        lecture.explain(
            f"How to read this: mean per-sample {path.loss} loss (no penalty) on the training and test splits; bars are "
            f"+-1 standard error over test samples. Best beta {path.betas[path.best_index]:.3g} (min test loss, width "
            f"{path.n_neurons[path.best_index]}); one-SE choice {path.betas[path.one_se_index]:.3g} (largest beta within "
            f"one SE of the best, width {path.n_neurons[path.one_se_index]}). A single split: the SE is over test samples, "
            "not cross-validation folds. Green is the selected beta.")

    if st.toggle("Play: animate the fit and its neurons over beta", key="path_play"):
        try:
            with figure_build():
                anim = animation_figure(path, data.X, data.y)
            chart(anim, key="path_fig_anim", filename="path_animation", server=False)
            lecture.explain("How to read this: press Play (or drag the slider under the plot) to step through the path from "
                            "beta_max (zero network) to the smallest beta; the title gives width and objective at each frame.")
        except ValueError as exc:
            errors.bad_input(str(exc))

    d1, d2 = st.columns(2)
    d1.download_button("Path (CSV)", path.to_csv, file_name="path.csv", mime="text/csv", key="path_dl_csv",
                       icon=":material/table:", help="beta, objective, bound, gap, width, losses, group norm of every neuron ever active")
    d2.download_button(f"Network at beta = {path.betas[k]:.3g} (JSON)", path.network(k).to_json(),
                       file_name=f"network_beta_{path.betas[k]:.4g}.json", mime="application/json", key="path_dl_json",
                       icon=":material/data_object:")
    code = path_snippet(c, data, int(ss.get(solve.PATH_SAMPLES, 0)), ss["path_nbetas"], ss["path_ratio"], k, path)
    if code and not lecture.active():
        with st.expander("Reproduce this path in Python"):
            st.code(code, language="python")


selected_beta_view()
