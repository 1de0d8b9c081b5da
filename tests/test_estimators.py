"""Tests for the scikit-learn estimators (cvx_core.estimators).

The scikit-learn API checks run on small sampled pattern sets with the cvxpy + Clarabel
solver: the checks use random data with several features, where exact enumeration would be
refused or slow. No check is expected to fail (``expected_failed_checks`` returns {}).
"""
import numpy as np
import pytest
from joblib import parallel_config
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from cvx_core import beta_max, fit_convex
from cvx_core.estimators import ConvexReLUClassifier, ConvexReLURegressor

CHECK_KW = dict(patterns=16, solver="clarabel")


def _expected_failed_checks(estimator):
    # Every scikit-learn check passes (scikit-learn 1.9); list any future exception here with a reason.
    return {}


@parametrize_with_checks([ConvexReLURegressor(**CHECK_KW), ConvexReLUClassifier(**CHECK_KW)],
                         expected_failed_checks=_expected_failed_checks)
def test_sklearn_api_checks(estimator, check):
    check(estimator)


def _blobs(n=24, C=2, d=2, seed=0):
    rng = np.random.default_rng(seed)
    centers = 2.5 * rng.standard_normal((C, d))
    y = np.arange(n) % C
    X = centers[y] + rng.standard_normal((n, d))
    return X, y


def test_binary_agrees_with_fit_convex():
    X, y = _blobs(20)
    clf = ConvexReLUClassifier(beta=0.5, patterns="exact", solver="clarabel").fit(X, np.array(["a", "b"])[y])
    ref = fit_convex(X, np.where(y == 1, 1.0, -1.0), 0.5, loss="logistic", patterns="exact", solver="clarabel")
    assert clf.exact_patterns_ and clf.n_patterns_ == ref.n_patterns
    assert clf.objective_ == pytest.approx(ref.objective, rel=1e-6)
    np.testing.assert_allclose(clf.decision_function(X), ref.predictions, rtol=1e-5, atol=1e-6)
    # classes_[1] ("b") is the +1 label
    assert set(clf.predict(X)) <= {"a", "b"}
    np.testing.assert_array_equal(clf.predict(X) == "b", clf.decision_function(X) > 0)
    # the network reproduces the objective (docs/math.md section 4) and the certificate is 1 at the optimum
    pm = np.where(y == 1, 1.0, -1.0)
    assert clf.network_.objective(X, pm, 0.5, "logistic") == pytest.approx(clf.objective_, rel=1e-6)
    assert clf.certificate_ == pytest.approx(1.0, abs=1e-3)
    assert clf.gap_ < 1e-5


def test_multiclass_vector_program_and_parallel_columns():
    X, y = _blobs(24, C=3)
    Y = np.where(y[:, None] == np.arange(3), 1.0, -1.0)
    kw = dict(beta=0.5, patterns=12, solver="clarabel", random_state=1)
    seq = ConvexReLUClassifier(**kw).fit(X, y)
    ref = fit_convex(X, Y, 0.5, loss="logistic", patterns=12, seed=1, solver="clarabel")
    assert seq.objective_ == pytest.approx(ref.objective, rel=1e-6)
    dec = seq.decision_function(X)
    assert dec.shape == (24, 3)
    np.testing.assert_array_equal(seq.predict(X), np.argmax(dec, axis=1))
    # each neuron feeds one output: the vector objective with ||alpha||_1^2 equals the sum over columns
    assert seq.network_.objective(X, Y, 0.5, "logistic") == pytest.approx(seq.objective_, rel=1e-6)
    # the one-vs-rest programs fanned out through joblib (a pluggable backend) give the same fit
    with parallel_config(backend="threading"):
        par = ConvexReLUClassifier(n_jobs=2, **kw).fit(X, y)
    assert par.objective_ == pytest.approx(seq.objective_, rel=1e-6)
    assert par.gap_ == pytest.approx(seq.gap_, abs=1e-6)
    assert par.certificate_ == pytest.approx(seq.certificate_, rel=1e-6)
    assert par.n_neurons_ == seq.n_neurons_
    np.testing.assert_allclose(par.decision_function(X), dec, rtol=1e-6, atol=1e-8)
    # softmax probabilities: rows sum to one and agree with predict
    proba = seq.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(np.argmax(proba, axis=1), seq.predict(X))


