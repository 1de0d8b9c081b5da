"""Planar pictures of the hyperplane arrangement, the zonotope, and a network's linear regions.

The only module of the engine that uses shapely (and scipy's convex hull), so the UI can draw
the geometry of docs/math.md sections 6 and 7 from plain arrays.

Symbols
-------
Xb : ndarray of shape (n, d')
    The design matrix (``[X, 1]`` with bias). Its rows ``x_k`` define the hyperplanes
    ``{u : x_k' u = 0}`` of weight space; a pattern is ``D(u) = 1[Xb u >= 0]``.
D : ndarray of bool, shape (P, n)
    Patterns, one per row.

Weight space is drawn in the plane:

- ``d' = 2`` (2-D data without bias, or 1-D data with bias): the hyperplanes are lines through
  the origin and the cells are the wedges between them (2n in general position), clipped to a
  square.
- ``d' = 3`` (2-D data with bias): the slice ``u_bias = s`` (s = +1 and s = -1) of weight space
  turns each hyperplane into the line ``x_k1 u_1 + x_k2 u_2 + s = 0``; the cells of the
  arrangement meeting the slice become the polygons of that line arrangement. The square they
  are clipped to contains every vertex of the arrangement, so every cell is drawn with positive
  area. A cell meets both slices exactly when it meets ``u_bias = 0``; those are the unbounded
  cells of each slice, so ``P = cells(+1) + cells(-1) - cells(u_bias = 0)``.

Each drawn cell carries an interior point (its anchor) and its pattern, evaluated at the anchor.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import ConvexHull, QhullError
from shapely.geometry import LineString, box as shapely_box

#: Largest half-width of the square the slice cells are clipped to.
MAX_EXTENT = 1e6


@dataclass(frozen=True)
class PlaneCells:
    """The cells of one planar picture of an arrangement.

    Attributes
    ----------
    kind : {"wedges", "slice"}
    sign : int
        The slice ``u_bias = sign`` (+1 or -1); 0 for wedges.
    rings : tuple of ndarray of shape (k_i, 2)
        Closed exterior ring of each cell polygon (clipped to the square ``[-extent, extent]^2``).
    anchors : ndarray of shape (C, 2)
        A point in the interior of each cell.
    patterns : ndarray of bool, shape (C, n)
        ``1[Xb u >= 0]`` at the anchor's weight vector (:meth:`directions`).
    extent : float
        Half-width of the clipping square.
    view : float
        Suggested half-width of the default view (shows the bounded cells near the origin).
    segments : ndarray of shape (L, 2, 2)
        The arrangement's lines clipped to the square (one segment per line meeting it).
    segment_rows : ndarray of int, shape (L,)
        The data row ``k`` of each segment.
    """

    kind: str
    sign: int
    rings: tuple
    anchors: np.ndarray
    patterns: np.ndarray
    extent: float
    view: float
    segments: np.ndarray
    segment_rows: np.ndarray

    @property
    def n_cells(self) -> int:
        return int(self.patterns.shape[0])

    def directions(self) -> np.ndarray:
        """Weight vectors ``u`` of the anchors, shape (C, d'): the anchor, with ``sign`` appended
        for a slice."""
        if self.kind == "wedges":
            return self.anchors.copy()
        return np.c_[self.anchors, np.full(len(self.anchors), float(self.sign))]


def _check_design(Xb, widths=(2, 3)) -> np.ndarray:
    Xb = np.asarray(Xb, dtype=float)
    if Xb.ndim != 2 or Xb.shape[1] not in widths:
        raise ValueError(f"expected a design matrix with {' or '.join(map(str, widths))} columns, got shape {Xb.shape}")
    if Xb.shape[0] == 0:
        raise ValueError("expected at least one row in the design matrix, got 0")
    if not np.all(np.isfinite(Xb)):
        raise ValueError("expected finite values in the design matrix, found NaN or inf")
    return Xb


def _clip_lines(A: np.ndarray, c: np.ndarray, extent: float) -> tuple[np.ndarray, np.ndarray]:
    """Segments of the lines ``A[k] . p + c[k] = 0`` inside ``[-extent, extent]^2``."""
    sq = shapely_box(-extent, -extent, extent, extent)
    segs, rows = [], []
    far = 4.0 * extent
    for k, (a, ck) in enumerate(zip(A, c)):
        na = np.hypot(*a)
        if na <= 1e-12 * max(1.0, abs(ck)):
            continue  # x_k has no planar part: its hyperplane misses this picture
        p0 = -ck * a / na**2  # closest point to the origin
        t = np.array([-a[1], a[0]]) / na
        if np.hypot(*p0) >= extent * np.sqrt(2):
            continue
        seg = LineString([p0 - far * t, p0 + far * t]).intersection(sq)
        if seg.is_empty or seg.length == 0:
            continue
        xy = np.asarray(seg.coords)
        segs.append(xy[[0, -1]])
        rows.append(k)
    return np.array(segs).reshape(-1, 2, 2), np.array(rows, dtype=int)


def _polygonize(segments: np.ndarray, extent: float):
    """Faces of the planar subdivision of the square by the segments (shapely polygons)."""
    sq = shapely_box(-extent, -extent, extent, extent)
    lines = [LineString(s) for s in segments] + [sq.exterior]
    noded = shapely.unary_union(lines)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    return faces[shapely.area(faces) > 0]


def _faces_to_arrays(faces) -> tuple[tuple, np.ndarray]:
    anchors = shapely.get_coordinates(shapely.point_on_surface(faces)).reshape(-1, 2)
    rings = tuple(shapely.get_coordinates(shapely.get_exterior_ring(f)) for f in faces)
    return rings, anchors


def _slice_extent(A: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """Half-width containing every vertex of the line arrangement, and a default view size."""
    keep = np.hypot(A[:, 0], A[:, 1]) > 1e-12
    A, c = A[keep], c[keep]
    dist = np.abs(c) / np.hypot(A[:, 0], A[:, 1])
    if len(A) < 2:
        r = float(dist.max()) if len(dist) else 1.0
        return max(2.0 * r, 1.0), max(2.0 * r, 1.0)
    i, j = np.triu_indices(len(A), 1)
    det = A[i, 0] * A[j, 1] - A[i, 1] * A[j, 0]
    ok = np.abs(det) > 1e-12 * np.hypot(*A[i].T) * np.hypot(*A[j].T)
    i, j, det = i[ok], j[ok], det[ok]
    px = (-c[i] * A[j, 1] + c[j] * A[i, 1]) / det
    py = (-A[i, 0] * c[j] + A[j, 0] * c[i]) / det
    vmax = np.maximum(np.abs(px), np.abs(py))
    far = float(vmax.max()) if vmax.size else 1.0
    extent = min(max(1.25 * far, 1.5 * float(dist.max()), 1.0), MAX_EXTENT)
    near = float(np.quantile(vmax, 0.8)) if vmax.size else 1.0
    view = min(max(1.2 * near, 1.5 * float(np.median(dist)), 1.0), extent)
    return extent, view


def arrangement_wedges(Xb, extent: float = 1.0) -> PlaneCells:
    """Cells of the arrangement of lines ``{u : x_k' u = 0}`` through the origin in R^2.

    Parameters
    ----------
    Xb : array_like of shape (n, 2)
    extent : float
        Half-width of the square the wedges are clipped to.
    """
    Xb = _check_design(Xb, (2,))
    segs, rows = _clip_lines(Xb, np.zeros(len(Xb)), extent)
    faces = _polygonize(segs, extent)
    rings, anchors = _faces_to_arrays(faces)
    patterns = (anchors @ Xb.T) >= 0
    return PlaneCells("wedges", 0, rings, anchors, patterns, float(extent), float(extent), segs, rows)


def arrangement_slice(Xb, sign: int) -> PlaneCells:
    """Cells of the arrangement in the slice ``u_bias = sign`` of R^3 (last coordinate = bias).

    Parameters
    ----------
    Xb : array_like of shape (n, 3)
    sign : {+1, -1}
    """
    Xb = _check_design(Xb, (3,))
    if sign not in (1, -1):
        raise ValueError(f"expected slice sign +1 or -1, got {sign!r}")
    A, c = Xb[:, :2], sign * Xb[:, 2]
    extent, view = _slice_extent(A, c)
    segs, rows = _clip_lines(A, c, extent)
    faces = _polygonize(segs, extent)
    rings, anchors = _faces_to_arrays(faces)
    patterns = (anchors @ A.T + c) >= 0
    return PlaneCells("slice", int(sign), rings, anchors, patterns, float(extent), float(view), segs, rows)


def arrangement_pictures(Xb) -> tuple[PlaneCells, ...]:
    """The planar pictures of the arrangement of ``Xb``: wedges for 2 columns, the slices
    ``u_bias = +1`` and ``-1`` for 3 columns."""
    Xb = _check_design(Xb)
    if Xb.shape[1] == 2:
        return (arrangement_wedges(Xb),)
    return (arrangement_slice(Xb, 1), arrangement_slice(Xb, -1))


def pattern_keys(D: np.ndarray) -> list[bytes]:
    """Hashable keys of boolean patterns (one per row)."""
    return [r.tobytes() for r in np.packbits(np.asarray(D, dtype=bool), axis=1)]


def match_patterns(D: np.ndarray, reference: np.ndarray, *, symmetric: bool = False) -> np.ndarray:
    """Row index in ``reference`` of each pattern of ``D`` (-1 when absent).

    With ``symmetric=True`` a pattern also matches its complement (absolute value activation,
    where ``D`` and ``~D`` give the same neurons and only one of them is kept).
    """
    lookup = {k: i for i, k in enumerate(pattern_keys(reference))}
    idx = np.array([lookup.get(k, -1) for k in pattern_keys(D)], dtype=int).reshape(-1)
    if symmetric and len(D):
        comp = np.array([lookup.get(k, -1) for k in pattern_keys(~np.asarray(D, dtype=bool))], dtype=int)
        idx = np.where(idx >= 0, idx, comp)
    return idx


def distinct_patterns(pictures) -> np.ndarray:
    """The distinct patterns over all pictures (shape (P, n)), in order of first appearance."""
    D = np.vstack([p.patterns for p in pictures])
    _, first = np.unique(np.packbits(D, axis=1), axis=0, return_index=True)
    return D[np.sort(first)]


# --------------------------------------------------------------------------- zonotope
def zonotope_vertices(Xb, D) -> np.ndarray:
    """Vertices ``Xb' D_i 1`` of the zonotope ``sum_k [0, x_k]``, one per pattern, shape (P, d')."""
    return np.asarray(D, dtype=float) @ np.asarray(Xb, dtype=float)


def zonotope_polygon(Xb, D) -> np.ndarray:
    """Order of the vertices of a planar zonotope around its boundary (counter-clockwise).

    Returns the indices into ``D`` of the vertices on the convex hull, shape (h,).
    """
    Z = zonotope_vertices(Xb, D)
    if Z.shape[1] != 2:
        raise ValueError(f"expected a planar zonotope (2 columns), got {Z.shape[1]}")
    hull = shapely.MultiPoint(Z).convex_hull
    if hull.geom_type != "Polygon":
        return np.arange(len(Z))
    ring = np.asarray(shapely.get_coordinates(hull.exterior))[:-1]
    if shapely.Polygon(ring).exterior.is_ccw is False:
        ring = ring[::-1]
    d2 = ((ring[:, None, :] - Z[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(d2, axis=1)


def zonotope_triangles(Z: np.ndarray) -> np.ndarray:
    """Triangles (i, j, k) of the boundary of a 3-D zonotope with vertices Z (convex hull)."""
    Z = np.asarray(Z, dtype=float)
    try:
        return ConvexHull(Z).simplices.astype(int)
    except QhullError:  # flat zonotope (rank < 3): no 3-D boundary to draw
        return np.zeros((0, 3), dtype=int)


def vertex_of_direction(Xb, D, u) -> int:
    """Index of the zonotope vertex maximising ``u' z`` (the support point in direction u)."""
    return int(np.argmax(zonotope_vertices(Xb, D) @ np.asarray(u, dtype=float)))


def direction_from_angles(theta_deg: float, elevation_deg: float | None = None) -> np.ndarray:
    """Unit vector at azimuth ``theta`` (and elevation, for 3-D) in degrees."""
    t = np.deg2rad(theta_deg)
    if elevation_deg is None:
        return np.array([np.cos(t), np.sin(t)])
    e = np.deg2rad(elevation_deg)
    return np.array([np.cos(e) * np.cos(t), np.cos(e) * np.sin(t), np.sin(e)])


# --------------------------------------------------------------------------- subsampling
def coverage_counts(Xb, n_samples, seed: int = 0, *, symmetric: bool = False) -> np.ndarray:
    """Number of distinct patterns found by the first N Gaussian directions, for each N.

    Uses the same random draw as :func:`cvx_core.patterns.sample_patterns` with the same
    ``seed`` (so the count at N equals ``len(sample_patterns(Xb, N, seed))``).
    """
    Xb = np.asarray(Xb, dtype=float)
    Ns = np.asarray(n_samples, dtype=int).reshape(-1)
    if Ns.size == 0 or Ns.min() < 1:
        raise ValueError(f"expected positive sample counts, got {Ns.tolist()}")
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((int(Ns.max()), Xb.shape[1]))
    D = (U @ Xb.T) >= 0
    if symmetric:
        D = np.where(D[:, :1], D, ~D)
    _, first = np.unique(np.packbits(D, axis=1), axis=0, return_index=True)
    first = np.sort(first)
    return np.searchsorted(first, Ns, side="left").astype(int)


# --------------------------------------------------------------------------- data space
@dataclass(frozen=True)
class NeuronGeometry:
    """Neurons of a network drawn in 2-D data space (within a square box).

    Attributes
    ----------
    segments : ndarray of shape (m, 2, 2)
        Each neuron's line ``{x : u' [x, 1] = 0}`` inside the box (NaN when it misses the box).
    active_rings : tuple of ndarray
        A strip along each neuron's line on its active side ``{x : u' [x, 1] >= 0}``, within
        the box (may be empty).
    region_rings : tuple of ndarray
        The linear regions: the faces of the box cut by all the neuron lines.
    region_anchors : ndarray of shape (R, 2)
    region_active : ndarray of bool, shape (R, m)
        Which neurons are active in each region.
    """

    segments: np.ndarray
    active_rings: tuple
    region_rings: tuple
    region_anchors: np.ndarray
    region_active: np.ndarray

    @property
    def n_regions(self) -> int:
        return len(self.region_rings)


def _design_2d(P: np.ndarray, bias: bool) -> np.ndarray:
    return np.c_[P, np.ones(len(P))] if bias else P


def neuron_geometry(U, bias: bool, half_width: float, band: float = 0.06) -> NeuronGeometry:
    """Lines, active sides and linear regions of the neurons ``U (m, d')`` of a 2-D network.

    Parameters
    ----------
    U : array_like of shape (m, 3) with bias or (m, 2) without
    bias : bool
    half_width : float
        The box is ``[-half_width, half_width]^2``.
    band : float
        Width of the strip drawn on each line's active side (``0 <= u'x~ / ||u_x|| <= band``),
        so many neurons can be shown at once.
    """
    U = np.asarray(U, dtype=float).reshape(-1, 3 if bias else 2)
    h = float(half_width)
    sq = shapely_box(-h, -h, h, h)
    A = U[:, :2]
    c = U[:, 2] if bias else np.zeros(len(U))
    segs = np.full((len(U), 2, 2), np.nan)
    s, rows = _clip_lines(A, c, h)
    segs[rows] = s
    active = []
    big = 8.0 * h
    for a, ck in zip(A, c):
        na = np.hypot(*a)
        if na <= 1e-12:  # constant neuron: active everywhere or nowhere, no line to mark
            active.append(np.zeros((0, 2)))
            continue
        p0 = -ck * a / na**2
        t = np.array([-a[1], a[0]]) / na
        strip = shapely.Polygon([p0 - big * t, p0 + big * t, p0 + big * t + band * a / na, p0 - big * t + band * a / na])
        part = strip.intersection(sq)
        active.append(np.asarray(part.exterior.coords) if part.geom_type == "Polygon" and not part.is_empty
                      else np.zeros((0, 2)))
    faces = _polygonize(s, h)
    rings, anchors = _faces_to_arrays(faces)
    reg_active = (_design_2d(anchors, bias) @ U.T) >= 0 if len(U) else np.zeros((len(anchors), 0), bool)
    return NeuronGeometry(segs, tuple(active), rings, anchors, reg_active)


def neuron_segments(U, bias: bool, half_width: float) -> np.ndarray:
    """Each neuron's line ``{x : u' [x, 1] = 0}`` (``u' x = 0`` without bias) inside the box
    ``[-half_width, half_width]^2``, shape (m, 2, 2); NaN rows for lines missing the box."""
    U = np.asarray(U, dtype=float).reshape(-1, 3 if bias else 2)
    segs = np.full((len(U), 2, 2), np.nan)
    s, rows = _clip_lines(U[:, :2], U[:, 2] if bias else np.zeros(len(U)), float(half_width))
    segs[rows] = s
    return segs


def kinks_1d(U, bias: bool) -> np.ndarray:
    """Kink locations ``x = -u_bias / u_1`` of the neurons of a 1-D network (NaN without one)."""
    U = np.asarray(U, dtype=float).reshape(-1, 2 if bias else 1)
    if not bias:
        return np.zeros(len(U))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(U[:, 0]) > 1e-12, -U[:, 1] / U[:, 0], np.nan)
