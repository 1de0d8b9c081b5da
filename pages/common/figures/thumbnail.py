"""A small SVG scatter of a data set (the gallery's pictures): a pure ``data -> str`` function."""
from __future__ import annotations

import numpy as np

from ..palette import BLUE, LABEL, PANEL


def thumbnail_svg(X: np.ndarray, y: np.ndarray, size: int = 72) -> str:
    """``X`` (n, 1 or 2) in [-1, 1] as dots (2-D: coloured by label; 1-D: the graph of y)."""
    pad = 4
    if X.shape[1] == 1:
        pts = np.c_[X[:, 0], (y - y.min()) / max(np.ptp(y), 1e-12) * 2 - 1]
        cols = [BLUE] * len(y)
    else:
        pts = X
        cols = [LABEL[1.0] if t > 0 else LABEL[-1.0] for t in y]
    sx = (pts[:, 0] + 1.05) / 2.1 * (size - 2 * pad) + pad
    sy = size - ((pts[:, 1] + 1.05) / 2.1 * (size - 2 * pad) + pad)
    dots = "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.6" fill="{c}"/>' for a, b, c in zip(sx, sy, cols))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{size}" height="{size}">'
            f'<rect width="{size}" height="{size}" rx="6" fill="{PANEL}"/>{dots}</svg>')
