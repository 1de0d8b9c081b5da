"""Tests for cvx_core.stationary: SGD's stationary points as restricted convex optima."""
import numpy as np
import pytest

import cvx_core
from cvx_core.datasets import make_dataset
from cvx_core.model import TwoLayerNet, add_bias
from cvx_core.sgd import train_sgd
from cvx_core.stationary import (
    analyse_stationary,
    certificate_curve,
    certify_network,
    insert_violating_neuron,
    live_neurons,
    neuron_patterns,
)

BETA = 0.05


@pytest.fixture(scope="module")
def blobs():
    return make_dataset("blobs", 12, 0.0, 0)


@pytest.fixture(scope="module")
def converged_gd(blobs):
    """Full-batch GD that really converges (checked in the tests: gradient norm ~ 0)."""
    X, y = blobs
    return train_sgd(X, y, BETA, width=8, optimizer="gd", lr=0.02, steps=12000, seed=0)


@pytest.fixture(scope="module")
def spurious(blobs):
    """GD without bias converges to a stationary point that is not globally optimal."""
    X, y = blobs
    return train_sgd(X, y, BETA, width=4, optimizer="gd", lr=0.02, steps=10000, seed=0, bias=False)


def test_converged_gd_equals_its_restricted_convex_optimum(blobs, converged_gd):
    X, y = blobs
    h = converged_gd
    assert h.grad_norm[-1] < 1e-3 * h.grad_norm[0]  # really converged
    a = analyse_stationary(h.network, X, y, BETA)
    assert a.grad_norm == pytest.approx(h.grad_norm[-1], rel=1e-9)
    assert a.objective == pytest.approx(h.final_objective, rel=1e-12)
    assert a.restricted is not None and a.restricted.gap < 1e-6
    assert abs(a.restricted_gap) < 1e-4
    # restricted optimum <= network objective (the network is feasible for the restricted program)
    assert a.restricted_objective <= a.objective * (1 + 1e-9)
    assert a.balance < 1e-3  # stationary points are balanced
    assert a.n_kink_points == 0
    # the restricted program uses exactly the live neurons' distinct patterns
    Xb = add_bias(X, True)
    own = np.unique((Xb @ h.network.U[a.live].T >= 0).T, axis=0)
    np.testing.assert_array_equal(np.unique(a.restricted.patterns, axis=0), own)


def test_certificate_of_optimum_is_beta_and_poor_run_exceeds_it():
    X, y = make_dataset("xor", 12, 0.0, 0)
    fit = cvx_core.fit_convex(X, y, BETA)
    c_opt = certify_network(fit.network, X, y, BETA)
    # The network's own dual y - yhat is within sqrt(2 eps) of the optimum's (eps = the certified
    # gap; the loss is 1-strongly convex in yhat), and cert is ||Xb||_2-Lipschitz in lambda for
    # ReLU, where cert(lambda*) = beta: the certificate is 1 up to that computed bound.
    eps = fit.objective - fit.lower_bound
    bound = np.sqrt(2 * eps) * np.linalg.norm(add_bias(X, True), 2) / BETA
    assert 0 < bound < 1e-2
    assert abs(c_opt.certificate - 1.0) <= bound
    poor = train_sgd(X, y, BETA, width=2, optimizer="gd", lr=0.01, steps=3000, seed=0)
    c_poor = certify_network(poor.network, X, y, BETA)
    assert c_poor.certificate > 1.5
    assert poor.final_objective > fit.objective
    assert c_poor.lower_bound <= fit.objective * (1 + 1e-9)


def test_u_star_lies_in_its_cell_and_attains_the_certificate():
    X, y = make_dataset("xor", 12, 0.0, 0)
    net = train_sgd(X, y, BETA, width=2, optimizer="gd", lr=0.01, steps=3000, seed=0).network
    c = certify_network(net, X, y, BETA)
    Xb = add_bias(X, True)
    z = Xb @ c.u_star
    clear = np.abs(z) > 1e-9
    np.testing.assert_array_equal((z >= 0)[clear], c.u_star_pattern[clear])
    value = net.sigma(z) @ c.dual
    assert np.sign(value) == c.u_star_sign
    assert abs(value) == pytest.approx(c.certificate * BETA, rel=1e-6)


def test_spurious_stationary_point_and_neuron_insertion(blobs, spurious):
    X, y = blobs
    h = spurious
    assert h.grad_norm[-1] < 1e-6
    a = analyse_stationary(h.network, X, y, BETA)
    assert abs(a.restricted_gap) < 1e-4
    assert a.certificate.certificate > 1.5  # stationary, yet not globally optimal
    exact = cvx_core.fit_convex(X, y, BETA, bias=False)
    assert exact.objective < a.objective
    ins = insert_violating_neuron(X, y, BETA, a.patterns, bias=False, before=a.restricted)
    assert ins.added and not ins.already_present
    assert ins.patterns.shape[0] == a.n_patterns + 1
    np.testing.assert_array_equal(ins.patterns[-1], ins.added_pattern)
    assert ins.drop > 1e-3 and ins.relative_drop == pytest.approx(ins.drop / ins.before.objective)
    assert ins.after.objective >= exact.lower_bound - 1e-9
    assert ins.certificate_after.certificate < a.certificate.certificate


def test_insertion_at_the_optimum_adds_nothing(blobs):
    X, y = blobs
    fit = cvx_core.fit_convex(X, y, BETA, bias=False)
    active = fit.patterns[fit.group_norms().sum(axis=1) > 0]
    ins = insert_violating_neuron(X, y, BETA, active, bias=False)
    assert not ins.added and ins.drop == 0.0
    assert ins.after is ins.before
    assert ins.before.objective == pytest.approx(fit.objective, rel=1e-6)


