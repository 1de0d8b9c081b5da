"""One BLAS thread for the engine's entry points.

The working sets' interior points make thousands of small BLAS calls per fit (batched d x d
factors, n x n Gram products in column chunks, matrix-vector products). With OpenBLAS's
default of one thread per core, waking and joining the threads for each call costs more than
it saves: breast cancer's searched fit took 17.5-21.6 s with the default threads on the
2-core machine and 8.0-8.5 s with one (same objective). The engine's entry points therefore
run with BLAS limited to one thread (:func:`single_blas_thread`), restored when they return,
whatever the environment says. The limit is taken per entry point, not per solve: switching
back and forth inside a fit left OpenBLAS's idle worker spinning beside the single-threaded
work (a 100-point plane fit went from 0.16 to 0.19-0.31 s).
"""
from __future__ import annotations

import functools

from threadpoolctl import threadpool_limits


def one_blas_thread():
    """A context in which BLAS uses one thread (the previous limits are restored on exit).

    The loaded libraries are listed anew each time (~1-2 ms): scipy brings its own OpenBLAS
    when it is first imported, which the dashboard does only after its first page."""
    return threadpool_limits(limits=1, user_api="blas")


def single_blas_thread(func):
    """Decorate an entry point to run under :func:`one_blas_thread`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return func(*args, **kwargs)

    return wrapper