def test_predict_proba_only_for_logistic():
    X, y = _blobs(16)
    logi = ConvexReLUClassifier(beta=1.0, patterns=8, solver="clarabel").fit(X, y)
    p = logi.predict_proba(X)[:, 1]
    np.testing.assert_allclose(p, 1.0 / (1.0 + np.exp(-logi.decision_function(X))), rtol=1e-9, atol=1e-12)
    hinge = ConvexReLUClassifier(beta=1.0, loss="hinge", patterns=8, solver="clarabel").fit(X, y)
    assert not hasattr(hinge, "predict_proba")
    with pytest.raises(AttributeError, match="predict_proba") as err:
        hinge.predict_proba(X)
    assert "logistic" in str(err.value.__cause__)


def test_regressor_random_state_is_the_seed_and_zero_network_above_beta_max():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((20, 3))
    y = np.abs(X[:, 0]) - X[:, 1] + 0.1 * rng.standard_normal(20)
    reg = ConvexReLURegressor(beta=0.3, patterns=10, random_state=3, solver="clarabel").fit(X, y)
    ref = fit_convex(X, y, 0.3, patterns=10, seed=3, solver="clarabel")
    np.testing.assert_array_equal(reg.fit_.patterns, ref.patterns)
    assert not reg.exact_patterns_
    np.testing.assert_allclose(reg.predict(X), ref.predictions, rtol=1e-5, atol=1e-6)
    assert reg.score(X, y) > 0.5
    bmax = beta_max(X, y, patterns=ref.patterns)
    # the engine's working-set solver (cvxpy's interior point leaves tiny dense blocks)
    zero = ConvexReLURegressor(beta=1.01 * bmax, patterns=10, random_state=3).fit(X, y)
    assert zero.n_neurons_ == 0
    np.testing.assert_array_equal(zero.predict(X), 0.0)


def test_auto_patterns_exact_in_low_dimension_and_bad_parameters():
    X, y = _blobs(14)
    clf = ConvexReLUClassifier(beta=0.5, solver="clarabel").fit(X, y)
    assert clf.exact_patterns_  # Cover's count for 14 points in 2-D with bias is small
    with pytest.raises(ValueError, match="loss"):
        ConvexReLURegressor(loss="logistic").fit(X, y.astype(float))
    with pytest.raises(ValueError, match="beta"):
        ConvexReLURegressor(beta=-1.0).fit(X, y.astype(float))
    with pytest.raises(ValueError, match="patterns"):
        ConvexReLUClassifier(patterns="many").fit(X, y)
    with pytest.raises(ValueError, match="activation"):
        ConvexReLUClassifier(activation="tanh").fit(X, y)


def test_pipeline_grid_search_and_clone():
    X, y = _blobs(24, seed=2)
    X = 10.0 * X + 5.0  # the pipeline's scaler matters
    pipe = make_pipeline(StandardScaler(), ConvexReLUClassifier(patterns=8, solver="clarabel", random_state=0))
    grid = GridSearchCV(pipe, {"convexreluclassifier__beta": [0.1, 3.0]}, cv=2, n_jobs=1).fit(X, y)
    assert grid.best_params_["convexreluclassifier__beta"] in (0.1, 3.0)
    assert 0.0 <= grid.score(X, y) <= 1.0
    est = grid.best_estimator_[-1]
    assert est.n_features_in_ == 2 and hasattr(est, "network_")
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    assert not hasattr(twin, "network_")
