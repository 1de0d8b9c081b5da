"""scikit-learn estimators for the convex training of two-layer networks.

:class:`ConvexReLURegressor` and :class:`ConvexReLUClassifier` are thin wrappers over
:func:`cvx_core.fit_convex`. Fitting solves the convex program of docs/math.md section 3 over the
patterns ``D_1..D_P`` of the design matrix ``Xb = [X, 1]``,

    min_{V, W}  L( sum_i S_i Xb (v_i - w_i), y ) + beta sum_i (||v_i||_2 + ||w_i||_2)
    s.t.        (2 D_i - I) Xb v_i >= 0,  (2 D_i - I) Xb w_i >= 0,

whose optimum, with all patterns, equals the optimum of the weight-decay training problem

    min_{u_j, alpha_j}  L( sum_j sigma(Xb u_j) alpha_j , y ) + (beta / 2) sum_j (||u_j||^2 + alpha_j^2).

The loss ``L`` is *summed* over samples (not averaged), so ``beta`` is on the scale of one
sample's loss times n: scikit-learn's ``MLPRegressor(alpha=a)`` / binary ``MLPClassifier(alpha=a)``
minimise ``(1/n) [sum_k l_k + (a/2) ||W||^2]`` with unpenalised intercepts, so ``a = beta``
gives the same weight decay on the weights (see ``benchmarks/real_data.py``).

Targets
-------
- Regression: ``y (n,)`` or ``(n, k)`` (k outputs; the vector program of docs/math.md section 3,
  penalty ``(beta/2)(||u||^2 + ||alpha||_1^2)``, which splits into k independent programs).
- Binary classification: labels are mapped to -1/+1 (``classes_[1]`` is +1) and one scalar
  program is solved; ``decision_function`` is the network output, shape (n,).
- Multiclass (C >= 3 classes): one-vs-rest +-1 columns ``Y (n, C)`` and the vector program;
  ``decision_function`` has shape (n, C) and ``predict`` takes its argmax.

The C independent programs of a vector target are solved in parallel with joblib when
``n_jobs`` is not None/1, so any joblib backend (``joblib.parallel_config(backend=...)``, e.g.
Dask or Ray) spreads them without code changes. Every program starts from the same patterns; a
pattern search grows each program's own, and the fit is certified over their union.

Patterns
--------
``patterns="auto"`` enumerates all patterns when Cover's count for the data is at most
:data:`AUTO_EXACT_MAX` (the fit is then the global optimum of the training problem, up to the
certified gap ``gap_``) and otherwise searches: ``cvx_core.convex.SEARCH_SAMPLES`` sampled
patterns, then column generation -- ascent on the sphere for directions that violate the dual
constraint, their patterns added until a round improves the objective by less than
``cvx_core.convex.SEARCH_TOL`` (``fit_.info["pattern_search"]``). The fit is then optimal over
the patterns found; ``certificate_`` is ``cert(lambda)/beta`` over them and
``exact_patterns_`` is False. ``"search"`` always searches, ``"exact"`` always enumerates (and
refuses with a ValueError when the count is too large); an int samples that many directions
(no search).

scikit-learn compatibility: both estimators pass every check of
``sklearn.utils.estimator_checks.parametrize_with_checks`` (scikit-learn 1.9; no expected
failures, see tests/test_estimators.py) and work in ``Pipeline``, ``GridSearchCV`` and ``clone``.

Symbols: ``X (n, d)``, ``y (n,)`` or ``(n, C)``, ``beta`` the regularisation strength,
network ``U (m, d')`` and ``alpha (m,)`` or ``(m, C)``.
"""
from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_random_state

from .convex import fit_convex
from .model import ACTIVATIONS, LOSSES, add_bias, make_activation
from .patterns import auto_choice

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def _validate_data(est, *args, **kwargs):
        return est._validate_data(*args, **kwargs)

#: ``patterns="auto"`` enumerates exactly when Cover's count is at most this many patterns.
AUTO_EXACT_MAX = 2_000

__all__ = ["AUTO_EXACT_MAX", "ConvexReLUClassifier", "ConvexReLURegressor"]


