"""Many users at once: websocket sessions moving sliders on different pages of one server.

Run: ``python benchmarks/concurrent_sessions.py [--users 20] [--duration 60] [--think 1.0] [--servers 1] [--cold]``
(from the repository root; starts ``--servers`` processes of ``streamlit run app.py`` on free
ports in 8610-8650 (or ``--ports``) unless ``--url`` names running servers, comma-separated, or a
reverse proxy in front of them; ``--via`` sends the sessions through a proxy in front of the
servers it started; README, "Serving a class").

Several servers: sessions are dealt round-robin over them (a session is one websocket, so it
stays on its server, as behind a proxy with sticky sessions). Through a proxy each session first
loads the page (``GET /``) and sends the cookies it got on its websocket, as a browser does, so
a cookie-sticky proxy routes it like a browser. For the servers it started, the benchmark also
reports each process's resident memory before the sessions open, once they are open and idle,
and at the end: memory per session is the growth divided by the sessions.

Each page is first opened once per server (warm caches: the first solve is cold start, not
concurrency) unless ``--cold``: then every session arrives on a fresh process at once, as a class
opening the shared link, and the pages' first imports and solves run side by side.

Each virtual user is one Streamlit session speaking the browser's own protocol on
``/_stcore/stream`` (protobuf ``BackMsg`` / ``ForwardMsg``): it opens its page with the app's
default sizes, then for ``--duration`` seconds moves that page's main slider to a new value,
waits for the script run to finish, thinks for ``--think`` seconds and moves it again. Users
are spread over the four pages (Overview: log10 beta, a re-solve per new value and a cache hit
afterwards; Arrangements: Gaussian directions N; Sparsity path: selected beta; SGD vs convex:
learning rate of the live run). A move is sent as a browser sends it: a slider drawn inside a
fragment (``pages/common/controls/fragment.py``) reruns that fragment only.

Measured per move: the time from sending the new widget value to the page's main figure
arriving (``figure``) and to the end of the script run (``run``). Reported: percentiles per
page and overall, errors (exceptions or error boxes in a run, failed runs, dropped sockets,
time-outs) and isolation violations: every run must show the session's own value (the page's
value readout and the URL the run writes back must match what this session sent, never a
value another session was moving at the same time). Finally the server must still answer: the
health endpoint and a fresh session opening the Overview.

Targets (issue 22, the 2-core machine): 20 sessions on one process, 90th percentile under 0.8 s;
50 sessions on two processes (the README's recipe), under 2 s; no errors, no state crossing
sessions, under 50 MB per idle session.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import websockets  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

import harness as H  # noqa: E402

LR_OPTIONS = ("0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3")


@dataclass
class Scenario:
    """A page, the slider a user moves there, the values it cycles through and its figure."""

    page: str  # url path ("" = Overview)
    key: str  # slider key
    values: list  # widget values (floats for st.slider, option labels for st.select_slider)
    figure: str  # key of the chart that must follow the slider
    select: bool = False  # st.select_slider (string_array_value) rather than st.slider


SCENARIOS = {
    "home": Scenario("", "log_beta", [-2.0, -1.95, -1.9, -1.85, -1.8, -1.75], "home_data_fig"),
    "arrangements": Scenario("arrangements", "arr_N", ["16", "32", "64", "128", "256", "512"], "arr_coverage",
                             select=True),
    "path": Scenario("path", "path_k", None, "path_fig_path", select=True),  # options read from the page
    "sgd": Scenario("sgd", "sgd_lr", ["0.001", "0.003", "0.01", "0.03"], "sgd_fig_curves", select=True),
}


@dataclass
class Run:
    ok: bool
    t_figure: float | None
    t_run: float
    errors: list = field(default_factory=list)
    query: str | None = None  # the session's URL query after the run
    metrics: dict = field(default_factory=dict)
    markdown: list = field(default_factory=list)
    sliders: dict = field(default_factory=dict)  # key -> Slider proto
    figures: dict = field(default_factory=dict)  # key -> spec (json string); an overlay instance: its traces
    fragments: dict = field(default_factory=dict)  # slider key -> id of the fragment that drew it ("" none)


def _key_of(widget_id: str) -> str:
    # "$$ID-<hash>-<user key>" for keyed elements
    return widget_id.split("-", 2)[2] if widget_id.startswith("$$ID-") and widget_id.count("-") >= 2 else widget_id


def _page_cookies(url: str, timeout: float) -> str:
    """The cookies a browser would get loading the page (a sticky proxy sets its route there)."""
    with urllib.request.urlopen(url + "/", timeout=timeout) as r:
        return "; ".join(c.split(";", 1)[0] for c in r.headers.get_all("Set-Cookie") or [])


class Session:
    """One Streamlit session over a websocket."""

    def __init__(self, url: str, page: str, query: str):
        self.url = url
        self.ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.page, self.query, self.page_hash = page, query, ""
        self.ws = None

    async def open(self, timeout: float) -> Run:
        cookies = await asyncio.to_thread(_page_cookies, self.url, timeout)
        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                           open_timeout=timeout, ping_interval=None,
                                           additional_headers={"Cookie": cookies} if cookies else None)
        return await self.rerun([], timeout)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def rerun(self, widgets: list, timeout: float, figure: str | None = None, fragment: str = "") -> Run:
        """Send a rerun with ``widgets``' states; ``fragment``: the id of the fragment the changed
        widget is in (a browser then reruns that fragment only)."""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        cs.page_name = self.page
        if fragment:
            cs.fragment_id = fragment
        for w in widgets:
            cs.widget_states.widgets.append(w)
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        run = Run(ok=False, t_figure=None, t_run=float("nan"), query=self.query)
        deadline = t0 + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                run.errors.append(f"timeout after {timeout:.0f} s")
                return run
            raw = await asyncio.wait_for(self.ws.recv(), left)
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if kind == "navigation":
                self.page_hash = fm.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = fm.page_info_changed.query_string
                run.query = self.query
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                ek = el.WhichOneof("type")
                if ek == "exception":
                    run.errors.append(f"exception: {el.exception.type}: {el.exception.message[:200]}")
                elif ek == "alert" and el.alert.format == el.alert.ERROR:
                    run.errors.append(f"error box: {el.alert.body[:200]}")
                elif ek == "metric":
                    run.metrics[el.metric.label] = el.metric.body
                elif ek == "markdown":
                    run.markdown.append(el.markdown.body)
                elif ek == "slider":
                    run.sliders[_key_of(el.slider.id)] = el.slider
                    run.fragments[_key_of(el.slider.id)] = fm.delta.fragment_id
                elif ek in ("plotly_chart", "component_instance"):
                    # st.plotly_chart, or a live chart (pages/common/export/live_chart.py: the spec is an argument)
                    key = _key_of(getattr(el, ek).id)
                    args = {} if ek == "plotly_chart" else json.loads(el.component_instance.json_args)
                    run.figures[key] = (el.plotly_chart.spec if ek == "plotly_chart"
                                        else args.get("spec") or json.dumps(args.get("overlay", [])))
                    if key == figure and run.t_figure is None:
                        run.t_figure = time.perf_counter() - t0
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fm.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue  # the script called st.rerun(): wait for the run that follows
                run.t_run = time.perf_counter() - t0
                done = status in ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY")
                run.ok = done and not run.errors
                if not done:
                    run.errors.append(f"script finished: {status}")
                return run


def _widget(sc: Scenario, slider, value):
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    w = WidgetState(id=slider.id)
    if sc.select:
        w.string_array_value.data.append(str(value))
    else:
        w.double_array_value.data.append(float(value))
    return w


def check_own_state(sc: Scenario, value, options: list, run: Run) -> list[str]:
    """What the run shows must be this session's own value (returns the violations)."""
    bad = []
    # the URL the run writes back (sync_url): st.slider floats as %g, path_k as the index
    want = str(options.index(value)) if sc.key == "path_k" else (f"{float(value):g}" if not sc.select else str(value))
    shown = parse_qs(run.query or "").get(sc.key, [None])[0]
    if shown != want:
        bad.append(f"URL shows {sc.key}={shown}, this session set {want}")
    # and the page's own readout
    if sc.key == "log_beta":
        cap = f"beta = {10 ** float(value):.3g}"
        if cap not in run.markdown:
            bad.append(f"caption {cap!r} missing: {[m for m in run.markdown if m.startswith('beta =')]}")
    elif sc.key == "arr_N":
        if f"Found by N = {int(value):,}" not in run.metrics:
            bad.append(f"metric 'Found by N = {value}' missing: {[k for k in run.metrics if k.startswith('Found')]}")
    elif sc.key == "path_k":
        beta = run.metrics.get("beta")
        if beta is None or f"{float(beta):.3g}" != f"{float(value):.3g}":
            bad.append(f"beta metric {beta} for the selected {value}")
    elif sc.key == "sgd_lr":
        if f"live run: lr={float(value):g}," not in run.figures.get(sc.figure + "__overlay", ""):
            bad.append(f"live run lr={value} not drawn over the curves figure")
    return bad


