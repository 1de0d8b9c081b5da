"""Stationary points of nonconvex training, seen through the convex program (docs/math.md section 8).

At a differentiable stationary point of

    F(U, alpha) = L( sum_j sigma(Xb u_j) alpha_j , y ) + (beta / 2) sum_j (||u_j||^2 + alpha_j^2)

every live neuron is balanced (``||u_j|| = |alpha_j|``), satisfies ``||Xb' S_j lambda|| = beta``
and points along ``sign(alpha_j) Xb' S_j lambda`` (``lambda = -grad L``, ``S_j`` the slopes of its
pattern ``D_j``). Hence the network is the global optimum of the convex program restricted to
its own neurons' patterns: :func:`analyse_stationary` solves that program with
:func:`cvx_core.fit_convex` (``patterns=<own patterns>``) and compares. The network is globally
optimal iff additionally ``cert(lambda) <= beta`` over all patterns; otherwise the certificate's
maximising direction ``u*`` is a neuron to insert (:func:`insert_violating_neuron`).

A neuron is live when ``||u_j|| |alpha_j|`` exceeds ``LIVE_TOL`` times the largest such product
(a dead neuron's pattern, ``1[Xb 0 >= 0]``, means nothing). A point ``x_k`` sits on a kink of
neuron j when ``|x~_k' u_j| <= kink_tol ||x~_k|| ||u_j||``, or when training reports that the
bit ``1[x~_k' u_j >= 0]`` kept flipping late in the run (fixed-step gradient descent hops across
a kink instead of settling on it): there the objective is not differentiable and a
"stationary" point is only Clarke-stationary.

The certificate curve is ``c(u) = lambda' sigma(Xb u)`` over unit directions u (so
``cert(lambda) = max |c(u)|``): a function of the angle when ``d' = 2`` (2-D data without bias,
or 1-D data with bias), a map over the sphere (longitude, latitude) when ``d' = 3`` (2-D data
with bias; latitude is the angle of u with the data plane, i.e. the bias coordinate
``sin(latitude)``).

Symbols: ``X (n, d)`` raw data, ``Xb (n, d')`` design matrix, ``U (m, d')``, ``alpha (m,)``,
patterns ``D (P, n)`` bool.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .certificates.cells import cell_values
from .certification import Certificate, certify
from .convex import ConvexFit, fit_convex
from .model import TwoLayerNet, add_bias, make_loss
from .patterns import MAX_EXACT_PATTERNS, auto_patterns
from .gradients import objective_and_gradient
from .validation import check_beta, check_Xy

#: Neurons with ||u_j|| |alpha_j| <= LIVE_TOL * max_j ||u_j|| |alpha_j| count as dead.
LIVE_TOL = 1e-6
#: Default relative distance to a neuron's hyperplane below which a point is flagged on a kink.
KINK_TOL = 1e-4


@dataclass(frozen=True)
class CertificateCurve:
    """``c(u) = lambda' sigma(Xb u)`` over unit directions (module docstring).

    Attributes
    ----------
    kind : {"angle", "sphere"}
    lon : ndarray of shape (K,)
        Angle of u in degrees (kind "angle": ``u = (cos, sin)``), or the longitude.
    lat : ndarray of shape (L,) or None
        Latitude in degrees (kind "sphere": ``u = (cos lat cos lon, cos lat sin lon, sin lat)``).
    values : ndarray of shape (K,) or (L, K)
    beta : float
    u_star : ndarray of shape (2,)
        ``(angle, 0)`` or ``(lon, lat)`` of the certificate's maximising direction, degrees.
    u_star_value : float
        ``c(u*)`` (its absolute value is ``cert(lambda)``).
    neurons : ndarray of shape (m_live, 2)
        ``(angle, 0)`` or ``(lon, lat)`` of each live neuron's direction.
    neuron_values : ndarray of shape (m_live,)
        ``c(u_j / ||u_j||)``; equal to ``sign(alpha_j) beta`` at a stationary point.
    neuron_signs : ndarray of shape (m_live,)
    axes : tuple of str
        Names of the coordinates of u.
    """

    kind: str
    lon: np.ndarray
    lat: np.ndarray | None
    values: np.ndarray
    beta: float
    u_star: np.ndarray
    u_star_value: float
    neurons: np.ndarray
    neuron_values: np.ndarray
    neuron_signs: np.ndarray
    axes: tuple

    @property
    def grid_max(self) -> float:
        """``max |c(u)|`` over the grid (a lower estimate of ``cert(lambda)``)."""
        return float(np.abs(self.values).max())


@dataclass(frozen=True)
class StationaryAnalysis:
    """Result of :func:`analyse_stationary`.

    Attributes
    ----------
    objective : float
        The network's training objective F.
    grad_norm : float
        Norm of the full gradient of F (0 at a differentiable stationary point).
    live : ndarray of bool, shape (m,)
    neuron_patterns : ndarray of int, shape (m,)
        Row of ``patterns`` of each neuron (-1 for dead neurons).
    patterns : ndarray of bool, shape (P, n)
        Distinct patterns of the live neurons (canonical pairs for the absolute value).
    restricted : ConvexFit or None
        The convex program over ``patterns`` (None when no neuron is live).
    restricted_objective : float
        Its optimum (the loss of the zero network when no neuron is live).
    restricted_gap : float
        ``(objective - restricted_objective) / |restricted_objective|`` (>= 0 up to solver
        tolerance; 0 at a stationary point).
    balance : float
        ``max_j | ||u_j|| - |alpha_j| |`` over live neurons, relative to the largest ``|alpha_j|``.
    margins : ndarray of shape (n, m)
        ``|x~_k' u_j| / (||x~_k|| ||u_j||)``.
    kinks : ndarray of bool, shape (n, m)
        Live neuron j has a kink at point k (margin <= ``kink_tol``, or a recent flip).
    kink_tol : float
    certificate : Certificate
        :func:`certify_network` of the network (``u*``, its sign and pattern).
    curve : CertificateCurve or None
        None when ``d' > 3``.
    """

    objective: float
    grad_norm: float
    live: np.ndarray
    neuron_patterns: np.ndarray
    patterns: np.ndarray
    restricted: ConvexFit | None
    restricted_objective: float
    restricted_gap: float
    balance: float
    margins: np.ndarray
    kinks: np.ndarray
    kink_tol: float
    certificate: Certificate
    curve: CertificateCurve | None

    @property
    def n_live(self) -> int:
        return int(self.live.sum())

    @property
    def n_patterns(self) -> int:
        return int(self.patterns.shape[0])

    @property
    def kink_points(self) -> np.ndarray:
        """Points sitting on a kink of at least one live neuron, shape (n,) bool."""
        return self.kinks.any(axis=1)

    @property
    def n_kink_points(self) -> int:
        return int(self.kink_points.sum())


@dataclass(frozen=True)
class Insertion:
    """Result of :func:`insert_violating_neuron`.

    Attributes
    ----------
    before : ConvexFit
        The convex optimum over the given patterns.
    certificate_before : Certificate
        Certificate of ``before.network`` over all patterns (``u*`` and its pattern).
    added : bool
        False when ``before`` is already certified globally optimal (nothing to insert).
    already_present : bool
        True when u*'s pattern was among the given patterns (``before`` was not exact).
    added_pattern : ndarray of bool, shape (n,)
    patterns : ndarray of bool, shape (P', n)
        The patterns after insertion.
    after : ConvexFit
        The convex optimum over ``patterns`` (``before`` when nothing was added).
    certificate_after : Certificate
    drop : float
        ``before.objective - after.objective`` (>= 0 up to solver tolerance).
    """

    before: ConvexFit
    certificate_before: Certificate
    added: bool
    already_present: bool
    added_pattern: np.ndarray
    patterns: np.ndarray
    after: ConvexFit
    certificate_after: Certificate
    drop: float

    @property
    def relative_drop(self) -> float:
        return self.drop / max(abs(self.before.objective), 1e-300)


# --------------------------------------------------------------------------- helpers
def certify_network(net: TwoLayerNet, X, y, beta: float, *, loss: str = "squared", seed: int = 0,
                    max_exact_patterns: int = MAX_EXACT_PATTERNS) -> Certificate:
    """:func:`cvx_core.certify` with ``u*`` taken over exact cell values only.

    Patterns: all of them when Cover's count is at most ``max_exact_patterns`` (then
    ``exact=True``), otherwise 5 000 Gaussian directions plus the network's own patterns (as
    ``certify(patterns="auto")`` does above its limit).

    ``certify`` reports the right ``cert(lambda)``, but when the best cell's two signs tie on
    their upper bound ``||g||`` and only one of them is exact, its ``u*`` and sign can come from
    the inexact one (a direction outside the cell). This takes the arg-max over the exact
    entries on the same patterns.
    """
    Xb = add_bias(np.asarray(X, dtype=float), net.bias)
    act = net.sigma
    D, exact = auto_patterns(Xb, act, max_exact=max_exact_patterns, seed=seed, extra=(Xb @ net.U.T >= 0).T)
    cert = certify(net, X, y, beta, loss=loss, patterns=D)
    cv = cell_values(Xb, D, np.asarray(cert.dual, dtype=float), act)
    vals = np.where(cv.exact, cv.values, -np.inf)
    i, col = np.unravel_index(int(np.argmax(vals)), vals.shape)
    return replace(cert, u_star=cv.directions[i, col], u_star_sign=1 if col == 0 else -1,
                   u_star_pattern=D[i].copy(), exact=exact)


def live_neurons(net: TwoLayerNet, tol: float = LIVE_TOL) -> np.ndarray:
    """Boolean mask of neurons with ``||u_j|| |alpha_j| > tol * max`` (shape (m,))."""
    mag = np.linalg.norm(net.U, axis=1) * np.abs(net.alpha)
    if mag.size == 0 or mag.max() == 0:
        return np.zeros(mag.shape, dtype=bool)
    return mag > tol * mag.max()


def neuron_patterns(net: TwoLayerNet, X) -> tuple[np.ndarray, np.ndarray]:
    """Distinct patterns ``1[Xb u_j >= 0]`` of the live neurons and each neuron's row.

    Returns
    -------
    patterns : ndarray of bool, shape (P, n)
    index : ndarray of int, shape (m,)
        Row of ``patterns`` of each neuron, -1 for dead neurons.
    """
    Xb = add_bias(np.asarray(X, dtype=float), net.bias)
    live = live_neurons(net)
    D = (Xb @ net.U.T >= 0).T  # (m, n)
    if net.sigma.symmetric:  # |.|: D and ~D give the same neurons
        D = np.where(D[:, :1], D, ~D)
    index = np.full(net.n_neurons, -1)
    if not live.any():
        return np.zeros((0, Xb.shape[0]), dtype=bool), index
    P, inv = np.unique(D[live], axis=0, return_inverse=True)
    index[live] = inv.ravel()
    return P, index


def _directions_2d(deg: np.ndarray) -> np.ndarray:
    t = np.deg2rad(deg)
    return np.stack([np.cos(t), np.sin(t)], axis=-1)


def _directions_3d(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.broadcast_arrays(np.deg2rad(lon), np.deg2rad(lat))
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def _angles(u: np.ndarray) -> np.ndarray:
    """(angle, 0) for d' = 2, (lon, lat) in degrees for d' = 3, rows of u any norm."""
    u = np.atleast_2d(u)
    lon = np.rad2deg(np.arctan2(u[:, 1], u[:, 0]))
    if u.shape[1] == 2:
        return np.stack([lon, np.zeros_like(lon)], axis=1)
    lat = np.rad2deg(np.arcsin(np.clip(u[:, 2] / np.linalg.norm(u, axis=1), -1, 1)))
    return np.stack([lon, lat], axis=1)


def certificate_curve(net: TwoLayerNet, X, lam: np.ndarray, beta: float, u_star: np.ndarray, *,
                      n_angles: int = 721, n_lon: int = 181, n_lat: int = 91) -> CertificateCurve | None:
    """``c(u) = lambda' sigma(Xb u)`` on a grid of unit directions (module docstring).

    Returns None when ``d' > 3`` (no 1-D or 2-D picture of the sphere).
    """
    X = np.asarray(X, dtype=float)
    Xb = add_bias(X, net.bias)
    d = Xb.shape[1]
    if d not in (2, 3):
        return None
    sig = net.sigma
    live = live_neurons(net)
    Ul = net.U[live]
    if d == 2:
        lon, lat = np.linspace(-180.0, 180.0, n_angles), None
        dirs = _directions_2d(lon)
        axes = ("u1", "u2") if not net.bias else ("w", "bias")
    else:
        lon, lat = np.linspace(-180.0, 180.0, n_lon), np.linspace(-90.0, 90.0, n_lat)
        dirs = _directions_3d(lon[None, :], lat[:, None]).reshape(-1, 3)
        axes = ("u1", "u2", "bias")
    vals = np.empty(dirs.shape[0])
    step = max(1, 2_000_000 // max(Xb.shape[0], 1))  # bound the (chunk, n) temporary
    for s in range(0, dirs.shape[0], step):
        vals[s:s + step] = sig(dirs[s:s + step] @ Xb.T) @ lam
    if lat is not None:
        vals = vals.reshape(lat.size, lon.size)
    un = Ul / np.linalg.norm(Ul, axis=1, keepdims=True) if Ul.size else Ul
    nvals = sig(un @ Xb.T) @ lam if Ul.size else np.zeros(0)
    return CertificateCurve(
        kind="angle" if d == 2 else "sphere", lon=lon, lat=lat, values=vals, beta=float(beta),
        u_star=_angles(u_star)[0], u_star_value=float(sig(Xb @ u_star) @ lam),
        neurons=_angles(Ul) if Ul.size else np.zeros((0, 2)), neuron_values=np.asarray(nvals, dtype=float),
        neuron_signs=np.sign(net.alpha[live]), axes=axes)


# --------------------------------------------------------------------------- analysis
def analyse_stationary(net: TwoLayerNet, X, y, beta: float, *, loss: str = "squared",
                       kink_tol: float = KINK_TOL, flips: np.ndarray | None = None,
                       max_exact_patterns: int = MAX_EXACT_PATTERNS) -> StationaryAnalysis:
    """Stationary-point view of a trained network (module docstring).

    Parameters
    ----------
    net : TwoLayerNet
        Scalar output.
    X : array_like of shape (n, d)
    y : array_like of shape (n,)
    beta : float
    loss : {"squared", "logistic", "hinge"}
    kink_tol : float
        Relative distance ``|x~' u| / (||x~|| ||u||)`` under which a point is on a kink.
    flips : ndarray of bool, shape (n, m), optional
        Pattern bits that changed late in training (:meth:`TrainingHistory.recent_flips`);
        they are flagged as kinks too.
    max_exact_patterns : int
        Certify over all patterns up to this many (Cover's count), else over a sample.

    Returns
    -------
    StationaryAnalysis

    Raises
    ------
    ValueError
        Bad input; RuntimeError when the restricted solve fails.
    """
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"expected a TwoLayerNet, got {type(net).__name__}")
    lossf = make_loss(loss)
    X, y = check_Xy(X, y, lossf.name)
    beta = check_beta(beta)
    kink_tol = float(kink_tol)
    if not (kink_tol >= 0 and np.isfinite(kink_tol)):
        raise ValueError(f"expected kink_tol >= 0, got {kink_tol}")
    F, gU, gA = objective_and_gradient(net, X, y, beta, loss)
    live = live_neurons(net)
    patterns, index = neuron_patterns(net, X)
    if live.any():
        restricted = fit_convex(X, y, beta, activation=net.activation, leak=net.leak, loss=loss, bias=net.bias,
                                patterns=patterns)
        r_obj = restricted.objective
    else:
        restricted, r_obj = None, lossf.value(np.zeros(X.shape[0]), y)
    Xb = add_bias(X, net.bias)
    un = np.linalg.norm(net.U, axis=1)
    xn = np.linalg.norm(Xb, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        margins = np.abs(Xb @ net.U.T) / (xn[:, None] * un[None, :])
    margins = np.nan_to_num(margins, nan=np.inf)
    kinks = margins <= kink_tol
    if flips is not None:
        flips = np.asarray(flips, dtype=bool)
        if flips.shape != kinks.shape:
            raise ValueError(f"expected flips of shape {kinks.shape} (points x neurons), got {flips.shape}")
        kinks = kinks | flips
    kinks &= live[None, :]
    amax = np.abs(net.alpha[live]).max() if live.any() else 1.0
    balance = float(np.abs(un[live] - np.abs(net.alpha[live])).max() / amax) if live.any() else 0.0
    cert = certify_network(net, X, y, beta, loss=loss, max_exact_patterns=max_exact_patterns)
    curve = certificate_curve(net, X, cert.dual, beta, cert.u_star)
    return StationaryAnalysis(
        objective=F, grad_norm=float(np.sqrt(np.sum(gU**2) + np.sum(gA**2))), live=live,
        neuron_patterns=index, patterns=patterns, restricted=restricted, restricted_objective=float(r_obj),
        restricted_gap=float((F - r_obj) / max(abs(r_obj), 1e-300)), balance=balance, margins=margins,
        kinks=kinks, kink_tol=kink_tol, certificate=cert, curve=curve)


def insert_violating_neuron(X, y, beta: float, patterns, *, activation: str = "relu", leak: float = 0.1,
                            loss: str = "squared", bias: bool = True, before: ConvexFit | None = None,
                            tol: float = 1e-6, max_exact_patterns: int = MAX_EXACT_PATTERNS) -> Insertion:
    """Add the pattern of the most violated dual constraint ``u*`` and re-solve.

    Solves the convex program over ``patterns`` (or takes ``before``), certifies its network
    over all patterns with :func:`cvx_core.certify`, and, when ``cert(lambda) / beta > 1 + tol``,
    appends ``u*``'s pattern and solves again over the enlarged set.

    Parameters
    ----------
    X, y, beta, activation, leak, loss, bias : as in :func:`cvx_core.fit_convex`
    patterns : ndarray of bool, shape (P, n)
        For example :attr:`StationaryAnalysis.patterns` (a network's own patterns).
    before : ConvexFit, optional
        The fit over ``patterns`` if already computed.
    tol : float
        Certificates up to ``1 + tol`` count as optimal (nothing is inserted).
    max_exact_patterns : int
        As in :func:`certify_network`.

    Returns
    -------
    Insertion
    """
    D = np.asarray(patterns, dtype=bool)
    if before is None:
        before = fit_convex(X, y, beta, activation=activation, leak=leak, loss=loss, bias=bias, patterns=D)
    D = before.patterns
    cb = certify_network(before.network, X, y, beta, loss=loss, max_exact_patterns=max_exact_patterns)
    pat = cb.u_star_pattern.astype(bool)
    if before.network.sigma.symmetric and not pat[0]:
        pat = ~pat
    present = bool(np.any(np.all(D == pat[None, :], axis=1)))
    if cb.certificate <= 1.0 + tol:
        return Insertion(before, cb, False, present, pat, D, before, cb, 0.0)
    new = D if present else np.vstack([D, pat[None, :]])
    after = fit_convex(X, y, beta, activation=activation, leak=leak, loss=loss, bias=bias, patterns=new)
    ca = certify_network(after.network, X, y, beta, loss=loss, max_exact_patterns=max_exact_patterns)
    return Insertion(before, cb, True, present, pat, after.patterns, after, ca, float(before.objective - after.objective))
