"""Cached regularization paths for the sparsity-path page, with every failure shown on the page.

The path is keyed by the data arrays themselves (hashed by content, so built-in and user data
both work) and the model settings: it is solved once per setting, and every later rerun
(moving the beta slider, stepping, playing) only redraws. The progress bar lives inside the
cached function: on a cache hit Streamlit replays its messages, which end with the bar
removed, so nothing shows.
"""
from __future__ import annotations

import warnings

import numpy as np
import streamlit as st

from cvx_core.path import PathResult, regularization_path

from . import cache, export
from .state import Controls, _ranged, bind

#: URL-bound number of sampled patterns (0 = exact enumeration).
SAMPLES_KEY = "path_samples"


@st.cache_data(show_spinner=False, max_entries=32)
def path(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, activation: str, leak: float,
         loss: str, bias: bool, n_betas: int, min_ratio: float, patterns="exact", seed: int = 0) -> PathResult:
    bar = st.progress(0.0, text=f"Solving the path over {n_betas} betas (warm starts) ...")

    def progress(i: int, n: int) -> None:
        bar.progress(i / n, text=f"Solved {i} of {n} betas (warm starts) ...")

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the statuses on the result say it
            return regularization_path(X, y, n_betas=n_betas, min_ratio=min_ratio, activation=activation,
                                       leak=leak, loss=loss, bias=bias, patterns=patterns, seed=seed,
                                       X_test=X_test, y_test=y_test, callback=progress)
    finally:
        bar.empty()


def _samples_input() -> None:
    st.number_input("Sampled patterns (0 = exact enumeration)", 0, 100_000, step=500, key=SAMPLES_KEY,
                    help="Gaussian directions u ~ N(0, I); the distinct patterns they hit define a subsampled "
                         "convex program (an upper bound on the exact optimum) solved along the whole path.")


def path_or_none(c: Controls, n_betas: int, min_ratio: float) -> PathResult | None:
    """The path for the shared controls, or None after showing what went wrong (never a traceback).

    Exact enumeration too large for an interactive path is refused with the predicted pattern
    count and a control to sample patterns instead.
    """
    bind(SAMPLES_KEY, 0, _ranged(int, 0, 100_000))
    n_s = int(st.session_state[SAMPLES_KEY])
    pat = n_s if n_s > 0 else "exact"
    try:
        data = cache.data_for(c)
        cache.check_size(data.X, c.bias, pat)
        out = path(data.X, data.y, data.X_test, data.y_test,
                   c.activation, c.leak, c.loss, c.bias, int(n_betas), float(min_ratio), pat, c.seed)
    except ValueError as exc:
        st.error(f"Cannot compute the path: {exc}")
        if "sample" in str(exc):
            _samples_input()
        return None
    except RuntimeError as exc:
        st.warning(f"The solver failed: {exc}. Try a larger smallest beta, another loss, or fewer points.")
        return None
    except Exception as exc:  # noqa: BLE001 - the user must never see a traceback
        st.error(f"Unexpected error while solving the path ({type(exc).__name__}): {exc}")
        return None
    if n_s > 0:
        _samples_input()
        st.info(f"Sampled patterns: {out.n_patterns:,} distinct patterns from {n_s:,} Gaussian directions; "
                "every gap on this page is certified over the sampled patterns only.")
    return out


def snippet(c: Controls, n_betas: int, min_ratio: float, k: int, path_: PathResult) -> str | None:
    """Python that reproduces the path (data lines from :func:`export.snippet`), or None."""
    n_s = int(st.session_state.get(SAMPLES_KEY, 0))
    try:
        head = export.snippet(c, cache.data_for(c), n_s if n_s > 0 else "exact")
    except ValueError:
        return None
    marker = "\nfit = cvx_core.fit_convex("
    if marker not in head:
        return None
    pat = repr("exact") if n_s == 0 else str(n_s)
    test = "" if c.source or not c.test else ",\n                           X_test=data.X_test, y_test=data.y_test"
    return (head.split(marker)[0] + "\nfrom cvx_core.path import regularization_path\n\n"
            f"path = regularization_path(X, y, n_betas={n_betas}, min_ratio={min_ratio!r}, activation={c.activation!r},\n"
            f"                           leak={c.leak!r}, loss={c.loss!r}, bias={c.bias!r}, patterns={pat}, "
            f"seed={c.seed}{test})\n"
            f"net = path.network({k})  # beta = {path_.betas[k]:.6g}, objective {path_.objectives[k]:.10g}\n"
            "print(path.to_csv())\n")
