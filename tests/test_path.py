"""Tests for cvx_core.path: path sanity, certificates, agreement with cold solves, validation."""
import io
import warnings

import numpy as np
import pandas as pd
import pytest

import cvx_core
from cvx_core.datasets import load_dataset
from cvx_core.model import make_loss
from cvx_core.path import PathResult, regularization_path


@pytest.fixture(scope="module")
def spiral():
    return load_dataset("spiral", 16, 0.0, 0, 0.25)


@pytest.fixture(scope="module")
def path(spiral):
    calls = []
    r = regularization_path(spiral.X, spiral.y, n_betas=8, min_ratio=1e-2, X_test=spiral.X_test,
                            y_test=spiral.y_test, callback=lambda i, n: calls.append((i, n)))
    return r, calls


def test_grid_is_strictly_decreasing_from_exact_beta_max(spiral, path):
    r, _ = path
    assert isinstance(r, PathResult)
    assert r.n_betas == 8
    assert np.all(np.diff(r.betas) < 0)
    assert r.betas[0] == pytest.approx(cvx_core.beta_max(spiral.X, spiral.y), rel=1e-12)
    assert r.betas[-1] == pytest.approx(1e-2 * r.beta_max, rel=1e-12)
    assert np.allclose(np.diff(np.log(r.betas)), np.log(1e-2) / 7)


def test_zero_network_at_beta_max(spiral, path):
    r, _ = path
    assert r.n_neurons[0] == 0 and r.U[0].shape[0] == 0
    assert np.all(r.group_norms[0] == 0)
    assert r.objectives[0] == pytest.approx(make_loss("squared").value(np.zeros(len(spiral.y)), spiral.y))
    # just below beta_max the zero network is no longer optimal
    assert r.n_neurons[1] > 0


def test_objective_not_above_previous_solution_reevaluated(spiral, path):
    r, _ = path
    assert np.isnan(r.warm_objectives[0])
    for k in range(1, r.n_betas):
        prev = r.network(k - 1).objective(spiral.X, spiral.y, r.betas[k], "squared")
        assert r.warm_objectives[k] == pytest.approx(prev, rel=1e-12)
        # a certified lower bound can never exceed a feasible objective ...
        assert r.lower_bounds[k] <= r.warm_objectives[k]
        # ... and the solution at beta_k is at least as good as the warm start (up to its gap)
        assert r.objectives[k] <= r.warm_objectives[k] * (1 + 1e-7)


def test_every_point_certified(path):
    r, _ = path
    assert np.all(np.isfinite(r.gaps)) and np.all(r.gaps < 1e-5)
    assert np.all(r.lower_bounds <= r.objectives * (1 + 1e-12))
    assert np.all(r.certificates <= 1 + 1e-5)
    assert r.exact_patterns and len(r.statuses) == r.n_betas


def test_networks_match_group_norms_and_objectives(spiral, path):
    r, _ = path
    for k in range(r.n_betas):
        net = r.network(k)
        assert net.n_neurons == r.n_neurons[k] == len(r.neuron_ids[k])
        gn = r.group_norms[k]
        assert np.count_nonzero(gn) == r.n_neurons[k]
        for (i, s), u, a in zip(r.neuron_ids[k], net.U, net.alpha):
            assert np.sign(a) == s
            assert np.linalg.norm(u) * abs(a) == pytest.approx(gn[i, 0 if s > 0 else 1], rel=1e-9)
            # the neuron's direction lies in its pattern's cone: (2 D_i - I) Xb u >= 0
            sgn = np.where(r.patterns[i], 1.0, -1.0)
            assert np.all(sgn * (cvx_core.add_bias(spiral.X, True) @ u) >= -1e-9 * np.linalg.norm(u))
        obj = net.objective(spiral.X, spiral.y, r.betas[k], "squared")
        assert obj == pytest.approx(r.objectives[k], rel=1e-7)


def test_agrees_with_cold_solves(spiral, path):
    r, _ = path
    for k in (2, 5):
        f = cvx_core.fit_convex(spiral.X, spiral.y, r.betas[k])
        assert f.objective == pytest.approx(r.objectives[k], rel=1e-6)


def test_agrees_with_cvxpy_reference():
    d = load_dataset("blobs", 10, 0.0, 1, 0.0)
    r = regularization_path(d.X, d.y, n_betas=4, min_ratio=0.05)
    ref = cvx_core.fit_convex(d.X, d.y, r.betas[2], solver="clarabel")
    assert ref.objective == pytest.approx(r.objectives[2], rel=1e-5)


def test_callback_reports_progress(path):
    _, calls = path
    assert calls == [(i, 8) for i in range(1, 9)]


def test_validation_loss_best_and_one_se(spiral, path):
    r, _ = path
    assert r.task == "classification"
    for k in (0, 4, 7):
        yh = r.network(k).predict(spiral.X_test)
        per = 0.5 * (yh - spiral.y_test) ** 2
        assert r.test_loss[k] == pytest.approx(per.mean())
        assert r.test_loss_se[k] == pytest.approx(per.std(ddof=1) / np.sqrt(per.size))
        assert r.test_accuracy[k] == pytest.approx(np.mean(np.where(yh >= 0, 1, -1) == spiral.y_test))
        yt = r.network(k).predict(spiral.X)
        assert r.train_loss[k] == pytest.approx(np.mean(0.5 * (yt - spiral.y) ** 2))
    b, o = r.best_index, r.one_se_index
    assert r.test_loss[b] == r.test_loss.min()
    bar = r.test_loss[b] + r.test_loss_se[b]
    assert o <= b and r.test_loss[o] <= bar
    assert np.all(r.test_loss[:o] > bar)  # the one-SE choice is the largest beta within the bar


