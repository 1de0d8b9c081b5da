"""Activation patterns: the cells of the hyperplane arrangement of the data.

A pattern of a direction ``u`` is ``D(u) = 1[X u >= 0]`` (one bool per sample). Patterns are
returned as an ndarray ``D`` of shape (P, n), one pattern per row. The full-dimensional cells
``K_D = {u : (2D - I) X u >= 0}`` of the arrangement of the n hyperplanes ``{u : x_k' u = 0}``
are what the convex program needs: patterns of lower-dimensional faces add no neuron, since
``sigma(X u)`` is continuous across faces.

For rank r in general position (Cover, 1965) there are ``P = 2 sum_{k<r} C(n-1, k)`` cells.

Exact enumeration. Every cell of an essential central arrangement is a pointed cone, so its
closure contains a ray cut out by r - 1 hyperplanes. For every (r - 1)-subset S of rows with
independent ``x_S`` take the unit normal ``u`` of ``span(x_S)`` (both signs): the cells around
that ray are ``1[X u > 0]`` off the ties ``T = {k : x_k' u = 0}`` with, on T, every cell of the
local arrangement of ``x_T`` in ``u``'s orthogonal complement (all ``2^(r-1)`` sign choices in
general position, found recursively otherwise). Rank-deficient X is handled in its row space.
"""
from __future__ import annotations

import itertools
from math import comb, e

import numpy as np

from .caching import ContentCache, content_key
from .model import Activation
from .validation import check_X

#: Refuse exact enumeration when Cover's count predicts more cells than this.
MAX_EXACT_PATTERNS = 200_000
#: Refuse when the number of (r-1)-subsets to visit exceeds this.
MAX_SUBSETS = 2_000_000
#: Gaussian directions sampled by :func:`auto_patterns` when enumeration is out of reach.
AUTO_SAMPLES = 5_000

_TIE_TOL = 1e-10


def cover_count(n: int, r: int) -> int:
    """Cover's count ``2 sum_{k=0}^{r-1} C(n-1, k)`` of cells for n hyperplanes of rank r (one
    cell, the whole space, for rank 0)."""
    if n <= 0 or r <= 0:
        return 1
    return 2 * sum(comb(n - 1, k) for k in range(r))


def cover_bound(n: int, r: int) -> float:
    """The upper bound ``2 r (e (n - 1) / r)^r`` on Cover's count (1 for rank 0)."""
    if r <= 0:
        return 1.0
    return 2.0 * r * (e * max(n - 1, 1) / r) ** r


def data_rank(X: np.ndarray) -> int:
    """Numerical rank of X (singular values above ``1e-10 * max``)."""
    s = np.linalg.svd(np.asarray(X, dtype=float), compute_uv=False)
    if s.size == 0 or s[0] == 0:
        return 0
    return int(np.sum(s > 1e-10 * s[0]))


def _row_space(X: np.ndarray) -> np.ndarray:
    """Coordinates of the rows of X in an orthonormal basis of its row space, shape (n, r)."""
    _, s, Vt = np.linalg.svd(X, full_matrices=False)
    r = int(np.sum(s > 1e-10 * s[0])) if s.size and s[0] > 0 else 0
    return X @ Vt[:r].T


