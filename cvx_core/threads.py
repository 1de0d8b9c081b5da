"""One BLAS thread for the engine's entry points.

The working sets' interior points make thousands of small BLAS calls per fit (batched d x d
factors, n x n Gram products in column chunks, matrix-vector products). With OpenBLAS's
default of one thread per core, waking and joining the threads for each call costs more than
it saves (a searched breast-cancer fit took twice as long on 2 cores). The entry points therefore
run with BLAS limited to one thread (:data:`single_blas_thread`), restored when they return,
whatever the environment says. The limit is taken per entry point, not per solve: switching
back and forth inside a fit left OpenBLAS's idle worker spinning beside the single-threaded
work.
"""
from __future__ import annotations

import functools
import sys
import threading
from contextlib import ExitStack, contextmanager

from threadpoolctl import threadpool_limits

# the innermost entry point of this thread: [its ExitStack, whether its limit covers scipy's BLAS]
_state = threading.local()


def _one_thread():
    """A BLAS limit of one thread over the libraries loaded now."""
    return threadpool_limits(limits=1, user_api="blas")


def single_blas_thread(fn):
    """Decorator: ``fn`` runs with BLAS limited to one thread, restored when it returns.

    threadpoolctl's cached controller is rebuilt when modules were imported since, so scipy's own
    OpenBLAS, loaded only after the dashboard's first page, is limited too when it is loaded at
    entry; when it is loaded inside, :func:`scipy_blas_limited` extends the limit to it."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        outer = getattr(_state, "entry", None)
        with ExitStack() as stack:
            stack.enter_context(_one_thread())
            _state.entry = [stack, "scipy.linalg" in sys.modules]
            try:
                return fn(*args, **kwargs)
            finally:
                _state.entry = outer
    return run


def cover_scipy() -> None:
    """Inside an entry point: scipy.linalg loaded and its OpenBLAS held to one thread for the
    rest of the entry point (a no-op once covered, or outside an entry point)."""
    entry = getattr(_state, "entry", None)
    if entry is None or entry[1]:
        return
    import scipy.linalg  # noqa: F401

    entry[0].enter_context(_one_thread())
    entry[1] = True


@contextmanager
def scipy_blas_limited():
    """scipy.linalg loaded, and its OpenBLAS held to one thread like the entry point's.

    A limit covers only the libraries loaded when it is taken: on a process's first fit that
    reaches scipy, scipy's OpenBLAS loaded inside the entry point ran on every core (and the
    fit's rounding depended on the import order: the interior route's objective moved by 4e-13,
    a convolutional fit's by 7e-9). Where scipy is not covered yet, it is loaded and the limit is
    taken again, for the rest of the entry point (outside one: for the block).
    """
    if getattr(_state, "entry", None) is not None:
        cover_scipy()
        yield
        return
    import scipy.linalg  # noqa: F401

    with _one_thread():
        yield
