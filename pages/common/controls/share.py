"""The sidebar's "Share and present" box: copyable links, lecture mode, figure format."""
from __future__ import annotations

import streamlit as st

from .. import lecture
from ..url import keep, share_link, url_state
from .hideable import HIDEABLE

#: Session key of the box's open state (pages.common.controls.fragment reads it).
OPEN_KEY = "share_open"


def share_box() -> None:
    """Draw the box. Call after the page ran (app.py does), so the links include the page's own controls."""
    ss = st.session_state
    # Opening the box reruns the app, so its links are fresh (display-only controls rerun only
    # their fragment while it is closed).
    with st.sidebar.expander("Share and present", expanded=False, key=OPEN_KEY, on_change="rerun") as box:
        if not box.open:
            # Drawn only while open: its code blocks load a large part of the frontend (the syntax
            # highlighter) that a first page does not need. Its settings live on meanwhile.
            keep(lecture.KEY, lecture.HIDE_KEY, "fmt", "srvexp")
            return
        st.toggle("Lecture mode", key=lecture.KEY,
                  help="Hides explanatory text and the controls chosen below; larger fonts and markers.")
        st.multiselect("Hide in lecture mode", list(HIDEABLE), key=lecture.HIDE_KEY, format_func=HIDEABLE.get)
        st.radio("Figure download format (camera icon on each figure)", ("png", "svg"), key="fmt", horizontal=True)
        st.toggle("Server-rendered PNG/SVG buttons under each figure", key="srvexp",
                  help="Exact renders by kaleido + Chromium on the server (a few seconds each). Off by default: "
                       "every download button costs each rerun time when many people use one server.")
        state = url_state()  # read once for the three links
        st.caption("Link to this exact view (copy with the icon on the right):")
        st.code(share_link(state=state), language=None, wrap_lines=True)
        st.caption("Lecture link (no explanatory text, large type):")
        st.code(share_link(state=state, lecture=True), language=None, wrap_lines=True)
        st.caption("Embed link (for an iframe in slides or a web page; no streamlit chrome):")
        st.code(share_link(state=state, lecture=True, embed="true"), language=None, wrap_lines=True)
        if ss.get("src") == "upload":
            st.warning(f"Uploaded data is not stored in the link: it records only the file name "
                       f"({ss.get('file')}) and its SHA-256 prefix ({ss.get('sha')}); whoever opens it "
                       "must upload the same file. Clicked points are in the link.")
        else:
            st.caption("Clicked/removed points are part of the link; uploaded data never is.")
