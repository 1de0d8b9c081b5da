"""The one palette of every figure (and of the few coloured texts): Okabe-Ito colours and the
scales built from them. No other module of ``pages/`` types a colour.

Okabe-Ito is colour-blind safe; the diverging scale (blue < 0 < orange, white at 0) reads on
light and dark themes. Labels: +1 orange, -1 blue everywhere.
"""
from __future__ import annotations

# --------------------------------------------------------------------------- Okabe-Ito
BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
PURPLE = "#CC79A7"  # Okabe-Ito "reddish purple"
VERMILLION = "#D55E00"
SKY = "#56B4E9"
YELLOW = "#F0E442"
GREY = "#999999"
BLACK = "#000000"
WHITE = "#FFFFFF"

#: Label colours: +1 orange, -1 blue.
LABEL = {1.0: ORANGE, -1.0: BLUE}
#: Colours of the sign of an output weight alpha (vermillion > 0, blue < 0).
SIGN = {1.0: VERMILLION, -1.0: BLUE}
#: One colour per curve of a family (e.g. learning rates): Okabe-Ito, then grey.
SERIES = (BLUE, ORANGE, GREEN, PURPLE, VERMILLION, SKY, YELLOW, GREY)

# --------------------------------------------------------------------------- neutrals
NEUTRAL = "#F7F7F7"  # centre of the diverging scales
PANEL = "#F4F4F4"  # background of a thumbnail / lightest grey
EMPTY = "#F2F2F2"  # an "off" cell of a heatmap
MISSED = "#D9D9D9"  # a cell the sample did not find
EDGE = "#7F7F7F"  # cell borders
EDGE_FAINT = "#8C8C8C"
EDGE_LIGHT = "#D0D0D0"
ANCHOR = "#A0A0A0"  # anchor markers of cells

# --------------------------------------------------------------------------- scales
#: Decision function f(x): blue < 0, white 0, orange > 0.
DIVERGING = [[0.0, BLUE], [0.5, NEUTRAL], [1.0, ORANGE]]
#: Signed certificate c(u)/beta: blue < 0, white 0, vermillion > 0.
DIVERGING_SIGN = [[0.0, BLUE], [0.5, NEUTRAL], [1.0, VERMILLION]]
#: Sequential colour-blind-safe bins (light to dark blue), e.g. "points activated".
BLUES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08306b")
#: Light to darker grey (e.g. linear regions by number of active neurons).
GREYS = ("#ffffff", "#f4f4f4", "#e9e9e9", "#dedede", "#d3d3d3")
#: Low (green) to high (orange) objective values.
LOW_HIGH = [[0, "#E5F5E0"], [0.5, "#F6D98B"], [1, ORANGE]]
#: Off/on of a pattern bit.
OFF_ON = [[0, EMPTY], [1, GREEN]]
#: A constant black scale (contour lines f = 0).
BLACK_SCALE = [[0, BLACK], [1, BLACK]]


def rgba(hex_colour: str, alpha: float) -> str:
    """``hex_colour`` (``#RRGGBB``) with opacity ``alpha`` as a CSS ``rgba(...)`` string."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"
