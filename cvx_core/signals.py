"""Built-in data for convolutional networks: 1-D signals and tiny images, seeded.

Each set is explained in one sentence and labelled -1/+1:

- ``"bump"``: a bump at a random position, facing up (+1) or down (-1).
- ``"edge"``: a step at a random position, rising (+1) or falling (-1).
- ``"frequencies"``: a sine of low (+1) or high (-1) frequency with a random phase.
- ``"bars_crosses"`` (images, (n, H, W)): a single bar (+1) or a cross of two bars (-1) at a
  random place.

Signals are ``X (n, L)``, images ``X (n, H, W)``; values lie in [-1, 1], noise is the standard
deviation of Gaussian jitter added to every value.
"""
from __future__ import annotations

import numpy as np

SIGNALS = ("bump", "edge", "frequencies")
IMAGES = ("bars_crosses",)
SIGNAL_TITLES = {
    "bump": "Bump up or down",
    "edge": "Rising or falling edge",
    "frequencies": "Two frequencies",
    "bars_crosses": "Bars vs crosses (images)",
}
#: Largest sample count and signal length the generators accept.
MAX_SAMPLES, MAX_LENGTH = 5_000, 256


def make_signals(name: str, n: int = 20, length: int = 12, *, noise: float = 0.0, seed: int = 0):
    """``(X, y)``: ``n`` signals of ``length`` samples (images: ``length x length`` pixels) and
    labels -1/+1, half of each (the first ``ceil(n/2)`` are +1).

    Raises
    ------
    ValueError
        Unknown name, n < 2, a length below 4 (images: 3) or above ``MAX_LENGTH``, negative noise.
    """
    if name not in SIGNALS + IMAGES:
        raise ValueError(f"expected a data set in {SIGNALS + IMAGES}, got {name!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= MAX_SAMPLES:
        raise ValueError(f"expected n as an integer in [2, {MAX_SAMPLES}], got {n!r}")
    lo = 3 if name in IMAGES else 4
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or not lo <= length <= MAX_LENGTH:
        raise ValueError(f"expected length as an integer in [{lo}, {MAX_LENGTH}], got {length!r}")
    noise = float(noise)
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"expected noise >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(n) < (n + 1) // 2, 1.0, -1.0)
    t = np.arange(length)
    if name == "bump":
        pos = rng.integers(1, length - 1, size=n)
        X = y[:, None] * np.exp(-0.5 * (t[None, :] - pos[:, None]) ** 2)
    elif name == "edge":
        pos = rng.integers(1, length, size=n)
        X = np.where(t[None, :] >= pos[:, None], 1.0, -1.0) * y[:, None]
    elif name == "frequencies":
        freq = np.where(y > 0, 1.0 / length, 4.0 / length)  # one period vs four over the signal
        phase = rng.uniform(0, 2 * np.pi, size=n)
        X = np.sin(2 * np.pi * freq[:, None] * t[None, :] + phase[:, None])
    else:
        X = -np.ones((n, length, length))
        r = rng.integers(0, length, size=n)
        c = rng.integers(0, length, size=n)
        vertical = rng.random(n) < 0.5
        for j in range(n):
            if y[j] > 0:  # one bar, horizontal or vertical
                if vertical[j]:
                    X[j, :, c[j]] = 1.0
                else:
                    X[j, r[j], :] = 1.0
            else:
                X[j, r[j], :] = 1.0
                X[j, :, c[j]] = 1.0
    if noise > 0:
        X = X + noise * rng.standard_normal(X.shape)
    return X, y
