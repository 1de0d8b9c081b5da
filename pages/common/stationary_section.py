"""The SGD-versus-convex page's stationary-point view: one run (the live one or one of the
comparison's) analysed through the convex program over its own patterns, its certificate
curve, its patterns, and the insertion of the most violating neuron."""
from __future__ import annotations

from dataclasses import astuple

import streamlit as st

from . import errors, lecture
from .cache import sgd as cs
from .cache.keys import fingerprint
from .controls import sgd as ctl
from .export.chart import cached, chart
from .figures.sgd import certificate_figure, pattern_figure, run_label


def run_fingerprint(h) -> str:
    """Content hash of a run (its weights and objective trace) for figure-cache keys."""
    return fingerprint(h.network.U, h.network.alpha, h.objective)


def stationary_section(c, s, X, y, live_run, runs, p_star) -> None:
    """Draw the view for the run chosen on the page (``sgd_run``: "live" or a run's index)."""
    ss = st.session_state
    st.subheader("Stationary-point view")
    labels = {"live": "live run"} | {str(i): run_label(r) for i, r in enumerate(runs or [])}
    if ss["sgd_run"] not in labels:
        ss["sgd_run"] = "live"
    r = st.columns([2, 1])
    r[0].selectbox("Run to analyse", list(labels), key="sgd_run", format_func=labels.get)
    r[1].select_slider("Kink tolerance", ctl.KINK_OPTIONS, key="sgd_kink", format_func=lambda v: f"{v:g}",
                       help="a point is on a kink of neuron j when |x~'u_j| <= tol ||x~|| ||u_j|| (or its pattern bit kept flipping late in the run)")
    run = live_run if ss["sgd_run"] == "live" else runs[int(ss["sgd_run"])]
    with st.spinner("Analysing the run: the convex program over its own patterns and its certificate (cached) ..."):
        a = errors.attempt(lambda: cs.analysis_for(run, X, y, ss["sgd_kink"]), doing="analysing the run",
                           bad="Cannot analyse the run")
    if a is None:
        st.stop()
    m = st.columns(3) + st.columns(3)  # two rows: six metrics in one row are unreadable at 1024 px
    m[0].metric("Run objective", f"{a.objective:.5g}")
    m[1].metric("Restricted optimum", f"{a.restricted_objective:.5g}",
                help=f"convex program over the run's own {a.n_patterns} patterns ({a.n_live} live neurons)")
    m[2].metric("Rel. difference", f"{a.restricted_gap:.1e}", help="equal (0) when the run is at a stationary point")
    m[3].metric("Gradient norm", f"{a.grad_norm:.1e}")
    m[4].metric("Points on a kink", a.n_kink_points, help="only Clarke-stationary there")
    m[5].metric("cert / beta", f"{a.certificate.certificate:.4f}", help="<= 1: globally optimal (if stationary); > 1: u* is a neuron to add")
    left, right = st.columns(2)
    with left:
        if a.curve is None:
            st.info("The certificate curve is drawn for d' <= 3 (2-D data, or 1-D data with bias).")
        else:
            chart(cached(("sgd_cert", c, run_fingerprint(run), ss["sgd_kink"]),
                         lambda: certificate_figure(a.curve, a.certificate.certificate)),
                  key="sgd_fig_cert", filename="sgd_certificate")
            lecture.explain("How to read this: c(u) = lambda' sigma(X~u) over unit directions u (lambda = -grad of the loss). "
                            "Global optimality needs |c(u)| <= beta everywhere (green band / the +-1 contours); at a stationary point "
                            "every live neuron (dot) sits on the band edge. The star is u*, the most violated direction.")
    with right:
        names = [f"neuron {j} ({'+' if run.network.alpha[j] > 0 else '-'})" for j in a.live.nonzero()[0]]
        pats = a.patterns[a.neuron_patterns[a.live]]
        chart(cached(("sgd_patterns", c, run_fingerprint(run), ss["sgd_kink"]),
                     lambda: pattern_figure(pats, names, a.kinks[:, a.live], a.margins[:, a.live])),
              key="sgd_fig_pat", filename="sgd_patterns")
        lecture.explain("How to read this: one row per live neuron (sign of alpha in brackets), one column per point; green = the "
                        "neuron is active (x~'u >= 0). These patterns define the restricted convex program. Crosses: points on a kink.")
    key = (ss["sgd_run"], run.n_steps, astuple(s))
    st.button("Insert the violating neuron", key="sgd_insert", on_click=ctl.insert_one, args=(key,), icon=":material/add_circle:",
              disabled=a.certificate.certificate <= 1 + 1e-6 or a.n_live == 0)
    with st.spinner("Inserting the violating neuron and re-solving (cached) ..."):
        chain = ctl.insertions(key, a, run, X, y)
    for i, ins in enumerate(chain, 1):
        if not ins.added:
            st.success(f"Insertion {i}: cert/beta = {ins.certificate_before.certificate:.6f} <= 1, nothing left to insert.")
            break
        st.write(f"Insertion {i}: added u*'s pattern ({ins.patterns.shape[0]} patterns); restricted optimum "
                 f"{ins.before.objective:.6g} -> {ins.after.objective:.6g} (drop {ins.drop:.4g}, {ins.relative_drop:.2%}); "
                 f"cert/beta {ins.certificate_before.certificate:.4f} -> {ins.certificate_after.certificate:.4f}; "
                 f"solve {ins.after.solve_time:.2f} s" + (f"; p* = {p_star:.6g}" if p_star else ""))
