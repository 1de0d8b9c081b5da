"""SGD versus convex training: the same objective trained both ways, side by side."""
from dataclasses import astuple

import streamlit as st

from pages.common import errors, lecture
from pages.common.cache import sgd as cs
from pages.common.cache.fit import fit_for
from pages.common.controls import sgd as ctl
from pages.common.controls import stop
from pages.common.controls.fragment import fragment_rerun, page_fragment
from pages.common.controls.routing import through_app
from pages.common.data.registry import data_for
from pages.common.export.chart import cached, chart
from pages.common.figures.sgd import (final_gaps_table, gap_meaning, live_run_traces, objective_curves_figure,
                                      sensitivity_figure, side_by_side_figure)
from pages.common.real_data_section import KEY as RD_KEY, render_real_data_section
from pages.common.stationary_section import run_fingerprint, stationary_section
from pages.common.url import bind_all

through_app()  # a fresh server may run this file alone (legacy pages/ mode)
c = st.session_state["controls"]
ss = st.session_state
st.title("SGD versus convex training")
lecture.note(
    "The same network and the same objective F = L + (beta/2) sum(||u_j||^2 + alpha_j^2), trained two ways: "
    "gradient methods in numpy (the result depends on learning rate, initialisation and luck) and the convex "
    "program (the certified global optimum, no tuning)."
)
bind_all(ctl.CONTROLS)
#: Session key of the comparison this session has drawn (ctl.comparison_key).
DRAWN = "sgd_runs_drawn"