def test_certificate_curve_angle(blobs, spurious):
    X, y = blobs
    a = analyse_stationary(spurious.network, X, y, BETA)
    cu = a.curve
    assert cu.kind == "angle" and cu.lat is None and cu.values.shape == cu.lon.shape
    cert = a.certificate.certificate * BETA
    assert cu.grid_max <= cert * (1 + 1e-9)
    assert cu.grid_max >= 0.99 * cert
    assert abs(cu.u_star_value) == pytest.approx(cert, rel=1e-6)
    # at a stationary point each live neuron sits on the band: c(u_j) = sign(alpha_j) beta
    np.testing.assert_allclose(cu.neuron_values, cu.neuron_signs * BETA, rtol=1e-4)
    # the curve is lambda' sigma(X u) at the angle
    k = 123
    t = np.deg2rad(cu.lon[k])
    assert cu.values[k] == pytest.approx(spurious.network.sigma(X @ [np.cos(t), np.sin(t)]) @ a.certificate.dual)


def test_certificate_curve_sphere(blobs, converged_gd):
    X, y = blobs
    a = analyse_stationary(converged_gd.network, X, y, BETA)
    cu = a.curve
    assert cu.kind == "sphere" and cu.values.shape == (cu.lat.size, cu.lon.size)
    cert = a.certificate.certificate * BETA
    assert cu.grid_max <= cert * (1 + 1e-9)
    assert cu.grid_max >= 0.95 * cert
    assert cu.neurons.shape == (a.n_live, 2)
    assert np.all(np.abs(cu.neurons[:, 1]) <= 90)


def test_curve_absent_in_higher_dimension():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3))
    net = TwoLayerNet(rng.standard_normal((2, 4)), np.ones(2))
    assert certificate_curve(net, X, np.ones(6), 1.0, np.ones(4) / 2) is None


def test_kinks_are_flagged():
    X = np.array([[0.5, 0.2], [-0.3, 0.8], [0.9, -0.6], [-0.7, -0.4]])
    y = np.array([1.0, -1.0, 0.5, 0.0])
    # neuron 0's hyperplane passes exactly through point 1; neuron 1's through no point
    U = np.array([[0.8, 0.3, 0.0], [1.0, 1.0, 2.0]])
    U[0, 2] = -(X[1] @ U[0, :2])
    net = TwoLayerNet(U, np.array([1.0, -0.5]))
    a = analyse_stationary(net, X, y, 0.1)
    assert a.kinks[1, 0] and a.kink_points[1]
    assert a.n_kink_points == 1 and not a.kinks[:, 1].any()
    assert a.margins[1, 0] < 1e-12
    loose = analyse_stationary(net, X, y, 0.1, kink_tol=1.0)
    assert loose.n_kink_points == 4


def test_dead_network():
    X, y = make_dataset("blobs", 8, 0.0, 1)
    net = TwoLayerNet(np.ones((3, 3)), np.zeros(3))
    a = analyse_stationary(net, X, y, BETA)
    assert a.n_live == 0 and a.restricted is None and a.n_patterns == 0
    assert a.restricted_objective == pytest.approx(0.5 * np.sum(y**2))
    assert (a.neuron_patterns == -1).all()


def test_live_neurons_and_abs_patterns():
    X, y = make_dataset("moons", 8, 0.0, 0)
    U = np.array([[1.0, 0.5, 0.1], [-1.0, -0.5, -0.1], [0.3, -1.0, 0.2], [1.0, 1.0, 1.0]])
    net = TwoLayerNet(U, np.array([1.0, 0.5, -0.7, 1e-12]), "abs")
    live = live_neurons(net)
    np.testing.assert_array_equal(live, [True, True, True, False])
    P, index = neuron_patterns(net, X)
    assert P.shape[0] == 2 and P[:, 0].all()  # u and -u: one canonical pattern for |.|
    assert index[0] == index[1] and index[3] == -1


def test_bad_input(blobs):
    X, y = blobs
    net = TwoLayerNet(np.ones((2, 3)), np.ones(2))
    with pytest.raises(TypeError):
        analyse_stationary("net", X, y, BETA)
    with pytest.raises(ValueError, match="kink_tol"):
        analyse_stationary(net, X, y, BETA, kink_tol=-1)
    with pytest.raises(ValueError, match="beta"):
        analyse_stationary(net, X, y, 0.0)


def test_gd_hopping_across_a_kink_is_flagged():
    X, y = make_dataset("blobs", 12, 0.0, 0)
    h = train_sgd(X, y, BETA, width=1, optimizer="gd", lr=0.01, steps=4000, seed=0)
    recent = h.recent_flips(200)
    assert recent.shape == (12, 1) and recent.any()  # a bit keeps flipping: no convergence
    assert h.grad_norm[-1] > 0.1
    a = analyse_stationary(h.network, X, y, BETA, flips=recent)
    assert a.n_kink_points >= 1
    np.testing.assert_array_equal(a.kink_points, recent[:, 0] | (a.margins[:, 0] <= a.kink_tol))
    with pytest.raises(ValueError, match="flips"):
        analyse_stationary(h.network, X, y, BETA, flips=np.zeros((3, 1), bool))


def test_certificate_over_a_sample_when_enumeration_is_too_large():
    X, y = make_dataset("xor", 12, 0.0, 0)
    net = train_sgd(X, y, BETA, width=2, optimizer="gd", lr=0.01, steps=500, seed=0).network
    full = certify_network(net, X, y, BETA)
    sampled = certify_network(net, X, y, BETA, max_exact_patterns=10)
    assert full.exact and not sampled.exact
    assert sampled.certificate <= full.certificate * (1 + 1e-9)
    assert sampled.certificate >= 0.9 * full.certificate
