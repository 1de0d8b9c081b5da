"""Fixtures for the real-browser suite: one Streamlit server and one Chromium for the session.

The suite needs Debian's ``chromium`` (``.ci/run`` installs it) and the ``playwright`` Python
package (its bundled browsers are not used). Outside CI it is skipped, with a message, when no
Chromium is on PATH; in CI (env ``CI`` set) a missing Chromium is an error, so the browser
suite can never be skipped silently there.
"""
from __future__ import annotations

import os

import pytest

import harness as H

IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _require_browser():
    why = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        why = f"the playwright package is not installed ({exc})"
    if why is None and H.chromium_path() is None:
        why = "no chromium on PATH (Debian: apt-get install chromium)"
    if why is None:
        return
    if IN_CI:
        pytest.fail(f"browser suite cannot run in CI: {why}", pytrace=False)
    pytest.skip(f"browser suite skipped: {why}")


@pytest.fixture(scope="session")
def browser():
    """Chromium (Debian's, via Playwright) with the project's launch arguments."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    H.ARTIFACTS.mkdir(exist_ok=True)
    for old in H.ARTIFACTS.glob("FAILED_*.png"):  # from an earlier run
        old.unlink()

    with sync_playwright() as pw:
        b = H.launch(pw)
        yield b
        b.close()


@pytest.fixture(scope="session")
def app_url(browser):
    """Base URL of ``streamlit run app.py`` on a free port (8610-8650), killed at the end.

    One visit to the Overview before any test, so the first test does not pay for the imports
    (a fresh server's first request is covered by test_fresh_server_page_link).
    """
    server = H.Server()
    try:
        server.wait_healthy()
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        H.open_page(ctx.new_page(), H.page_url(server.url, "home", "n=20"))
        ctx.close()
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def page(browser, app_url, request):
    """A fresh browser context (a new Streamlit session) at 1280x800; screenshot on failure."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = ctx.new_page()
    pg.set_default_timeout(120_000)
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        H.ARTIFACTS.mkdir(exist_ok=True)
        try:
            pg.screenshot(path=str(H.ARTIFACTS / f"FAILED_{request.node.name}.png"))
        except Exception:  # noqa: BLE001 - a failed screenshot must not hide the failure
            pass
    ctx.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
