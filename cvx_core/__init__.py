"""Convex NN Explorer engine: exact convex training of two-layer networks.

See docs/math.md (the project's convention) and the README. Public API:

- :func:`enumerate_patterns`, :func:`sample_patterns`, :func:`cover_count`
- :func:`fit_convex` -> :class:`ConvexFit`, :func:`beta_max`
- :func:`certify` -> :class:`Certificate` for any :class:`TwoLayerNet`
- :mod:`cvx_core.datasets` built-in data sets
"""
from .convex import (
    ACTIVE_TOL,
    OPTIMAL_GAP,
    STATUSES,
    Certificate,
    ConvexFit,
    beta_max,
    certify,
    fit_convex,
    network_from_blocks,
)
from .path import PathResult, regularization_path
from .model import Activation, Loss, TwoLayerNet, add_bias, make_activation, make_loss
from .patterns import (
    MAX_EXACT_PATTERNS,
    cover_bound,
    cover_count,
    data_rank,
    enumerate_patterns,
    predicted_pattern_count,
    sample_patterns,
)

__all__ = [
    "ACTIVE_TOL", "OPTIMAL_GAP", "STATUSES", "Activation", "PathResult", "regularization_path", "Certificate", "ConvexFit", "Loss", "MAX_EXACT_PATTERNS",
    "TwoLayerNet", "add_bias", "beta_max", "certify", "cover_bound", "cover_count", "data_rank",
    "enumerate_patterns", "fit_convex", "make_activation", "make_loss", "network_from_blocks",
    "predicted_pattern_count", "sample_patterns",
]
