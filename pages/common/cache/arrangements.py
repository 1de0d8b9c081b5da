"""Cached calls of the Arrangements page (patterns, cells, zonotope, coverage, approximation ratio).

Everything is keyed by small hashable arguments (the data key, :func:`..keys.data_key`, and
the shared controls; the points themselves come as the unhashed ``_X`` / ``_data``) and returns
frozen dataclasses / arrays, so reruns after a slider change only rebuild figures.
:func:`direction_info` and :func:`selection_info` are cheap pure helpers (not cached).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import streamlit as st

import cvx_core
from cvx_core import geometry as geo
from cvx_core.certificates.cells import lower_bound
from cvx_core.certificates.evaluate import cert_max
from cvx_core.patterns import (cover_bound, cover_count, data_rank, enumerate_patterns, resolve_patterns,
                               sample_patterns)

from cvx_core.datasets import Dataset

from ..figures.arrangements import pattern_text, region_text
from .keys import Controls

#: Cells are computed and drawn as polygons up to this count (Cover's count of the data).
MAX_DRAWN_PATTERNS = 40_000
#: Cells and vertices carry their pattern as hover text up to this count (the text is n
#: characters per cell and would dominate what each rerun sends to the browser).
MAX_LABELLED_PATTERNS = 12_000
#: The zonotope's vertices carry their pattern as hover text up to this count (index above).
MAX_LABELLED_VERTICES = 3_000
#: Sample counts N of the slider and of the coverage curve.
N_OPTIONS = tuple(2**k for k in range(0, 17))
#: The small N grid of the approximation-ratio curve (one convex solve each).
RATIO_GRID = (4, 16, 64, 256, 1024)
#: Half-width of the data-space box (the data live in [-1, 1]^2).
DATA_BOX = 1.25


@dataclass(frozen=True)
class ArrangementView:
    """The arrangement of one data set's design matrix, ready to draw.

    ``patterns`` is the engine's enumeration (its row index is the "pattern index" used on the
    page); ``pictures`` the planar pictures (empty when too large to draw) with, per picture,
    the pattern index of each cell; ``first`` maps a pattern index to (picture, cell);
    ``labels`` / ``vertex_labels`` the hover text of the patterns (None above
    :data:`MAX_LABELLED_PATTERNS` / :data:`MAX_LABELLED_VERTICES`).
    """

    Xb: np.ndarray
    patterns: np.ndarray
    n_drawn: int
    cover: int
    bound: float
    rank: int
    pictures: tuple
    pattern_index: tuple
    labels: tuple | None
    first: dict
    vertices: np.ndarray
    order: np.ndarray | None
    triangles: np.ndarray | None
    vertex_labels: tuple | None

    @property
    def n_patterns(self) -> int:
        return int(self.patterns.shape[0])

    @property
    def drawn(self) -> bool:
        return len(self.pictures) > 0


@st.cache_data(show_spinner=False, max_entries=16)
def arrangement(key: tuple, bias: bool, _X: np.ndarray) -> ArrangementView:
    """Enumerate the patterns of the points ``_X`` (data key ``key``), draw the cells and build the zonotope."""
    X = _X
    Xb = cvx_core.add_bias(X, bias)
    if Xb.shape[1] not in (2, 3):
        raise ValueError(f"the arrangement is drawn for 2 or 3 weight coordinates, got {Xb.shape[1]}; "
                         "turn the bias on for 1-D data")
    r = data_rank(Xb)
    cover, bound = cover_count(len(Xb), r), cover_bound(len(Xb), r)
    if cover > cvx_core.MAX_EXACT_PATTERNS:
        raise ValueError(f"{cover:,} cells (Cover's count for n = {len(Xb)}, rank {r}) are more than exact "
                         f"enumeration handles ({cvx_core.MAX_EXACT_PATTERNS:,}); use fewer points")
    E = enumerate_patterns(Xb)
    pics, index, labels, first = (), (), None, {}
    order = tri = None
    if cover <= MAX_DRAWN_PATTERNS:
        pics = geo.arrangement_pictures(Xb)
        index = tuple(geo.match_patterns(p.patterns, E) for p in pics)
        for j, idx in enumerate(index):
            for i, p in enumerate(idx):
                first.setdefault(int(p), (j, i))
        if len(E) <= MAX_LABELLED_PATTERNS:
            labels = tuple(pattern_text(p.patterns) for p in pics)
        order = geo.zonotope_polygon(Xb, E) if Xb.shape[1] == 2 else None
        tri = geo.zonotope_triangles(geo.zonotope_vertices(Xb, E)) if Xb.shape[1] == 3 else None
    n_drawn = len(geo.distinct_patterns(pics)) if pics else 0
    return ArrangementView(Xb, E, n_drawn, cover, bound, r, pics, index, labels, first,
                           geo.zonotope_vertices(Xb, E), order, tri,
                           tuple(pattern_text(E)) if len(E) <= MAX_LABELLED_VERTICES else None)


@st.cache_data(show_spinner=False, max_entries=16)
def counts_curve(key: tuple, bias: bool, _X: np.ndarray) -> dict:
    """Engine count, Cover's count and the bound for the first m points, m on a small grid."""
    X = _X
    n = len(X)
    ms = np.unique(np.r_[np.round(np.geomspace(3, max(n, 3), 8)).astype(int), n])
    ms = ms[(ms >= 1) & (ms <= n)]
    out = {"n": [], "engine": [], "cover": [], "bound": []}
    for m in ms:
        Xb = cvx_core.add_bias(X[:m], bias)
        r = data_rank(Xb)
        out["n"].append(int(m))
        # the full data's count is the page's own enumeration (cached), not a second one
        out["engine"].append(arrangement(key, bias, _X=X).n_patterns if m == n else int(enumerate_patterns(Xb).shape[0]))
        out["cover"].append(cover_count(int(m), r))
        out["bound"].append(cover_bound(int(m), r))
    return {k: np.asarray(v) for k, v in out.items()}


