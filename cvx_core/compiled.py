"""Whether the numba-compiled kernels (:mod:`cvx_core.rows_kernel`, :mod:`cvx_core.cone_kernel`)
can be used: numba installed and a cache location it can write. Without them the engine
solves and certifies the same programs with Clarabel and one NNLS per cell, only slower.

Checked on first need (importing numba costs ~0.3 s), once per process.
"""
from __future__ import annotations

import time
import warnings

import numpy as np

_available: bool | None = None


def available() -> bool:
    global _available
    if _available is None:
        try:
            from . import cone_kernel, rows_kernel  # noqa: F401
            _available = True
        except Exception as exc:  # ImportError, or numba's RuntimeError when it cannot cache
            warnings.warn(f"compiled kernels unavailable ({type(exc).__name__}: {exc}); solving with "
                          "Clarabel and one NNLS per cell instead (slower)", RuntimeWarning, stacklevel=2)
            _available = False
    return _available


def warm_up() -> float:
    """Compile (the first use after installation, ~25 s) or load from the on-disk cache (later
    processes, ~0.5 s) both kernels by solving a four-point program and projecting onto one
    cell; returns the seconds it took. The dashboard calls it in the background after its first
    page, the tests before the first test, the solver benchmark before its timed fits."""
    from .cone_kernel import project
    from .ipm import solve_rows

    t = time.perf_counter()
    X = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [-1.0, 0.0, 1.0], [0.0, -1.0, 1.0]])
    C = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
    solve_rows(X, C, X, np.array([0, 0, 1, 1]), np.array([1.0, -1.0, 1.0, -1.0]), 0.1)
    project(X, np.array([[True, True, False, False]]), np.ones(1), np.ones((1, 3)))
    return time.perf_counter() - t
