"""Activations, losses and the two-layer network, in the convention of docs/math.md.

Symbols
-------
X : ndarray of shape (n, d)
    Raw data. With ``bias=True`` the design matrix is ``[X, 1]`` (shape (n, d + 1)) and the
    bias is the last coordinate of each hidden weight, regularised like the others.
U : ndarray of shape (m, d) or (m, d + 1)
    Hidden weights, one neuron per row.
alpha : ndarray of shape (m,) or (m, C)
    Output weights.
beta : float
    Weight-decay strength. The nonconvex training objective is
    ``L(sum_j sigma(X u_j) alpha_j, y) + (beta / 2) sum_j (||u_j||^2 + ||alpha_j||_1^2)``.

Activations ``sigma(t) = a t (t >= 0), b t (t < 0)``: ReLU (1, 0), leaky ReLU (1, leak),
absolute value (1, -1).

Losses (summed over samples, and over output columns for vector targets):
squared ``1/2 ||yhat - y||^2``, logistic ``sum log(1 + exp(-y yhat))`` and hinge
``sum (1 - y yhat)_+`` (labels +-1). Each loss knows its dual variable
``lambda = -grad L(yhat)`` and its dual function ``g(lambda) = -L^*(-lambda)``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np


ACTIVATIONS = ("relu", "leaky", "abs")
LOSSES = ("squared", "logistic", "hinge")


@dataclass(frozen=True)
class Activation:
    """Positively homogeneous activation ``sigma(t) = a t (t >= 0), b t (t < 0)``."""

    name: str
    a: float
    b: float

    def __call__(self, t: np.ndarray) -> np.ndarray:
        return self.inplace(np.array(t, dtype=float))

    def inplace(self, t: np.ndarray) -> np.ndarray:
        """``sigma(t)`` written over ``t`` (a float array); returns ``t``."""
        if self.b == 0:  # ReLU: one pass instead of two scaled copies and a select
            np.maximum(t, 0.0, out=t)
            if self.a != 1:
                t *= self.a
            return t
        t *= self.slopes(t >= 0)
        return t

    def slopes(self, D: np.ndarray) -> np.ndarray:
        """Diagonal of ``S_D = a D + b (I - D)`` for boolean patterns ``D`` (any shape)."""
        D = np.asarray(D)
        if D.dtype != bool:
            return np.where(D, self.a, self.b)
        # a two-entry lookup (a product for ReLU): np.where with two scalars was ~7x slower,
        # and the pattern search takes the slopes of every start at every step
        if self.b == 0:
            return D * float(self.a)
        return np.array([self.b, self.a])[D.view(np.uint8)]

    @property
    def symmetric(self) -> bool:
        """True when ``D`` and ``I - D`` give the same neurons (absolute value)."""
        return self.a == -self.b


def make_activation(activation: str = "relu", leak: float = 0.1) -> Activation:
    """Build an :class:`Activation` from its name.

    Raises
    ------
    ValueError
        If the name is unknown or ``leak`` is not in [0, 1).
    """
    if activation == "relu":
        return Activation("relu", 1.0, 0.0)
    if activation == "leaky":
        leak = float(leak)
        if not (0.0 <= leak < 1.0) or not np.isfinite(leak):
            raise ValueError(f"expected leak in [0, 1) for leaky ReLU, got {leak}")
        return Activation("leaky", 1.0, leak)
    if activation == "abs":
        return Activation("abs", 1.0, -1.0)
    raise ValueError(f"expected activation in {ACTIVATIONS}, got {activation!r}")


def _xlogx(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)


@dataclass(frozen=True)
class Loss:
    """A convex loss ``L(yhat, y)``, summed over all entries."""

    name: str

    def value(self, yhat: np.ndarray, y: np.ndarray) -> float:
        if self.name == "squared":
            return 0.5 * float(np.sum((yhat - y) ** 2))
        if self.name == "logistic":
            return float(np.sum(np.logaddexp(0.0, -y * yhat)))
        return float(np.sum(np.maximum(0.0, 1.0 - y * yhat)))

    def dual_variable(self, yhat: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``lambda = -grad_yhat L(yhat, y)`` (for hinge, the subgradient with 1/2 at the kink)."""
        if self.name == "squared":
            return y - yhat
        if self.name == "logistic":
            return y / (1.0 + np.exp(np.clip(y * yhat, -700, 700)))
        margin = y * yhat
        return y * np.where(margin < 1.0, 1.0, np.where(margin > 1.0, 0.0, 0.5))

    def clip_dual(self, lam: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Project ``lambda`` onto the domain of the dual function (``0 <= y lambda <= 1``
        for logistic and hinge); any ``lambda`` gives a valid bound once evaluated exactly."""
        if self.name == "squared":
            return lam
        return y * np.clip(y * lam, 0.0, 1.0)

    def dual(self, lam: np.ndarray, y: np.ndarray) -> float:
        """Dual function ``g(lambda) = -L^*(-lambda)``; ``-inf`` outside its domain.

        squared: ``lambda'y - 1/2 ||lambda||^2``; logistic: ``sum H(y lambda)`` (binary
        entropy, domain ``0 <= y lambda <= 1``); hinge: ``sum y lambda`` (same domain).
        """
        if self.name == "squared":
            return float(lam.ravel() @ y.ravel() - 0.5 * lam.ravel() @ lam.ravel())
        p = y * lam
        if np.any(p < -1e-12) or np.any(p > 1 + 1e-12):
            return -np.inf
        p = np.clip(p, 0.0, 1.0)
        if self.name == "logistic":
            return float(-np.sum(_xlogx(p) + _xlogx(1.0 - p)))
        return float(np.sum(p))


def make_loss(loss: str = "squared") -> Loss:
    if loss not in LOSSES:
        raise ValueError(f"expected loss in {LOSSES}, got {loss!r}")
    return Loss(loss)


def add_bias(X: np.ndarray, bias: bool) -> np.ndarray:
    """Return ``[X, 1]`` when ``bias`` else ``X`` (as float64)."""
    X = np.asarray(X, dtype=float)
    if not bias:
        return X
    return np.hstack([X, np.ones((X.shape[0], 1))])


def data_scale(Xb: np.ndarray) -> float:
    """A power of two near the largest row norm of ``Xb`` when that is far from 1 (else 1).

    The program on ``Xb / c`` with ``beta / c`` and blocks ``c z`` is the same program
    (docs/math.md section 9); solved on the unit scale, the solvers' absolute tolerances mean
    the same for data at 1e-6 or 1e6. A power of two makes the division exact.
    """
    top = float(np.linalg.norm(Xb, axis=1).max(initial=0.0))
    if top == 0.0 or 1 / 16 <= top <= 16:
        return 1.0
    return float(2.0 ** np.round(np.log2(top)))


def weights_from_dict(obj, required: tuple[str, ...], described: str) -> tuple[np.ndarray, np.ndarray]:
    """``U`` (2-D) and ``alpha`` of a network's JSON object, checked: raises ``ValueError``
    naming what is missing or wrong (``required`` keys, ``described`` for the message)."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object with keys {described}; got {type(obj).__name__}")
    missing = [k for k in required if k not in obj]
    if missing:
        raise ValueError(f"expected keys {' and '.join(required)} in the network JSON, missing {missing}")
    try:
        U = np.asarray(obj["U"], dtype=float)
        alpha = np.asarray(obj["alpha"], dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"expected numeric arrays for U and alpha: {exc}") from None
    if U.ndim != 2:
        raise ValueError(f"expected U as a list of rows (2-D), got {U.ndim}-D")
    if not (np.all(np.isfinite(U)) and np.all(np.isfinite(alpha))):
        raise ValueError("expected finite numbers in U and alpha, found NaN or inf")
    return U, alpha


