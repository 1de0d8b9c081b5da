"""Searching the sphere for the patterns a dual vector violates (column generation).

Over all patterns the dual constraint is ``max_{||u|| = 1} s lambda' sigma(Xb u) <= beta`` for
both signs s (docs/math.md section 5): the cell containing a unit ``u`` has value at least
``phi_s(u) = s lambda' sigma(Xb u)``, because ``u`` lies in its cone and ``g_D' u = phi_s(u)``.
So every ``u`` with ``phi_s(u) > beta`` proves its pattern ``D(u) = 1[Xb u >= 0]`` violated,
whether or not that pattern was ever sampled. :func:`ascend` climbs ``phi_s`` on the sphere
from many starts at once (normalised gradient steps whose angle halves on every step that
does not improve; ``phi_s`` is piecewise linear in ``u``); :func:`violated_patterns` returns
the patterns of the directions it reached. A search is not a proof over all patterns: the
certificate stays exact over the patterns in use, and the search reports the largest
``phi_s / beta`` it found (at most 1 when it found no violation).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Activation


def _phi(Xb, lam, act, U, s):
    """``s_j lambda' sigma(Xb u_j)`` and its gradient for every row ``u_j`` of ``U``."""
    T = U @ Xb.T  # (S, n)
    slopes = act.slopes(T >= 0)
    val = s * ((slopes * T) @ lam)
    grad = s[:, None] * ((slopes * lam[None, :]) @ Xb)
    return val, grad


def ascend(Xb: np.ndarray, lam: np.ndarray, act: Activation, U0: np.ndarray, signs: np.ndarray,
           *, steps: int = 60, angle: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Maximise ``phi_s(u)`` over unit ``u`` from each start (rows of ``U0``, signs ``signs``).

    Returns the best unit directions found and their values, (S, d) and (S,).
    """
    U = U0 / np.maximum(np.linalg.norm(U0, axis=1, keepdims=True), 1e-300)
    s = np.asarray(signs, float)
    val, grad = _phi(Xb, lam, act, U, s)
    eta = np.full(len(U), float(angle))
    for _ in range(steps):
        # the gradient's component along the sphere, as a unit direction
        tang = grad - np.sum(grad * U, axis=1, keepdims=True) * U
        tn = np.linalg.norm(tang, axis=1, keepdims=True)
        live = (tn[:, 0] > 1e-14 * np.maximum(np.abs(val), 1e-300)) & (eta > 1e-6)
        if not live.any():
            break
        cand = U + np.where(live[:, None], eta[:, None] * tang / np.maximum(tn, 1e-300), 0.0)
        cand /= np.linalg.norm(cand, axis=1, keepdims=True)
        cv, cg = _phi(Xb, lam, act, cand, s)
        up = live & (cv > val)
        U = np.where(up[:, None], cand, U)
        val = np.where(up, cv, val)
        grad = np.where(up[:, None], cg, grad)
        # larger steps while they pay, halved when they do not
        eta = np.where(up, np.minimum(2 * eta, 1.0), 0.5 * eta)
    return U, val


@dataclass(frozen=True)
class SearchResult:
    """Patterns found violated by a dual vector, and what the search saw.

    Attributes
    ----------
    patterns : ndarray of bool (k, n)
        Distinct patterns ``1[Xb u >= 0]`` of the directions with ``phi_s(u) > beta``.
    values : ndarray (k,)
        ``phi_s(u) / beta`` of each (a lower bound on the pattern's certificate value).
    best : float
        The largest ``phi_s(u) / beta`` over every start (violated or not).
    starts : int
    directions, signs : ndarray (k, d), (k,)
        The unit direction reached for each pattern (in its cone) and its sign s.
    """

    patterns: np.ndarray
    values: np.ndarray
    best: float
    starts: int
    directions: np.ndarray | None = None
    signs: np.ndarray | None = None


def violated_patterns(Xb: np.ndarray, lam: np.ndarray, act: Activation, beta: float,
                      U0: np.ndarray, signs: np.ndarray, *, margin: float = 1e-6,
                      steps: int = 60) -> SearchResult:
    """Ascend from the starts ``(U0, signs)`` and return the patterns whose direction has
    ``phi_s(u) > beta (1 + margin)``, most violated first."""
    d = Xb.shape[1]
    if len(U0) == 0:
        return SearchResult(np.zeros((0, Xb.shape[0]), bool), np.zeros(0), 0.0, 0, np.zeros((0, d)), np.zeros(0))
    U, val = ascend(Xb, lam, act, U0, signs, steps=steps)
    order = np.argsort(-val)
    U, val, sg = U[order], val[order], np.asarray(signs, float)[order]
    hit = val > beta * (1 + margin)
    U, sg = U[hit], sg[hit]
    D = (U @ Xb.T) >= 0
    if act.symmetric:  # one of D, ~D: the complement's cone is -K, the same neuron with -u
        flip = ~D[:, 0]
        D = np.where(flip[:, None], ~D, D)
        U = np.where(flip[:, None], -U, U)
    _, first = np.unique(D, axis=0, return_index=True)
    first = np.sort(first)
    return SearchResult(D[first], val[hit][first] / beta, float(val[0] / beta), len(U0), U[first], sg[first])


def unseen(D: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Mask of the rows of ``candidates`` (k, n) that are not rows of the patterns ``D``."""
    seen = {row.tobytes() for row in np.packbits(D, axis=1)}
    return np.array([row.tobytes() not in seen for row in np.packbits(candidates, axis=1)], bool)


def search_round(Xb: np.ndarray, lam: np.ndarray, act: Activation, beta: float, Z: np.ndarray,
                 signs: np.ndarray, rng: np.random.Generator, n_random: int) -> SearchResult:
    """One round of the pattern search at ``lam``: from the network's own neurons (blocks ``Z``
    with their signs: the optimum moves across the cells' boundaries they sit on) and
    ``n_random`` random directions with both signs."""
    R = rng.standard_normal((n_random, Xb.shape[1]))
    live = np.linalg.norm(Z, axis=1) > 0
    U0 = np.vstack([Z[live].reshape(-1, Xb.shape[1]), R, R])
    sg = np.concatenate([np.asarray(signs, float)[live], np.ones(n_random), -np.ones(n_random)])
    return violated_patterns(Xb, lam, act, beta, U0, sg)
