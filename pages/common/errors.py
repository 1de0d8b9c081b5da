"""The error ladder: how every page shows a failure (never a traceback).

1. Bad input (``ValueError``: labels that do not suit the loss, a size that would explode, a
   malformed file): ``st.error`` naming the problem.
2. A solver outcome (``RuntimeError`` when every solver failed, or a status other than
   "optimal"): ``st.warning`` naming the status and what to try.
3. Anything else (a bug): ``st.error`` with the exception's type and message.

:func:`attempt` runs a call through the ladder; :func:`bad_input`, :func:`solver_outcome` and
:func:`status_warning` show one rung directly.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import streamlit as st

import cvx_core


def bad_input(msg: str, where=None) -> None:
    """Rung 1: ``st.error`` (in the container ``where``, default the page)."""
    (where or st).error(msg)


def solver_outcome(msg: str, where=None) -> None:
    """Rung 2: ``st.warning``."""
    (where or st).warning(msg)


def unexpected(exc: BaseException, doing: str, where=None) -> None:
    """Rung 3: an error that names the exception (a bug, shown instead of a traceback)."""
    (where or st).error(f"Unexpected error while {doing} ({type(exc).__name__}): {exc}")


def attempt(call: Callable[[], Any], *, doing: str, bad: str, hint: str = "", where=None,
            on_bad_input: Callable[[ValueError], None] | None = None, quiet_warnings: bool = True):
    """``call()``, or None after showing its failure on the ladder.

    ``bad`` prefixes a ``ValueError``'s message (e.g. "Cannot fit"); ``hint`` follows a solver
    failure (what to try); ``doing`` names the work for an unexpected error ("fitting");
    ``on_bad_input(exc)`` runs after a bad-input error (e.g. to offer sampled patterns).
    RuntimeWarnings are silenced unless ``quiet_warnings`` is False: results carry a status
    that :func:`status_warning` shows.
    """
    try:
        with warnings.catch_warnings():
            if quiet_warnings:
                warnings.simplefilter("ignore", RuntimeWarning)
            return call()
    except ValueError as exc:
        bad_input(f"{bad}: {exc}", where)
        if on_bad_input is not None:
            on_bad_input(exc)
    except RuntimeError as exc:
        solver_outcome(f"The solver failed: {exc}." + (f" {hint}" if hint else ""), where)
    except Exception as exc:  # noqa: BLE001 - the user must never see a traceback
        unexpected(exc, doing, where)
    return None


def status_warning(status: str, gap: float, solver: str, where=None) -> None:
    """Rung 2 for a result whose status is not "optimal" (nothing when it is)."""
    if status == "optimal":
        return
    solver_outcome(f"Solver status: **{status}** -- {cvx_core.STATUSES.get(status, 'not certified')} "
                   f"(certified relative gap {gap:.1e}, solver {solver}). The numbers below are what the "
                   "solver returned; the gap says how far from optimal they can be.", where)
