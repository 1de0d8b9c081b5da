"""Convex NN Explorer engine: exact convex training of two-layer networks.

See docs/math.md (the project's convention) and the README. Public API:

- :func:`enumerate_patterns`, :func:`sample_patterns`, :func:`cover_count`
- :func:`fit_convex` -> :class:`ConvexFit`, :func:`beta_max`
- :func:`certify` -> :class:`Certificate` for any :class:`TwoLayerNet`
- :func:`fit_convex_cnn`, :func:`certify_cnn`, :class:`ConvNet`: two-layer CNNs (:mod:`cvx_core.cnn`)
- :mod:`cvx_core.datasets` built-in data sets (:mod:`cvx_core.signals` for the CNNs)
"""
from .certification import Certificate, certify
from .cnn import ConvNet, certify_cnn, fit_convex_cnn
from .convex import ConvexFit, beta_max, fit_convex
from .model import Activation, Loss, TwoLayerNet, add_bias, make_activation, make_loss
from .path import PathResult, regularization_path
from .patterns import (
    MAX_EXACT_PATTERNS,
    cover_bound,
    cover_count,
    data_rank,
    enumerate_patterns,
    predicted_pattern_count,
    sample_patterns,
)
from .recovery import network_from_blocks
from .tolerances import ACTIVE_TOL, OPTIMAL_GAP, STATUSES

__all__ = [
    "ACTIVE_TOL", "OPTIMAL_GAP", "STATUSES", "Activation", "PathResult", "regularization_path", "Certificate", "ConvNet", "ConvexFit", "certify_cnn", "fit_convex_cnn", "Loss", "MAX_EXACT_PATTERNS",
    "TwoLayerNet", "add_bias", "beta_max", "certify", "cover_bound", "cover_count", "data_rank",
    "enumerate_patterns", "fit_convex", "make_activation", "make_loss", "network_from_blocks",
    "predicted_pattern_count", "sample_patterns",
]