def _seed_from(random_state) -> int:
    """An int seed for ``fit_convex`` from a scikit-learn ``random_state``.

    An int is used as is (so ``random_state=3`` and ``fit_convex(seed=3)`` agree); None or a
    RandomState draws a seed from it.
    """
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class _ConvexReLUBase(BaseEstimator):
    """Shared parameters, validation and fitting of the two estimators."""

    def __init__(self, beta=1.0, *, activation="relu", leak=0.1, loss="squared", bias=True,
                 patterns="auto", solver="auto", random_state=None, n_jobs=None):
        self.beta = beta
        self.activation = activation
        self.leak = leak
        self.loss = loss
        self.bias = bias
        self.patterns = patterns
        self.solver = solver
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ validation
    def _check_params(self, allowed_losses):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"expected activation in {ACTIVATIONS}, got {self.activation!r}")
        make_activation(self.activation, self.leak)
        loss = self.loss
        if loss not in allowed_losses:
            raise ValueError(f"expected loss in {allowed_losses} for {type(self).__name__}, got {loss!r}")
        if isinstance(self.beta, bool) or not isinstance(self.beta, numbers.Real) or not self.beta > 0:
            raise ValueError(f"expected beta as a number > 0, got {self.beta!r}")
        p = self.patterns
        if isinstance(p, str):
            if p not in ("auto", "exact", "search"):
                raise ValueError(f"expected patterns 'auto', 'exact', 'search', a positive int or a bool array, got {p!r}")
        elif isinstance(p, numbers.Integral) and not isinstance(p, bool):
            if p < 1:
                raise ValueError(f"expected a positive number of sampled patterns, got {p}")
        elif not isinstance(p, np.ndarray):
            raise ValueError(f"expected patterns 'auto', 'exact', 'search', a positive int or a bool array, got {p!r}")
        return loss

    def _resolve_patterns(self, X):
        """The ``patterns`` argument for ``fit_convex`` ("auto" decided from Cover's count)."""
        if isinstance(self.patterns, str) and self.patterns == "auto":
            exact = auto_choice(add_bias(X, self.bias), max_exact=AUTO_EXACT_MAX) == "exact"
            return "exact" if exact else "search"
        return self.patterns

    # ------------------------------------------------------------------ fitting
    def _fit_targets(self, X, Y, loss):
        """Solve for a target of shape (n,) or (n, C); sets the fitted attributes."""
        seed = _seed_from(self.random_state)
        patterns = self._resolve_patterns(X)
        kwargs = dict(activation=self.activation, leak=self.leak, loss=loss, bias=self.bias,
                      solver=self.solver, seed=seed)
        fit = fit_convex(X, Y, self.beta, patterns=patterns, n_jobs=self.n_jobs, **kwargs)
        self.fit_ = fit
        self.network_ = fit.network
        self.n_neurons_ = int(fit.n_neurons)
        self.objective_ = float(fit.objective)
        self.lower_bound_ = float(fit.lower_bound)
        self.gap_ = float(fit.gap)
        self.certificate_ = float(fit.certificate)
        self.n_patterns_ = int(fit.n_patterns)
        self.exact_patterns_ = bool(fit.exact_patterns)
        self.status_ = fit.status
        self.solve_time_ = float(fit.solve_time)
        return self

    def _network_output(self, X):
        check_is_fitted(self)
        X = _validate_data(self, X, reset=False, dtype=np.float64)
        return self.network_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.non_deterministic = False
        return tags


