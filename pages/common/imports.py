"""pandas, imported once per process without breaking the figures other sessions are building.

plotly's validators look at ``sys.modules["pandas"]`` without importing it (``is_array``:
``isinstance(v, (pd.Series, pd.Index))``). While one session's thread imports pandas (the SGD
page's figures, the real-data table, an uploaded CSV's preview), that entry is a partially
initialised module, and a figure built in another session's thread at that moment failed
with "partially initialized module 'pandas' has no attribute 'Series'" (a class opening the
link on a fresh server process: 6 of 24 sessions). So figure builds hold the gate shared and the
first import of pandas holds it alone: it waits for the builds in flight, and new builds wait
for it (~0.3 s, once per process).
"""
from __future__ import annotations

import importlib
import sys
import threading
from contextlib import contextmanager


class _Gate:
    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._builds = 0
        self._importing = False
        self._local = threading.local()

    @contextmanager
    def building(self):
        """Held while a plotly figure is built (shared with other builds)."""
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            with self._cv:
                while self._importing:
                    self._cv.wait()
                self._builds += 1
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                with self._cv:
                    self._builds -= 1
                    self._cv.notify_all()

    def module(self, name: str):
        """The module ``name``, imported with no figure build in flight in another thread."""
        module = sys.modules.get(name)
        if module is not None and not _initializing(module):
            return module
        if getattr(self._local, "depth", 0):
            # inside a build of this thread: waiting for builds would wait for itself
            return importlib.import_module(name)
        with self._cv:
            while self._importing or self._builds:
                self._cv.wait()
            self._importing = True
        try:
            return importlib.import_module(name)
        finally:
            with self._cv:
                self._importing = False
                self._cv.notify_all()


def _initializing(module) -> bool:
    return bool(getattr(getattr(module, "__spec__", None), "_initializing", False))


_gate = _Gate()
#: ``with figure_build(): ...`` around code that builds or validates plotly figures.
figure_build = _gate.building


def pandas():
    """The pandas module (the app imports it only through this)."""
    return _gate.module("pandas")
