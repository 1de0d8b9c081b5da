"""Regularization path of the convex program: warm-started solves over a grid of beta.

For each ``beta`` on a decreasing grid the convex program (docs/math.md section 3)

    min_{V, W}  L( sum_i S_i Xb (v_i - w_i), y ) + beta sum_i (||v_i||_2 + ||w_i||_2)
    s.t.        (2 D_i - I) Xb v_i >= 0,  (2 D_i - I) Xb w_i >= 0

is solved by :func:`cvx_core.fit_convex`, each solve warm-started from the previous one (same
patterns, previous working set). The grid starts at ``beta_max`` (the smallest beta at which
the zero network is optimal, computed exactly over the patterns by the certificate of the
zero network) and falls geometrically to ``min_ratio * beta_max``, like ``glmnet`` and
scikit-learn's ``lasso_path``.

A *neuron* of the path is a pair (pattern ``i``, sign ``s``): ``s = +1`` is the block ``v_i``
(output weight ``alpha > 0``), ``s = -1`` the block ``w_i`` (``alpha < 0``). Its group norm
``||v_i||`` or ``||w_i||`` equals ``||u|| |alpha|`` of the balanced neuron, so the objective
reported at every beta is ``L(yhat, y) + beta * sum of group norms`` (docs/math.md section 9).
Widths count blocks above :data:`cvx_core.tolerances.ACTIVE_TOL` times the largest block, after
pruning (the engine's one tolerance).

Validation (when test data is given): the per-sample loss ``l_k = L(yhat_k, y_k)`` on the test
split gives the mean test loss at each beta and its standard error over samples,
``std(l_k) / sqrt(n_test)``. The best beta minimises the mean test loss; the one-standard-error
choice is the largest beta (sparsest network) whose mean test loss is within one standard
error of the best (Hastie, Tibshirani & Friedman, ESL section 7.10). With a single split the
standard error is over test samples, not over cross-validation folds.

Symbols: ``X (n, d)`` raw data, ``y (n,)`` or ``(n, C)``, ``D (P, n)`` bool patterns, ``K`` the
number of betas, networks ``U (m, d')`` and ``alpha (m,)`` (``(m, C)`` for vector targets).
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .convex import ConvexFit, beta_max, fit_convex
from .model import TwoLayerNet, make_loss
from .tolerances import ACTIVE_TOL
from .validation import check_Xy
from .patterns import pattern_labels
from .threads import single_blas_thread

TASKS = ("auto", "classification", "regression")


@dataclass(frozen=True)
class PathResult:
    """Result of :func:`regularization_path`; index ``k`` runs over ``betas``.

    Attributes
    ----------
    betas : ndarray of shape (K,)
        Strictly decreasing.
    beta_max : float
        Smallest beta with the zero network optimal (exact over the patterns).
    objectives, lower_bounds, gaps, certificates : ndarray of shape (K,)
        Per beta: ``L + beta * sum of group norms``, the certified lower bound on the optimum
        over the patterns, the relative gap ``(objective - lower_bound) / |objective|`` and
        ``cert(lambda) / beta``.
    warm_objectives : ndarray of shape (K,)
        The previous solution's objective re-evaluated at ``betas[k]`` (NaN at ``k = 0``);
        the optimum at ``betas[k]`` can only be lower.
    n_neurons : ndarray of int, shape (K,)
        Active neurons after pruning (tolerance ``ACTIVE_TOL``).
    group_norms : ndarray of shape (K, P, 2)
        ``||v_i||`` (column 0) and ``||w_i||`` (column 1) at each beta.
    patterns : ndarray of bool, shape (P, n)
    U, alpha : tuple of K arrays
        The network at each beta: ``U[k]`` of shape (m_k, d'), ``alpha[k]`` of shape (m_k,)
        or (m_k, C).
    neuron_ids : tuple of K int arrays of shape (m_k, 2)
        ``(pattern index i, sign s)`` of each network neuron, in the order of ``U[k]``.
    solve_times : ndarray of shape (K,)
        Seconds per solve; ``total_time`` includes computing ``beta_max``.
    statuses : tuple of K str
    train_loss, test_loss : ndarray of shape (K,)
        Mean per-sample loss (no penalty); ``test_loss`` is None without test data.
    test_loss_se : ndarray of shape (K,) or None
        Standard error of the mean test loss over test samples.
    train_accuracy, test_accuracy : ndarray of shape (K,) or None
        Fraction classified correctly (classification only).
    best_index, one_se_index : int or None
        Validation-best beta and the one-standard-error choice (None without test data).
    """

    betas: np.ndarray
    beta_max: float
    objectives: np.ndarray
    lower_bounds: np.ndarray
    gaps: np.ndarray
    certificates: np.ndarray
    warm_objectives: np.ndarray
    n_neurons: np.ndarray
    group_norms: np.ndarray
    patterns: np.ndarray
    U: tuple
    alpha: tuple
    neuron_ids: tuple
    solve_times: np.ndarray
    total_time: float
    statuses: tuple
    activation: str
    leak: float
    loss: str
    bias: bool
    task: str
    exact_patterns: bool
    solver: str
    train_loss: np.ndarray
    train_accuracy: np.ndarray | None
    test_loss: np.ndarray | None
    test_loss_se: np.ndarray | None
    test_accuracy: np.ndarray | None
    best_index: int | None
    one_se_index: int | None

    @property
    def n_betas(self) -> int:
        return int(self.betas.shape[0])

    @property
    def n_patterns(self) -> int:
        return int(self.patterns.shape[0])

    def network(self, k: int) -> TwoLayerNet:
        """The network at ``betas[k]``."""
        return TwoLayerNet(self.U[k], self.alpha[k], self.activation, self.leak, self.bias)

    def active_set(self, k: int) -> frozenset:
        """Neurons ``(i, s)`` active at ``betas[k]``."""
        return frozenset((int(i), int(s)) for i, s in self.neuron_ids[k])

    def ever_active(self) -> np.ndarray:
        """Neurons active at some beta, as an int array of shape (A, 2) of ``(i, s)``, ordered by
        the beta at which they first enter (then by pattern index and sign)."""
        seen: dict[tuple[int, int], int] = {}
        for k in range(self.n_betas):
            for i, s in sorted(self.active_set(k)):
                seen.setdefault((i, s), k)
        keys = sorted(seen, key=lambda t: (seen[t], t[0], -t[1]))
        return np.array(keys, dtype=int).reshape(-1, 2)

    def neuron_norms(self) -> np.ndarray:
        """Group norms of :meth:`ever_active` neurons, shape (K, A)."""
        ids = self.ever_active()
        return self.group_norms[:, ids[:, 0], (1 - ids[:, 1]) // 2] if len(ids) else np.zeros((self.n_betas, 0))

    def active_set_changes(self) -> np.ndarray:
        """Indices ``k >= 1`` whose active set differs from that at ``k - 1``."""
        return np.array([k for k in range(1, self.n_betas) if self.active_set(k) != self.active_set(k - 1)], dtype=int)

    def pattern_label(self, i: int, max_len: int = 64) -> str:
        """The pattern ``D_i`` as a bit string (1 where ``x_k' u >= 0``)."""
        return pattern_labels(self.patterns[i:i + 1], max_len)[0]

    def to_csv(self) -> str:
        """The path as CSV: one row per beta with objective, bound, gap, width, times, losses and
        the group norm of every neuron that is ever active (columns ``norm_v<i>`` / ``norm_w<i>``)."""
        ids = self.ever_active()
        cols = {
            "beta": self.betas, "objective": self.objectives, "lower_bound": self.lower_bounds,
            "gap": self.gaps, "certificate": self.certificates, "width": self.n_neurons,
            "solve_time_s": self.solve_times, "train_loss": self.train_loss,
        }
        if self.train_accuracy is not None:
            cols["train_accuracy"] = self.train_accuracy
        if self.test_loss is not None:
            cols["test_loss"] = self.test_loss
            cols["test_loss_se"] = self.test_loss_se
        if self.test_accuracy is not None:
            cols["test_accuracy"] = self.test_accuracy
        norms = self.neuron_norms()
        for j, (i, s) in enumerate(ids):
            cols[f"norm_{'v' if s > 0 else 'w'}{i}"] = norms[:, j]
        buf = io.StringIO()
        buf.write(",".join(cols) + "\n")
        for k in range(self.n_betas):
            buf.write(",".join(_fmt(v[k]) for v in cols.values()) + "\n")
        return buf.getvalue()


def _fmt(v) -> str:
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return repr(float(v))


def _neuron_ids(fit: ConvexFit) -> np.ndarray:
    """``(i, s)`` of each network neuron, in the order of :func:`network_from_blocks`."""
    V3 = fit.V[None] if fit.V.ndim == 2 else fit.V
    W3 = fit.W[None] if fit.W.ndim == 2 else fit.W
    ids = []
    for c in range(V3.shape[0]):
        for M, s in ((V3[c], 1), (W3[c], -1)):
            ids += [(int(i), s) for i in np.flatnonzero(np.linalg.norm(M, axis=1) > 0)]
    return np.array(ids, dtype=int).reshape(-1, 2)


def _per_sample_loss(lossf, yhat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``L(yhat_k, y_k)`` for each sample (summed over output columns), with the engine's loss."""
    return np.array([lossf.value(yhat[k], y[k]) for k in range(y.shape[0])])


def _accuracy(yhat: np.ndarray, y: np.ndarray) -> float:
    """Sign agreement for labels -1/+1 (``yhat >= 0`` counts as +1); argmax for vector targets."""
    if y.ndim == 2:
        return float(np.mean(np.argmax(yhat, axis=1) == np.argmax(y, axis=1)))
    return float(np.mean(np.where(yhat >= 0, 1.0, -1.0) == y))


def _resolve_task(task: str, y: np.ndarray, loss: str) -> str:
    if task not in TASKS:
        raise ValueError(f"expected task in {TASKS}, got {task!r}")
    if task != "auto":
        return task
    if loss in ("logistic", "hinge"):
        return "classification"
    if y.ndim == 1 and np.all(np.isin(y, (-1.0, 1.0))):
        return "classification"
    if y.ndim == 2 and np.all(np.isin(y, (0.0, 1.0))) and np.all(y.sum(axis=1) == 1):
        return "classification"
    return "regression"


def _beta_grid(betas, bmax: float, n_betas: int, min_ratio: float) -> np.ndarray:
    if betas is None:
        if isinstance(n_betas, bool) or not isinstance(n_betas, (int, np.integer)) or n_betas < 1:
            raise ValueError(f"expected n_betas as a positive integer, got {n_betas!r}")
        min_ratio = float(min_ratio)
        if not (0.0 < min_ratio < 1.0):
            raise ValueError(f"expected min_ratio in (0, 1), got {min_ratio}")
        if bmax <= 0:
            raise ValueError("beta_max is 0 (the zero network fits the data exactly); give betas explicitly")
        return bmax * np.logspace(0.0, np.log10(min_ratio), int(n_betas)) if n_betas > 1 else np.array([bmax])
    try:
        b = np.asarray(betas, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValueError("expected betas as a sequence of positive numbers") from None
    if b.size == 0:
        raise ValueError("expected at least one beta, got an empty sequence")
    if not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise ValueError(f"expected positive finite betas, got {b[~(np.isfinite(b) & (b > 0))][:3].tolist()}")
    b = np.sort(b)[::-1]
    if np.any(np.diff(b) == 0):
        raise ValueError("expected distinct betas, got repeated values")
    return b


@single_blas_thread
def regularization_path(
    X,
    y,
    betas=None,
    *,
    n_betas: int = 20,
    min_ratio: float = 1e-2,
    activation: str = "relu",
    leak: float = 0.1,
    loss: str = "squared",
    bias: bool = True,
    patterns="exact",
    solver: str = "auto",
    seed: int = 0,
    X_test=None,
    y_test=None,
    task: str = "auto",
    callback: Callable[[int, int], None] | None = None,
) -> PathResult:
    """Solve the convex program over a decreasing grid of beta with warm starts.

    At each ``beta`` it minimises (module docstring)
    ``L(sum_i S_i Xb (v_i - w_i), y) + beta sum_i (||v_i|| + ||w_i||)`` over the cones.

    Parameters
    ----------
    X : array_like of shape (n, d)
    y : array_like of shape (n,) or (n, C)
        Targets; labels -1/+1 for the logistic and hinge losses.
    betas : array_like of positive floats, optional
        The grid (sorted into strictly decreasing order; repeats raise). Default:
        ``n_betas`` values log-spaced from ``beta_max`` down to ``min_ratio * beta_max``.
    n_betas : int
    min_ratio : float in (0, 1)
    activation, leak, loss, bias, patterns, solver, seed
        As in :func:`cvx_core.fit_convex`; the patterns are resolved once and shared by all
        betas.
    X_test, y_test : array_like, optional
        Validation data for test loss/accuracy, the best beta and the one-standard-error
        choice.
    task : {"auto", "classification", "regression"}
        Whether accuracies are computed; "auto" means classification for the logistic and
        hinge losses and for -1/+1 (or one-hot) targets.
    callback : callable(i, n_betas), optional
        Called after each solve with the number of betas done (for a progress bar).

    Returns
    -------
    PathResult

    Raises
    ------
    ValueError
        Bad input (shapes, labels, betas, task), or exact enumeration that would be too large.
    RuntimeError
        When a solve fails at some beta (the message names the beta).
    """
    t0 = time.perf_counter()
    lossf = make_loss(loss)
    X, y = check_Xy(X, y, lossf.name)
    if (X_test is None) != (y_test is None):
        raise ValueError("expected both X_test and y_test, got only one of them")
    has_test = y_test is not None and len(np.asarray(y_test)) > 0
    if has_test:
        X_test, y_test = check_Xy(X_test, y_test, lossf.name)
        if X_test.shape[1] != X.shape[1] or y_test.shape[1:] != y.shape[1:]:
            raise ValueError(f"expected test data with {X.shape[1]} features and targets shaped like y, "
                             f"got X_test {X_test.shape}, y_test {y_test.shape}")
    task = _resolve_task(task, y, lossf.name)
    kw = dict(activation=activation, leak=leak, loss=loss, bias=bias)
    bmax = float(beta_max(X, y, patterns=patterns, seed=seed, **kw))
    grid = _beta_grid(betas, bmax, n_betas, min_ratio)
    K = grid.size

    fits: list[ConvexFit] = []
    warm_obj = np.full(K, np.nan)
    prev = None
    for k, b in enumerate(grid):
        if prev is not None:
            warm_obj[k] = prev.network.objective(X, y, b, loss)
        # With a warm start fit_convex reuses the previous fit's patterns (whatever `patterns`
        # says), so every beta is solved over the same D; "exact" keeps an array argument from
        # being re-resolved into a new object, which would drop the warm start.
        pat = patterns if prev is None else "exact"
        prev = fit_convex(X, y, b, patterns=pat, solver=solver, seed=seed, warm_start=prev, **kw)
        fits.append(prev)
        if callback is not None:
            callback(k + 1, K)

    def losses(Xe, ye):
        per = [_per_sample_loss(lossf, f.network.predict(Xe), ye) for f in fits]
        mean = np.array([p.mean() for p in per])
        se = np.array([p.std(ddof=1) / np.sqrt(p.size) if p.size > 1 else np.nan for p in per])
        acc = np.array([_accuracy(f.network.predict(Xe), ye) for f in fits]) if task == "classification" else None
        return mean, se, acc

    train_loss = np.array([_per_sample_loss(lossf, f.predictions, y).mean() for f in fits])
    train_acc = np.array([_accuracy(f.predictions, y) for f in fits]) if task == "classification" else None
    test_loss = test_se = test_acc = None
    best = one_se = None
    if has_test:
        test_loss, test_se, test_acc = losses(X_test, y_test)
        best = int(np.argmin(test_loss))  # first minimiser = largest beta among ties
        bar = test_loss[best] + (test_se[best] if np.isfinite(test_se[best]) else 0.0)
        one_se = int(np.flatnonzero(test_loss <= bar)[0])

    nets = [f.network for f in fits]
    return PathResult(
        betas=grid, beta_max=bmax,
        objectives=np.array([f.objective for f in fits]),
        lower_bounds=np.array([f.lower_bound for f in fits]),
        gaps=np.array([f.gap for f in fits]),
        certificates=np.array([f.certificate for f in fits]),
        warm_objectives=warm_obj,
        n_neurons=np.array([f.n_neurons for f in fits], dtype=int),
        group_norms=np.stack([f.group_norms() for f in fits]),
        patterns=fits[0].patterns,
        U=tuple(n.U for n in nets), alpha=tuple(n.alpha for n in nets),
        neuron_ids=tuple(_neuron_ids(f) for f in fits),
        solve_times=np.array([f.solve_time for f in fits]),
        total_time=time.perf_counter() - t0,
        statuses=tuple(f.status for f in fits),
        activation=fits[0].activation, leak=float(leak), loss=lossf.name, bias=bool(bias), task=task,
        exact_patterns=bool(fits[0].exact_patterns), solver=fits[-1].solver,
        train_loss=train_loss, train_accuracy=train_acc,
        test_loss=test_loss, test_loss_se=test_se, test_accuracy=test_acc,
        best_index=best, one_se_index=one_se,
    )


__all__ = ["ACTIVE_TOL", "PathResult", "regularization_path"]