@st.cache_data(show_spinner=False, max_entries=32)
def cell_norms(fit_key: tuple, _fit, _view: ArrangementView) -> tuple:
    """Group norms of the fit ``_fit`` (identified by ``fit_key``, :func:`..keys.fit_key`) for every
    cell drawn in ``_view`` (the arrangement of the fit's data): the row of the cell's pattern in
    ``fit.patterns`` (NaN when the fit did not use that pattern)."""
    c, view = fit_key[0], _view
    G = _fit.group_norms()
    sym = cvx_core.make_activation(c.activation, c.leak).symmetric
    out = []
    for pic in view.pictures:
        rows = geo.match_patterns(pic.patterns, _fit.patterns, symmetric=sym)
        out.append(np.where(rows[:, None] >= 0, G[np.maximum(rows, 0)], np.nan))
    return tuple(out)


@st.cache_data(show_spinner=False, max_entries=64)
def sampled(key: tuple, bias: bool, N: int, seed: int, _X: np.ndarray) -> dict:
    """Patterns of N Gaussian directions: which drawn cells and which vertices they find."""
    view = arrangement(key, bias, _X=_X)
    S = sample_patterns(view.Xb, int(N), seed=seed)
    return {"n_found": int(S.shape[0]),
            "cells": tuple(geo.match_patterns(p.patterns, S) >= 0 for p in view.pictures),
            "vertices": geo.match_patterns(view.patterns, S) >= 0}


@st.cache_data(show_spinner=False, max_entries=16)
def coverage(key: tuple, bias: bool, seed: int, _X: np.ndarray) -> dict:
    """Distinct patterns found against N on a log grid (same draws as ``sample_patterns``)."""
    view = arrangement(key, bias, _X=_X)
    Ns = np.unique(np.round(np.geomspace(1, N_OPTIONS[-1], 33)).astype(int))
    return {"N": Ns, "found": geo.coverage_counts(view.Xb, Ns, seed)}


