"""Two-layer convolutional networks: patches and the network (docs/math.md section 10).

Signals ``X (n, L)`` (or images ``X (n, H, W)``) are cut into K patches of filter size h and
stride s (:func:`patches`); with a bias every patch gets a trailing 1 (``h' = h + 1``), and the
patches stacked as ``Z = [X~_1; ...; X~_K]`` (nK, h') are :func:`patch_matrix`, row ``k n + j`` =
patch k of sample j. :class:`ConvNet` is the network, with pooling factor ``p = 1`` ("sum") or
``1/K`` ("mean"),

    f(x) = sum_j alpha_j p sum_k sigma(x~_k' u_j),
    F    = L(f(X), y) + (beta/2) sum_j (||u_j||^2 + alpha_j^2).

Its convex program, fit and certificate are :mod:`cvx_core.cnn`; gradient training is
:mod:`cvx_core.cnn_training`. The input checks here are shared by all three.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .model import Activation, make_activation, make_loss, weights_from_dict
from .validation import check_beta

POOLINGS = ("sum", "mean")
CNN_OPTIMIZERS = ("gd", "adam")


# --------------------------------------------------------------------------- patches
def check_int(name: str, v, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"expected {name} as an integer >= {lo}, got {v!r}")
    return int(v)


def check_signals(X) -> np.ndarray:
    try:
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("expected numeric signals X (n, L) or images X (n, H, W)") from None
    if X.ndim not in (2, 3):
        raise ValueError(f"expected signals X of shape (n, L) or images X of shape (n, H, W), got shape {X.shape}")
    if X.shape[0] < 1:
        raise ValueError("expected at least one signal in X, got 0")
    if not np.all(np.isfinite(X)):
        raise ValueError("expected finite values in X, found NaN or inf")
    return X


def patches(X, filter_size: int, stride: int = 1) -> np.ndarray:
    """The patches of signals or images.

    Parameters
    ----------
    X : array_like of shape (n, L) or (n, H, W)
        Signals (one per row) or images.
    filter_size : int
        h: windows of h samples (signals) or h x h pixels (images).
    stride : int

    Returns
    -------
    ndarray of shape (n, K, h) or (n, K, h*h)
        ``K = floor((L - h)/s) + 1``; images: the K windows in row-major order, each flattened
        row-major.

    Raises
    ------
    ValueError
        Filter size or stride not a positive integer, a signal shorter than the filter, an
        image smaller than the h x h filter, NaN or inf.
    """
    X = check_signals(X)
    h = check_int("filter_size", filter_size, 1)
    s = check_int("stride", stride, 1)
    if X.ndim == 2:
        L = X.shape[1]
        if L < h:
            raise ValueError(f"expected signals of at least filter_size = {h} samples, got length {L}")
        starts = np.arange(0, L - h + 1, s)
        return X[:, starts[:, None] + np.arange(h)[None, :]]
    H, W = X.shape[1:]
    if H < h or W < h:
        raise ValueError(f"expected images of at least {h} x {h} pixels for a {h} x {h} filter, got {H} x {W}")
    r = np.arange(0, H - h + 1, s)
    c = np.arange(0, W - h + 1, s)
    rows = (r[:, None, None, None] + np.arange(h)[None, None, :, None])  # (Kr, 1, h, 1)
    cols = (c[None, :, None, None] + np.arange(h)[None, None, None, :])  # (1, Kc, 1, h)
    win = X[:, rows, cols]  # (n, Kr, Kc, h, h)
    return win.reshape(X.shape[0], len(r) * len(c), h * h)


def patch_matrix(X, filter_size: int, stride: int = 1, bias: bool = True) -> np.ndarray:
    """``Z = [X~_1; ...; X~_K]`` of shape (n K, h'): row ``k n + j`` is patch k of sample j
    (with a trailing 1 when ``bias``)."""
    P3 = patches(X, filter_size, stride)
    n, K, h = P3.shape
    Z = P3.transpose(1, 0, 2).reshape(n * K, h)
    return np.hstack([Z, np.ones((n * K, 1))]) if bias else Z


def pool_factor(pooling: str, K: int) -> float:
    if pooling not in POOLINGS:
        raise ValueError(f"expected pooling in {POOLINGS}, got {pooling!r}")
    return 1.0 if pooling == "sum" else 1.0 / K


# --------------------------------------------------------------------------- the network
@dataclass(frozen=True)
class ConvNet:
    """A two-layer CNN ``f(x) = sum_j alpha_j p sum_k sigma(x~_k' u_j)`` (module docstring).

    Attributes
    ----------
    U : ndarray of shape (m, h') -- filters, bias last (regularised like the others)
    alpha : ndarray of shape (m,) -- output weights
    filter_size, stride : int
    pooling : {"sum", "mean"}
    activation : {"relu", "leaky", "abs"}
    leak : float
    bias : bool
    """

    U: np.ndarray
    alpha: np.ndarray
    filter_size: int
    stride: int = 1
    pooling: str = "sum"
    activation: str = "relu"
    leak: float = 0.1
    bias: bool = True
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        U = np.asarray(self.U, dtype=float)
        if U.ndim != 2:
            raise ValueError(f"expected filters U of shape (m, h'), got shape {U.shape}")
        alpha = np.asarray(self.alpha, dtype=float).reshape(-1)
        if alpha.shape[0] != U.shape[0]:
            raise ValueError(f"expected alpha with {U.shape[0]} entries (one per filter), got shape {alpha.shape}")
        check_int("filter_size", self.filter_size, 1)
        check_int("stride", self.stride, 1)
        pool_factor(self.pooling, 1)
        make_activation(self.activation, self.leak)
        object.__setattr__(self, "U", U)
        object.__setattr__(self, "alpha", alpha)

    @property
    def n_filters(self) -> int:
        return int(self.U.shape[0])

    @property
    def n_neurons(self) -> int:
        return self.n_filters

    @property
    def sigma(self) -> Activation:
        return make_activation(self.activation, self.leak)

    def patches(self, X) -> np.ndarray:
        """The patches ``(n, K, h')`` this network sees (bias column appended)."""
        P3 = patches(X, self.filter_size, self.stride)
        if P3.shape[2] + int(self.bias) != self.U.shape[1]:
            raise ValueError(f"expected inputs whose patches have {self.U.shape[1] - int(self.bias)} values "
                             f"for these filters, got {P3.shape[2]}")
        if self.bias:
            P3 = np.concatenate([P3, np.ones(P3.shape[:2] + (1,))], axis=2)
        return P3

    def hidden(self, X) -> np.ndarray:
        """Pooled hidden activations ``p sum_k sigma(x~_k' u_j)``, shape (n, m)."""
        P3 = self.patches(X)
        return pool_factor(self.pooling, P3.shape[1]) * self.sigma(P3 @ self.U.T).sum(axis=1)

    def switched_on(self, X) -> np.ndarray:
        """``1[x~_k' u_j >= 0]`` for every sample, patch and filter: bool (n, K, m)."""
        return self.patches(X) @ self.U.T >= 0

    def predict(self, X) -> np.ndarray:
        return self.hidden(X) @ self.alpha

    def penalty(self) -> float:
        """``(1/2) sum_j (||u_j||^2 + alpha_j^2)`` (multiply by beta)."""
        return 0.5 * float(np.sum(self.U**2) + np.sum(self.alpha**2))

    def objective(self, X, y, beta: float, loss: str = "squared") -> float:
        """``L(f(X), y) + beta * penalty()``."""
        lossf = make_loss(loss)
        y = check_targets(y, check_signals(X).shape[0], lossf.name)
        return lossf.value(self.predict(X), y) + check_beta(beta) * self.penalty()

    def to_dict(self) -> dict:
        return {"format": "cvx_core.ConvNet/1", "filter_size": self.filter_size, "stride": self.stride,
                "pooling": self.pooling, "activation": self.activation, "leak": self.leak, "bias": self.bias,
                "U": self.U.tolist(), "alpha": self.alpha.tolist()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, obj: dict) -> "ConvNet":
        """Inverse of :meth:`to_dict`; raises ``ValueError`` naming what is missing or wrong."""
        U, alpha = weights_from_dict(obj, ("U", "alpha", "filter_size"), "U, alpha, filter_size")
        return cls(U, alpha, obj["filter_size"], obj.get("stride", 1), str(obj.get("pooling", "sum")),
                   str(obj.get("activation", "relu")), float(obj.get("leak", 0.1)), bool(obj.get("bias", True)))

    @classmethod
    def from_json(cls, text: str) -> "ConvNet":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"expected valid JSON for a network: {exc}") from None
        return cls.from_dict(obj)


def check_targets(y, n: int, loss_name: str) -> np.ndarray:
    try:
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("expected numeric targets y") from None
    if y.shape != (n,):
        raise ValueError(f"expected y of shape ({n},) to match X, got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("expected finite values in y, found NaN or inf")
    if loss_name in ("logistic", "hinge") and not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError(f"expected labels -1/+1 for the {loss_name} loss, got values {np.unique(y)[:5].tolist()}")
    return y
