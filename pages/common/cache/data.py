"""Built-in data sets and their gallery thumbnails (cached by their generator's arguments)."""
from __future__ import annotations

import streamlit as st

from cvx_core.datasets import Dataset, load_dataset, make_dataset

from ..figures.thumbnail import thumbnail_svg


@st.cache_data(show_spinner=False, max_entries=64)
def dataset(name: str, n: int, noise: float, seed: int, test: float) -> Dataset:
    return load_dataset(name, n, noise, seed, test)


@st.cache_data(show_spinner=False)
def thumbnail(name: str, size: int = 72) -> str:
    """A small SVG scatter of a built-in data set (for the gallery)."""
    X, y = make_dataset(name, 60, 0.0, 0)
    return thumbnail_svg(X, y, size)
