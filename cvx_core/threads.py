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

import sys
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

#: Decorator: the function runs with BLAS limited to one thread. threadpoolctl's cached
#: controller is rebuilt when modules were imported since, so scipy's own OpenBLAS, loaded
#: only after the dashboard's first page, is limited too.
single_blas_thread = threadpool_limits.wrap(limits=1, user_api="blas")


@contextmanager
def scipy_blas_limited():
    """scipy.linalg loaded, and its OpenBLAS held to one thread like the entry point's.

    A limit covers only the libraries loaded when it is taken: on a process's first fit that
    reaches scipy, scipy's OpenBLAS loaded inside the entry point ran on every core (and the
    fit's rounding depended on the import order). Where scipy is first loaded here, the limit is
    taken again for the block; otherwise the entry point's already covers it.
    """
    if "scipy.linalg" in sys.modules:
        yield
        return
    import scipy.linalg  # noqa: F401

    with threadpool_limits(limits=1, user_api="blas"):
        yield
