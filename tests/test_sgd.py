"""Tests for cvx_core.sgd: the nonconvex trainer minimises exactly TwoLayerNet.objective."""
import itertools

import numpy as np
import pytest

import cvx_core
from cvx_core.datasets import make_dataset
from cvx_core.model import TwoLayerNet
from cvx_core.sgd import (
    OPTIMIZERS,
    TrainingHistory,
    _batch_indices,
    gradient_norm,
    initial_weights,
    objective_and_gradient,
    resume_training,
    stationarity,
    train_runs,
    train_sgd,
)

BETA = 0.05


def _data(name="blobs", n=10, seed=0):
    return make_dataset(name, n, 0.0, seed)


@pytest.mark.parametrize("activation,loss,bias", list(itertools.product(
    ("relu", "leaky", "abs"), ("squared", "logistic", "hinge"), (True, False))))
def test_trainer_objective_is_the_engine_objective(activation, loss, bias):
    X, y = _data("moons", 12)
    h = train_sgd(X, y, BETA, width=5, activation=activation, leak=0.2, loss=loss, bias=bias,
                  optimizer="gd", lr=0.01, steps=30, seed=1)
    for net, value in ((h.initial, h.objective[0]), (h.network, h.objective[-1])):
        assert value == pytest.approx(net.objective(X, y, BETA, loss), rel=1e-12, abs=1e-12)
        F, _, _ = objective_and_gradient(net, X, y, BETA, loss)
        assert F == pytest.approx(net.objective(X, y, BETA, loss), rel=1e-12, abs=1e-12)
    assert h.objective[-1] < h.objective[0]


@pytest.mark.parametrize("activation,loss", [("relu", "squared"), ("leaky", "logistic"), ("abs", "squared")])
def test_gradient_matches_finite_differences(activation, loss):
    X, y = _data("xor", 9)
    rng = np.random.default_rng(3)
    net = TwoLayerNet(rng.standard_normal((4, 3)), rng.standard_normal(4), activation, 0.3, True)
    _, gU, gA = objective_and_gradient(net, X, y, BETA, loss)
    eps = 1e-6
    for idx in [(0, 0), (1, 2), (3, 1)]:
        Up, Um = net.U.copy(), net.U.copy()
        Up[idx] += eps
        Um[idx] -= eps
        fd = (TwoLayerNet(Up, net.alpha, activation, 0.3).objective(X, y, BETA, loss)
              - TwoLayerNet(Um, net.alpha, activation, 0.3).objective(X, y, BETA, loss)) / (2 * eps)
        assert gU[idx] == pytest.approx(fd, rel=1e-5, abs=1e-7)
    for j in range(4):
        ap, am = net.alpha.copy(), net.alpha.copy()
        ap[j] += eps
        am[j] -= eps
        fd = (TwoLayerNet(net.U, ap, activation, 0.3).objective(X, y, BETA, loss)
              - TwoLayerNet(net.U, am, activation, 0.3).objective(X, y, BETA, loss)) / (2 * eps)
        assert gA[j] == pytest.approx(fd, rel=1e-5, abs=1e-7)
    assert gradient_norm(net, X, y, BETA, loss) == pytest.approx(np.sqrt(np.sum(gU**2) + np.sum(gA**2)))


def test_convex_optimum_is_below_every_run():
    X, y = _data("xor", 10)
    fit = cvx_core.fit_convex(X, y, BETA, patterns="exact")
    assert fit.exact_patterns and fit.gap < 1e-6
    finals = []
    for opt, lrs in (("gd", (0.003, 0.02)), ("sgd", (0.003, 0.01)), ("adam", (0.01, 0.05))):
        runs = train_runs(X, y, BETA, seeds=(0, 1, 2), lrs=lrs, width=6, optimizer=opt, steps=1500, batch_size=4)
        finals += [h.final_objective for h in runs if not h.diverged]
    assert len(finals) == 18
    for F in finals:
        assert fit.lower_bound <= F
        assert fit.objective <= F * (1 + 1e-7)
    # the bound is not vacuous: the best run comes within a few percent
    assert min(finals) <= 1.05 * fit.objective


