"""The engine's entry points run with one BLAS thread and restore the caller's setting."""
from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import cvx_core.convex as convex
from cvx_core import fit_convex
from cvx_core.datasets import make_dataset


def _blas_threads() -> dict[str, int]:
    return {lib["filepath"]: lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_a_fit_solves_with_one_blas_thread_and_restores_the_callers(monkeypatch):
    seen = []
    real = convex.solve_column

    def recording(*args, **kwargs):
        seen.append(_blas_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(convex, "solve_column", recording)
    X, y = make_dataset("moons", n=20, seed=0)
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()  # a single-threaded build stays at 1
        if 2 not in before.values():
            pytest.skip("no BLAS library here runs more than one thread")
        fit = fit_convex(X, y, 0.1)
        after = _blas_threads()
    assert fit.status == "optimal" and np.isfinite(fit.objective)
    assert seen and all(set(s.values()) == {1} for s in seen)
    assert {k: v for k, v in after.items() if k in before} == before


def test_a_fit_that_loads_scipy_gives_the_same_numbers_as_one_that_found_it_loaded():
    """scipy's OpenBLAS is a library of its own; loaded inside a fit (a process's first), it was
    outside the entry point's one-thread limit and the fit's rounding depended on the import
    order (the interior route moved by 4e-13, a convolutional fit by 7e-9). Fresh processes,
    one importing scipy.linalg first: the same objectives to the last digit, and every factor
    ran with one BLAS thread."""
    import subprocess
    import sys
    from pathlib import Path

    code = """
import sys
if sys.argv[1] == "first":
    import scipy.linalg
import numpy as np
from threadpoolctl import threadpool_info
import cvx_core.solvers.ipm as ipm
from cvx_core import fit_convex
from cvx_core.cnn import fit_convex_cnn
threads = []
real = ipm.NewtonSystem.factor
def factor(self, *a, **k):
    threads.append(max(l["num_threads"] for l in threadpool_info() if l["user_api"] == "blas"))
    return real(self, *a, **k)
ipm.NewtonSystem.factor = factor
rng = np.random.default_rng(0)
X = rng.standard_normal((60, 4)); y = X[:, 0] * X[:, 1] + 0.1 * rng.standard_normal(60)
out = [fit_convex(X, y, 0.05, solver="interior", patterns=80, seed=1).objective]
X2 = rng.standard_normal((200, 2)); y2 = X2[:, 0] * X2[:, 1]
out.append(fit_convex(X2, y2, 0.05).objective)
S = rng.standard_normal((30, 6)); s = np.sign(S[:, 0] * S[:, 1] + 0.1)
out.append(fit_convex_cnn(S, s, 0.1, filter_size=2, loss="logistic", solver="blocks").objective)
print(" ".join(repr(v) for v in out), max(threads))
"""
    root = Path(__file__).resolve().parents[1]
    runs = [subprocess.run([sys.executable, "-c", code, order], cwd=root, capture_output=True, text=True,
                           timeout=600, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
            for order in ("fresh", "first")]
    assert all(r.returncode == 0 for r in runs), [r.stderr[-1500:] for r in runs]
    fresh, first = (r.stdout.split() for r in runs)
    assert fresh == first
    assert fresh[-1] == "1"