@page_fragment(plain=ss.get(DRAWN) != ctl.comparison_key(c))  # a comparison to compute: its Stop must work
def sgd_views() -> None:
    """Everything below the title: the page's own controls rerun this fragment, not the sidebar."""
    ctl.settings_panel()

    data = data_for(c)
    X, y = data.X, data.y
    with st.spinner("Solving the convex program over all activation patterns (cached) ..."):
        fit = errors.attempt(lambda: fit_for(c, data), doing="fitting", bad="No convex optimum for these settings",
                             hint="SGD runs are shown without the convex optimum.")
    p_star = fit.objective if fit is not None else None
    s = ctl.setup_for(c)
    steps = int(ss["sgd_steps"])
    tol = ctl.tol()
    h = errors.attempt(lambda: ctl.live(s, X, y), doing="training", bad="Cannot train")
    if h is None:
        st.stop()

    st.subheader("Live run")
    b = st.container(horizontal=True, gap="small")  # buttons as wide as their labels (columns truncate them at 1024 px)
    b.button("Play", key="sgd_play", on_click=ctl.set_playing, args=(True,), icon=":material/play_arrow:",
             disabled=ctl.finished(h, steps))
    b.button("Pause", key="sgd_pause", on_click=ctl.set_playing, args=(False,), icon=":material/pause:")
    b.button(f"Step +{ctl.chunk(steps)}", key="sgd_step", on_click=ctl.step, args=(s, X, y, ctl.chunk(steps), steps),
             icon=":material/skip_next:", help=f"train {ctl.chunk(steps)} more steps")
    b.button("Reset", key="sgd_reset", on_click=ctl.reset, icon=":material/replay:", help="same initialisation")
    b.button("New seed", key="sgd_newseed", on_click=ctl.new_seed, icon=":material/casino:")


    @st.fragment(run_every=0.4 if ss.get(ctl.PLAYING) else None)
    def live_view():
        if ctl.tick(s, X, y, steps):
            st.rerun(scope="app")  # finished or stopped: refresh the whole page (stationary view)
        hl = ctl.live(s, X, y)
        if ss.get(ctl.ERROR):
            errors.bad_input(ss[ctl.ERROR])
        st.progress(min(hl.n_steps / steps, 1.0), text=f"step {hl.n_steps} of {'at most ' if tol else ''}{steps}"
                    + (" (playing)" if ss.get(ctl.PLAYING) else "") + (" (stationary)" if tol and hl.stationary else ""))
        m = st.columns(3) + st.columns(3)  # two rows: six metrics in one row are unreadable at 1024 px
        m[0].metric("SGD objective", f"{hl.final_objective:.5g}", help="F at the current weights (same function as the engine's)")
        m[1].metric("Convex p*", f"{p_star:.5g}" if p_star else "n/a",
                    help=f"certified convex optimum {p_star:.10g} (gap {fit.gap:.1e})" if fit else None)
        m[2].metric("Gap to p*", f"{(hl.final_objective - p_star) / p_star:.3g}" if p_star else "n/a",
                    help="(SGD objective - certified convex optimum) / convex optimum")
        m[3].metric("Stationarity", f"{hl.stationarity:.1e}",
                    help=f"smallest subgradient of F (any slope at a kink); the gradient itself is {hl.grad_norm[-1]:.1e}")
        m[4].metric("SGD wall time", f"{hl.wall_time:.2f} s", help="training time of this run so far")
        m[5].metric("Convex solve", f"{fit.solve_time:.2f} s" if fit else "n/a", help="all patterns, certified (cached)")
        st.markdown(f"**Live run, what the gap means:** {gap_meaning(hl, p_star, float(ss['sgd_tol']))}" if hl.n_steps else
                    "**Live run:** at its initialisation; press Play.")
        nets = {f"{ctl.SHORT[s.optimizer]}, step {hl.n_steps}": hl.network.predict}  # short: two titles share the row
        if fit is not None:
            nets["Convex optimum"] = fit.network.predict
        live_key = ("sgd_live", c, astuple(s), run_fingerprint(hl))  # what the figure shows
        chart(cached(live_key, lambda: side_by_side_figure(
            X, y, nets, regression=data.task == "regression", X_test=data.X_test, y_test=data.y_test)),
            key="sgd_fig_live", filename="sgd_vs_convex", live=True)
        lecture.explain("How to read this: left the network trained by the gradient method at the current step, right the convex "
                        "optimum; one colour scale for both (orange f > 0, blue f < 0, black line f = 0; 1-D data: both curves). "
                        "Play trains in chunks so the page stays responsive; Pause stops between chunks.")


    live_view()

    st.subheader("Several runs: learning rate x seed")
    lrs = [float(v) for v in ss["sgd_lrs"]] or [s.lr]
    seeds = list(range(s.seed, s.seed + int(ss["sgd_nseeds"])))
    runs_key = ("sgd_runs", c, astuple(s), steps, tuple(lrs), tuple(seeds), tol)
    comparison = ctl.comparison_key(c)
    if fragment_rerun() and ss.get(DRAWN) != comparison:
        st.rerun(scope="app")  # a new comparison to compute: in a full run, where its Stop button works
    runs = stop.run_or_offer("sgd_runs", runs_key, "The comparison", lambda: cs.runs(s, steps, lrs, seeds, data, tol))
    if runs is not None:
        ss[DRAWN] = comparison
    live_run = ctl.live(s, X, y)  # after the live view: its state at the end of this run
    if runs is not None:
        # the live run is drawn over the runs' cached curves (a live chart overlay): a new live run redraws no curve
        chart(cached(comparison + ("curves",), lambda: objective_curves_figure(runs, p_star, live_legend=True)),
              key="sgd_fig_curves", filename="sgd_objectives", live=True, overlay=live_run_traces(live_run))
        lecture.explain("How to read this: the objective F of every run against the step (log scale); colour = learning rate, "
                        "dash = seed, black = the live run; the dashed green line is the certified convex optimum p*, a floor no "
                        "run can cross. Hover for the exact gap.")
        table = final_gaps_table(runs, p_star, float(ss["sgd_tol"]))
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={"gap to p* (relative)": st.column_config.NumberColumn(format="percent")})
    d = st.columns(3)
    if runs is not None:
        d[0].download_button("Final objectives (CSV)", table.to_csv(index=False), "sgd_runs.csv", "text/csv", key="sgd_dl_csv")
    d[1].download_button("Live network (JSON)", live_run.network.to_json(), "sgd_network.json", "application/json", key="sgd_dl_net")
    if fit is not None:
        d[2].download_button("Convex network (JSON)", fit.network.to_json(), "convex_network.json", "application/json", key="sgd_dl_cvx")
    if runs is not None:
        chart(cached(comparison + ("grid",), lambda: sensitivity_figure(runs, p_star, fit.solve_time if fit else None)),
              key="sgd_fig_grid", filename="sgd_sensitivity")
        lecture.explain(f"How to read this: final objective of each (learning rate, seed) at the end of its run "
                        f"({'once stationary, ' if tol else ''}at most {steps} steps), with its gap to p*; right, the convex "
                        f"optimum (one number, no tuning) and its solve time. The {len(runs)} runs trained together in "
                        f"{runs[0].wall_time:.2f} s (one batched numpy tensor).")

    stationary_section(c, s, X, y, live_run, runs, p_star)

    # Lazy: the study's table and figure are built only while the expander is open (they cost every
    # rerun of this page otherwise); a shared link that names a study data set opens it.
    with st.expander("Real data (precomputed study)", expanded=RD_KEY in st.query_params, key="sgd_rd_open",
                     on_change="rerun") as rd:
        if rd.open:
            render_real_data_section()


sgd_views()
