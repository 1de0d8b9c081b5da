"""Convex NN Explorer engine: exact convex training of two-layer networks.

See docs/math.md (the project's convention) and the README. Public API:

- :func:`enumerate_patterns`, :func:`sample_patterns`, :func:`cover_count`
- :func:`fit_convex` -> :class:`ConvexFit`, :func:`beta_max`
- :func:`certify` -> :class:`Certificate` for any :class:`TwoLayerNet`
- :func:`fit_convex_cnn`, :func:`certify_cnn`, :class:`ConvNet`: two-layer CNNs (:mod:`cvx_core.cnn`)
- :mod:`cvx_core.datasets` built-in data sets (:mod:`cvx_core.signals` for the CNNs)

Names and submodules load on first use (PEP 562): ``import cvx_core.datasets`` does not
import the solvers (scipy.optimize, clarabel, the CNN code), so the dashboard's first page
draws before they load.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

#: Public name -> the submodule that defines it.
_EXPORTS = {
    "Certificate": "certification", "certify": "certification",
    "ConvNet": "cnn", "certify_cnn": "cnn", "fit_convex_cnn": "cnn",
    "ConvexFit": "convex", "beta_max": "convex", "fit_convex": "convex",
    "Activation": "model", "Loss": "model", "TwoLayerNet": "model", "add_bias": "model",
    "make_activation": "model", "make_loss": "model",
    "PathResult": "path", "regularization_path": "path",
    "MAX_EXACT_PATTERNS": "patterns", "cover_bound": "patterns", "cover_count": "patterns",
    "data_rank": "patterns", "enumerate_patterns": "patterns", "predicted_pattern_count": "patterns",
    "sample_patterns": "patterns",
    "network_from_blocks": "recovery",
    "ACTIVE_TOL": "tolerances", "OPTIMAL_GAP": "tolerances", "STATUSES": "tolerances",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # the same names, for type checkers and readers
    from .certification import Certificate, certify
    from .cnn import ConvNet, certify_cnn, fit_convex_cnn
    from .convex import ConvexFit, beta_max, fit_convex
    from .model import Activation, Loss, TwoLayerNet, add_bias, make_activation, make_loss
    from .path import PathResult, regularization_path
    from .patterns import (MAX_EXACT_PATTERNS, cover_bound, cover_count, data_rank, enumerate_patterns,
                           predicted_pattern_count, sample_patterns)
    from .recovery import network_from_blocks
    from .tolerances import ACTIVE_TOL, OPTIMAL_GAP, STATUSES


def __getattr__(name: str):
    """A public name or a submodule (``cvx_core.path``), imported on first use."""
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
    else:
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
