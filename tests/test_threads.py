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
