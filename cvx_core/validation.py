"""Input checks at the public boundary, in one place.

Every engine entry point (``fit_convex``, ``certify``, ``beta_max``, the path, SGD, the
estimators, pattern enumeration) validates its arguments here once; inner helpers trust their
inputs. A user error is a ``ValueError`` saying what was expected and what was got.
"""
from __future__ import annotations

import numpy as np


def positive_float(name: str, v) -> float:
    """``float(v)`` for a finite ``v > 0``; otherwise a ``ValueError`` naming ``name``."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"expected {name} as a positive number, got {v!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"expected {name} > 0, got {v}")
    return v


def check_beta(beta) -> float:
    """The regularisation strength as a float > 0."""
    return positive_float("beta", beta)


def check_X(X) -> np.ndarray:
    """A design matrix: a finite 2-D float array with at least one row."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"expected X as a 2-D array (n, d), got {X.ndim}-D with shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError("expected at least one sample in X, got 0 rows")
    if not np.all(np.isfinite(X)):
        raise ValueError("expected finite values in X, found NaN or inf")
    return X


def check_Xy(X, y, loss_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Data ``X (n, d)`` (a 1-D X is one feature) and targets ``y (n,)`` or ``(n, C)``; labels
    -1/+1 for the logistic and hinge losses."""
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"expected X of shape (n, d), got {X.ndim}-D array with shape {X.shape}")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"expected X with at least one sample and one feature, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("expected finite values in X, found NaN or inf")
    try:
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("expected numeric targets y") from None
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(f"expected y of shape ({X.shape[0]},) or ({X.shape[0]}, C) to match X, got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("expected finite values in y, found NaN or inf")
    if loss_name in ("logistic", "hinge") and not np.all(np.isin(y, (-1.0, 1.0))):
        vals = np.unique(y)[:5]
        raise ValueError(f"expected labels -1/+1 for the {loss_name} loss, got values {vals.tolist()}")
    return X, y
