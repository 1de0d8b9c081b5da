"""The page's cached engine calls behind the error ladder, with the sampled-patterns control.

``fit(c, data, key=...)`` and ``path(c, data, ...)`` return the result or None after showing
what went wrong (:mod:`.errors`): bad input and sizes that would explode as ``st.error`` (then a
control that switches to sampled patterns, URL-bound ``<key>_samples``; 0 = exact), solver
failures and statuses other than "optimal" as ``st.warning``.
"""
from __future__ import annotations

import streamlit as st

import cvx_core
from cvx_core.datasets import Dataset
from cvx_core.path import PathResult

from . import errors
from .controls import stop
from .cache import fit as cfit
from .cache.keys import Controls, data_key
from .cache.path import solve_path
from .url import bind, parser

#: URL key of the Sparsity path page's number of sampled patterns.
PATH_SAMPLES = "path_samples"


def samples(key: str) -> int:
    """The URL-bound number of sampled patterns ``<key>`` (0 = exact enumeration)."""
    bind(key, 0, parser(int, lo=0, hi=100_000))
    return int(st.session_state[key])


def _samples_input(key: str, help: str) -> None:
    st.number_input("Sampled patterns (0 = exact enumeration)", 0, 100_000, step=500, key=key, help=help)


_FIT_HELP = ("Gaussian directions u ~ N(0, I); the distinct patterns 1[X~u >= 0] they hit "
             "define a subsampled convex program whose optimum is an upper bound.")
_SEARCH_HELP = ("Column generation: climb lambda' sigma(X~u) on the unit sphere from the network's neurons and "
                "random directions; every u whose value exceeds beta proves its pattern 1[X~u >= 0] violated. "
                "Those patterns are added and the program re-solved until a round improves the objective by "
                "less than 0.1 %. A search, not a proof over all patterns.")
_PATH_HELP = ("Gaussian directions u ~ N(0, I); the distinct patterns they hit define a subsampled "
              "convex program (an upper bound on the exact optimum) solved along the whole path.")


def fit(c: Controls, data: Dataset, *, key: str = "home", spinner: str = "Solving the convex program...",
        patterns="exact") -> cvx_core.ConvexFit | None:
    """The fit for controls ``c`` on ``data`` (None after showing what went wrong)."""
    skey = f"{key}_samples"
    n_s = samples(skey)
    qkey = f"{key}_search"
    bind(qkey, False, parser(bool))
    searching = n_s > 0 and bool(st.session_state[qkey])
    pat = ("search", n_s) if searching else n_s if n_s > 0 else patterns

    def offer_sampling(exc: ValueError) -> None:
        if "sample" in str(exc):
            _samples_input(skey, _FIT_HELP)
            st.caption(f"Enter e.g. {cfit.DEFAULT_SAMPLES:,} to solve over sampled patterns instead.")

    with st.spinner(spinner):
        f = errors.attempt(lambda: cfit.fit_for(c, data, pat), doing="fitting", bad="Cannot fit",
                           hint="Try a larger beta, another loss, or fewer points.", on_bad_input=offer_sampling)
    if f is None:
        return None
    if n_s > 0:
        _samples_input(skey, _FIT_HELP)
        st.checkbox("Then search for violated patterns", key=qkey, help=_SEARCH_HELP)
        found = f.info.get("pattern_search")
        if found is not None:
            st.info(f"Pattern search: {n_s:,} Gaussian directions, then {found['rounds']} rounds of ascent on the "
                    f"sphere ({found['starts']:,} starts) added {found['patterns_added']:,} violated patterns "
                    f"({f.n_patterns:,} in all). The certificate below is {found['meaning']}; largest "
                    f"dual-constraint value the last round saw: {found['max_violation']:.4g} x beta.")
        else:
            st.info(f"Sampled patterns: {f.n_patterns:,} distinct patterns from {n_s:,} Gaussian directions. "
                    "The optimum over them is an upper bound on the exact one; the certificate below is over "
                    "the sampled patterns only.")
    errors.status_warning(f.status, f.gap, f.solver)
    return f


def path(c: Controls, data: Dataset, n_betas: int, min_ratio: float) -> PathResult | None:
    """The regularization path for the shared controls, or None after showing what went wrong.

    Exact enumeration too large for an interactive path is refused with the predicted pattern
    count and a control to sample patterns instead.
    """
    n_s = samples(PATH_SAMPLES)
    pat = n_s if n_s > 0 else "exact"

    def call() -> PathResult:
        cfit.check_size(data.X, c.bias, pat)
        args = (data_key(c), c.activation, c.leak, c.loss, c.bias, int(n_betas), float(min_ratio), pat, c.seed)
        return stop.run_or_offer("path", args, "The path", lambda: solve_path(*args, _data=data))

    out = errors.attempt(call, doing="solving the path", bad="Cannot compute the path",
                         hint="Try a larger smallest beta, another loss, or fewer points.",
                         on_bad_input=lambda exc: _samples_input(PATH_SAMPLES, _PATH_HELP) if "sample" in str(exc) else None)
    if out is None:
        return None
    if n_s > 0:
        _samples_input(PATH_SAMPLES, _PATH_HELP)
        st.info(f"Sampled patterns: {out.n_patterns:,} distinct patterns from {n_s:,} Gaussian directions; "
                "every gap on this page is certified over the sampled patterns only.")
    return out
