"""Pattern search beyond a fixed sample (cvx_core.certificates.search, fit_convex(patterns="search"))."""
import numpy as np
import pytest
from joblib import parallel_config

from cvx_core import add_bias, enumerate_patterns, fit_convex, make_activation, sample_patterns
from cvx_core.certificates.cells import cell_values
from cvx_core.certificates.search import ascend, violated_patterns
from cvx_core.estimators import ConvexReLUClassifier


def _spiral(n, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 3 * np.pi, n)
    X = np.column_stack([t * np.cos(t), t * np.sin(t)]) / (3 * np.pi) + 0.05 * rng.standard_normal((n, 2))
    y = np.where(rng.uniform(size=n) < 0.5, 1.0, -1.0) * np.sign(np.sin(t) + 0.1)
    return X, y


@pytest.mark.parametrize("activation", ["relu", "leaky", "abs"])
def test_found_patterns_are_violated_cells_of_the_arrangement(activation):
    """Every pattern the search returns is a cell of the arrangement (in the plane the exact
    enumeration lists them all) whose certificate value is at least the value the search
    reports for it, which exceeds beta."""
    X, y = _spiral(40)
    Xb = add_bias(X, True)
    act = make_activation(activation, 0.2)
    small = fit_convex(X, y, 0.05, activation=activation, leak=0.2, patterns=6, seed=1)
    lam = small.dual
    rng = np.random.default_rng(0)
    U0 = rng.standard_normal((40, 3))
    res = violated_patterns(Xb, lam, act, 0.05, np.vstack([U0, U0]), np.r_[np.ones(40), -np.ones(40)])
    assert len(res.patterns) > 0 and res.best > 1
    every = {row.tobytes() for row in enumerate_patterns(Xb)}
    assert all(row.tobytes() in every for row in res.patterns)
    cv = cell_values(Xb, res.patterns, lam, act, threshold=0.0)
    assert np.all(cv.values.max(axis=1) >= res.values * 0.05 * (1 - 1e-9))


def test_ascent_never_loses_value():
    rng = np.random.default_rng(1)
    Xb = add_bias(rng.standard_normal((30, 4)), True)
    lam = rng.standard_normal(30)
    act = make_activation("relu")
    U0 = rng.standard_normal((25, 5))
    s = np.where(rng.uniform(size=25) < 0.5, 1.0, -1.0)
    U, val = ascend(Xb, lam, act, U0, s)
    U0n = U0 / np.linalg.norm(U0, axis=1, keepdims=True)
    start = s * (act(U0n @ Xb.T) @ lam)
    assert np.all(val >= start - 1e-12)
    np.testing.assert_allclose(np.linalg.norm(U, axis=1), 1.0)
    np.testing.assert_allclose(val, s * (act(U @ Xb.T) @ lam), rtol=1e-12, atol=1e-12)


def test_search_in_the_plane_reaches_the_exact_optimum():
    """From 8 sampled patterns the search adds violated cells until the objective is within
    its stopping tolerance (1e-3) of the optimum over every pattern, never below it."""
    X, y = _spiral(30, seed=2)
    exact = fit_convex(X, y, 0.05, loss="logistic")
    sampled = fit_convex(X, y, 0.05, loss="logistic", patterns=8)
    from cvx_core import convex

    old = convex.SEARCH_SAMPLES
    convex.SEARCH_SAMPLES = 8
    try:
        found = fit_convex(X, y, 0.05, loss="logistic", patterns="search")
    finally:
        convex.SEARCH_SAMPLES = old
    info = found.info["pattern_search"]
    assert found.status == "optimal" and not found.exact_patterns
    assert info["patterns_added"] > 0 and found.n_patterns == info["patterns"]
    assert exact.objective * (1 - 1e-7) <= found.objective < sampled.objective
    assert found.objective <= exact.objective * (1 + 2e-3)
    assert found.network.objective(X, y, 0.05, "logistic") == pytest.approx(found.objective, rel=1e-9)


def test_auto_searches_only_when_enumeration_is_out_of_reach():
    X, y = _spiral(20)
    small = fit_convex(X, y, 0.1, patterns="auto")
    assert small.exact_patterns and "pattern_search" not in small.info
    rng = np.random.default_rng(0)
    Xh = rng.standard_normal((60, 12))
    yh = np.sign(Xh[:, 0] * Xh[:, 1])
    big = fit_convex(Xh, yh, 1.0, loss="hinge", patterns="auto")
    assert not big.exact_patterns and big.info["pattern_search"]["rounds"] >= 1
    assert big.status == "optimal"
    with pytest.raises(ValueError, match="patterns"):
        fit_convex(X, y, 0.1, patterns="everything")