def test_no_test_data_gives_no_validation(spiral):
    r = regularization_path(spiral.X, spiral.y, n_betas=3, X_test=np.zeros((0, 2)), y_test=np.zeros(0))
    assert r.test_loss is None and r.best_index is None and r.one_se_index is None
    assert r.train_accuracy is not None


def test_to_csv_round_trip(spiral, path):
    r, _ = path
    df = pd.read_csv(io.StringIO(r.to_csv()))
    assert len(df) == r.n_betas
    assert np.allclose(df["beta"], r.betas, rtol=0, atol=0)
    assert np.array_equal(df["width"], r.n_neurons)
    ids = r.ever_active()
    cols = [f"norm_{'v' if s > 0 else 'w'}{i}" for i, s in ids]
    assert [c for c in df.columns if c.startswith("norm_")] == cols
    # objective = n * mean loss + beta * sum of the group norms of the listed neurons
    recon = len(spiral.y) * df["train_loss"] + df["beta"] * df[cols].sum(axis=1)
    assert np.allclose(recon, df["objective"], rtol=1e-9)
    assert (df[cols] > 0).sum(axis=1).tolist() == r.n_neurons.tolist()


def test_user_betas_sorted_and_validated(spiral):
    r = regularization_path(spiral.X, spiral.y, betas=[0.05, 0.5, 0.1])
    assert r.betas.tolist() == [0.5, 0.1, 0.05]
    with pytest.raises(ValueError, match="distinct"):
        regularization_path(spiral.X, spiral.y, betas=[0.1, 0.1])
    with pytest.raises(ValueError, match="positive"):
        regularization_path(spiral.X, spiral.y, betas=[0.1, -1.0])
    with pytest.raises(ValueError, match="min_ratio"):
        regularization_path(spiral.X, spiral.y, min_ratio=2.0)
    with pytest.raises(ValueError, match="n_betas"):
        regularization_path(spiral.X, spiral.y, n_betas=0)
    with pytest.raises(ValueError, match="both"):
        regularization_path(spiral.X, spiral.y, X_test=spiral.X_test)
    with pytest.raises(ValueError, match="features"):
        regularization_path(spiral.X, spiral.y, X_test=spiral.X_test[:, :1], y_test=spiral.y_test)
    with pytest.raises(ValueError, match="task"):
        regularization_path(spiral.X, spiral.y, task="ranking")


def test_above_beta_max_stays_zero(spiral):
    bm = cvx_core.beta_max(spiral.X, spiral.y)
    r = regularization_path(spiral.X, spiral.y, betas=[2 * bm, bm])
    assert r.n_neurons.tolist() == [0, 0]


def test_logistic_sampled_patterns_and_abs():
    d = load_dataset("moons", 12, 0.0, 2, 0.25)
    r = regularization_path(d.X, d.y, n_betas=4, min_ratio=0.05, loss="logistic", patterns=40, seed=3,
                            X_test=d.X_test, y_test=d.y_test)
    assert not r.exact_patterns and r.n_neurons[0] == 0
    assert r.patterns.shape == (r.n_patterns, len(d.y)) and r.group_norms.shape[1] == r.n_patterns
    assert np.all(r.gaps < 1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ra = regularization_path(d.X, d.y, n_betas=3, min_ratio=0.1, activation="abs")
    assert ra.n_neurons[0] == 0 and np.all(np.diff(ra.betas) < 0)
    # abs: one of each (D, ~D) pair is kept
    assert not np.any(np.all(ra.patterns[:, None, :] == ~ra.patterns[None, :, :], axis=2))


def test_regression_task_has_no_accuracy():
    d = load_dataset("regression1d", 12, 0.1, 0, 0.25)
    r = regularization_path(d.X, d.y, n_betas=4, X_test=d.X_test, y_test=d.y_test)
    assert r.task == "regression" and r.train_accuracy is None and r.test_accuracy is None
    assert r.test_loss is not None and 0 <= r.one_se_index <= r.best_index


def test_bad_labels_for_logistic_raise():
    d = load_dataset("regression1d", 8, 0.1, 0, 0.0)
    with pytest.raises(ValueError, match="-1/\\+1"):
        regularization_path(d.X, d.y, loss="logistic")


def test_vector_targets_sum_group_norms_over_outputs():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (10, 2))
    Y = np.eye(3)[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.3)]
    r = regularization_path(X, Y, n_betas=3, min_ratio=0.1, X_test=X[:4], y_test=Y[:4])
    assert r.task == "classification" and r.n_neurons[0] == 0
    for k in range(r.n_betas):
        net = r.network(k)
        assert net.alpha.shape == (r.n_neurons[k], 3) and len(r.neuron_ids[k]) == r.n_neurons[k]
        assert net.objective(X, Y, r.betas[k], "squared") == pytest.approx(r.objectives[k], rel=1e-7)
        assert r.train_accuracy[k] == pytest.approx(np.mean(net.predict(X).argmax(1) == Y.argmax(1)))
        # the (P, 2) group norms are summed over the 3 outputs: their total is the network's penalty
        assert r.group_norms[k].sum() == pytest.approx(net.penalty(), rel=1e-9)