@st.cache_data(show_spinner=False, max_entries=16)
def ratio_curve(c: Controls, p_star: float, _data: Dataset) -> dict:
    """p_s / p*, kappa and g(lambda_s / kappa) / p* on :data:`RATIO_GRID` (docs/math.md section 7).

    p_s is the optimum of the convex program over the patterns of N Gaussian directions
    (``sample_patterns`` with the data seed) and ``lambda_s`` its dual vector (the fit's);
    kappa = max(1, cert(lambda_s) / beta) over all patterns and the lower bound
    g(lambda_s / kappa); p* is the exact optimum. (Certifying the subsampled *network* instead
    takes its own dual vector: for the hinge loss a subgradient that can be far from lambda_s,
    with kappa = 1 and a bound of 0 while p_s > p*; refined by dual solves, another bound.)
    """
    data = _data
    Xb = cvx_core.add_bias(data.X, c.bias)
    act = cvx_core.make_activation(c.activation, c.leak)
    lossf = cvx_core.make_loss(c.loss)
    D_all, exact = resolve_patterns(Xb, "exact", act)
    rows = {"N": [], "P_s": [], "p_s": [], "ratio": [], "kappa": [], "lower": [], "time": []}
    for N in RATIO_GRID:
        D = sample_patterns(Xb, N, seed=c.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the certificate below says how good it is
            fs = cvx_core.fit_convex(data.X, data.y, c.beta, activation=c.activation, leak=c.leak, loss=c.loss,
                                     bias=c.bias, patterns=D)
        cert = cert_max(Xb, D_all, fs.dual, act, exact)[0]
        kappa = max(1.0, cert / c.beta)
        rows["N"].append(N)
        rows["P_s"].append(fs.n_patterns)
        rows["p_s"].append(fs.objective)
        rows["ratio"].append(fs.objective / p_star)
        rows["kappa"].append(kappa)
        rows["lower"].append(lower_bound(lossf, fs.dual, data.y, cert, c.beta) / p_star)
        rows["time"].append(fs.solve_time)
    return {k: np.asarray(v) for k, v in rows.items()}


def direction_info(view: ArrangementView, u: np.ndarray) -> dict:
    """The pattern D(u), its index, and the zonotope vertex maximising u'z (they must agree)."""
    D = (view.Xb @ u) >= 0
    idx = int(geo.match_patterns(D[None], view.patterns)[0])
    vertex = geo.vertex_of_direction(view.Xb, view.patterns, u)
    return {"pattern": D, "index": idx, "vertex": vertex, "agree": idx == vertex}


def selection_info(view: ArrangementView, p: int, network=None, bias: bool = True) -> dict:
    """For pattern index p: the points it activates, the fit's neurons in that cell, and a
    data-space line of a direction inside the cell."""
    D = view.patterns[p]
    out = {"activated": D, "family": [], "line": None}
    if network is not None and network.n_neurons:
        own = (view.Xb @ network.U.T >= 0).T
        same = np.all(own == D, axis=1)
        if network.sigma.symmetric:
            same |= np.all(own == ~D, axis=1)
        out["family"] = np.flatnonzero(same).tolist()
    if p in view.first and view.Xb.shape[1] - int(bias) == 2:
        j, i = view.first[p]
        u = view.pictures[j].directions()[i]
        out["line"] = geo.neuron_segments(u[None], bias, DATA_BOX)[0]
    return out


@st.cache_data(show_spinner=False, max_entries=32)
def neurons(fit_key: tuple, _net) -> tuple:
    """Lines, active sides and linear regions of the network ``_net`` of the fit ``fit_key``
    (2-D data), with the regions' hover text."""
    g = geo.neuron_geometry(_net.U, _net.bias, DATA_BOX)
    return g, region_text(g)
