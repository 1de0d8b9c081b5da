"""The Convolutional networks page in a real browser (Chromium via Playwright).

It loads without an exception or error box; beta re-solves (a new optimum, new filters, the
gradient runs redrawn); the filter j control redraws the switched-on chart only; switching to
the images draws their tiles and marks the sampled program; the share link, opened in a fresh
session, shows the same state. Small sizes through the query string keep it quick.
"""
from __future__ import annotations

import harness as H
from test_browser import _fresh_session_state, _no_problems, _screenshots, _stable

SMALL = "cnn_n=8&cnn_len=6&cnn_steps=300&cnn_width=8&cnn_seeds=2"


def test_cnn(page, browser, app_url):
    pg = page
    H.open_page(pg, H.page_url(app_url, "cnn", SMALL))
    _no_problems(pg, "Convolutional networks on load")
    m0 = H.metrics(pg)
    assert m0["Patterns"].startswith(tuple("0123456789")) and float(m0["Certified gap"]) <= 1e-6
    filters0 = H.figure_signature(pg, "cnn_filters_fig")
    runs0 = H.figure_signature(pg, "cnn_runs_fig")

    # beta: a new certified optimum, new filters and new gradient runs
    H.press_slider(pg, "cnn_log_beta", -10)
    H.wait_changed(pg, lambda: H.metrics(pg)["Convex optimum p*"], m0["Convex optimum p*"], what="p* after beta")
    H.wait_idle(pg)
    m1 = H.metrics(pg)
    assert float(m1["Convex optimum p*"]) < float(m0["Convex optimum p*"])  # less weight decay
    assert float(m1["Certified gap"]) <= 1e-6
    assert H.figure_signature(pg, "cnn_filters_fig") != filters0
    assert H.figure_signature(pg, "cnn_runs_fig") != runs0
    _no_problems(pg, "Convolutional networks after beta")

    # filter j (a fragment): its chart changes, the fit's figures do not
    if int(m1["Filters"]) >= 2:
        on0 = H.figure_signature(pg, "cnn_on_fig")
        filters1 = H.figure_signature(pg, "cnn_filters_fig")
        box = pg.locator(f"{H.chart_sel('cnn_filter')} input").first
        box.focus()
        pg.keyboard.press("ArrowUp")
        H.wait_changed(pg, lambda: H.figure_signature(pg, "cnn_on_fig"), on0, what="switched-on chart after filter j")
        H.wait_idle(pg)
        assert H.figure_signature(pg, "cnn_filters_fig") == filters1
        assert "cnn_filter=1" in H.href(pg)
    state = H.metrics(pg)

    # the link reproduces the state in a fresh session
    pg2, ctx = _fresh_session_state(browser, H.href(pg))
    try:
        _no_problems(pg2, "Convolutional networks from the link")
        assert _stable(H.metrics(pg2)) == _stable(state)
    finally:
        ctx.close()
    _screenshots(pg, "cnn")

    # images: tiles, sampled patterns, the counts chart with the sampled program marked
    H.open_page(pg, H.page_url(app_url, "cnn", SMALL + "&cnn_data=bars_crosses&cnn_len=5"))
    _no_problems(pg, "Convolutional networks, images")
    patterns = pg.locator(H.METRIC).filter(has_text="Patterns").first.inner_text()
    assert "sampled" in patterns, patterns
    names = [t.get("name") for t in H.figure_traces(pg, "cnn_counts_fig")]
    assert "sampled (the fit's program)" in names and "Cover's count (rank h')" in names
    _screenshots(pg, "cnn_images")
