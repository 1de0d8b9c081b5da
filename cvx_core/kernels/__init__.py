"""The numba-compiled kernels: projections onto cells (:mod:`.cones`), the row-list interior
point's loops (:mod:`.rows`) and the blocks' interior point's (:mod:`.blocks`), and whether
they can be used: numba installed and a cache location it can write. Without them the engine
solves and certifies the same programs with Clarabel and one NNLS per cell, only slower.

Checked on first need (importing numba is slow, so not at import time), once per process.
"""
from __future__ import annotations

import sys
import warnings

_available: bool | None = None


def loaded() -> bool:
    """True once the kernels are imported in this process (never imports them)."""
    return _available is True or (_available is None and f"{__name__}.cones" in sys.modules)


def available() -> bool:
    global _available
    if _available is None:
        try:
            from . import blocks, cones, rows  # noqa: F401
            _available = True
        except Exception as exc:  # ImportError, or numba's RuntimeError when it cannot cache
            warnings.warn(f"compiled kernels unavailable ({type(exc).__name__}: {exc}); solving with "
                          "Clarabel and one NNLS per cell instead (slower)", RuntimeWarning, stacklevel=2)
            _available = False
    return _available
