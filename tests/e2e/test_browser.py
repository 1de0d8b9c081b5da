"""Every page in a real browser (Chromium via Playwright) against ``streamlit run app.py``.

Per page: it loads with no exception or error box; moving its main sliders changes the numbers
and the figures it should (read before and after: metric text and the data inside the plotly
figures); clicks on a cell / plot point do what they say; the page's URL (the share link),
opened in a fresh session, shows the same state; screenshots go to test-artifacts/ at 1280x800
and at a projector's 1024x768 (first screen and whole page).

Small data (n = 20 via the query string) and generous timeouts keep it to a few minutes on a
loaded 2-core machine.
"""
from __future__ import annotations

import re
import time
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

import harness as H

N = "n=20"


_T0 = time.monotonic()


def _no_problems(pg, where: str) -> None:
    print(f"[{time.monotonic() - _T0:6.1f} s] {where}")  # shown with -s or on failure: where the time goes
    found = H.problems(pg)
    assert not found, f"{where}: {found}"


def _stable(m: dict) -> dict:
    """Metrics that a link must reproduce (timings are not state)."""
    return {k: v for k, v in m.items() if "time" not in k.lower()}


def _screenshots(pg, name: str) -> None:
    """First screen and whole page, at 1280x800 and 1024x768 (the page is left at 1280x800)."""
    H.ARTIFACTS.mkdir(exist_ok=True)
    for w, h in ((1280, 800), (1024, 768)):
        pg.set_viewport_size({"width": w, "height": h})
        time.sleep(0.8)  # plotly charts resize to their containers
        H.wait_idle(pg)
        pg.screenshot(path=str(H.ARTIFACTS / f"{name}_{w}x{h}.png"))
        full = pg.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
                                      return Math.max(m ? m.scrollHeight : 0, document.body.scrollHeight); }""")
        pg.set_viewport_size({"width": w, "height": int(min(max(full, h), 9000))})
        time.sleep(0.8)
        pg.screenshot(path=str(H.ARTIFACTS / f"{name}_{w}x{h}_full.png"))
    pg.set_viewport_size({"width": 1280, "height": 800})
    time.sleep(0.5)


def _fresh_session_state(browser, url: str, ready: str = H.METRIC):
    """Open ``url`` in a new browser context (a new Streamlit session); return (metrics, page)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = ctx.new_page()
    H.open_page(pg, url, ready)
    return pg, ctx


def _button(pg, key: str):
    return pg.locator(f"{H.chart_sel(key)} button").first


