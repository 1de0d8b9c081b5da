"""One small cache for results that depend on data arrays: keyed by their content.

Interactive use re-solves the same data at many beta (a path, a slider), so the pattern
enumeration and the arrangement's geometry are kept for the last few data sets. Keys are
digests of the arrays' bytes (never object ids, which Python reuses), and the cache is safe to
share between the dashboard's session threads.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Callable

import numpy as np


def content_key(*parts) -> bytes:
    """A digest of arrays (shape, dtype and bytes) and other parts (their ``repr``)."""
    h = hashlib.sha1()
    for p in parts:
        if isinstance(p, np.ndarray):
            h.update(repr((p.shape, p.dtype.str)).encode())
            h.update(np.ascontiguousarray(p).tobytes())
        else:
            h.update(repr(p).encode())
        h.update(b"|")
    return h.digest()


class ContentCache:
    """Least-recently-used values by content key, at most ``maxsize`` of them."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._items: OrderedDict[bytes, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes, build: Callable[[], Any]) -> Any:
        """The value under ``key``, built by ``build()`` (outside the lock) when missing."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value
