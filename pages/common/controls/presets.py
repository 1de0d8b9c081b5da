"""Named teaching scenarios: each is a page plus query parameters (an exact, shareable view).

A preset link carries ``preset=<name>``, which makes :func:`pages.common.url.apply_link` re-seed every
control from the link (parameters it leaves out take their defaults), whether the link is
opened in a new tab or clicked inside a running session.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitAPIException


@dataclass(frozen=True)
class Preset:
    """A teaching scenario: ``page`` is the page's script path, ``url_path`` its URL path."""

    name: str
    page: str
    url_path: str
    params: dict = field(default_factory=dict)
    text: str = ""

    def query(self) -> dict:
        return {**{k: str(v) for k, v in self.params.items()}, "preset": self.name}

    def href(self, base: str = "") -> str:
        """Relative (or ``base``-prefixed) link that opens the preset in a fresh session."""
        return f"{base.rstrip('/')}/{self.url_path}?{urlencode(self.query(), safe=',;')}"


PRESETS = (
    Preset("XOR: how many neurons does the optimum use?", "pages/home.py", "",
           {"dataset": "xor", "n": 40, "seed": 0, "activation": "relu", "loss": "hinge", "log_beta": 0.0},
           "Four ReLUs can represent XOR; the certified weight-decay optimum on this sample uses the count shown "
           "under Active neurons. Raise or lower beta and watch it change."),
    Preset("SGD stuck on a spiral", "pages/sgd.py", "sgd",
           {"dataset": "spiral", "n": 40, "seed": 0, "activation": "relu", "log_beta": -2.0},
           "Gradient descent on two spirals stalls above the certified optimum; the certificate shows why."),
    Preset("Subsampling misses small cells", "pages/arrangements.py", "arrangements",
           {"dataset": "blobs", "n": 24, "seed": 0, "activation": "relu"},
           "Gaussian directions find big cells of the arrangement first and miss the small ones."),
    Preset("Sparsity path on two moons", "pages/path.py", "path",
           {"dataset": "moons", "n": 40, "seed": 0, "activation": "relu"},
           "Neurons enter one by one as beta decreases; each curve is one group norm."),
    Preset("Regression: piecewise-linear fit", "pages/home.py", "",
           {"dataset": "regression1d", "n": 24, "noise": 0.1, "seed": 0, "activation": "relu", "log_beta": -1.5},
           "A ReLU network's optimum on 1-D data is piecewise linear with few kinks."),
    Preset("Lecture view: circles, absolute value", "pages/home.py", "",
           {"dataset": "circles", "n": 32, "seed": 0, "activation": "abs", "log_beta": -1.5, "lecture": 1},
           "Lecture mode: no explanatory text, large type and markers."),
)


def by_name(name: str) -> Preset:
    for p in PRESETS:
        if p.name == name:
            return p
    raise KeyError(f"no preset named {name!r}")


def links(explain: bool = True) -> int:
    """Draw one page link per preset whose page is registered; returns how many were drawn."""
    drawn = 0
    for p in PRESETS:
        try:
            st.page_link(p.page, label=p.name, icon=":material/school:", query_params=p.query())
        except StreamlitAPIException:
            continue  # the page is not registered in this app (yet)
        drawn += 1
        if explain:
            st.caption(p.text)
    return drawn
