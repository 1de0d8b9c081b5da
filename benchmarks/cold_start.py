"""Cold start: time from ``streamlit run app.py`` to the first page fully drawn in a browser.

Run: ``python benchmarks/cold_start.py [--repeats 3] [--page home|arrangements|path|sgd|cnn] [--query n=40]``
(from the repository root; uses a free port in 8610-8650 and Debian's chromium).

Each repeat starts a new server process (empty caches: the first page solves its convex
program), with Chromium already open on a blank tab, as a user's browser would be. The clock
starts when the process is spawned and stops when the page is fully drawn: its first plotly
figure holds data, its metrics are on screen, every chart on the page is drawn, no element waits
for its code any more (a formula shows a loading skeleton until KaTeX's chunk arrives) and no
script run is shown (the start of that quiet period is taken, not the end of the wait). Also
reported: when the health endpoint first answered, when the frontend first asked for a script
run and received its first and last messages (the server's share of the wait ends there), when
the first figure appeared, and the page actually reached (a deep link such as ``--page path`` must land on that page).

Baseline (issue 22): each repeat also starts a bare Streamlit app (one plotly chart, one
metric; written to a temporary directory with the app's ``.streamlit/config.toml``) the same
way, right before the app, and its time to fully drawn is reported beside the app's: on a
shared machine only the ratio app / bare within one run is comparable across runs.

Targets: under 5 s to the first page fully drawn (issue 8); median within 1.3x of the bare
app (issue 22).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import harness as H  # noqa: E402

# Plotly graphs of the page: st.plotly_chart draws them in the page, live charts
# (pages/common/export/live_chart.py) inside their own iframe.
_GRAPHS = """const graphs = () => { const gs = Array.from(document.querySelectorAll('.js-plotly-plot'));
  document.querySelectorAll('iframe').forEach(f => { try { if (f.contentDocument) gs.push(...f.contentDocument.querySelectorAll('.js-plotly-plot')); }
                                                      catch (e) {} });
  return gs; };"""
_FIGURE_DRAWN = "() => { " + _GRAPHS + """ const g = graphs()[0];
  return !!(g && g._fullLayout && g.data && g.data.length && document.querySelector('[data-testid="stMetric"]')); }"""


# Wall-clock times (ms) of the page's websocket: opened, first send (the first script run
# requested), first and last message back.
_WS_TIMES = """(() => {
  const Native = window.WebSocket;
  window.__ws = {};
  window.WebSocket = class extends Native {
    constructor(...a) {
      super(...a);
      window.__ws.open = window.__ws.open || Date.now();
      this.addEventListener('message', () => { window.__ws.recv = window.__ws.recv || Date.now(); window.__ws.last = Date.now(); });
    }
    send(d) { window.__ws.send = window.__ws.send || Date.now(); return super.send(d); }
  };
})();"""


# The baseline: what any Streamlit app with one plotly figure and one metric costs to start.
BARE_APP = """import plotly.graph_objects as go
import streamlit as st

st.title("Bare app")
st.metric("Objective", "0.123")
st.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 0, 1])), key="fig")
"""


def bare_app_dir() -> Path:
    """A temporary directory holding the bare app and the dashboard's Streamlit settings."""
    d = Path(tempfile.mkdtemp(prefix="cvx_bare_app_"))
    (d / "app.py").write_text(BARE_APP)
    (d / ".streamlit").mkdir()
    shutil.copy(ROOT / ".streamlit" / "config.toml", d / ".streamlit" / "config.toml")
    return d


def busy(pg) -> bool:
    """A script run is shown, an element is stale, an element still shows its loading skeleton
    (a formula waits for KaTeX's chunk), or a chart (a live chart: its iframe says busy) is not
    drawn yet."""
    return pg.evaluate("() => " + H.PAGE_BUSY + """
        || !!document.querySelector('[data-testid="stSkeleton"]')
        || Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]')).some(c => {
             const g = c.querySelector('.js-plotly-plot'); return !(g && g._fullLayout); })""")


