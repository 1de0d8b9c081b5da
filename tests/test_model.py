"""Activations, losses (dual functions) and the network record."""
import numpy as np
import pytest

from cvx_core import TwoLayerNet, make_activation, make_loss


def test_activations_and_slopes():
    t = np.array([-2.0, 0.0, 3.0])
    assert np.allclose(make_activation("relu")(t), [0, 0, 3])
    assert np.allclose(make_activation("leaky", 0.2)(t), [-0.4, 0, 3])
    assert np.allclose(make_activation("abs")(t), [2, 0, 3])
    assert make_activation("abs").symmetric and not make_activation("leaky").symmetric
    D = t >= 0
    act = make_activation("leaky", 0.2)
    assert np.allclose(act.slopes(D) * t, act(t))


@pytest.mark.parametrize("name", ["squared", "logistic", "hinge"])
def test_fenchel_young_and_tightness(name):
    """g(lambda) <= L(yhat) - lambda'yhat ... i.e. -L*(-lam) <= L(z) + lam'z for all z (weak duality),
    with equality at lambda = -grad L(z) (smooth losses)."""
    rng = np.random.default_rng(0)
    y = np.where(rng.standard_normal(8) > 0, 1.0, -1.0)
    loss = make_loss(name)
    for _ in range(20):
        z = rng.standard_normal(8) * 2
        lam = loss.clip_dual(rng.standard_normal(8), y)
        assert loss.dual(lam, y) <= loss.value(z, y) + lam @ z + 1e-12
    # away from the hinge's kink, on both sides (margins near 2: loss 0; near 0.2: loss > 0)
    for shift in (2.0, 0.2):
        z = rng.uniform(-0.1, 0.1, 8) + shift * y
        lam = loss.dual_variable(z, y)
        value = loss.value(z, y) + lam @ z
        assert loss.dual(lam, y) == pytest.approx(value, rel=1e-10, abs=1e-12)
        if shift < 1:
            assert value > 1  # the comparison is not 0 == 0


def test_network_objective_balanced_and_json_round_trip():
    rng = np.random.default_rng(1)
    net = TwoLayerNet(rng.standard_normal((4, 3)), rng.standard_normal(4))
    X = rng.standard_normal((6, 2))
    y = rng.standard_normal(6)
    bal = net.balanced()
    np.testing.assert_allclose(bal.predict(X), net.predict(X))
    assert bal.objective(X, y, 0.1) <= net.objective(X, y, 0.1) + 1e-12
    assert np.allclose(np.linalg.norm(bal.U, axis=1), np.abs(bal.alpha))
    back = TwoLayerNet.from_json(net.to_json())
    np.testing.assert_array_equal(back.U, net.U)
    with pytest.raises(ValueError, match="missing"):
        TwoLayerNet.from_dict({"U": [[1, 2]]})
    with pytest.raises(ValueError, match="valid JSON"):
        TwoLayerNet.from_json("{nope")
    with pytest.raises(ValueError, match="one per neuron"):
        TwoLayerNet(np.ones((3, 2)), np.ones(2))
    with pytest.raises(ValueError, match="feature columns"):
        net.predict(np.ones((3, 5)))


@pytest.mark.parametrize("name", ["relu", "leaky", "abs"])
def test_inplace_activation_equals_the_copying_one(name):
    act = make_activation(name, leak=0.2)
    t = np.random.default_rng(1).standard_normal((50, 7))
    expected = act(t)
    out = act.inplace(t)
    assert out is t
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("name", ["relu", "leaky", "abs"])
def test_slopes_are_a_on_the_pattern_and_b_off_it_for_any_layout(name):
    act = make_activation(name, 0.3)
    rng = np.random.default_rng(4)
    D = rng.random((9, 14)) < 0.5
    for pattern in (D, D[:, ::3], D.T, D[0], np.asarray(D, int)):  # strided, transposed, 1-D, not bool
        S = act.slopes(pattern)
        assert S.dtype == np.float64 and S.shape == np.shape(pattern)
        assert np.array_equal(S[np.asarray(pattern, bool)], np.full(np.count_nonzero(pattern), act.a))
        assert np.array_equal(S[~np.asarray(pattern, bool)], np.full(np.size(pattern) - np.count_nonzero(pattern), act.b))
    t = rng.standard_normal(50)
    assert np.array_equal(act(t), np.where(t >= 0, act.a * t, act.b * t))
