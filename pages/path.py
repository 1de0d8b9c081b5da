"""Sparsity path: group norms of the convex program's neurons as beta falls from beta_max."""
import numpy as np
import streamlit as st

from pages.common import cache
from pages.common.cache_path import path_for
from pages.common.fig_path import animation_figure, fit_figure, loss_figure, path_figure
from pages.common.state import bind

RATIOS = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3)


def _ratio(raw: str) -> float:
    v = float(raw)
    if v not in RATIOS:
        raise ValueError(raw)
    return v


def _int_in(lo, hi):
    def parse(raw: str) -> int:
        v = int(raw)
        if not lo <= v <= hi:
            raise ValueError(raw)
        return v
    return parse


if "controls" not in st.session_state:
    # A fresh server can run this file directly in Streamlit's legacy pages/ mode, before app.py
    # (and its shared controls) ever ran; send the session through app.py, keeping the URL state.
    st.switch_page("app.py", query_params=st.query_params.to_dict())
c = st.session_state["controls"]
st.title("Sparsity path")
st.markdown(
    "Each neuron of the convex program is a group (an activation pattern and a sign): its norm is zero for "
    "beta above **beta_max** and grows as beta falls. The optimiser, not you, decides the width. "
    "Every point is solved with a warm start from the previous one and certified by its dual gap."
)
bind("path_ratio", 1e-2, _ratio)
bind("path_nbetas", 20, _int_in(3, 40))
bind("path_play", False, lambda raw: raw in ("1", "true"))
left, right = st.columns(2)
left.select_slider("Smallest beta, as a fraction of beta_max", RATIOS, key="path_ratio", format_func=lambda v: f"{v:g}")
right.slider("Number of betas (log-spaced)", 3, 40, key="path_nbetas")

try:
    path = path_for(c, st.session_state["path_nbetas"], st.session_state["path_ratio"])
except ValueError as exc:
    st.error(str(exc))
    st.stop()
except RuntimeError as exc:
    st.warning(f"The solver did not finish: {exc}")
    st.stop()
data = cache.data_for(c)
K = path.n_betas

m = st.columns(5)
m[0].metric("beta_max", f"{path.beta_max:.4g}", help="smallest beta at which the zero network is optimal (exact over all patterns)")
m[1].metric("Betas solved", K)
m[2].metric("Path time", f"{path.total_time:.2f} s", help="all solves plus beta_max; cached afterwards")
m[3].metric("Patterns", f"{path.n_patterns:,}", help="exact enumeration" if path.exact_patterns else "sampled")
m[4].metric("Worst certified gap", f"{path.gaps.max():.1e}", help="largest relative duality gap over the path")
bad = [f"{b:.3g} ({s})" for b, s in zip(path.betas, path.statuses) if s != "optimal"]
if bad:
    st.warning("Solver status other than optimal at beta = " + ", ".join(bad))

near = int(np.argmin(np.abs(np.log(path.betas) - np.log(c.beta))))
bind("path_k", near, _int_in(0, 39))
if st.session_state["path_k"] >= K:
    st.session_state["path_k"] = K - 1


def _step(delta: int) -> None:
    st.session_state["path_k"] = int(np.clip(st.session_state["path_k"] + delta, 0, K - 1))


s0, s1, s2 = st.columns([6, 1, 1], vertical_alignment="bottom")
s0.select_slider("Selected beta (snaps to the computed path; nothing is re-solved)", range(K), key="path_k",
                 format_func=lambda k: f"{path.betas[k]:.3g}")
s1.button("Prev", key="path_prev", help="one step to a larger beta", on_click=_step, args=(-1,), disabled=st.session_state["path_k"] == 0, width="stretch")
s2.button("Next", key="path_next", help="one step to a smaller beta", on_click=_step, args=(1,), disabled=st.session_state["path_k"] == K - 1, width="stretch")
k = st.session_state["path_k"]

