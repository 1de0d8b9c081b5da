"""Real-browser harness: a Streamlit server subprocess and helpers to drive the app in Chromium.

Shared by the end-to-end tests (``tests/e2e``) and the browser benchmarks (``benchmarks/``).
Everything waits on what the page shows (Streamlit's "running" status widget, metric text, the
data inside a plotly figure) with generous timeouts: a rerun on a loaded 2-core machine can
take many seconds.

Environment
-----------
E2E_APP_DIR : directory holding ``app.py`` (default: the repository root).
E2E_CHROMIUM : Chromium executable (default: ``chromium`` on PATH, then /usr/bin/chromium).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_DIR = Path(os.environ.get("E2E_APP_DIR", ROOT))
ARTIFACTS = ROOT / "test-artifacts"
#: Ports reserved for the browser suite and the benchmarks.
PORTS = range(8610, 8651)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: Page url paths ("" is the Overview, the default page).
PAGES = {"home": "", "arrangements": "arrangements", "path": "path", "sgd": "sgd", "cnn": "cnn"}

STATUS = '[data-testid="stStatusWidget"]'
EXCEPTION = '[data-testid="stException"]'
ERROR = '[data-testid="stAlertContentError"]'
METRIC = '[data-testid="stMetric"]'


# --------------------------------------------------------------------------- processes
def chromium_path() -> str | None:
    """The Chromium executable to drive, or None when there is none."""
    env = os.environ.get("E2E_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def free_port(ports=PORTS) -> int:
    """The first port of ``ports`` nothing listens on (IPv4 and IPv6 wildcard)."""
    for port in ports:
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
                s.bind(("::", port))
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


class Server:
    """``streamlit run app.py`` on a free port, as a subprocess (stop it with :meth:`stop`)."""

    def __init__(self, port: int | None = None, app_dir: Path = APP_DIR, log: Path | None = None):
        self.port = port or free_port()
        self.url = f"http://localhost:{self.port}"
        self.log_path = log or ARTIFACTS / f"streamlit_{self.port}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(self.port), "--browser.gatherUsageStats", "false",
               # other people edit the working tree while tests run: no "file changed" reruns
               "--server.fileWatcherType", "none"]
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=app_dir, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_healthy(self, timeout: float = 90.0) -> float:
        """Block until /_stcore/health answers ok; returns the seconds since the start."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"streamlit not healthy after {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        self._log.flush()
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


@contextmanager
def browser_at(url: str | None = None, init_script: str | None = None):
    """(Chromium, base URL): ``url``, or a fresh ``streamlit run app.py`` stopped afterwards. A
    first visit to the Overview pays the server's imports, so that measurements do not."""
    from playwright.sync_api import sync_playwright

    server = None
    if url is None:
        server = Server()
        server.wait_healthy()
        url = server.url
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            pg = new_page(browser, init_script)
            open_page(pg, page_url(url, "home"), timeout=600)
            pg.context.close()
            yield browser, url
            browser.close()
    finally:
        if server is not None:
            server.stop()


def new_page(browser, init_script: str | None = None):
    """A page in a new browser context (a new Streamlit session) at 1280x800."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    if init_script:
        ctx.add_init_script(init_script)
    return ctx.new_page()


def launch(playwright, **kwargs):
    """Chromium with the project's launch arguments."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, **kwargs)


# --------------------------------------------------------------------------- reading the page
def page_url(base: str, page: str, query: str = "") -> str:
    path = PAGES.get(page, page)
    return f"{base}/{path}" + (f"?{query.lstrip('?')}" if query else "")


def href(pg) -> str:
    """The address bar now (``page.url`` can miss Streamlit's history.replaceState updates)."""
    return pg.evaluate("location.href")


def is_running(pg) -> bool:
    return pg.locator(STATUS).count() > 0


#: JS expression: a script run is shown, an element is stale, the page is not there yet, or a
#: live chart (its iframe's body says busy) has not drawn its newest figure.
PAGE_BUSY = """!!document.querySelector('[data-testid="stStatusWidget"]')
    || !!document.querySelector('[data-stale="true"]')
    || !document.querySelector('[data-testid="stMain"]')
    || Array.from(document.querySelectorAll('iframe')).some(f => {
         try { const b = f.contentDocument && f.contentDocument.body; return !!b && b.dataset.busy === '1'; }
         catch (e) { return false; } })"""


def wait_idle(pg, timeout: float = 120.0, quiet: float = 0.6) -> None:
    """Wait until no script run is shown for ``quiet`` seconds, nothing is stale and every live
    chart has drawn its newest figure."""
    deadline = time.monotonic() + timeout
    calm_since = None
    while time.monotonic() < deadline:
        busy = pg.evaluate(f"() => {PAGE_BUSY}")
        now = time.monotonic()
        if busy:
            calm_since = None
        elif calm_since is None:
            calm_since = now
        elif now - calm_since >= quiet:
            return
        time.sleep(0.1)
    raise TimeoutError(f"the app kept running for {timeout:.0f} s")


def open_page(pg, url: str, ready: str = METRIC, timeout: float = 150.0) -> None:
    """Go to ``url`` and wait until ``ready`` is shown and the script run has finished.

    An exception or error box instead of ``ready`` ends the wait early (the caller's checks
    then report it), so a broken page fails in seconds, not after the timeout.
    """
    pg.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
    pg.wait_for_selector(f"{ready}, {EXCEPTION}, {ERROR}", timeout=timeout * 1000)
    wait_idle(pg, timeout)
    if pg.locator(ready).count() == 0:
        raise AssertionError(f"{url}: {ready} not shown; on the page: {problems(pg)}")


def problems(pg) -> list[str]:
    """Exceptions, error boxes and tracebacks on screen (empty when the page is clean)."""
    out = [f"exception: {t[:300]}" for t in pg.locator(EXCEPTION).all_inner_texts()]
    out += [f"error: {t[:300]}" for t in pg.locator(ERROR).all_inner_texts()]
    body = pg.locator('[data-testid="stMain"]').inner_text() if pg.locator('[data-testid="stMain"]').count() else ""
    if "Traceback (most recent call last)" in body:
        out.append("traceback text on the page")
    return out


def metrics(pg) -> dict[str, str]:
    """Every st.metric on the page: label -> value text."""
    out = {}
    for m in pg.locator(METRIC).all():
        label = m.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        out[label] = m.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out


def metric_number(pg, label: str) -> float:
    """A metric's value as a number (thousands separators, %, units removed)."""
    raw = metrics(pg)[label]
    return float(raw.replace(",", "").replace("%", "").split()[0])


# The plotly graph div of the chart in the element with selector ``sel``: an st.plotly_chart
# draws it in the page, a live chart (pages/common/export/live_chart.py) inside its iframe.
GD_JS = """const GD = (sel) => {
  const c = typeof sel === 'string' ? document.querySelector(sel) : sel;
  if (!c) return null;
  const g = c.querySelector('.js-plotly-plot');
  if (g) return g;
  const f = c.querySelector('iframe');
  try { return f && f.contentDocument ? f.contentDocument.querySelector('.js-plotly-plot') : null; }
  catch (e) { return null; }
};
const FRAME_OFFSET = (g) => {
  const f = g.ownerDocument.defaultView.frameElement;
  if (!f) return [0, 0];
  const r = f.getBoundingClientRect();
  return [r.left + f.clientLeft, r.top + f.clientTop];
};
// what a graph draws: its traces' data and styles, shapes, title, a live chart's overlay traces
const SIG = (g) => (g && g.data) ? JSON.stringify(g.data.map(t => [t.type, t.name, t.x, t.y, t.z, t.customdata,
    t.visible, t.marker && t.marker.color, t.line && t.line.color]))
  + JSON.stringify((g.layout || {}).shapes || []) + JSON.stringify((g.layout || {}).title || '')
  + (g.__liveOverlay || '') : null;"""


def js(body: str) -> str:
    """A JS arrow function ``(arg) => {...}`` with :data:`GD_JS` in scope (``body`` is one)."""
    head, rest = body.split("=>", 1)
    rest = rest.strip()
    assert rest.startswith("{"), body
    return f"{head}=> {{ {GD_JS}\n{rest[1:]}"


_FIG_JS = js("""(sel) => { return SIG(GD(sel)); }""")


def chart_sel(key: str) -> str:
    return f".st-key-{key}"


def figure_signature(pg, key: str) -> str | None:
    """A digest of the data drawn by the plotly chart with element key ``key`` (None: no chart)."""
    s = pg.evaluate(_FIG_JS, chart_sel(key))
    return None if s is None else hashlib.sha1(s.encode()).hexdigest()


def figure_traces(pg, key: str) -> list[dict]:
    """Name, type and number of points of each trace of the chart ``key``."""
    return pg.evaluate(js("""(sel) => {
      const g = GD(sel);
      return g ? g._fullData.map(t => ({name: t.name || '', type: t.type, mode: t.mode || '',
                                         n: t.x ? t.x.length : (t.z ? t.z.length : 0)})) : [];
    }"""), chart_sel(key))


def trace_points(pg, key: str, name: str) -> list[tuple[float, float]]:
    """(x, y) of every point of the trace named ``name`` in chart ``key``."""
    return [tuple(p) for p in pg.evaluate(js("""([s, name]) => {
      const g = GD(s);
      const t = g._fullData.find(t => t.name === name);
      return t ? Array.from(t.x, (x, k) => [x, t.y[k]]) : [];
    }"""), [chart_sel(key), name])]


def slider_value(pg, key: str) -> str:
    return pg.locator(f"{chart_sel(key)} input[type=range]").first.get_attribute("aria-valuetext")


def press_slider(pg, key: str, steps: int) -> None:
    """Move the slider with element key ``key`` by ``steps`` steps with the keyboard."""
    inp = pg.locator(f"{chart_sel(key)} input[type=range]").first
    inp.focus()
    for _ in range(abs(steps)):
        pg.keyboard.press("ArrowRight" if steps > 0 else "ArrowLeft")


def wait_for(fn, timeout: float = 120.0, every: float = 0.15, what: str = "condition", info=None):
    """Poll ``fn`` until it returns a truthy value (returned); TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}" + (f" ({info()})" if info else ""))


def wait_changed(pg, read, before, timeout: float = 120.0, what: str = "a change"):
    """Wait until ``read()`` differs from ``before`` and the rerun has finished; return it."""
    wait_for(lambda: read() != before, timeout, what=what)
    wait_idle(pg, timeout)
    return read()


def visible_points(pg, key: str, trace: int) -> list[tuple[int, float, float]]:
    """(index, page x, page y) of the points of trace ``trace`` of chart ``key`` inside its axes."""
    pts = pg.evaluate(js("""([sel, i]) => {
      const g = GD(sel);
      const t = g._fullData[i], fl = g._fullLayout;
      const xa = fl[t.xaxis.replace('x', 'xaxis')], ya = fl[t.yaxis.replace('y', 'yaxis')];
      const b = g.querySelector('.main-svg').getBoundingClientRect(), [ox, oy] = FRAME_OFFSET(g);
      const r = {left: b.left + ox, top: b.top + oy};
      const out = [];
      for (let k = 0; k < t.x.length; k++) {
        const px = xa.l2p(t.x[k]), py = ya.l2p(t.y[k]);
        if (px > 4 && px < xa._length - 4 && py > 4 && py < ya._length - 4)
          out.push([k, r.left + xa._offset + px, r.top + ya._offset + py]);
      }
      return out;
    }"""), [chart_sel(key), trace])
    return [(int(k), float(x), float(y)) for k, x, y in pts]


def click_at(pg, x: float, y: float) -> None:
    """Hover, then click at page coordinates (plotly selects a point on a click after a hover)."""
    pg.mouse.move(x - 3, y - 3)
    pg.mouse.move(x, y)
    time.sleep(0.3)
    pg.mouse.click(x, y)


def drag_in_chart(pg, key: str, fx: float, fy: float, dx: float, dy: float, steps: int = 10) -> None:
    """Drag with the mouse inside chart ``key`` from the fraction (fx, fy) of its box, by (dx, dy)
    pixels in ``steps`` moves (plotly pans a 2-D plot and turns a 3-D scene)."""
    pg.locator(chart_sel(key)).scroll_into_view_if_needed()
    box = pg.locator(chart_sel(key)).locator("iframe, .js-plotly-plot").first.bounding_box()
    x0, y0 = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
    pg.mouse.move(x0, y0)
    pg.mouse.down()
    for k in range(1, steps + 1):
        pg.mouse.move(x0 + dx * k / steps, y0 + dy * k / steps)
        time.sleep(0.03)
    pg.mouse.up()
    time.sleep(0.5)


def click_point(pg, key: str, trace: int, pick: int = 0) -> int:
    """Click the ``pick``-th visible point of trace ``trace`` of chart ``key``; returns its index."""
    pg.locator(chart_sel(key)).scroll_into_view_if_needed()
    pts = visible_points(pg, key, trace)
    if not pts:
        raise AssertionError(f"no visible point in trace {trace} of {key}")
    k, x, y = pts[pick % len(pts)]
    click_at(pg, x, y)
    return k


def click_far_from(pg, key: str, trace: int, avoid: list[int]) -> tuple[float, float]:
    """Click the point of ``trace`` farthest (on screen) from every point of the ``avoid`` traces.

    Returns the clicked point's data coordinates.
    """
    pg.locator(chart_sel(key)).scroll_into_view_if_needed()
    cand = visible_points(pg, key, trace)
    if not cand:
        raise AssertionError(f"no visible point in trace {trace} of {key}")
    other = [(x, y) for a in avoid for _, x, y in visible_points(pg, key, a)]
    k, x, y = max(cand, key=lambda p: min(((p[1] - a) ** 2 + (p[2] - b) ** 2 for a, b in other), default=0.0))
    click_at(pg, x, y)
    return tuple(pg.evaluate(js("([s, i, k]) => { const t = GD(s)._fullData[i]; return [t.x[k], t.y[k]]; }"),
                             [chart_sel(key), trace, k]))


def chart_key(pg, prefix: str) -> str | None:
    """Element key of the first plotly chart whose key starts with ``prefix``."""
    return pg.evaluate(js("""(p) => {
      for (const c of document.querySelectorAll('[class*="st-key-"]')) {
        const m = c.className.match(/st-key-(\\S+)/);
        if (m && m[1].startsWith(p) && GD(c)) return m[1];
      }
      return null;
    }"""), prefix)


def trace_index(pg, key: str, predicate_js: str) -> int:
    """Index of the first trace of chart ``key`` for which ``predicate_js`` (a JS arrow on t) holds."""
    return pg.evaluate(js(f"""(sel) => {{
      const g = GD(sel);
      return g.data.findIndex({predicate_js});
    }}"""), chart_sel(key))


def dump(obj) -> str:
    return json.dumps(obj, indent=1, sort_keys=True)
