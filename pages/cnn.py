"""Convolutional networks: the bounded-rank case, trained to a certified global optimum."""
import numpy as np
import streamlit as st

from pages.common import errors, lecture
from pages.common.cache import cnn as cc
from pages.common.controls import cnn as ctl
from pages.common.controls import stop
from pages.common.controls.fragment import page_fragment
from pages.common.controls.routing import through_app
from pages.common.export.chart import cached, chart
from pages.common.figures import cnn as fc

through_app()  # a fresh server may run this file alone (legacy pages/ mode)
c, ss = st.session_state["controls"], st.session_state
st.title("Convolutional networks")
lecture.note("A two-layer CNN slides each filter over the patches of a signal and pools what it sees. Its filter "
             "only ever meets the h-dimensional patches, so its activation patterns are the cells of an arrangement "
             "in R^h (R^(h+1) with a bias), however many samples there are: the convex program stays polynomial "
             "in the number of patches, and is solved here exactly, with a certificate.")
st.latex(r"\begin{gathered}f(x)=\sum_j \alpha_j\, p\sum_k \sigma(\tilde x_k^\top u_j),\qquad "
         r"\min\ L(f(X),y)+\tfrac{\beta}{2}\sum_j\big(\|u_j\|^2+\alpha_j^2\big)\\"
         r"p = 1\ (\text{sum}),\ 1/K\ (\text{mean});\qquad D(u)=\mathrm{diag}\big(1[Zu\ge 0]\big),\ "
         r"Z=[\tilde X_1;\dots;\tilde X_K]\end{gathered}")
st.caption("Activation, loss and bias come from the sidebar; its data set and beta belong to the 2-D pages.")
s = ctl.controls(c)
beta = float(10 ** ss["cnn_log_beta"])
data = errors.attempt(lambda: cc.data(s), doing="making the data", bad="Cannot cut these patches")
if data is None:
    st.stop()
X, y = data
lrs = tuple(float(v) for v in ss["cnn_lrs"])
run_args = (s, beta, ss["cnn_opt"], lrs, int(ss["cnn_seeds"]), int(ss["cnn_width"]), int(ss["cnn_steps"]),
            int(ss["cnn_batch"]))
with st.spinner("Solving the convex program over the patch vectors' patterns (cached) ..."):
    fit = errors.attempt(lambda: cc.fit(s, beta), doing="fitting", bad="No convex optimum for these settings")
if fit is None:
    st.stop()
errors.status_warning(fit.status, fit.gap, fit.solver)
net, K = fit.network, fit.info["n_patches"]
dim = net.U.shape[1]
key = (s, beta)

m = st.columns(3) + st.columns(3)  # two rows: six metrics in one row are unreadable at 1024 px
m[0].metric("Convex optimum p*", f"{fit.objective:.6g}", help="L + (beta/2) sum(||u_j||^2 + alpha_j^2) of the network below")
m[1].metric("Certified gap", f"{fit.gap:.1e}", help=f"(p* - lower bound) / p*; lower bound {fit.lower_bound:.10g}; status {fit.status}")
m[2].metric("Filters", fit.n_neurons, help="active after pruning (one per nonzero block)")
m[3].metric("Patterns", f"{fit.n_patterns:,}", "every one (exact)" if fit.exact_patterns else "sampled",
            delta_color="off", delta_arrow="off", help=f"cells of the {len(fit.patterns[0]):,} patch vectors in R^{dim}")
m[4].metric("Patch vectors n K", f"{len(X)} x {K} = {len(X) * K}")
m[5].metric("Solve time", f"{fit.solve_time:.2f} s", help=f"{fit.info['rounds']} working-set rounds, cached after")
if not fit.exact_patterns:
    st.info(f"Cover's count for rank {dim} is too large to enumerate interactively: the program uses "
            f"{fit.n_patterns:,} patterns of sampled directions and the gap is certified over those only.")

left, right = st.columns(2)
with left:
    chart(cached(("cnn_data", key), lambda: fc.signals_figure(X, y, fit.predictions)),
          key="cnn_data_fig", filename="cnn_data")
    lecture.explain("How to read this: each line is one signal (images: one tile), orange labelled +1, blue -1; "
                    "the hover gives the fitted output f.")
with right:
    chart(cached(("cnn_filters", key), lambda: fc.filters_figure(net.U, net.alpha, s.filter_size, s.bias, s.images)),
          key="cnn_filters_fig", filename="cnn_filters")
    lecture.explain("How to read this: each panel is one learned filter u_j (stems over its h positions; images: a "
                    "tile), titled with its output weight alpha_j and bias b.")
    st.download_button("Network (JSON)", net.to_json(), file_name="convnet.json", mime="application/json",
                       icon=":material/download:", help="cvx_core.cnn.ConvNet.from_json reads it back")



