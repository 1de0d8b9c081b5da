"""Convex NN Explorer: entry point (page config, navigation and the shared controls)."""
import threading

import streamlit as st

from pages.common.controls.routing import ran_via_app
from pages.common.controls.share import share_box
from pages.common.controls.shared import shared_controls
from pages.common.url import show_notices, sync_url

st.set_page_config(page_title="Convex NN Explorer", page_icon="assets/icon.png", layout="wide",
                   initial_sidebar_state="collapsed" if st.query_params.get("lecture") in ("1", "true") else "auto")

PAGES = [
    st.Page("pages/home.py", title="Overview", icon=":material/home:", default=True),
    # (pages register here, one line each)
    st.Page("pages/arrangements.py", title="Arrangements", icon=":material/grid_on:", url_path="arrangements"),
    st.Page("pages/path.py", title="Sparsity path", icon=":material/timeline:", url_path="path"),
    st.Page("pages/sgd.py", title="SGD vs convex", icon=":material/compare_arrows:", url_path="sgd"),
    st.Page("pages/cnn.py", title="Convolutional networks", icon=":material/waves:", url_path="cnn"),
]


@st.cache_resource(show_spinner=False)
def _compile_solver() -> threading.Thread:
    """Compile (first start after installation, ~20 s) or load (~0.5 s) the solver's numba
    kernels in a background thread, once per server, after the first page is out: the
    default page's small fits do not use them, and loading them beside the first script run
    delayed the first page by 1.2-1.7 s (benchmarks/cold_start.py)."""
    from cvx_core.solvers import warm_up

    thread = threading.Thread(target=warm_up, name="compile-solver", daemon=True)
    thread.start()
    return thread


nav = st.navigation(PAGES)
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
