"""Overview: the idea in a few lines, one certified convex fit, own data, presets and exports."""
import streamlit as st

import cvx_core
from pages.common import lecture, solve
from pages.common.cache.keys import fingerprint
from pages.common.controls import presets
from pages.common.controls.routing import through_app
from pages.common.data import editing, upload
from pages.common.data.registry import data_for
from pages.common.export import panels
from pages.common.export.chart import cached, chart
from pages.common.figures.base import add_click_layer, decision_figure, regression_figure
from pages.common.url import keep

through_app()  # a fresh server may run this file alone (legacy pages/ mode)
c = st.session_state["controls"]
st.title("Convex NN Explorer")
lecture.note(
    "A two-layer network with a piecewise-linear activation, trained with weight decay, is "
    "**exactly** a convex group-lasso program over the *activation patterns* of the data "
    "(the cells of a hyperplane arrangement). Solving it gives the certified global optimum: "
    "no learning rate, no initialisation, no luck."
)
st.latex(r"\min_{u_j,\alpha_j} L\Big(\sum_j \sigma(\tilde X u_j)\alpha_j, y\Big) + \frac{\beta}{2}\sum_j(\|u_j\|^2+\alpha_j^2)")
st.latex(r"\begin{aligned}&=\;\min_{v_i,w_i\in K_{D_i}} L\Big(\sum_i S_i\tilde X(v_i-w_i), y\Big)\\"
         r"&\qquad+\beta\sum_i(\|v_i\|+\|w_i\|)\end{aligned}")  # two lines: one is too wide at 1024 px
lecture.explain("The bias is the last coordinate of each hidden weight (x~ = [x, 1]) and is regularised like the others.")

if not lecture.active():
    # drawn only while open: a fresh server's first page has enough to load
    with st.expander("Teaching scenarios (links to exact views)", icon=":material/school:", key="home_presets_open",
                     on_change="rerun") as box:
        if box.open:
            presets.links()

data = data_for(c)
f = solve.fit(c, data, key="home", spinner="Solving the convex program over all activation patterns...")

if f is not None:
    m = st.columns(3) + st.columns(3)  # two rows: five metrics in one row are unreadable at 1024 px
    m[0].metric("Objective", f"{f.objective:.5g}", help=f"L(yhat, y) + beta * sum of group norms = {f.objective:.10g}")
    m[1].metric("Certified gap", f"{f.gap:.1e}", help="(objective - dual lower bound) / objective, from the dual certificate over the patterns used")
    m[2].metric("Active neurons", f.n_neurons, help="blocks with norm > 1e-6 x the largest, after pruning")
    m[3].metric("Patterns", f"{f.n_patterns:,}", help="exact enumeration of the arrangement's cells" if f.exact_patterns
                else "sampled, then grown by the pattern search" if "pattern_search" in f.info else "sampled patterns")
    m[4].metric("Solve time", f"{f.solve_time:.2f} s")
    m[5].metric("Status", f.status, help=cvx_core.STATUSES[f.status])

mode = editing.edit_controls(data.task) if not lecture.active() else "off"
predict = f.network.predict if f is not None else None
certified = f is not None and f.status == "optimal"
title = ("Convex fit (global optimum)" if certified and f.exact_patterns
         else "Convex fit" if f is not None else "Data")


def _figure():
    if data.task == "regression":
        fig = regression_figure(data.X, data.y, predict, x_test=data.X_test, y_test=data.y_test, title=title)
    else:
        fig = decision_figure(data.X, data.y, predict, X_test=data.X_test, y_test=data.y_test,
                              title=title + (": decision function and boundary" if predict else ""),
                              marker_size=lecture.marker_size())
    if mode != "off":
        add_click_layer(fig, data, predict)
    return fig


fit_id = fingerprint(f.network.U, f.network.alpha) if f is not None else None
fig = cached(("home", c, fit_id, f is not None and f.exact_patterns, mode), _figure)
chart(fig, filename=f"convex_fit_{c.dataset if not c.source else 'user'}", **editing.chart_target(data, mode))
if f is not None:
    lecture.explain(
        ("How to read this: colour is the network output f(x) (orange > 0, blue < 0), the black line is f(x) = 0. "
         if data.task != "regression" else "How to read this: dots are the data, the green curve is the fitted network. ")
        + (f"The fit is certified optimal at beta = {c.beta:.3g} over the patterns used: "
           if certified else f"The fit at beta = {c.beta:.3g} is not certified optimal ({cvx_core.STATUSES[f.status]}): ")
        + f"the certificate cert(lambda)/beta = {f.certificate:.6f} (1 at the optimum) and the relative gap "
        f"{f.gap:.1e} are computed from the returned solution (status: {f.status}). Pick a click mode above to add "
        "or remove points; every page uses the edited data."
    )

if not lecture.active():
    # Lazy boxes (drawn only while open; opening one reruns the page): the two file uploaders'
    # code was a tenth of the browser's work on a fresh visitor's first page, and the model JSON,
    # the CSV files and the snippet cost every re-solve otherwise.
    with st.expander("Own data: upload a CSV", icon=":material/upload_file:", key="home_upload_open", on_change="rerun",
                     expanded=c.source != "" and st.session_state.get("src") == "upload") as box:
        if box.open:
            upload.upload_panel(data)
        else:
            keep("rescale")  # the box's toggle, bound to the URL
    with st.expander("Export: figure, model, data, Python snippet", icon=":material/download:", key="home_export_open",
                     on_change="rerun") as box:
        if box.open:
            panels.export_panel(c, data, f, st.session_state.get("home_samples", 0) or "exact")
    with st.expander("Certify a network trained elsewhere (JSON weights)", icon=":material/verified:",
                     key="home_certify_open", on_change="rerun") as box:
        if box.open:
            panels.certify_panel(c, data)