def test_batched_runs_equal_single_runs():
    X, y = _data("moons", 10)
    for opt in OPTIMIZERS:
        runs = train_runs(X, y, BETA, seeds=(0, 5), lrs=(0.005, 0.02), width=4, optimizer=opt, steps=60, batch_size=3)
        assert [(h.lr, h.seed) for h in runs] == [(0.005, 0), (0.005, 5), (0.02, 0), (0.02, 5)]
        for h in runs:
            single = train_sgd(X, y, BETA, width=4, optimizer=opt, lr=h.lr, seed=h.seed, steps=60, batch_size=3)
            np.testing.assert_allclose(h.objective, single.objective, rtol=1e-9)
            np.testing.assert_allclose(h.network.U, single.network.U, rtol=1e-8, atol=1e-12)
            assert h.n_batched == 4 and single.n_batched == 1


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_chunked_training_reproduces_one_long_run(optimizer):
    X, y = _data("xor", 10)
    kw = dict(width=5, optimizer=optimizer, lr=0.01, seed=2, batch_size=4)
    whole = train_sgd(X, y, BETA, steps=90, **kw)
    part = train_sgd(X, y, BETA, steps=0, **kw)
    assert part.n_steps == 0 and part.objective.shape == (1,)
    for chunk in (25, 1, 64):
        part = resume_training(part, X, y, chunk)
    assert part.n_steps == 90
    np.testing.assert_allclose(part.objective, whole.objective, rtol=1e-12)
    np.testing.assert_allclose(part.network.U, whole.network.U, rtol=1e-12)
    np.testing.assert_array_equal(part.initial.U, whole.initial.U)


def test_stationarity_vanishes_at_the_global_optimum_where_the_gradient_does_not():
    """The convex optimum's neurons pass through data points: the gradient (the >= 0 convention)
    stays large there, the smallest Clarke subgradient vanishes."""
    X, y = _data("spiral", 12)
    fit = cvx_core.fit_convex(X, y, BETA)
    assert fit.gap < 1e-6
    assert gradient_norm(fit.network, X, y, BETA) > 1.0
    assert stationarity(fit.network, X, y, BETA) < 1e-5


@pytest.mark.parametrize("activation", ["relu", "leaky", "abs"])
def test_stationarity_is_the_gradient_norm_away_from_kinks_and_at_most_it_near_them(activation):
    X, y = _data("moons", 10)
    h = train_sgd(X, y, BETA, width=5, activation=activation, steps=30)
    net = h.network
    g = gradient_norm(net, X, y, BETA)
    assert stationarity(net, X, y, BETA, kink_tol=0.0) == pytest.approx(g, rel=1e-12)
    loose = stationarity(net, X, y, BETA, kink_tol=0.3)
    assert loose <= g * (1 + 1e-12) and loose < 0.999 * g  # a loose tolerance finds a smaller subgradient
    assert h.stationarity == pytest.approx(stationarity(net, X, y, BETA))


def test_tol_stops_each_run_once_stationary():
    X, y = _data("xor", 10)
    kw = dict(width=6, optimizer="adam", lr_halflife=500, tol=1e-3, report_every=100)
    runs = train_runs(X, y, BETA, seeds=(0, 1), lrs=(0.01, 0.05), steps=6000, **kw)
    stopped = [h for h in runs if h.stationary]
    assert stopped and len(stopped) < len(runs)  # some stop early, the others run to the end
    for h in runs:
        if h.stationary:
            assert h.n_steps == h.stationary_at < 6000 and h.stationary_at % 100 == 0
            assert h.stationarity <= 1e-3
            assert np.all(np.isfinite(h.objective))
        else:
            assert h.n_steps == 6000 and h.stationarity > 1e-3
    h = stopped[0]  # one run alone, in chunks, stops at the same step
    single = train_sgd(X, y, BETA, lr=h.lr, seed=h.seed, steps=2000, **kw)
    while not single.stationary:
        single = resume_training(single, X, y, 2000, tol=1e-3, report_every=100)
    assert single.stationary_at == h.stationary_at
    np.testing.assert_allclose(single.objective, h.objective, rtol=1e-9)


def test_halving_learning_rate_in_chunks_reproduces_one_long_run():
    X, y = _data("xor", 10)
    kw = dict(width=5, optimizer="gd", lr=0.05, seed=1, lr_halflife=20)
    whole = train_sgd(X, y, BETA, steps=90, **kw)
    part = train_sgd(X, y, BETA, steps=33, **kw)
    part = resume_training(part, X, y, 57)
    np.testing.assert_allclose(part.objective, whole.objective, rtol=1e-12)
    constant = train_sgd(X, y, BETA, steps=90, **{**kw, "lr_halflife": None})
    assert constant.objective[1] == whole.objective[1]  # the first step uses lr itself
    # gradient descent's step is lr times the gradient: after 40 steps it is lr / 4
    h40 = train_sgd(X, y, BETA, steps=40, **kw)
    h41 = train_sgd(X, y, BETA, steps=41, **kw)
    _, gU, gA = objective_and_gradient(h40.network, X, y, BETA)
    np.testing.assert_allclose(h41.network.U, h40.network.U - 0.05 / 4 * gU, rtol=1e-12)
    assert not np.allclose(constant.network.U, whole.network.U)