@dataclass(frozen=True)
class TwoLayerNet:
    """A two-layer network ``x -> sum_j sigma(x~' u_j) alpha_j`` (``x~ = [x, 1]`` with bias).

    Attributes
    ----------
    U : ndarray of shape (m, d) or (m, d + 1)
    alpha : ndarray of shape (m,) or (m, C)
    activation : {"relu", "leaky", "abs"}
    leak : float
        Negative slope of the leaky ReLU (ignored otherwise).
    bias : bool
        Whether the last coordinate of each ``u_j`` multiplies a constant 1.
    """

    U: np.ndarray
    alpha: np.ndarray
    activation: str = "relu"
    leak: float = 0.1
    bias: bool = True
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        U = np.atleast_2d(np.asarray(self.U, dtype=float))
        alpha = np.asarray(self.alpha, dtype=float)
        if U.size == 0:
            U = U.reshape(0, U.shape[-1] if U.ndim == 2 else 0)
        if alpha.shape[0] != U.shape[0]:
            raise ValueError(
                f"expected alpha with {U.shape[0]} rows (one per neuron), got shape {alpha.shape}"
            )
        make_activation(self.activation, self.leak)
        object.__setattr__(self, "U", U)
        object.__setattr__(self, "alpha", alpha)

    @property
    def n_neurons(self) -> int:
        return int(self.U.shape[0])

    @property
    def sigma(self) -> Activation:
        return make_activation(self.activation, self.leak)

    @property
    def n_inputs(self) -> int:
        """Number of raw input features the network expects."""
        return self.U.shape[1] - int(self.bias)

    def hidden(self, X: np.ndarray) -> np.ndarray:
        """Hidden activations ``sigma(X~ U')`` of shape (n, m)."""
        Xb = add_bias(_check_features(X, self.n_inputs), self.bias)
        return self.sigma(Xb @ self.U.T)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Network output, shape (n,) or (n, C)."""
        return self.hidden(X) @ self.alpha

    def penalty(self) -> float:
        """``(1/2) sum_j (||u_j||^2 + ||alpha_j||_1^2)`` (multiply by beta)."""
        a1 = np.abs(self.alpha) if self.alpha.ndim == 1 else np.abs(self.alpha).sum(axis=1)
        return 0.5 * float(np.sum(self.U**2) + np.sum(a1**2))

    def objective(self, X: np.ndarray, y: np.ndarray, beta: float, loss: str = "squared") -> float:
        """Nonconvex training objective ``L(predict(X), y) + beta * penalty()``."""
        y = np.asarray(y, dtype=float)
        return make_loss(loss).value(self.predict(X), y) + float(beta) * self.penalty()

    def balanced(self) -> "TwoLayerNet":
        """Rescale each neuron so ``||u_j|| = ||alpha_j||_1`` (same function, lower penalty)."""
        un = np.linalg.norm(self.U, axis=1)
        an = np.abs(self.alpha) if self.alpha.ndim == 1 else np.abs(self.alpha).sum(axis=1)
        keep = (un > 0) & (an > 0)
        t = np.ones_like(un)
        t[keep] = np.sqrt(an[keep] / un[keep])
        alpha = self.alpha / (t if self.alpha.ndim == 1 else t[:, None])
        return TwoLayerNet(self.U * t[:, None], alpha, self.activation, self.leak, self.bias)

    def to_dict(self) -> dict:
        return {
            "format": "cvx_core.TwoLayerNet/1",
            "activation": self.activation,
            "leak": self.leak,
            "bias": self.bias,
            "U": self.U.tolist(),
            "alpha": self.alpha.tolist(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, obj: dict) -> "TwoLayerNet":
        """Inverse of :meth:`to_dict`; raises ``ValueError`` naming what is missing or wrong."""
        U, alpha = weights_from_dict(obj, ("U", "alpha"), "U, alpha, activation, bias")
        return cls(U, alpha, str(obj.get("activation", "relu")), float(obj.get("leak", 0.1)),
                   bool(obj.get("bias", True)))

    @classmethod
    def from_json(cls, text: str) -> "TwoLayerNet":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"expected valid JSON for a network: {exc}") from None
        return cls.from_dict(obj)


def _check_features(X, n_features: int) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim == 1 and n_features == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(f"expected X with {n_features} feature columns, got shape {X.shape}")
    return X
