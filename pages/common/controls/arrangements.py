"""The Arrangements page's own controls (URL keys ``arr_*``) and how a click picks a cell or point."""
from __future__ import annotations

import numpy as np

from ..cache.arrangements import N_OPTIONS
from ..url import parser

#: URL key -> (default, parser) of the page's own controls.
CONTROLS = {
    "arr_N": (64, parser(int, options=N_OPTIONS)),
    "arr_theta": (30, parser(int, lo=0, hi=359)),
    "arr_elev": (30, parser(int, lo=-89, hi=89)),
    "arr_colour": ("activation", parser(options=("activation", "sampling"))),
    "arr_cell": (-1, parser(int, lo=-1, hi=10**6)),
    "arr_point": (-1, parser(int, lo=-1, hi=10**6)),
    "arr_ratio": (True, parser(bool)),
}


def picked_index(points: list) -> int:
    """``customdata[0]`` of the first clicked point of a plotly selection (-1 when none).

    Streamlit passes a row of a numeric customdata array as a dict {"0": ..., "1": ...}, a
    list, or a scalar, depending on how plotly encoded it.
    """
    if not points or points[0].get("customdata") is None:
        return -1
    cd = points[0]["customdata"]
    v = cd.get("0", -1) if isinstance(cd, dict) else np.ravel(cd)[0]
    return int(v)
