"""pages.common.imports: the first import of a module waits for figure builds in flight, and
builds wait for the import (plotly's validators read a half-imported pandas otherwise)."""
import sys
import threading
import time

from pages.common.imports import _Gate, _initializing


def _slow_module(tmp_path, monkeypatch, name):
    (tmp_path / f"{name}.py").write_text(
        "import time\nSTART = time.perf_counter()\ntime.sleep(0.3)\nEND = time.perf_counter()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)


def test_an_import_waits_for_builds_in_flight_and_builds_wait_for_the_import(tmp_path, monkeypatch):
    name = "gate_slow_module_a"
    _slow_module(tmp_path, monkeypatch, name)
    gate = _Gate()
    spans = {}

    def build(tag, delay):
        time.sleep(delay)
        with gate.building():
            t0 = time.perf_counter()
            time.sleep(0.2)
            spans[tag] = (t0, time.perf_counter())

    first = threading.Thread(target=build, args=("before", 0.0))
    first.start()
    time.sleep(0.05)  # the build is in flight
    during = threading.Thread(target=build, args=("during", 0.3))  # asks while the import runs
    during.start()
    mod = gate.module(name)
    first.join()
    during.join()
    assert mod.START >= spans["before"][1]  # the import waited for the build in flight
    assert spans["during"][0] >= mod.END  # and the later build for the import
    assert not _initializing(mod) and gate.module(name) is mod


def test_a_build_that_imports_does_not_wait_for_itself(tmp_path, monkeypatch):
    name = "gate_slow_module_b"
    _slow_module(tmp_path, monkeypatch, name)
    gate = _Gate()
    done = []

    def run():
        with gate.building():
            with gate.building():  # nested builds count once
                done.append(gate.module(name))

    t = threading.Thread(target=run)
    t.start()
    t.join(5)
    assert not t.is_alive() and done and done[0].END > done[0].START
