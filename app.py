"""Convex NN Explorer: entry point (page config, navigation and the shared controls).

``streamlit run app.py`` imports this file as the module ``app`` and serves its ``st.App``
(whose start-up warms the process, :mod:`pages.common.startup`, and which hands the frontend to
the browser from memory, big parts first, :mod:`pages.common.serving`); each session then runs
this file as its script (``__name__ == "__main__"``), which draws the page.
"""
import gc
import threading
import time

import streamlit as st

#: Seconds the solver's kernels wait after the first page: loading them (numba) right after the
#: first script run slowed the browser's first drawing on a 2-core machine (benchmarks/cold_start.py).
COMPILE_DELAY = 8.0


def _warm_up_later() -> None:
    time.sleep(COMPILE_DELAY)
    from cvx_core.solvers import warm_up

    warm_up()


@st.cache_resource(show_spinner=False)
def _compile_solver() -> threading.Thread:
    """Compile (first start after installation, ~20 s) or load (~0.5 s) the solver's numba
    kernels in a background thread, once per server, a while after the first page is out: the
    default page's small fits do not use them (a page that does loads them itself)."""
    thread = threading.Thread(target=_warm_up_later, name="compile-solver", daemon=True)
    thread.start()
    return thread


def main() -> None:
    if gc.get_freeze_count() == 0:
        # Not started by st.App (a test's AppTest): the process's start-up objects (long-lived,
        # never garbage) move to the permanent generation, so the collections this run's imports
        # trigger no longer traverse them (one full collection was ~0.1 s of a first page).
        gc.freeze()
    from pages.common.controls.routing import ran_via_app
    from pages.common.controls.share import share_box
    from pages.common.controls.shared import shared_controls
    from pages.common.url import show_notices, sync_url

    st.set_page_config(page_title="Convex NN Explorer", page_icon="assets/icon.png", layout="wide",
                       initial_sidebar_state="collapsed" if st.query_params.get("lecture") in ("1", "true") else "auto")
    nav = st.navigation([
        st.Page("pages/home.py", title="Overview", icon=":material/home:", default=True),
        # (pages register here, one line each)
        st.Page("pages/arrangements.py", title="Arrangements", icon=":material/grid_on:", url_path="arrangements"),
        st.Page("pages/path.py", title="Sparsity path", icon=":material/timeline:", url_path="path"),
        st.Page("pages/sgd.py", title="SGD vs convex", icon=":material/compare_arrows:", url_path="sgd"),
        st.Page("pages/cnn.py", title="Convolutional networks", icon=":material/waves:", url_path="cnn"),
    ])
    controls = shared_controls()
    st.session_state["controls"] = controls
    show_notices()
    ran_via_app(True)  # pages check it (routing.through_app): a page file may run alone in legacy pages/ mode
    try:
        nav.run()
    finally:  # also after st.stop() in a page: the URL and the share link follow the controls
        ran_via_app(False)
        sync_url()
        share_box()
        _compile_solver()


if __name__ == "__main__":
    main()
else:
    from starlette.middleware import Middleware

    from pages.common.serving import FrontendFiles, PreloadHints
    from pages.common.startup import lifespan

    app = st.App(__file__, lifespan=lifespan, middleware=[Middleware(PreloadHints), Middleware(FrontendFiles)])
