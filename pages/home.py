"""Overview: the idea in a few lines, and one certified convex fit on built-in data."""
import streamlit as st

from pages.common import cache
from pages.common.figures import decision_figure, regression_figure

c = st.session_state["controls"]
st.title("Convex NN Explorer")
st.markdown(
    "A two-layer network with a piecewise-linear activation, trained with weight decay, is "
    "**exactly** a convex group-lasso program over the *activation patterns* of the data "
    "(the cells of a hyperplane arrangement). Solving it gives the certified global optimum: "
    "no learning rate, no initialisation, no luck."
)
st.latex(r"\min_{u_j,\alpha_j} L\Big(\sum_j \sigma(\tilde X u_j)\alpha_j, y\Big) + \frac{\beta}{2}\sum_j(\|u_j\|^2+\alpha_j^2)")
st.latex(r"=\;\min_{v_i,w_i\in K_{D_i}} L\Big(\sum_i S_i\tilde X(v_i-w_i), y\Big)+\beta\sum_i(\|v_i\|+\|w_i\|)")
st.caption("The bias is the last coordinate of each hidden weight (x~ = [x, 1]) and is regularised like the others.")

data = cache.data_for(c)
try:
    with st.spinner("Solving the convex program over all activation patterns..."):
        f = cache.fit_for(c)
except ValueError as exc:
    st.error(str(exc))
    st.stop()
except RuntimeError as exc:
    st.warning(f"The solver did not finish: {exc}")
    st.stop()

m = st.columns(5)
m[0].metric("Objective", f"{f.objective:.6g}", help="L(yhat, y) + beta * sum of group norms")
m[1].metric("Certified gap", f"{f.gap:.1e}", help="(objective - dual lower bound) / objective, from the dual certificate over all patterns")
m[2].metric("Active neurons", f.n_neurons, help="blocks with norm > 1e-6 x the largest, after pruning")
m[3].metric("Patterns", f"{f.n_patterns:,}", help="exact enumeration of the arrangement's cells")
m[4].metric("Solve time", f"{f.solve_time:.2f} s")
if data.task == "regression":
    fig = regression_figure(data.X, data.y, f.network.predict, x_test=data.X_test, y_test=data.y_test,
                            title="Convex fit (global optimum)")
else:
    fig = decision_figure(data.X, data.y, f.network.predict, X_test=data.X_test, y_test=data.y_test,
                          title="Convex fit (global optimum): decision function and boundary")
st.plotly_chart(fig, use_container_width=True)
st.caption(
    f"How to read this: colour is the network output f(x) (orange > 0, blue < 0), the black line is f(x) = 0. "
    f"The fit is the global optimum at beta = {c.beta:.3g}: the certificate cert(lambda)/beta = {f.certificate:.6f} "
    f"(1 at the optimum) and the relative gap {f.gap:.1e} are computed from the returned solution (status: {f.status})."
)
