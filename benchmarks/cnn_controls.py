"""Every control of the Convolutional networks page that re-solves, timed in a real browser.

Run: ``python benchmarks/cnn_controls.py [--repeats 4] [--url URL] [--only TEXT]`` (from the
repository root; starts ``streamlit run app.py`` unless ``--url`` is given; Debian's chromium
through Playwright).

Issue 21's target: every page interaction that re-solves answers in under 1 s at the default
sizes. :mod:`ui_latency` times the sliders (beta, noise); this script times the other controls
the same way, with the keyboard: the number inputs (samples n, signal length / image side, seed,
filter size, stride) with ArrowUp/ArrowDown, the pooling radio with the arrow keys, the data set
select box by typing an option and Enter. Each change is timed from its first keydown to the
first animation frame after the page's last figure (the gradient runs, drawn after the fit, the
filters, filter space and pattern counts) holds new data. Every change makes new data or a new
program: nothing is served from the cache (values move away from the defaults and back only
after a page reload, a new session whose cached results are kept, so back-moves are skipped).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import harness as H  # noqa: E402
from ui_latency import _ARM, _WS_LOG, pct  # noqa: E402

FIGURE = "cnn_runs_fig"


def _number(pg, key: str, key_name: str) -> None:
    inp = pg.locator(f"{H.chart_sel(key)} input").first
    inp.focus()
    pg.keyboard.press(key_name)


def _radio(pg, key: str, key_name: str) -> None:
    pg.locator(f"{H.chart_sel(key)} input[type=radio]:checked").first.focus()
    pg.keyboard.press(key_name)


def _select(pg, key: str, text: str) -> None:
    box = pg.locator(f"{H.chart_sel(key)} input").first
    box.click()
    H.wait_idle(pg, 30, quiet=0.2)  # opening the list is not part of the change
    pg.keyboard.type(text)
    pg.keyboard.press("Enter")


def measure(pg, act, timeout: float):
    """Seconds from the first keydown of ``act(pg)`` to the redrawn last figure, and to the last
    websocket message before it; None when the figure did not change."""
    pg.evaluate(_ARM, [H.chart_sel(FIGURE), timeout * 1000])
    act(pg)
    pg.wait_for_function("window.__lat !== undefined", timeout=(timeout + 10) * 1000, polling=100)
    ms = pg.evaluate("window.__lat")
    H.wait_idle(pg, timeout, quiet=0.4)
    return None if ms is None else (ms[0] / 1000, None if ms[2] is None else ms[2] / 1000)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=4, help="changes per number-input case")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--url", help="a running server (default: start one)")
    ap.add_argument("--only", help="run only the cases whose name contains this text (case-insensitive)")
    args = ap.parse_args()
    r = args.repeats
    up = lambda key: [lambda pg, k=key: _number(pg, k, "ArrowUp")] * r  # noqa: E731
    # (name, query, list of changes)
    cases = [
        ("samples n (+1)", "", up("cnn_n")),
        ("signal length (+1)", "", up("cnn_len")),
        ("seed (+1)", "", up("cnn_seed")),
        ("filter size h (2 -> 3)", "", [lambda pg: _number(pg, "cnn_h", "ArrowUp")]),
        ("filter size h (3 -> 2)", "cnn_h=3", [lambda pg: _number(pg, "cnn_h", "ArrowDown")]),
        ("stride (1 -> 2)", "", [lambda pg: _number(pg, "cnn_stride", "ArrowUp")]),
        ("stride (2 -> 1)", "cnn_stride=2", [lambda pg: _number(pg, "cnn_stride", "ArrowDown")]),
        ("pooling (sum -> mean)", "", [lambda pg: _radio(pg, "cnn_pool", "ArrowRight")]),
        ("pooling (mean -> sum)", "cnn_pool=mean", [lambda pg: _radio(pg, "cnn_pool", "ArrowLeft")]),
        ("data set (bump -> edge -> frequencies)", "",
         [lambda pg: _select(pg, "cnn_data", "Rising"), lambda pg: _select(pg, "cnn_data", "Two freq")]),
        ("data set (bump -> bars vs crosses)", "", [lambda pg: _select(pg, "cnn_data", "Bars")]),
        ("images: image side (+1)", "cnn_data=bars_crosses", up("cnn_len")),
        ("images: samples n (+1)", "cnn_data=bars_crosses", up("cnn_n")),
        ("images: filter size h (2 -> 3)", "cnn_data=bars_crosses", [lambda pg: _number(pg, "cnn_h", "ArrowUp")]),
    ]
    if args.only:
        cases = [c for c in cases if args.only.lower() in c[0].lower()]
    rows = []
    with H.browser_at(args.url, _WS_LOG) as (browser, base):
        for name, query, acts in cases:
            t0 = time.perf_counter()
            pg = H.new_page(browser, _WS_LOG)
            H.open_page(pg, H.page_url(base, "cnn", query), timeout=600)
            times, data, missed = [], [], 0
            for act in acts:
                t = measure(pg, act, args.timeout)
                if t is None:
                    missed += 1
                    continue
                times.append(t[0])
                if t[1] is not None:
                    data.append(t[1])
            rows.append((name, times, data, missed, H.problems(pg)))
            pg.context.close()
            print(f"  {name}: {len(times)} changes in {time.perf_counter() - t0:.0f} s", flush=True)
    print()
    print(f"{'Convolutional networks: control':44s} {'n':>3s} | {'median':>7s} {'p90':>7s} {'max':>7s} | {'to data':>7s} | target")
    for name, ts, data, missed, probs in rows:
        med = statistics.median(ts) if ts else float("nan")
        rcv = statistics.median(data) if data else float("nan")
        print(f"{name:44s} {len(ts):3d} | {med:7.3f} {pct(ts, 90):7.3f} {max(ts, default=float('nan')):7.3f} | "
              f"{rcv:7.3f} | median < 1.0 s: {'met' if med < 1.0 else 'NOT met'}")
        if missed:
            print(f"   {missed} change(s) did not redraw the last figure within {args.timeout:.0f} s")
        for p in probs:
            print("   on screen:", p)
    print("(seconds from the first keydown to the first frame after the gradient-runs figure's data changed; "
          "'to data': to the last websocket message before that frame; Chromium, 1280x800)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