@page_fragment
def cnn_switched_on() -> None:
    """The filter j control and its chart: choosing a filter reruns only this part."""
    st.subheader("Which patches switch each filter on")
    ss["cnn_filter"] = min(ss["cnn_filter"], net.n_filters - 1)
    st.number_input(f"Filter j (0..{net.n_filters - 1}, by |alpha| as above)", 0, net.n_filters - 1, key="cnn_filter")
    j = int(np.argsort(-np.abs(net.alpha))[ss["cnn_filter"]])
    on = net.switched_on(X)[:, :, j]
    chart(cached(("cnn_on", key, j), lambda: fc.switched_on_figure(on, y, ss["cnn_filter"])), key="cnn_on_fig",
          filename="cnn_switched_on")
    lecture.explain("How to read this: a green square is a patch x~_k of sample i with x~_k'u_j >= 0; the filter's "
                    "joint pattern is all of these bits at once, one cell of the arrangement below.")


if net.n_filters:
    cnn_switched_on()

st.subheader("Filter space: every patch vector a line")
if dim in (2, 3):
    Z = cc.patch_design(s)
    chart(cached(("cnn_space", key), lambda: fc.filter_space_figure(
        Z, net.U, net.alpha, len(X), ("u1", "u_bias") if dim == 2 and s.bias else ("u1", "u2"))), key="cnn_space_fig",
          filename="cnn_filter_space", live=True)
    lecture.explain("How to read this: each patch x~_k of each sample is a line x~_k'u = 0 "
                    + ("through the origin (no bias: the cells are wedges). " if dim == 2 else "in the slice u_bias = +1 "
                       "or -1 (the two slices of the Arrangements page; each filter is drawn as u / |u_bias|). ")
                    + "The lines cut filter space into cells, one per joint pattern; a diamond is a filter of the fit "
                      "and the shaded polygon its cell (vermillion: alpha > 0, blue: alpha < 0). Hover a line's dot for "
                      "its sample and patch.")
else:
    st.info("Filter space is drawn for filter size 2 on signals (two weights, or three with the bias: the plane "
            "and its two slices).")

st.subheader("How many patterns? Polynomial in n K")
cnt = cc.counts(s)
sampled = None if fit.exact_patterns else (len(X) * K, fit.n_patterns)
chart(cached(("cnn_counts", s, sampled), lambda: fc.counts_figure(cnt["nK"], cnt["engine"], cnt["cover"], cnt["bound"],
                                                                   sampled)),
      key="cnn_counts_fig", filename="cnn_pattern_counts")
lecture.explain(f"How to read this: the line is Cover's count 2 sum_(k<r) C(nK-1, k) of the patch vectors' cells in "
                f"rank r = h' = {dim}, a polynomial of degree {dim - 1} in n K, however long the signals are; "
                + ("circles enumerate the patterns of the first samples' patch vectors exactly (as far as "
                   f"{cc.UI_MAX_PATTERNS:,} cells)." if np.isfinite(cnt["engine"]).any() else
                   f"even the first sample's patch vectors have more than {cc.UI_MAX_PATTERNS:,} cells, too many to "
                   "enumerate here.")
                + ("" if sampled is None else " The diamond is the number of distinct patterns the fit's sampled "
                   "directions found, the program it solved."))

st.subheader("Gradient training on the same objective")
ctl.training_controls()
if lrs:
    hs = stop.run_or_offer("cnn_runs", run_args, "The gradient training",
                           lambda: errors.attempt(lambda: cc.runs(*run_args), doing="training", bad="Cannot train"))
    if hs:
        chart(cached(("cnn_runs", key, ss["cnn_opt"], lrs, ss["cnn_seeds"], ss["cnn_width"], ss["cnn_steps"],
                      ss["cnn_batch"]),
                     lambda: fc.runs_figure(hs, fit.objective if fit.exact_patterns else None)),
              key="cnn_runs_fig", filename="cnn_gradient_runs", live=True)
        best = min(h.final_objective for h in hs)
        if fit.exact_patterns:
            st.metric("Best run above p*", f"{(best - fit.objective) / fit.objective:.2%}",
                      help="(best final objective - certified convex optimum) / convex optimum")
        lecture.explain("How to read this: every run minimises the same objective F from its own initialisation; "
                        "none can end below the dashed line, the certified global optimum (over every pattern).")
