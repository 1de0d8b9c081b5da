"""Re-render time of the Sparsity path page when the beta slider moves over a computed path.

Run: ``python benchmarks/path_slider.py`` (from the repository root). Uses AppTest with the
page's defaults (spiral, n = 40, 20 betas down to 1e-2 beta_max): solves the path once, then
moves the selection to every beta and times each full script rerun (app.py, sidebar, page,
figure building and serialisation). Also counts path solves: moving the slider must not solve.
Target: under 0.3 s per rerun.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit.runtime.pages_manager as pages_manager  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from cvx_core.path import regularization_path  # noqa: E402
from pages.common.cache import path as cache_path  # noqa: E402


class _NoDir:
    def exists(self) -> bool:
        return False


def main(params: dict | None = None) -> None:
    real = pages_manager.Path  # run every AppTest rerun through app.py (see tests/test_page_path.py)
    pages_manager.Path = lambda *a: _NoDir() if real(*a).name == "pages" else real(*a)
    solves = []

    def counting(*a, **k):
        solves.append(1)
        return regularization_path(*a, **k)

    cache_path.regularization_path = counting
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.query_params.update(params or {"dataset": "spiral", "n": "40", "test": "0.25"})
    at.run()  # through app.py first, then to the page
    at.switch_page("pages/path.py")
    t = time.perf_counter()
    at.run()
    first = time.perf_counter() - t
    assert not at.exception, [e.value for e in at.exception]
    K = int(next(m.value for m in at.metric if m.label == "Betas solved"))
    times = []
    for k in list(range(K)) + list(range(K - 1, -1, -3)):
        t = time.perf_counter()
        at.select_slider(key="path_k").set_value(k).run()
        times.append(time.perf_counter() - t)
        assert not at.exception
    print(f"first run (solves the path): {first:.2f} s, path solves so far: 1")
    print(f"slider reruns over {len(times)} selections: median {statistics.median(times):.3f} s, "
          f"max {max(times):.3f} s, mean {statistics.mean(times):.3f} s")
    print("per rerun:", " ".join(f"{t:.2f}" for t in times))
    print(f"path solves in total: {len(solves)} (1 means nothing was re-solved)")


if __name__ == "__main__":
    main()