def _unique_rows(D: np.ndarray) -> np.ndarray:
    """Distinct boolean rows, in a canonical (lexicographic on packed bits) order."""
    if D.shape[0] == 0:
        return D
    packed = np.ascontiguousarray(np.packbits(D, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, idx = np.unique(keys, return_index=True)
    return D[np.sort(idx)]


def _orthant_codes(k: int) -> np.ndarray:
    """All 2^k boolean vectors of length k, shape (2^k, k)."""
    return np.array(list(itertools.product([True, False], repeat=k)), dtype=bool).reshape(-1, k)


def _cells(Q: np.ndarray) -> np.ndarray:
    """Patterns of the full-dimensional cells for Q of shape (n, r) with full column rank r."""
    n, r = Q.shape
    if r == 0:
        return np.ones((1, n), dtype=bool)
    if r == 1:
        q = Q[:, 0]
        tie = np.abs(q) <= _TIE_TOL * np.max(np.abs(q))
        return _unique_rows(np.stack([(q > 0) | tie, (q < 0) | tie]))
    norms = np.linalg.norm(Q, axis=1)
    nz = np.flatnonzero(norms > _TIE_TOL * norms.max())
    subsets = np.array(list(itertools.combinations(nz, r - 1)), dtype=np.intp)
    if subsets.size == 0:
        return np.ones((1, n), dtype=bool)
    # Unit normals of span(x_S) in R^r: last right-singular vector of each (r-1, r) block.
    B = Q[subsets]  # (M, r-1, r)
    if r == 2:
        u = np.stack([-B[:, 0, 1], B[:, 0, 0]], axis=1)
    elif r == 3:
        u = np.cross(B[:, 0], B[:, 1])
    else:
        u = np.linalg.svd(B, full_matrices=True)[2][:, -1, :]
    un = np.linalg.norm(u, axis=1)
    scale = np.prod(np.linalg.norm(B, axis=2), axis=1)
    ok = un > 1e-9 * scale  # x_S linearly independent
    subsets, u = subsets[ok], u[ok] / un[ok, None]
    Z = u @ Q.T  # (M, n)
    tie = np.abs(Z) <= _TIE_TOL * norms[None, :] + 1e-300
    n_tie = tie.sum(axis=1)
    out = []
    generic = n_tie == r - 1
    if np.any(generic):
        codes = _orthant_codes(r - 1)  # (2^(r-1), r-1)
        for sgn in (1.0, -1.0):
            base = (sgn * Z[generic]) > 0
            rows = np.repeat(base, codes.shape[0], axis=0)
            sub = np.repeat(subsets[generic], codes.shape[0], axis=0)
            rows[np.arange(rows.shape[0])[:, None], sub] = np.tile(codes, (base.shape[0], 1))
            out.append(_unique_rows(rows))
    degenerate = np.flatnonzero(~generic)
    if degenerate.size:
        # Several subsets give the same ray: visit each distinct tie set once.
        seen = set()
        for j in degenerate:
            T = np.flatnonzero(tie[j])
            key = T.tobytes()
            if key in seen:
                continue
            seen.add(key)
            # Local arrangement of x_T in the complement of u (coordinates of rank r - 1).
            local = _cells(_row_space(Q[T] - np.outer(Q[T] @ u[j], u[j])))
            for sgn in (1.0, -1.0):
                base = (sgn * Z[j]) > 0
                rows = np.repeat(base[None, :], local.shape[0], axis=0)
                rows[:, T] = local
                out.append(rows)
    return _unique_rows(np.vstack(out))


def predicted_pattern_count(X) -> int:
    """Cover's count for X's size and rank: exact in general position, an upper bound otherwise."""
    X = check_X(X)
    return cover_count(X.shape[0], data_rank(X))


_ENUMERATIONS = ContentCache(maxsize=8)


def enumerate_patterns(X, *, max_patterns: int = MAX_EXACT_PATTERNS) -> np.ndarray:
    """Every activation pattern of X: one row per full-dimensional cell of the arrangement.

    Parameters
    ----------
    X : array_like of shape (n, d)
        The design matrix (include the bias column yourself if you want it).
    max_patterns : int
        Refuse when Cover's count for X's size and rank exceeds this.

    Returns
    -------
    D : ndarray of bool, shape (P, n)
        ``D[i, k] = 1[x_k' u >= 0]`` for any ``u`` in the interior of cell i.

    Raises
    ------
    ValueError
        For bad input, or when the predicted count exceeds ``max_patterns`` (the message gives
        the predicted count and suggests :func:`sample_patterns`).
    """
    X = check_X(X)
    n = X.shape[0]
    if np.all(X == 0):
        return np.ones((1, n), dtype=bool)
    Q = _row_space(X)
    r = Q.shape[1]
    predicted = cover_count(n, r)
    n_subsets = comb(n, max(r - 1, 0))
    if predicted > max_patterns or n_subsets > MAX_SUBSETS:
        raise ValueError(
            f"exact enumeration would produce about {predicted:,} patterns (n = {n}, rank {r}; "
            f"limit {max_patterns:,}); sample patterns instead, e.g. patterns=2000 "
            f"(sample_patterns(X, 2000))"
        )
    def build():
        D = _cells(Q)
        D.flags.writeable = False  # shared by every caller of the cache
        return D

    # interactive use re-solves the same data at many beta: the last few enumerations are kept
    D = _ENUMERATIONS.get(content_key("enumerate", X), build)
    return D


def sample_patterns(X, n_samples: int, seed: int = 0, *, symmetric: bool = False) -> np.ndarray:
    """Distinct patterns ``1[X u >= 0]`` of ``n_samples`` Gaussian directions ``u ~ N(0, I)``.

    A cell is found with probability equal to its normalised solid angle, so small cells are
    missed. With ``symmetric=True`` (absolute value activation) only one of each complementary
    pair ``D, ~D`` is kept.

    Returns
    -------
    D : ndarray of bool, shape (P, n), P <= n_samples, in order of first discovery.
    """
    X = check_X(X)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"expected n_samples as a positive integer, got {n_samples!r}")
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((int(n_samples), X.shape[1]))
    D = (U @ X.T) >= 0
    if symmetric:
        D = canonical_symmetric(D)
    return _unique_rows(D)


def canonical_symmetric(D: np.ndarray) -> np.ndarray:
    """Map each pattern to the member of ``{D, ~D}`` whose first entry is True, then dedupe."""
    D = np.where(D[:, :1], D, ~D)
    return _unique_rows(D)


def pattern_labels(D: np.ndarray, max_len: int = 64) -> list[str]:
    """Readable labels of patterns as bit strings (truncated with an ellipsis)."""
    out = []
    for row in D:
        s = "".join("1" if b else "0" for b in row)
        out.append(s if len(s) <= max_len else s[: max_len - 1] + "…")
    return out


def resolve_patterns(Xb: np.ndarray, patterns, act: Activation, seed: int = 0) -> tuple[np.ndarray, bool]:
    """Patterns from the ``patterns`` argument: "exact", an int (Gaussian samples) or an array.

    Returns (D of shape (P, n), exact flag).
    """
    n = Xb.shape[0]
    if isinstance(patterns, str):
        if patterns != "exact":
            raise ValueError(f"expected patterns='exact', an int or a (P, {n}) bool array, got {patterns!r}")
        D, exact = enumerate_patterns(Xb), True
    elif isinstance(patterns, (int, np.integer)) and not isinstance(patterns, bool):
        if patterns < 1:
            raise ValueError(f"expected a positive number of sampled patterns, got {patterns}")
        D, exact = sample_patterns(Xb, int(patterns), seed=seed), False
    else:
        D = np.asarray(patterns)
        if D.ndim != 2 or D.shape[1] != n:
            raise ValueError(f"expected a patterns array of shape (P, {n}), got shape {D.shape}")
        if D.dtype != bool:
            if not np.all(np.isin(D, (0, 1))):
                raise ValueError("expected a boolean (0/1) patterns array")
            D = D.astype(bool)
        exact = False
    if act.symmetric:
        D = canonical_symmetric(D)
    return D, exact


def auto_choice(Xb: np.ndarray, *, max_exact: int = MAX_EXACT_PATTERNS, n_samples: int = AUTO_SAMPLES):
    """"exact" when Cover's count for ``Xb`` is at most ``max_exact``, else ``n_samples`` (the
    number of Gaussian directions to sample): the rule of :func:`auto_patterns` as a
    ``patterns`` argument for :func:`cvx_core.fit_convex`."""
    return "exact" if predicted_pattern_count(Xb) <= max_exact else int(n_samples)


def auto_patterns(Xb: np.ndarray, act: Activation, *, max_exact: int = MAX_EXACT_PATTERNS,
                  n_samples: int = AUTO_SAMPLES, seed: int = 0, extra: np.ndarray | None = None):
    """The one "auto" policy: every pattern when Cover's count for ``Xb`` is at most
    ``max_exact``, otherwise ``n_samples`` Gaussian directions plus the rows of ``extra`` (for
    example a network's own patterns). Callers choose the limits (an interactive page, an
    estimator and a certificate want different sizes), never the rule.

    Returns (D of shape (P, n), exact flag), canonical for symmetric activations.
    """
    choice = auto_choice(Xb, max_exact=max_exact, n_samples=n_samples)
    if choice == "exact":
        return resolve_patterns(Xb, "exact", act)
    D = sample_patterns(Xb, choice, seed=seed)
    if extra is not None and len(extra):
        D = _unique_rows(np.vstack([D, np.asarray(extra, dtype=bool)]))
    return resolve_patterns(Xb, D, act)
