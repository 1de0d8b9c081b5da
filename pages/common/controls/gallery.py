"""The data-set gallery in the sidebar (thumbnails and pick buttons)."""
from __future__ import annotations

import streamlit as st

from cvx_core.datasets import DATASETS

from ..cache.data import thumbnail

_SHORT_TITLES = {"spiral": "Spirals", "moons": "Moons", "circles": "Circles", "xor": "XOR", "blobs": "Blobs",
                 "regression1d": "1-D regr."}


def _pick(name: str) -> None:
    st.session_state["dataset"] = name
    st.session_state["src"] = "builtin"


def gallery(sb) -> None:
    """An expander in ``sb`` with one thumbnail and button per built-in data set.

    Lazy: the thumbnails are images registered with the media-file manager on every rerun while
    drawn; they are drawn only while the expander is open.
    """
    with sb.expander("Gallery", expanded=False, key="_gallery_open", on_change="rerun") as gal:
        if not gal.open:
            return
        cols = st.columns(2)
        for i, name in enumerate(DATASETS):
            with cols[i % 2]:
                st.image(thumbnail(name), width="stretch")
                st.button(_SHORT_TITLES[name], key=f"_pick_{name}", on_click=_pick, args=(name,),
                          type="primary" if st.session_state["dataset"] == name else "secondary",
                          width="stretch")
