"""Cached calls of the Arrangements page (patterns, cells, zonotope, coverage, approximation ratio).

Everything is keyed by small hashable arguments (the data-set key and the shared controls) and
returns frozen dataclasses / arrays, so reruns after a slider change only rebuild figures.
"""
from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass

import numpy as np
import streamlit as st

import cvx_core
from cvx_core import geometry as geo
from cvx_core.patterns import cover_bound, cover_count, data_rank, enumerate_patterns, sample_patterns

from . import cache
from .fig_arrangements import pattern_text, region_text
from .state import Controls

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


def int_in(lo: int, hi: int):
    """URL parser: an integer in [lo, hi] (ValueError otherwise)."""
    def parse(raw: str) -> int:
        if not lo <= int(raw) <= hi:
            raise ValueError(raw)
        return int(raw)
    return parse


def one_of(*options):
    """URL parser: one of ``options`` (compared as strings; ValueError otherwise)."""
    return lambda raw: options[[str(o) for o in options].index(raw)]


#: The page's own controls: URL key -> (default, parser of the URL value).
CONTROLS = {
    "arr_N": (64, one_of(*N_OPTIONS)),
    "arr_theta": (30, int_in(0, 359)),
    "arr_elev": (30, int_in(-89, 89)),
    "arr_colour": ("activation", one_of("activation", "sampling")),
    "arr_cell": (-1, int_in(-1, 10**6)),
    "arr_point": (-1, int_in(-1, 10**6)),
    "arr_ratio": (True, lambda raw: one_of("1", "0")(raw) == "1"),
}


@st.cache_data(show_spinner=False, max_entries=16)
def arrangement(key: tuple, bias: bool) -> ArrangementView:
    """Enumerate the patterns (engine), draw the cells (geometry) and build the zonotope."""
    X = cache.data_by_key(key).X
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
def counts_curve(key: tuple, bias: bool) -> dict:
    """Engine count, Cover's count and the bound for the first m points, m on a small grid."""
    X = cache.data_by_key(key).X
    n = len(X)
    ms = np.unique(np.r_[np.round(np.geomspace(3, max(n, 3), 8)).astype(int), n])
    ms = ms[(ms >= 1) & (ms <= n)]
    out = {"n": [], "engine": [], "cover": [], "bound": []}
    for m in ms:
        Xb = cvx_core.add_bias(X[:m], bias)
        r = data_rank(Xb)
        out["n"].append(int(m))
        # the full data's count is the page's own enumeration (cached), not a second one
        out["engine"].append(arrangement(key, bias).n_patterns if m == n else int(enumerate_patterns(Xb).shape[0]))
        out["cover"].append(cover_count(int(m), r))
        out["bound"].append(cover_bound(int(m), r))
    return {k: np.asarray(v) for k, v in out.items()}


@st.cache_data(show_spinner=False, max_entries=32)
def cell_norms(fit_key: tuple, _fit) -> tuple:
    """Group norms of the fit ``_fit`` (identified by ``fit_key``) for every drawn cell: the row of
    the cell's pattern in ``fit.patterns`` (NaN when the fit did not use that pattern)."""
    c = fit_key[0]
    view = arrangement(cache.data_key(c), c.bias)
    G = _fit.group_norms()
    sym = cvx_core.make_activation(c.activation, c.leak).symmetric
    out = []
    for pic in view.pictures:
        rows = geo.match_patterns(pic.patterns, _fit.patterns, symmetric=sym)
        out.append(np.where(rows[:, None] >= 0, G[np.maximum(rows, 0)], np.nan))
    return tuple(out)


@st.cache_data(show_spinner=False, max_entries=64)
def sampled(key: tuple, bias: bool, N: int, seed: int) -> dict:
    """Patterns of N Gaussian directions: which drawn cells and which vertices they find."""
    view = arrangement(key, bias)
    S = sample_patterns(view.Xb, int(N), seed=seed)
    return {"n_found": int(S.shape[0]),
            "cells": tuple(geo.match_patterns(p.patterns, S) >= 0 for p in view.pictures),
            "vertices": geo.match_patterns(view.patterns, S) >= 0}


@st.cache_data(show_spinner=False, max_entries=16)
def coverage(key: tuple, bias: bool, seed: int) -> dict:
    """Distinct patterns found against N on a log grid (same draws as ``sample_patterns``)."""
    view = arrangement(key, bias)
    Ns = np.unique(np.round(np.geomspace(1, N_OPTIONS[-1], 33)).astype(int))
    return {"N": Ns, "found": geo.coverage_counts(view.Xb, Ns, seed)}


@st.cache_data(show_spinner=False, max_entries=16)
def ratio_curve(c: Controls, p_star: float) -> dict:
    """p_s / p*, kappa and g(lambda_s / kappa) / p* on :data:`RATIO_GRID` (docs/math.md section 7).

    p_s is the optimum of the convex program over the patterns of N Gaussian directions
    (``sample_patterns`` with the data seed); kappa = max(1, cert(lambda_s) / beta) and the lower
    bound come from certifying its network over all patterns (``certify``); p* is the exact optimum.
    """
    data = cache.data_for(c)
    Xb = cvx_core.add_bias(data.X, c.bias)
    rows = {"N": [], "P_s": [], "p_s": [], "ratio": [], "kappa": [], "lower": [], "time": []}
    for N in RATIO_GRID:
        D = sample_patterns(Xb, N, seed=c.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the certificate below says how good it is
            fs = cvx_core.fit_convex(data.X, data.y, c.beta, activation=c.activation, leak=c.leak, loss=c.loss,
                                     bias=c.bias, patterns=D)
        cert = cvx_core.certify(fs.network, data.X, data.y, c.beta, loss=c.loss)
        rows["N"].append(N)
        rows["P_s"].append(fs.n_patterns)
        rows["p_s"].append(fs.objective)
        rows["ratio"].append(fs.objective / p_star)
        rows["kappa"].append(max(1.0, cert.certificate))
        rows["lower"].append(cert.lower_bound / p_star)
        rows["time"].append(fs.solve_time)
    return {k: np.asarray(v) for k, v in rows.items()}


def fit_key(c: Controls, fit) -> tuple:
    """A small cache key that identifies a fit by content (a refit with the same controls, e.g.
    after a solver change, gets a new key)."""
    h = hashlib.sha1()
    for a in (fit.V, fit.W, fit.network.U, fit.network.alpha):
        h.update(np.ascontiguousarray(a).tobytes())
    return c, fit.exact_patterns, fit.n_patterns, h.hexdigest()


def picked_index(points: list) -> int:
    """``customdata[0]`` of the first clicked point of a plotly selection (-1 when none).

    Streamlit passes a row of a numeric customdata array as a dict {"0": ..., "1": ...}, a
    list, or a scalar, depending on how plotly encoded it.
    """
    if not points or points[0].get("customdata") is None:
        return -1
    cd = points[0]["customdata"]
    v = cd.get("0", -1) if isinstance(cd, dict) else np.ravel(cd)[0]
    return int(v)


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