# --------------------------------------------------------------------------- Overview
def test_overview(page, browser, app_url):
    pg = page
    H.open_page(pg, H.page_url(app_url, "home", N))
    _no_problems(pg, "Overview on load")
    assert pg.locator("h1").first.inner_text().strip() == "Convex NN Explorer"
    m0 = H.metrics(pg)
    assert {"Objective", "Certified gap", "Active neurons", "Patterns", "Solve time"} <= set(m0)
    fig0 = H.figure_signature(pg, "home_data_fig")
    assert fig0 is not None, "the data figure is missing"

    # beta (sidebar): a new solve, a new objective and a new decision function
    assert H.slider_value(pg, "log_beta") == "-2.00"
    H.press_slider(pg, "log_beta", 4)
    m1 = H.wait_changed(pg, lambda: H.metrics(pg)["Objective"], m0["Objective"], what="the objective after beta moved")
    assert H.slider_value(pg, "log_beta") == "-1.80"
    assert "log_beta=-1.8" in H.href(pg)
    # a larger beta penalises more: the optimal objective grows with beta
    assert float(m1) > float(m0["Objective"])
    assert H.figure_signature(pg, "home_data_fig") != fig0, "the figure did not follow beta"
    assert H.metrics(pg)["Patterns"] == m0["Patterns"], "beta must not change the data's patterns"
    _no_problems(pg, "Overview after beta")

    # click-to-add: a +1 point appears where the plot was clicked and the fit is redone
    def n_pos(p) -> int:
        return next(t["n"] for t in H.figure_traces(p, H.chart_key(p, "home_")) if t["name"] == "train y=+1")

    n0 = n_pos(pg)
    pg.locator(f"{H.chart_sel('home_click')} button", has_text="Add +1").click()
    H.wait_for(lambda: H.chart_key(pg, "home_") == "home_click_fig_0", what="the clickable figure")
    H.wait_idle(pg)
    key = "home_click_fig_0"
    layer = H.trace_index(pg, key, "t => t.name === 'click layer'")
    data_traces = [i for i, t in enumerate(H.figure_traces(pg, key)) if t["name"].startswith(("train", "test"))]
    before = H.metrics(pg)
    x, y = H.click_far_from(pg, key, layer, data_traces)
    H.wait_for(lambda: "add=" in H.href(pg), what="the added point in the URL")
    H.wait_idle(pg)
    after = H.metrics(pg)
    assert n_pos(pg) == n0 + 1
    pts = H.trace_points(pg, H.chart_key(pg, "home_"), "train y=+1")
    assert any(abs(px - x) < 1e-6 and abs(py - y) < 1e-6 for px, py in pts), "the point is not where it was clicked"
    assert after["Objective"] != before["Objective"]
    assert after["Patterns"] != before["Patterns"], "21 points have more patterns than 20"
    _no_problems(pg, "Overview after a click")

    # the share link reproduces the view in a new session
    url = H.href(pg)
    pg2, ctx = _fresh_session_state(browser, url)
    try:
        _no_problems(pg2, "Overview from the link")
        assert _stable(H.metrics(pg2)) == _stable(after)
        assert H.slider_value(pg2, "log_beta") == "-1.80"
        assert n_pos(pg2) == n0 + 1
    finally:
        ctx.close()
    _screenshots(pg, "overview")

    # the upload box draws its uploader only once opened; it stays open across the runs that follow
    assert not pg.locator('[data-testid="stFileUploader"]').count()
    pg.locator("summary", has_text="Own data: upload a CSV").click()
    uploader = pg.locator('[data-testid="stFileUploader"] input[type="file"]')
    uploader.wait_for(state="attached", timeout=60_000)
    rows = "\n".join(f"{(i % 5) * 10.0},{(i // 5) - 1.5},{'yes' if i % 2 else 'no'}" for i in range(12))
    uploader.set_input_files(files=[{"name": "survey.csv", "mimeType": "text/csv",
                                     "buffer": ("height,weight,answer\n" + rows + "\n").encode()}])
    H.wait_for(lambda: pg.get_by_text("Loaded survey.csv").count() > 0, what="the upload's confirmation")
    H.wait_idle(pg)
    H.press_slider(pg, "log_beta", 2)
    H.wait_for(lambda: H.slider_value(pg, "log_beta") == "-1.70", what="beta after the upload")
    H.wait_idle(pg)
    assert pg.get_by_text("Loaded survey.csv").count(), "the upload box closed on a rerun"
    assert pg.locator('[data-testid="stSidebar"]').get_by_text("uploaded survey.csv").count()
    _no_problems(pg, "Overview after an upload")


