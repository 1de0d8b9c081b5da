"""The linear 64-bit hash of activation patterns, shared by every pattern lookup.

``h(D) = sum_k D_k w_k`` with random ``w`` (arithmetic mod 2^64): flipping bit k moves it by
``+-w_k``, so all neighbours of a cell hash in one vector operation. One seed everywhere.
"""
from __future__ import annotations

import numpy as np

_HASH_SEED = 20261127


def hash_weights(n: int) -> np.ndarray:
    """The random 64-bit weights ``w (n,)`` of the linear pattern hash (one seed everywhere)."""
    return np.random.default_rng(_HASH_SEED).integers(0, np.iinfo(np.uint64).max, size=n,
                                                      dtype=np.uint64, endpoint=True)


def pattern_hashes(B: np.ndarray, w: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Linear hashes ``sum_k B_k w_k`` (arithmetic mod 2^64) of the rows of a bool matrix."""
    if not len(B):
        return np.zeros(0, np.uint64)
    return np.concatenate([(B[a:a + chunk].astype(np.uint64) * w).sum(axis=1) for a in range(0, len(B), chunk)])