@pytest.mark.parametrize("loss", ["squared", "logistic", "hinge"])
def test_search_inside_the_working_set_is_the_optimum_over_its_patterns(loss):
    """Beyond the plane the working set of blocks grows the patterns itself. The fit it returns
    is the certified optimum over the patterns it reports: solving again over exactly those
    patterns (no search) gives the same objective, and its network reproduces it."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((50, 5))
    y = np.sign(X[:, 0] * X[:, 1] + 0.2) if loss != "squared" else X[:, 0] * X[:, 1]
    f = fit_convex(X, y, 0.3, loss=loss, patterns="search")
    info = f.info["pattern_search"]
    assert info["rounds"] >= 1 and info["patterns"] == f.n_patterns
    assert f.status == "optimal" and f.V.shape[0] == f.n_patterns
    again = fit_convex(X, y, 0.3, loss=loss, patterns=f.patterns)
    assert again.objective == pytest.approx(f.objective, rel=2e-6)
    assert f.network.objective(X, y, 0.3, loss) == pytest.approx(f.objective, rel=1e-9)
    plain = fit_convex(X, y, 0.3, loss=loss, patterns=sample_patterns(add_bias(X, True), 200, seed=0))
    assert f.objective <= plain.objective * (1 + 1e-6)


def test_search_for_a_vector_target_ends_on_one_pattern_list():
    """Each column searches inside its own working set; the columns are then solved over the
    union of what they found, so the fit is certified over that one list."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5))
    lab = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    Y = np.where(lab[:, None] == np.arange(3)[None, :], 1.0, -1.0)
    f = fit_convex(X, Y, 0.5, loss="logistic", patterns="search")
    assert f.status == "optimal" and f.V.shape[:2] == (3, f.n_patterns)
    assert f.info["pattern_search"]["patterns"] == f.n_patterns
    again = fit_convex(X, Y, 0.5, loss="logistic", patterns=f.patterns)
    assert again.objective == pytest.approx(f.objective, rel=2e-6)
    assert f.network.objective(X, Y, 0.5, "logistic") == pytest.approx(f.objective, rel=1e-9)


def test_vector_search_fans_out_through_joblib():
    """``n_jobs`` runs each column's search and the union's re-solves through joblib (any
    backend); the fit is the sequential one, also from the estimator (whose default
    patterns search when enumeration is out of reach: with n_jobs that raised before)."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 5))
    lab = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    Y = np.where(lab[:, None] == np.arange(3)[None, :], 1.0, -1.0)
    seq = fit_convex(X, Y, 0.5, loss="logistic", patterns="search", seed=2)
    with parallel_config(backend="threading"):
        par = fit_convex(X, Y, 0.5, loss="logistic", patterns="search", seed=2, n_jobs=2)
        est = ConvexReLUClassifier(beta=0.5, patterns="search", random_state=2, n_jobs=2).fit(X, lab)
    np.testing.assert_array_equal(par.patterns, seq.patterns)
    assert par.objective == seq.objective and par.status == seq.status == "optimal"
    assert par.info["pattern_search"] == seq.info["pattern_search"]
    assert est.objective_ == seq.objective and est.n_patterns_ == seq.n_patterns
    with pytest.raises(ValueError, match="n_jobs"):
        fit_convex(X, Y, 0.5, loss="logistic", patterns=8, n_jobs=0)


def test_vector_search_seeds_later_columns_with_the_first_columns_neurons(monkeypatch):
    """The first column is searched alone; the patterns its live neurons found join the sampled
    ones of every later column, and so the union the fit is certified over."""
    import cvx_core.convex as C

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5))
    lab = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    Y = np.where(lab[:, None] == np.arange(3)[None, :], 1.0, -1.0)
    calls, real = [], C._fit_column

    def spy(*a, **k):
        out = real(*a, **k)
        if k.get("search") is not None:
            calls.append((a[1], k["D"], out))
        return out

    monkeypatch.setattr(C, "_fit_column", spy)
    f = fit_convex(X, Y, 0.5, loss="logistic", patterns="search", search_samples=40)
    assert f.status == "optimal" and [c for c, _, _ in calls] == [0, 1, 2]
    D0, first = calls[0][1], calls[0][2]
    live = (np.linalg.norm(first.V, axis=1) > 0) | (np.linalg.norm(first.W, axis=1) > 0)
    live[:40] = False
    assert D0.shape[0] == 40 and live.any()
    for _, D, _ in calls[1:]:
        np.testing.assert_array_equal(D, np.vstack([D0, first.patterns[live]]))
    union = {r.tobytes() for r in np.packbits(f.patterns, axis=1)}
    assert all(r.tobytes() in union for r in np.packbits(first.patterns[live], axis=1))