class ConvexReLURegressor(RegressorMixin, _ConvexReLUBase):
    """Two-layer ReLU-type network trained to global optimality by convex optimisation.

    Minimises ``1/2 ||yhat - y||^2 + (beta/2) sum_j (||u_j||^2 + alpha_j^2)`` (squared loss
    summed over samples; the bias is the last coordinate of each hidden weight and is
    regularised) through the equivalent convex program (module docstring).

    Parameters
    ----------
    beta : float, default=1.0
        Regularisation strength (weight decay on the summed loss), > 0.
    activation : {"relu", "leaky", "abs"}, default="relu"
    leak : float, default=0.1
        Negative slope of the leaky ReLU.
    loss : {"squared"}, default="squared"
        Only the squared loss is a regression loss.
    bias : bool, default=True
    patterns : "auto", "exact", int or ndarray of bool (P, n), default="auto"
        See the module docstring; an int samples that many Gaussian directions.
    solver : str, default="auto"
        "auto" (the engine's working-set solver: of cells and facets for design matrices with
        at most 3 columns, of blocks beyond, every loss), "working-set", "interior" (squared
        loss only) or a cvxpy solver name (e.g. "clarabel"); see :func:`cvx_core.fit_convex`.
    random_state : int, RandomState or None, default=None
        Seed of the pattern sampling (an int is passed to ``fit_convex(seed=...)``).
    n_jobs : int or None, default=None
        Parallel jobs (joblib) over the output columns of a 2-D target (``fit_convex(n_jobs=...)``).

    Attributes
    ----------
    fit_ : ConvexFit
        The engine's full result (patterns, convex weights, dual variable, ...).
    network_ : TwoLayerNet
    n_neurons_ : int
        Active neurons after pruning.
    objective_, lower_bound_, gap_ : float
        Training objective, certified lower bound over the patterns used, relative gap.
    certificate_ : float
        ``cert(lambda)/beta`` over the patterns used (1 at the optimum; over sampled patterns
        when ``exact_patterns_`` is False).
    n_patterns_ : int
    exact_patterns_ : bool
    status_ : str
    solve_time_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X has string column names.
    """

    def __init__(self, beta=1.0, *, activation="relu", leak=0.1, loss="squared", bias=True,
                 patterns="auto", solver="auto", random_state=None, n_jobs=None):
        super().__init__(beta, activation=activation, leak=leak, loss=loss, bias=bias, patterns=patterns,
                         solver=solver, random_state=random_state, n_jobs=n_jobs)

    def fit(self, X, y):
        """Fit to ``X (n, d)`` and ``y (n,)`` or ``(n, k)``. Returns self.

        Raises
        ------
        ValueError
            Bad parameters or input, or exact enumeration that would be too large.
        RuntimeError
            When every solver fails.
        """
        loss = self._check_params(("squared",))
        X, y = _validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        return self._fit_targets(X, y, loss)

    def predict(self, X):
        """Network output, shape (n,) or (n, k) like the training target."""
        return self._network_output(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class ConvexReLUClassifier(ClassifierMixin, _ConvexReLUBase):
    """Two-layer ReLU-type classifier trained to global optimality by convex optimisation.

    Binary: labels mapped to -1/+1 (``classes_[1]`` is +1) and ``L(yhat, y) + (beta/2)
    sum_j (||u_j||^2 + alpha_j^2)`` is minimised. Multiclass: one-vs-rest +-1 columns and the
    vector program with penalty ``(beta/2) sum_j (||u_j||^2 + ||alpha_j||_1^2)``.

    Parameters
    ----------
    beta : float, default=1.0
    activation : {"relu", "leaky", "abs"}, default="relu"
    leak : float, default=0.1
    loss : {"logistic", "hinge", "squared"}, default="logistic"
        Summed over samples (and classes). ``predict_proba`` exists only for "logistic".
    bias : bool, default=True
    patterns : "auto", "exact", int or ndarray, default="auto"
    solver : str, default="auto"
    random_state : int, RandomState or None, default=None
    n_jobs : int or None, default=None
        Parallel jobs (joblib) over the one-vs-rest programs of a multiclass problem
        (``fit_convex(n_jobs=...)``).

    Attributes
    ----------
    classes_ : ndarray of shape (C,)
    fit_, network_, n_neurons_, objective_, lower_bound_, gap_, certificate_, n_patterns_,
    exact_patterns_, status_, solve_time_, n_features_in_ :
        As in :class:`ConvexReLURegressor`.
    """

    def __init__(self, beta=1.0, *, activation="relu", leak=0.1, loss="logistic", bias=True,
                 patterns="auto", solver="auto", random_state=None, n_jobs=None):
        super().__init__(beta, activation=activation, leak=leak, loss=loss, bias=bias, patterns=patterns,
                         solver=solver, random_state=random_state, n_jobs=n_jobs)

    def fit(self, X, y):
        """Fit to ``X (n, d)`` and class labels ``y (n,)``. Returns self.

        Raises
        ------
        ValueError
            Bad parameters or input (continuous targets, a single class), or exact
            enumeration that would be too large.
        RuntimeError
            When every solver fails.
        """
        loss = self._check_params(LOSSES)
        X, y = _validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        C = len(self.classes_)
        if C < 2:
            raise ValueError(f"expected at least two classes in y, got 1 class ({self.classes_[0]!r})")
        if C == 2:
            Y = np.where(y == self.classes_[1], 1.0, -1.0)
        else:
            Y = np.where(y[:, None] == self.classes_[None, :], 1.0, -1.0)
        return self._fit_targets(X, Y, loss)

    def decision_function(self, X):
        """Network output: shape (n,) for two classes (positive means ``classes_[1]``), else (n, C)."""
        return self._network_output(X)

    def predict(self, X):
        """Class labels: the sign of the output (binary) or the argmax over classes."""
        out = self.decision_function(X)
        if out.ndim == 1:
            return self.classes_[(out > 0).astype(int)]
        return self.classes_[np.argmax(out, axis=1)]

    def _has_proba(self):
        loss = self.loss
        if loss != "logistic":
            raise AttributeError(f"predict_proba is available only for loss='logistic', not {loss!r}")
        return True

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities, shape (n, C): sigmoid of the output (binary) or softmax (multiclass).

        For the binary logistic loss the sigmoid is the model's own probability. For more
        classes the one-vs-rest programs are trained independently, so the softmax of their
        outputs is a calibration-free normalisation, not a fitted likelihood.
        """
        out = self.decision_function(X)
        if out.ndim == 1:
            p = 0.5 * (1.0 + np.tanh(0.5 * out))  # stable sigmoid
            return np.stack([1.0 - p, p], axis=1)
        z = out - out.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (``-inf`` where a probability underflows to 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = False
        return tags