def test_initialisation_depends_only_on_the_seed():
    X, y = _data()
    a = train_sgd(X, y, BETA, width=6, seed=4, steps=5)
    b = train_sgd(X, y, BETA, width=6, seed=4, steps=50, lr=0.02)
    c = train_sgd(X, y, BETA, width=6, seed=5, steps=5)
    np.testing.assert_array_equal(a.initial.U, b.initial.U)
    U0, A0 = initial_weights(2, 6, bias=True, seed=4)
    np.testing.assert_array_equal(a.initial.U, U0)
    np.testing.assert_array_equal(a.initial.alpha, A0)
    assert not np.allclose(a.initial.U, c.initial.U)
    U1, _ = initial_weights(2, 6, bias=True, seed=4, init_scale=3.0)
    np.testing.assert_allclose(U1, 3 * U0)


def test_init_network_is_used():
    X, y = _data()
    net = TwoLayerNet(np.ones((3, 3)) * 0.1, np.array([0.5, -0.5, 0.2]), "relu", 0.1, True)
    h = train_sgd(X, y, BETA, init=net, steps=3)
    np.testing.assert_array_equal(h.initial.U, net.U)
    assert h.width == 3
    with pytest.raises(ValueError, match="bias"):
        train_sgd(X, y, BETA, init=net, bias=False, steps=3)


def test_minibatches_cover_each_epoch_once():
    n, B = 11, 4
    steps = [_batch_indices(n, B, [7, 8], t) for t in range(3)]
    for r in range(2):
        rows = np.concatenate([s[r] for s in steps])
        assert sorted(rows.tolist()) == list(range(n))
    assert not np.array_equal(steps[0][0], steps[0][1])
    nxt = _batch_indices(n, B, [7], 3)  # next epoch: a new permutation
    assert not np.array_equal(nxt[0], steps[0][0])


def test_epochs_count_minibatch_steps():
    X, y = _data(n=10)
    h = train_sgd(X, y, BETA, optimizer="sgd", batch_size=4, epochs=3, lr=0.001, width=3)
    assert h.n_steps == 9 and h.batch_size == 4
    g = train_sgd(X, y, BETA, optimizer="gd", batch_size=4, epochs=3, lr=0.001, width=3)
    assert g.n_steps == 3 and g.batch_size == 10


def test_divergence_raises_with_advice():
    X, y = _data()
    with pytest.raises(ValueError, match="lower the learning rate"):
        train_sgd(X, y, BETA, width=5, lr=50.0, steps=200, init_scale=3.0)
    runs = train_runs(X, y, BETA, seeds=(0,), lrs=(0.01, 50.0), width=5, steps=200, init_scale=3.0)
    ok, bad = runs
    assert not ok.diverged and ok.n_steps == 200 and np.all(np.isfinite(ok.objective))
    assert bad.diverged and 0 < bad.diverged_at <= 200
    assert bad.objective.shape == (bad.diverged_at,) and np.all(np.isfinite(bad.objective))
    assert np.all(np.isfinite(bad.network.U))


def test_should_stop_and_callback():
    X, y = _data()
    seen = []
    h = train_sgd(X, y, BETA, width=4, steps=500, callback=lambda t, F: seen.append((t, F)),
                  should_stop=lambda: len(seen) >= 2, report_every=10)
    assert h.stopped and h.n_steps == 20
    assert [t for t, _ in seen] == [10, 20]
    assert seen[-1][1] == pytest.approx(h.final_objective)
    full = train_sgd(X, y, BETA, width=4, steps=30, report_every=10)
    assert not full.stopped


def test_history_is_a_frozen_record():
    X, y = _data()
    h = train_sgd(X, y, BETA, width=3, steps=10)
    assert isinstance(h, TrainingHistory)
    with pytest.raises(Exception):
        h.lr = 1.0
    assert h.grad_norm.shape == h.objective.shape == (11,)
    assert h.wall_time > 0


@pytest.mark.parametrize("kwargs,match", [
    (dict(optimizer="rmsprop"), "optimizer"),
    (dict(lr=-1.0), "lr"),
    (dict(width=0), "width"),
    (dict(steps=10, epochs=2), "exactly one"),
    (dict(batch_size=0, optimizer="sgd"), "batch_size"),
    (dict(init_scale=0.0), "init_scale"),
    (dict(lr_halflife=0), "lr_halflife"),
    (dict(tol=-1.0), "tol"),
])
def test_bad_settings(kwargs, match):
    X, y = _data()
    kwargs.setdefault("steps", 5)
    with pytest.raises(ValueError, match=match):
        train_sgd(X, y, BETA, **kwargs)


def test_bad_data():
    X, y = _data()
    with pytest.raises(ValueError, match="shape"):
        train_sgd(X, np.c_[y, y], BETA, steps=2)
    with pytest.raises(ValueError, match="labels"):
        train_sgd(X, y * 2, BETA, loss="logistic", steps=2)
    with pytest.raises(ValueError, match="beta"):
        train_sgd(X, y, -1.0, steps=2)
