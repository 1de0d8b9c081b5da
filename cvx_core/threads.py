"""One BLAS thread for the engine's entry points.

The working sets' interior points make thousands of small BLAS calls per fit (batched d x d
factors, n x n Gram products in column chunks, matrix-vector products). With OpenBLAS's
default of one thread per core, waking and joining the threads for each call costs more than
it saves: breast cancer's searched fit took 17.5-21.6 s with the default threads on the
2-core machine and 8.0-8.5 s with one (same objective). The engine's entry points therefore
run with BLAS limited to one thread (:data:`single_blas_thread`), restored when they return,
whatever the environment says. The limit is taken per entry point, not per solve: switching
back and forth inside a fit left OpenBLAS's idle worker spinning beside the single-threaded
work (a 100-point plane fit went from 0.16 to 0.19-0.31 s).
"""
from __future__ import annotations

from threadpoolctl import threadpool_limits

#: Decorator: the function runs with BLAS limited to one thread. threadpoolctl's cached
#: controller is rebuilt when modules were imported since, so scipy's own OpenBLAS, loaded
#: only after the dashboard's first page, is limited too.
single_blas_thread = threadpool_limits.wrap(limits=1, user_api="blas")