@dataclass
class Stats:
    page: str
    figure: list = field(default_factory=list)
    run: list = field(default_factory=list)
    first_load: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    violations: list = field(default_factory=list)


async def user(i: int, name: str, url: str, query: str, duration: float, think: float, timeout: float,
               stats: Stats, start: asyncio.Event) -> None:
    sc = SCENARIOS[name]
    s = Session(url, sc.page, query)
    try:
        first = await s.open(timeout)
        stats.first_load.append(first.t_run)
        stats.errors += first.errors
        slider, fragment = first.sliders.get(sc.key), first.fragments.get(sc.key, "")
        if slider is None:
            stats.errors.append(f"user {i}: no slider {sc.key} on {name}")
            return
        options = list(slider.options)
        values = options[-8:] if sc.key == "path_k" else sc.values  # path: display-only moves between computed betas
        await start.wait()
        t_end = time.perf_counter() + duration
        k = i  # users on one page start at different values
        while time.perf_counter() < t_end:
            k += 1
            value = values[k % len(values)]
            run = await s.rerun([_widget(sc, slider, value)], timeout, figure=sc.figure, fragment=fragment)
            if run.errors:
                stats.errors += [f"user {i} ({name}) {sc.key}={value}: {e}" for e in run.errors]
            if run.ok:
                stats.run.append(run.t_run)
                if run.t_figure is not None:
                    stats.figure.append(run.t_figure)
                else:
                    stats.errors.append(f"user {i} ({name}): run finished without the figure {sc.figure}")
                stats.violations += [f"user {i} ({name}): {v}" for v in check_own_state(sc, value, options, run)]
                slider, fragment = run.sliders.get(sc.key, slider), run.fragments.get(sc.key, fragment)
            await asyncio.sleep(think)
    except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as exc:
        stats.errors.append(f"user {i} ({name}): {type(exc).__name__}: {exc}")
    finally:
        await s.close()


