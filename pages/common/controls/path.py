"""The Sparsity path page's own controls (URL keys ``path_*``)."""
from __future__ import annotations

from ..url import parser

#: Smallest beta of the path, as a fraction of beta_max.
RATIOS = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3)
#: URL key -> (default, parser); ``path_k`` (the selected beta) is bound once the path is known.
CONTROLS = {
    "path_ratio": (1e-2, parser(float, options=RATIOS)),
    "path_nbetas": (20, parser(int, lo=3, hi=40)),
    "path_play": (False, parser(bool)),
}
SELECTED = "path_k"
#: Parser of the selected beta's index.
SELECTED_PARSER = parser(int, lo=0, hi=39)