# --------------------------------------------------------------------------- Arrangements
def test_arrangements(page, browser, app_url):
    pg = page
    fetched = []
    on_request = lambda r: fetched.append(r.url) if r.url.endswith("/plotly.min.js") else None  # noqa: E731
    pg.on("request", on_request)
    H.open_page(pg, H.page_url(app_url, "arrangements", N))
    pg.remove_listener("request", on_request)
    _no_problems(pg, "Arrangements on load")
    # four live charts, one download of plotly.js (the server gzips each one: ~0.1 s)
    assert len(fetched) == 1, f"plotly.min.js fetched {len(fetched)} times"
    m0 = H.metrics(pg)
    P = int(m0["Patterns (engine)"].replace(",", ""))
    assert m0["Cells drawn"] == m0["Patterns (engine)"] == m0["Cover's count"]
    found_label = next(k for k in m0 if k.startswith("Found by N"))
    assert found_label == "Found by N = 64"

    # N (subsampling): more directions find at least as many cells, the coverage marker moves
    cov0 = H.figure_signature(pg, "arr_coverage")
    H.press_slider(pg, "arr_N", 2)
    H.wait_for(lambda: "Found by N = 256" in H.metrics(pg), what="N = 256")
    H.wait_idle(pg)
    m1 = H.metrics(pg)
    assert P >= int(m1["Found by N = 256"].replace(",", "")) >= int(m0[found_label].replace(",", ""))
    assert H.figure_signature(pg, "arr_coverage") != cov0
    assert "arr_N=256" in H.href(pg)

    # direction u: the zonotope's maximising vertex (the star) moves, in the same plotly graphs
    # (live charts update in place: no remount, no new WebGL context)
    zono0 = H.figure_signature(pg, "arr_zonotope")
    weight0 = H.figure_signature(pg, "arr_weight_chart")
    tag = H.js("(sels) => { sels.forEach((s, i) => { GD(s).__e2eTag = 'kept' + i; }); }")
    kept = H.js("(sels) => { return sels.map((s) => GD(s).__e2eTag || null); }")
    live = [H.chart_sel(k) for k in ("arr_zonotope", "arr_weight_chart")]
    pg.evaluate(tag, live)
    H.press_slider(pg, "arr_theta", 60)
    H.wait_changed(pg, lambda: H.figure_signature(pg, "arr_zonotope"), zono0, what="the zonotope after u moved")
    assert H.slider_value(pg, "arr_theta") == "90"
    assert H.figure_signature(pg, "arr_weight_chart") != weight0, "the direction marker did not move"
    assert pg.evaluate(kept, live) == ["kept0", "kept1"], "a chart was redrawn from scratch"
    # u's star is drawn over the arrangement (an SVG layer), at u_xy / |u_bias| in its slice's axes
    star_js = H.js("""(s) => { const g = GD(s), t = JSON.parse(g.__liveOverlay)[0];
      const p = g.parentNode.querySelector('#overlay path'); if (!p) return null;
      const fl = g._fullLayout, xa = fl[t.xaxis.replace('x', 'xaxis')], ya = fl[t.yaxis.replace('y', 'yaxis')];
      const b = p.getBBox();
      return [b.x + b.width / 2 - (xa._offset + xa.l2p(t.x[0])), b.y + b.height / 2 - (ya._offset + ya.l2p(t.y[0])),
              xa.range[0]]; }""")
    star = pg.evaluate(star_js, H.chart_sel("arr_weight_chart"))
    assert star is not None, "no star drawn over the arrangement"
    # the zonotope's marks are projected over its scene: the argmax vertex where plotly puts a
    # 3-D annotation at the same point (plotly's own projection)
    zsel = H.chart_sel("arr_zonotope")
    off = pg.evaluate(H.js("""async (s) => {
      const g = GD(s), w = g.ownerDocument.defaultView, t = JSON.parse(g.__liveOverlay)[0];
      const p = g.parentNode.querySelector('#overlay path'); if (!p) return null;
      await w.Plotly.relayout(g, {'scene.annotations': [{x: t.x[0], y: t.y[0], z: t.z[0], text: 'o',
                                  showarrow: false, xanchor: 'center', yanchor: 'middle'}]});
      const a = g.querySelector('.annotation-text-g text, .annotation text').getBoundingClientRect();
      const q = g.parentNode.querySelector('#overlay path').getBoundingClientRect();
      return [a.x + a.width / 2 - (q.x + q.width / 2), a.y + a.height / 2 - (q.y + q.height / 2)]; }"""), zsel)
    assert off is not None, "no mark drawn over the zonotope"
    assert abs(off[0]) < 3 and abs(off[1]) < 3, f"the zonotope's argmax mark is {off} px away from its vertex"
    # ... and follows the camera when the scene is turned (plotly moves its annotation too)
    pair = H.js("""(s) => { const g = GD(s);
      const a = g.querySelector('.annotation-text-g text, .annotation text').getBoundingClientRect();
      const q = g.parentNode.querySelector('#overlay path').getBoundingClientRect();
      return [q.x + q.width / 2, q.y + q.height / 2, a.x + a.width / 2, a.y + a.height / 2]; }""")
    pg.locator(zsel).scroll_into_view_if_needed()
    z0 = pg.evaluate(pair, zsel)
    H.drag_in_chart(pg, "arr_zonotope", 0.5, 0.45, 120, 30, steps=15)
    z1 = pg.evaluate(pair, zsel)
    assert abs(z1[0] - z0[0]) + abs(z1[1] - z0[1]) > 5, "the drag did not turn the zonotope"
    assert abs(z1[0] - z1[2]) < 3 and abs(z1[1] - z1[3]) < 3, f"after turning, mark and vertex differ: {z1}"
    assert abs(star[0]) < 2 and abs(star[1]) < 2, f"the star is {star} px away from u"
    # ... and follows the axes when the arrangement is panned
    H.drag_in_chart(pg, "arr_weight_chart", 0.3, 0.4, 40, 30)
    moved = pg.evaluate(star_js, H.chart_sel("arr_weight_chart"))
    # the camera button downloads the figure with the star in it
    frame = pg.locator(f"{H.chart_sel('arr_weight_chart')} iframe").element_handle().content_frame()
    frame.hover(".js-plotly-plot")
    with pg.expect_download(timeout=60_000) as dl:
        frame.click('.modebar-btn[data-title="Download plot"]')
    assert dl.value.suggested_filename == "arrangement_weight_space.png"
    assert moved[2] != star[2], "the drag did not pan the arrangement"
    assert abs(moved[0]) < 2 and abs(moved[1]) < 2, f"after panning the star is {moved} px away from u"

    # beta (sidebar): another fit, other neurons in data space; the arrangement stays
    data0 = H.figure_signature(pg, "arr_data_chart")
    H.press_slider(pg, "log_beta", 6)
    H.wait_changed(pg, lambda: H.figure_signature(pg, "arr_data_chart"), data0, what="the neurons after beta moved")
    assert H.metrics(pg)["Patterns (engine)"] == m0["Patterns (engine)"]
    _no_problems(pg, "Arrangements after sliders")

    # a click on a cell selects its pattern and rings the points it activates
    key = "arr_weight_chart"
    tr = H.trace_index(pg, key, "t => t.customdata && t.mode === 'markers'")
    assert tr >= 0, "no clickable cell markers"
    data1 = H.figure_signature(pg, "arr_data_chart")
    k = H.click_point(pg, key, tr, pick=len(H.visible_points(pg, key, tr)) // 2)
    cell = pg.evaluate(H.js("([s, i, k]) => { return GD(s)._fullData[i].customdata[k][0]; }"), [H.chart_sel(key), tr, k])
    H.wait_for(lambda: pg.locator(f"{H.chart_sel('arr_cell')} input").input_value() == str(cell),
               what=f"pattern {cell} selected")
    H.wait_idle(pg)
    assert f"arr_cell={cell}" in H.href(pg)
    assert H.figure_signature(pg, "arr_data_chart") != data1, "the selection is not shown in data space"
    _no_problems(pg, "Arrangements after a cell click")

    # the link reproduces selection, sliders and numbers in a new session
    state = _stable(H.metrics(pg))
    figs = {c: H.figure_signature(pg, c) for c in ("arr_data_chart", "arr_weight_chart", "arr_zonotope")}
    pg2, ctx = _fresh_session_state(browser, H.href(pg))
    try:
        _no_problems(pg2, "Arrangements from the link")
        assert _stable(H.metrics(pg2)) == state
        assert pg2.locator(f"{H.chart_sel('arr_cell')} input").input_value() == str(cell)
        assert H.slider_value(pg2, "arr_theta") == "90"
        assert {c: H.figure_signature(pg2, c) for c in figs} == figs
    finally:
        ctx.close()
    _screenshots(pg, "arrangements")


# --------------------------------------------------------------------------- Sparsity path
def test_path(page, browser, app_url):
    pg = page
    H.open_page(pg, H.page_url(app_url, "path", N))
    _no_problems(pg, "Sparsity path on load")
    m0 = H.metrics(pg)
    K = int(m0["Betas solved"])
    assert K == 20
    figs0 = {c: H.figure_signature(pg, c) for c in ("path_fig_path", "path_fig_fit", "path_fig_loss")}

    # the selected beta (display only): beta, objective and the drawn network change.
    # The default selection is the beta nearest the sidebar's, here the path's smallest.
    assert float(H.slider_value(pg, "path_k")) == pytest.approx(float(m0["beta"]), rel=5e-3)
    H.press_slider(pg, "path_k", -3)
    H.wait_changed(pg, lambda: H.metrics(pg)["beta"], m0["beta"], what="beta after the slider moved")
    m1 = H.metrics(pg)
    assert float(m1["beta"]) > float(m0["beta"]), "to the left beta increases"
    assert m1["Objective"] != m0["Objective"]
    assert m1["beta_max"] == m0["beta_max"] and m1["Path time"] == m0["Path time"], "nothing re-solved"
    figs1 = {c: H.figure_signature(pg, c) for c in figs0}
    assert all(figs1[c] != figs0[c] for c in figs0), "every figure marks the selected beta"
    # the selection is drawn over the path (an SVG layer) at the selected beta on its log axis
    at = pg.evaluate(H.js("""(s) => { const g = GD(s), t = JSON.parse(g.__liveOverlay)[0];
      const line = g.parentNode.querySelector('#overlay polyline'); if (!line) return null;
      const xa = g._fullLayout.xaxis;
      return [t.x[0], parseFloat(line.getAttribute('points').split(',')[0]) - (xa._offset + xa.c2p(t.x[0]))]; }"""),
                     H.chart_sel("path_fig_path"))
    assert at is not None, "no selection drawn over the path"
    assert at[0] == pytest.approx(float(m1["beta"]), rel=1e-3) and abs(at[1]) < 2, at

    # Next: one step on to a smaller beta
    _button(pg, "path_next").click()
    H.wait_changed(pg, lambda: H.metrics(pg)["beta"], m1["beta"], what="beta after Next")
    m2 = H.metrics(pg)
    assert float(m0["beta"]) < float(m2["beta"]) < float(m1["beta"])
    _no_problems(pg, "Sparsity path after the slider")

    # the link reproduces the selected beta in a new session
    assert "path_k=" in H.href(pg)
    pg2, ctx = _fresh_session_state(browser, H.href(pg))
    try:
        _no_problems(pg2, "Sparsity path from the link")
        assert _stable(H.metrics(pg2)) == _stable(m2)
        assert {c: H.figure_signature(pg2, c) for c in figs0} == {c: H.figure_signature(pg, c) for c in figs0}
    finally:
        ctx.close()

    # the share box's link: right after opening it (a full run), and while it is open the
    # selected beta reruns the whole page, so the link follows it
    def box_k():
        link = pg.locator(f'{H.chart_sel("share_open")} [data-testid="stCode"]').first.inner_text()
        return parse_qs(urlsplit(link.strip()).query).get("path_k")

    url_k = parse_qs(urlsplit(H.href(pg)).query)["path_k"]
    pg.locator(f'{H.chart_sel("share_open")} summary').first.click()
    time.sleep(0.3)  # the rerun the click starts
    H.wait_idle(pg)
    assert box_k() == url_k
    _button(pg, "path_prev").click()
    H.wait_changed(pg, lambda: H.metrics(pg)["beta"], m2["beta"], what="beta after Prev")
    assert box_k() == parse_qs(urlsplit(H.href(pg)).query)["path_k"] != url_k
    _screenshots(pg, "path")


# --------------------------------------------------------------------------- SGD vs convex
def _step_count(pg) -> int:
    txt = pg.get_by_text(re.compile(r"^step \d+ of (at most )?\d+")).first.inner_text()
    return int(re.match(r"step (\d+)", txt).group(1))


def test_sgd(page, browser, app_url):
    pg = page
    H.open_page(pg, H.page_url(app_url, "sgd", N + "&sgd_steps=2000"))  # frames of 100 steps
    _no_problems(pg, "SGD vs convex on load")
    m0 = H.metrics(pg)
    assert _step_count(pg) == 0
    live0 = H.figure_signature(pg, "sgd_fig_live")

    # beta (sidebar): a new convex optimum and the SGD objective F changes with it
    H.press_slider(pg, "log_beta", 4)
    H.wait_changed(pg, lambda: H.metrics(pg)["Convex p*"], m0["Convex p*"], what="p* after beta")
    m1 = H.metrics(pg)
    assert float(m1["Convex p*"]) > float(m0["Convex p*"])
    assert float(m1["SGD objective"]) > float(m0["SGD objective"]), "same weights, larger penalty"
    assert H.figure_signature(pg, "sgd_fig_live") != live0

    # learning rate of the live run: the highlighted curve is the new run
    curves0 = H.figure_signature(pg, "sgd_fig_curves")
    H.press_slider(pg, "sgd_lr", 1)
    H.wait_changed(pg, lambda: H.figure_signature(pg, "sgd_fig_curves"), curves0, what="the curves after lr")
    overlay = pg.evaluate(H.js("(s) => { return JSON.parse(GD(s).__liveOverlay); }"), H.chart_sel("sgd_fig_curves"))
    assert overlay[0]["text"][-1] == "live run: lr=0.03, seed=0", overlay  # drawn over the runs' curves
    state = H.metrics(pg)
    _no_problems(pg, "SGD vs convex after sliders")

    # Step trains one chunk: the objective falls and the left picture changes
    live1 = H.figure_signature(pg, "sgd_fig_live")
    _button(pg, "sgd_step").click()
    H.wait_for(lambda: _step_count(pg) > 0, what="a training step")
    H.wait_idle(pg)
    assert _step_count(pg) == 100
    assert float(H.metrics(pg)["SGD objective"]) < float(state["SGD objective"])
    assert H.figure_signature(pg, "sgd_fig_live") != live1

    # Play advances by itself (a fragment rerunning every 0.4 s); Pause stops it
    _button(pg, "sgd_play").click()
    H.wait_for(lambda: _step_count(pg) >= 300, timeout=120, what="play to advance")
    _button(pg, "sgd_pause").click()
    H.wait_idle(pg, quiet=1.5)
    paused = _step_count(pg)
    time.sleep(1.5)
    assert _step_count(pg) == paused, "Pause did not stop the run"
    assert 300 <= paused <= 2000
    _no_problems(pg, "SGD vs convex after play")

    # the link (settings, not the live run's progress) reproduces the state before training
    pg2, ctx = _fresh_session_state(browser, H.href(pg))
    try:
        _no_problems(pg2, "SGD vs convex from the link")
        assert _stable(H.metrics(pg2)) == _stable(state)
        assert H.slider_value(pg2, "sgd_lr") == "0.03"
        assert _step_count(pg2) == 0
    finally:
        ctx.close()
    _screenshots(pg, "sgd")


def test_stop_ends_a_long_comparison(page, app_url):
    """Stop, clicked while the comparison trains, ends it within a progress update; the page then
    offers to run it again instead of restarting it."""
    pg = page
    pg.goto(H.page_url(app_url, "sgd", "n=40&sgd_nseeds=6&sgd_steps=50000&sgd_until=0"))  # 12 runs, ~10 s
    stop = _button(pg, "sgd_runs_stop")
    H.wait_for(stop.is_visible, timeout=60, what="the Stop button while the comparison trains")
    stop.click()
    stopped = pg.get_by_text("The comparison was stopped before it finished")
    H.wait_for(stopped.is_visible, timeout=10, what="the comparison to stop")
    H.wait_idle(pg)
    assert H.chart_key(pg, "sgd_fig_curves") is None, "no curves of a stopped comparison"
    _no_problems(pg, "after Stop")
    _button(pg, "sgd_runs_restart").click()
    H.wait_for(stop.is_visible, timeout=30, what="the comparison to run again")
    stop.click()
    H.wait_for(stopped.is_visible, timeout=10, what="the comparison to stop again")


def test_stop_ends_a_comparison_started_inside_the_page_fragment(page, app_url):
    """Once its comparison is drawn, the SGD page's controls rerun a fragment, and a widget inside
    a fragment cannot interrupt a run: a setting that starts a long comparison there must run it
    in a full run, where Stop ends it within a progress update."""
    pg = page
    lrs = "0.0001,0.0003,0.001,0.003,0.01,0.03,0.1,0.3"  # 64 runs: ~40 s at 50 000 steps
    H.open_page(pg, H.page_url(app_url, "sgd", f"n=40&sgd_nseeds=8&sgd_lrs={lrs}&sgd_steps=200&sgd_until=0"))
    # the finished comparison reruns the whole page (st.rerun): on a busy machine the page can
    # look idle for a moment before that run starts (a CI run once failed here)
    H.wait_for(lambda: H.chart_key(pg, "sgd_fig_curves") is not None, timeout=60, what="the comparison's curves")
    H.press_slider(pg, "sgd_lr", 1)  # a run that draws the page as a fragment
    time.sleep(0.3)
    H.wait_idle(pg)
    steps = pg.locator(f"{H.chart_sel('sgd_steps')} input").first
    steps.fill("50000")
    steps.press("Enter")
    stop = _button(pg, "sgd_runs_stop")
    H.wait_for(stop.is_visible, timeout=60, what="the Stop button of the long comparison")
    stop.click()
    stopped = pg.get_by_text("The comparison was stopped before it finished")
    H.wait_for(stopped.is_visible, timeout=10, what="the long comparison to stop")
    _no_problems(pg, "after Stop")


# --------------------------------------------------------------------------- a fresh server
def test_fresh_server_runs_its_first_page_at_start(browser):
    """A new server runs the Overview once in a headless session at start-up (app.py's st.App
    lifespan): the run ends normally with no error on the page, and the first visitor's page
    is then drawn from the process's caches, certified."""
    server = H.Server()
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        server.wait_healthy()
        line = H.wait_for(lambda: next((ln for ln in server.log_tail(200).splitlines() if "start-up warm-up" in ln), None),
                          timeout=120, what="the start-up warm-up's report in the server log")
        assert "finished=FINISHED_SUCCESSFULLY" in line and "exception=None" in line, line
        pg = ctx.new_page()
        H.open_page(pg, server.url)
        _no_problems(pg, "first visit after the warm-up")
        assert H.metrics(pg)["Status"] == "optimal"
    finally:
        ctx.close()
        server.stop()


def test_pages_have_the_browser_fetch_the_chart_code_and_fonts_early(browser, app_url):
    """Every page address's index.html names plotly's chunk and the fonts (pages/common/serving.py),
    compressed or not; each named file is served; and Chromium asks for the chart code before
    the app's websocket opens (without the hint, only after the script's first messages)."""
    for path in ("/", "/path"):
        req = urllib.request.Request(app_url + path, headers={"Accept": "text/html", "Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=30) as r:
            page = r.read().decode()
        hrefs = re.findall(r'<link rel="(?:modulepreload|preload)"[^>]*?href="\./([^"]+)"', page)
        assert any(h.startswith("static/js/PlotlyChart.") for h in hrefs), (path, hrefs)
        assert any(h.startswith("static/media/KaTeX_Main-Regular.") for h in hrefs), (path, hrefs)
        for h in hrefs:
            with urllib.request.urlopen(f"{app_url}/{h}", timeout=30) as r:
                assert r.status == 200, h
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        pg = ctx.new_page()
        seen = {}
        pg.on("request", lambda r: "/PlotlyChart." in r.url and seen.setdefault("chart", time.monotonic()))
        pg.on("websocket", lambda ws: seen.setdefault("websocket", time.monotonic()))
        H.open_page(pg, H.page_url(app_url, "home", N))
        assert seen["chart"] < seen["websocket"], seen
    finally:
        ctx.close()


def test_fresh_server_page_link(browser):
    """The first request a new server gets is a shared link to the Sparsity path.

    Regression test: Streamlit's legacy pages/ mode runs the page file alone on a fresh server.
    Its guard once sent the user to the Overview (dropping the link's parameters); with page files
    named otherwise than their url path, the right page came with a "Page not found" dialog.
    """
    server = H.Server()
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        server.wait_healthy()
        pg = ctx.new_page()
        H.open_page(pg, H.page_url(server.url, "path", f"{N}&path_k=5"))
        _no_problems(pg, "first request to /path")
        assert pg.get_by_text("Page not found").count() == 0, "Streamlit's 'Page not found' dialog is shown"
        title = pg.locator("h1").first.inner_text().strip()
        assert title == "Sparsity path", f"landed on {title!r} at {H.href(pg)}"
        assert "/path" in H.href(pg) and "path_k=5" in H.href(pg)
        m = H.metrics(pg)
        assert float(H.slider_value(pg, "path_k")) == pytest.approx(float(m["beta"]), rel=5e-3)
        assert 0.0 < float(m["beta"]) < float(m["beta_max"]), "path_k=5 is inside the path"
    finally:
        ctx.close()
        server.stop()