m = st.columns(5)
m[0].metric("beta", f"{path.betas[k]:.4g}", help=f"{path.betas[k] / path.beta_max:.3g} x beta_max")
m[1].metric("Objective", f"{path.objectives[k]:.6g}", help="L(yhat, y) + beta * sum of group norms")
m[2].metric("Certified gap", f"{path.gaps[k]:.1e}", help=f"(objective - dual lower bound) / objective; cert(lambda)/beta = {path.certificates[k]:.6f}")
m[3].metric("Width", int(path.n_neurons[k]), help="active neurons after pruning: blocks with norm > 1e-6 x the largest")
m[4].metric("Solve time", f"{path.solve_times[k]:.2f} s", help="this beta, warm-started from the previous one")

a, b = st.columns(2)
with a:
    st.plotly_chart(path_figure(path, k), width="stretch", key="path_fig_path")
    st.caption("How to read this: each line is one neuron, a group of the convex program (pattern D_i with sign + "
               "for v_i, output weight > 0, solid vermillion; sign - for w_i, output weight < 0, dashed blue); its height "
               "is the group norm ||u|| |alpha|. beta decreases to the right; the top panel counts active neurons. Dotted "
               "grey lines mark where the active set changes (hover: who enters and leaves); green is the selected beta.")
with b:
    try:
        st.plotly_chart(fit_figure(path, k, data.X, data.y, data.X_test, data.y_test), width="stretch",
                        key="path_fig_fit")
        st.caption("How to read this: the network at the selected beta. Each active neuron is drawn in data space "
                   "(2-D: the line x~'u = 0 where it switches on; 1-D: its contribution alpha sigma(x~'u)); line width "
                   "grows with its group norm; hover names its pattern. A 2-D neuron whose line misses the plotted "
                   "box is on (or off) over the whole box and is not drawn.")
    except ValueError as exc:
        st.error(str(exc))

st.plotly_chart(loss_figure(path, k), width="stretch", key="path_fig_loss")
if path.test_loss is None:
    st.info("Set a test fraction in the sidebar to see test error, the best beta and the one-standard-error choice.")
    st.caption("How to read this: mean per-sample training loss (no penalty) at each beta; green is the selected beta.")
else:
    st.caption(f"How to read this: mean per-sample {path.loss} loss (no penalty) on the training and test splits; "
               f"bars are +-1 standard error over test samples. Best beta {path.betas[path.best_index]:.3g} (min test loss, "
               f"width {path.n_neurons[path.best_index]}); one-SE choice {path.betas[path.one_se_index]:.3g} (largest beta "
               f"within one SE of the best, width {path.n_neurons[path.one_se_index]}). A single split: the SE is over test "
               "samples, not cross-validation folds.")

if st.toggle("Play: animate the fit and its neurons over beta", key="path_play"):
    try:
        st.plotly_chart(animation_figure(path, data.X, data.y), width="stretch", key="path_fig_anim")
        st.caption("How to read this: press Play (or drag the slider under the plot) to step through the path from "
                   "beta_max (zero network) to the smallest beta; the title gives width and objective at each frame.")
    except ValueError as exc:
        st.error(str(exc))

d1, d2 = st.columns(2)
d1.download_button("Download the path (CSV)", path.to_csv(), file_name="path.csv", mime="text/csv", key="path_dl_csv")
d2.download_button(f"Download the network at beta = {path.betas[k]:.3g} (JSON)", path.network(k).to_json(),
                   file_name=f"network_beta_{path.betas[k]:.3g}.json", mime="application/json", key="path_dl_json")
with st.expander("Reproduce in Python"):
    st.code(
        "from cvx_core.datasets import load_dataset\nfrom cvx_core.path import regularization_path\n"
        f"d = load_dataset({c.dataset!r}, {c.n}, {c.noise}, {c.seed}, {c.test})\n"
        f"path = regularization_path(d.X, d.y, n_betas={K}, min_ratio={st.session_state['path_ratio']:g}, "
        f"activation={c.activation!r}, leak={c.leak}, loss={c.loss!r}, bias={c.bias},\n"
        "                           X_test=d.X_test, y_test=d.y_test)\n"
        f"net = path.network({k})  # beta = {path.betas[k]:.6g}\nprint(path.to_csv())", language="python")