def one(browser, page: str, query: str, timeout: float, app_dir: Path = H.APP_DIR) -> dict:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.add_init_script(_WS_TIMES)
    pg = ctx.new_page()
    pg.goto("about:blank")
    wall0 = time.time()
    server = H.Server(app_dir=app_dir)  # the clock starts at the spawn (server.started)
    try:
        t_health = server.wait_healthy(timeout)
        pg.goto(H.page_url(server.url, page, query), wait_until="domcontentloaded", timeout=timeout * 1000)
        pg.wait_for_function(_FIGURE_DRAWN, timeout=timeout * 1000, polling=50)
        t_figure = time.perf_counter() - server.started
        # fully drawn: the first moment after which nothing runs for 1 s
        calm, deadline = None, time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = time.perf_counter()
            if busy(pg):
                calm = None
            elif calm is None:
                calm = now
            elif now - calm >= 1.0:
                break
            time.sleep(0.05)
        t_drawn = (calm or time.perf_counter()) - server.started
        title = pg.locator("h1").first.inner_text().strip() if pg.locator("h1").count() else ""
        times = {k: v for k, v in H.metrics(pg).items() if "time" in k.lower()}
        ws = {k: v / 1000 - wall0 for k, v in pg.evaluate("window.__ws || {}").items()}
        return {"times": times, "ws": ws, "health": t_health, "figure": max(t_figure, t_health), "drawn": max(t_drawn, t_figure),
                "title": title, "url": H.href(pg), "problems": H.problems(pg)}
    finally:
        ctx.close()
        server.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--page", default="home", choices=list(H.PAGES))
    ap.add_argument("--query", default="", help="query string, e.g. n=20 (default: the app's defaults)")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--no-baseline", action="store_true", help="skip the bare Streamlit app")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    rows, bare = [], []
    bare_dir = None if args.no_baseline else bare_app_dir()
    with sync_playwright() as pw:
        browser = H.launch(pw)
        for i in range(args.repeats):
            if bare_dir is not None:
                b = one(browser, "home", "", args.timeout, app_dir=bare_dir)
                bare.append(b)
                print(f"  run {i + 1}, bare app: health {b['health']:5.2f} s, first figure {b['figure']:5.2f} s, "
                      f"fully drawn {b['drawn']:5.2f} s; script requested at {b['ws'].get('send', float('nan')):.2f} s, "
                      f"last message {b['ws'].get('last', float('nan')):.2f} s", flush=True)
            r = one(browser, args.page, args.query, args.timeout)
            rows.append(r)
            print(f"  run {i + 1}: health {r['health']:5.2f} s, first figure {r['figure']:5.2f} s, fully drawn "
                  f"{r['drawn']:5.2f} s; page shown: {r['title']!r}; on it: {r['times']}; frontend's first script request at "
                  f"{r['ws'].get('send', float('nan')):.2f} s, first reply {r['ws'].get('recv', float('nan')):.2f} s, "
                  f"last message {r['ws'].get('last', float('nan')):.2f} s" + (f"; ON SCREEN: {r['problems']}" if r['problems'] else ""),
                  flush=True)
        browser.close()
    med = {k: statistics.median(r[k] for r in rows) for k in ("health", "figure", "drawn")}
    print()
    print(f"cold start of {H.page_url('', args.page, args.query) or '/'} over {len(rows)} fresh servers (median, seconds "
          f"from spawning streamlit):")
    print(f"  server healthy {med['health']:.2f} | first figure {med['figure']:.2f} | fully drawn {med['drawn']:.2f} "
          f"(max {max(r['drawn'] for r in rows):.2f})")
    print(f"  target fully drawn < 5 s: {'met' if med['drawn'] < 5 else 'NOT met'}")
    if bare:
        mb = {k: statistics.median(r[k] for r in bare) for k in ("health", "figure", "drawn")}
        ratio = med["drawn"] / mb["drawn"]
        print(f"  bare Streamlit app, same run: server healthy {mb['health']:.2f} | first figure {mb['figure']:.2f} | "
              f"fully drawn {mb['drawn']:.2f}")
        print(f"  app / bare (medians of fully drawn): {ratio:.2f}x; per run: "
              + ", ".join(f"{r['drawn'] / b['drawn']:.2f}x" for r, b in zip(rows, bare))
              + f"; target within 1.3x: {'met' if ratio <= 1.3 else 'NOT met'}")
        shutil.rmtree(bare_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