def pct(xs: list, q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q / 100 * (len(xs) - 1)))))]


def rss_mb(pids: list) -> list:
    """Resident memory of each process, MB (Linux /proc)."""
    out = []
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out.append(int(line.split()[1]) / 1024)
    return out


async def main_async(args, urls: list, pids: list) -> int:
    pages = list(SCENARIOS)
    stats = {p: Stats(p) for p in pages}
    start = asyncio.Event()
    url = urls[0]
    # warm the caches once per page and server (the first solve is cold start, not concurrency;
    # behind a proxy the warm-up sessions land where the proxy sends them)
    for u in ([] if args.cold else urls):
        print(f"warming up each page once ({u}) ...", flush=True)
        for p in pages:
            s = Session(u, SCENARIOS[p].page, args.query)
            r = await s.open(args.timeout)
            await s.close()
            print(f"  {p:13s} first run {r.t_run:6.2f} s" + (f"  ERRORS {r.errors}" if r.errors else ""), flush=True)
    mem0 = rss_mb(pids)
    names = [pages[i % len(pages)] for i in range(args.users)]
    tasks = [asyncio.create_task(user(i, n, urls[i % len(urls)], args.query, args.duration, args.think, args.timeout,
                                      stats[n], start))
             for i, n in enumerate(names)]
    await asyncio.sleep(0)
    print(f"{args.users} sessions opening, then moving sliders for {args.duration:.0f} s (think time {args.think} s) ...",
          flush=True)
    # let every session load its page before the clock starts
    while sum(len(st.first_load) for st in stats.values()) + sum(1 for t in tasks if t.done()) < args.users:
        await asyncio.sleep(0.2)
    mem_open = rss_mb(pids)
    start.set()
    t0 = time.perf_counter()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0

    mem_end = rss_mb(pids)
    # every server keeps answering
    health = []
    for u in urls:
        with urllib.request.urlopen(f"{u}/_stcore/health", timeout=10) as r:
            health.append(r.read().decode())
    s = Session(url, "", args.query)
    after = await s.open(args.timeout)
    await s.close()

    print()
    print(f"{'page':13s} {'users':>5s} {'moves':>5s} | {'figure p50':>10s} {'p90':>6s} {'p99':>6s} {'max':>6s} | "
          f"{'run p50':>7s} {'p90':>6s} {'max':>6s} | {'load p50':>8s} | errors violations")
    allf, allr, nerr, nviol = [], [], 0, 0
    for p in pages:
        st = stats[p]
        allf += st.figure
        allr += st.run
        nerr += len(st.errors)
        nviol += len(st.violations)
        print(f"{p:13s} {names.count(p):5d} {len(st.run):5d} | {pct(st.figure, 50):10.2f} {pct(st.figure, 90):6.2f} "
              f"{pct(st.figure, 99):6.2f} {max(st.figure, default=float('nan')):6.2f} | {pct(st.run, 50):7.2f} "
              f"{pct(st.run, 90):6.2f} {max(st.run, default=float('nan')):6.2f} | {pct(st.first_load, 50):8.2f} | "
              f"{len(st.errors):6d} {len(st.violations):10d}")
    print(f"{'all':13s} {args.users:5d} {len(allr):5d} | {pct(allf, 50):10.2f} {pct(allf, 90):6.2f} {pct(allf, 99):6.2f} "
          f"{max(allf, default=float('nan')):6.2f} | {pct(allr, 50):7.2f} {pct(allr, 90):6.2f} "
          f"{max(allr, default=float('nan')):6.2f} |          | {nerr:6d} {nviol:10d}")
    print(f"(seconds; figure = slider value sent -> the page's main figure received; run = -> script run finished; "
          f"{wall:.0f} s wall, {len(allr) / wall:.1f} moves/s served)")
    print(f"after the run: health {health!r}, a fresh session drew the Overview in {after.t_run:.2f} s"
          + (f" with errors {after.errors}" if after.errors else " without errors"))
    if pids:
        per = (sum(mem_open) - sum(mem0)) / max(1, args.users)
        print(f"memory (MB, resident, per server process): warm {', '.join(f'{m:.0f}' for m in mem0)}; "
              f"{args.users} sessions open {', '.join(f'{m:.0f}' for m in mem_open)}; at the end "
              f"{', '.join(f'{m:.0f}' for m in mem_end)}; per idle session {per:.1f} MB, per session at the end "
              f"{(sum(mem_end) - sum(mem0)) / max(1, args.users):.1f} MB")
    print(f"{len(urls)} server(s): " + ", ".join(urls))
    for p in pages:
        for e in stats[p].errors[:5] + stats[p].violations[:5]:
            print("  ", e)
    # issue 22's targets: 20 sessions on one process p90 < 0.8 s; 50 on the recipe's two < 2 s
    one = len(urls) == 1 and not args.via and args.servers == 1
    goal = 0.8 if one else 2.0
    p90 = pct(allf, 90)
    print(f"target p90 < {goal:g} s (figure; {'one process' if one else 'several processes'}): "
          f"{'met' if p90 < goal else 'NOT met'} ({p90:.2f} s); errors and violations 0: "
          f"{'met' if nerr == 0 and nviol == 0 and not after.errors else 'NOT met'}"
          + (f"; memory per idle session < 50 MB: {'met' if per < 50 else 'NOT met'} ({per:.1f} MB)" if pids else ""))
    if args.json:
        Path(args.json).write_text(json.dumps({p: {"figure": stats[p].figure, "run": stats[p].run,
                                                   "errors": stats[p].errors, "violations": stats[p].violations}
                                               for p in pages}, indent=1))
    return 0 if (nerr == 0 and nviol == 0 and not after.errors) else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of slider moves per session")
    ap.add_argument("--think", type=float, default=1.0, help="seconds between a finished run and the next move")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds one run may take before it counts as an error")
    ap.add_argument("--query", default="", help="extra query string for every session, e.g. n=20 (default: app defaults)")
    ap.add_argument("--url", help="running servers, comma-separated, or a proxy in front of them (default: start them)")
    ap.add_argument("--servers", type=int, default=1, help="server processes to start (without --url)")
    ap.add_argument("--ports", help="their ports, comma-separated (default: free ports in 8610-8650)")
    ap.add_argument("--via", help="send the sessions through this proxy in front of the started servers")
    ap.add_argument("--json", help="write the raw latencies to this file")
    ap.add_argument("--cold", action="store_true",
                    help="no warm-up: the sessions arrive on fresh processes (a class opening the link at once)")
    args = ap.parse_args()
    servers = []
    try:
        if args.url:
            urls = [u.rstrip("/") for u in args.url.split(",")]
        else:
            ports = [int(p) for p in args.ports.split(",")] if args.ports else [None] * args.servers
            for port in ports:  # one after the other: each takes the next free port
                servers.append(H.Server(port))
                servers[-1].wait_healthy()
            urls = [args.via.rstrip("/")] if args.via else [sv.url for sv in servers]
        return asyncio.run(main_async(args, urls, [sv.proc.pid for sv in servers]))
    finally:
        for sv in servers:
            sv.stop()


if __name__ == "__main__":
    sys.exit(main())
