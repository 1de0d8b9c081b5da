"""Built-in data sets, seeded, scaled to the box [-1, 1]^d.

Every generator returns ``(X, y)`` with ``X`` of shape (n, 2) (1-D regression: (n, 1)) and
labels ``y`` in {-1, +1} (regression: real targets). Noise is the standard deviation of
Gaussian jitter added to the points (classification) or targets (regression), in box units.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DATASETS = ("spiral", "moons", "circles", "xor", "blobs", "regression1d")
DATASET_TITLES = {
    "spiral": "Two spirals",
    "moons": "Two moons",
    "circles": "Circles",
    "xor": "XOR",
    "blobs": "Gaussian blobs",
    "regression1d": "1-D regression",
}
#: Largest sample count the generators accept.
MAX_SAMPLES = 20_000


@dataclass(frozen=True)
class Dataset:
    """A data set with its train/test split (``X_test`` may be empty)."""

    name: str
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def task(self) -> str:
        return "regression" if self.name == "regression1d" else "classification"


def scale_to_box(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Affinely map each column of X onto [-1, 1]; returns (X_scaled, center, half_width).

    The inverse is ``X = X_scaled * half_width + center``.
    """
    lo, hi = X.min(axis=0), X.max(axis=0)
    center = (lo + hi) / 2
    half = np.where(hi > lo, (hi - lo) / 2, 1.0)
    return (X - center) / half, center, half


def _labels(y01: np.ndarray) -> np.ndarray:
    return np.where(y01 > 0, 1.0, -1.0)


def make_dataset(name: str = "spiral", n: int = 60, noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Generate one of :data:`DATASETS`.

    Parameters
    ----------
    name : str
    n : int
        Number of samples (2 <= n <= MAX_SAMPLES).
    noise : float
        Gaussian noise level (>= 0).
    seed : int

    Returns
    -------
    X : ndarray of shape (n, 2), or (n, 1) for "regression1d"
    y : ndarray of shape (n,)

    Raises
    ------
    ValueError
        Unknown name, or n / noise out of range.
    """
    if name not in DATASETS:
        raise ValueError(f"expected a data set in {DATASETS}, got {name!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not (2 <= n <= MAX_SAMPLES):
        raise ValueError(f"expected an integer sample count between 2 and {MAX_SAMPLES}, got {n!r}")
    noise = float(noise)
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"expected noise >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    n = int(n)
    if name == "regression1d":
        x = np.sort(rng.uniform(-1, 1, n))
        y = np.sin(3 * x) + 0.5 * x + noise * rng.standard_normal(n)
        return x[:, None], y
    n1 = n // 2
    n0 = n - n1
    lab = np.r_[np.ones(n1), np.zeros(n0)]
    if name == "spiral":
        t = np.r_[np.linspace(0.15, 1, n1), np.linspace(0.15, 1, n0)]
        ang = 3 * np.pi * t + np.where(lab > 0, 0.0, np.pi)
        X = np.c_[t * np.cos(ang), t * np.sin(ang)]
        X = X + 0.01 * rng.standard_normal(X.shape)  # general position (no exact symmetry)
    elif name == "moons":
        a1 = np.linspace(0, np.pi, n1)
        a0 = np.linspace(0, np.pi, n0)
        X = np.r_[np.c_[np.cos(a1), np.sin(a1)], np.c_[1 - np.cos(a0), 0.5 - np.sin(a0)]]
        X = X + 0.02 * rng.standard_normal(X.shape)
    elif name == "circles":
        a = rng.uniform(0, 2 * np.pi, n)
        r = np.where(lab > 0, 0.45, 1.0)
        X = np.c_[r * np.cos(a), r * np.sin(a)]
    elif name == "xor":
        X = rng.uniform(-1, 1, (n, 2))
        lab = (X[:, 0] * X[:, 1] > 0).astype(float)
    else:  # blobs
        centers = np.array([[-0.5, -0.4], [0.5, 0.45]])
        X = centers[lab.astype(int)] + 0.3 * rng.standard_normal((n, 2))
    X = X + noise * rng.standard_normal(X.shape)
    perm = rng.permutation(n)
    X, y = X[perm], _labels(lab[perm])
    X, _, _ = scale_to_box(X)
    return X, y


def train_test_split(X: np.ndarray, y: np.ndarray, test_fraction: float = 0.0, seed: int = 0):
    """Seeded random split; returns (X_train, y_train, X_test, y_test)."""
    test_fraction = float(test_fraction)
    if not (0.0 <= test_fraction < 1.0):
        raise ValueError(f"expected a test fraction in [0, 1), got {test_fraction}")
    n = X.shape[0]
    n_test = int(round(test_fraction * n))
    if n - n_test < 2:
        raise ValueError(f"expected at least 2 training samples, the split leaves {n - n_test}")
    perm = np.random.default_rng(seed + 7919).permutation(n)
    te, tr = perm[:n_test], perm[n_test:]
    return X[tr], y[tr], X[te], y[te]


def load_dataset(name: str = "spiral", n: int = 60, noise: float = 0.0, seed: int = 0,
                 test_fraction: float = 0.0) -> Dataset:
    """:func:`make_dataset` followed by :func:`train_test_split` (``n`` counts both parts)."""
    X, y = make_dataset(name, n, noise, seed)
    return Dataset(name, *train_test_split(X, y, test_fraction, seed))
