"""The exact sphere certificate agrees with per-cell SOCP duality (NNLS) and brute force."""
import numpy as np
import pytest

from cvx_core import add_bias, enumerate_patterns, make_activation
from cvx_core.certificate import cell_values
from cvx_core.sphere import SphereCertifier


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name", ["relu", "leaky", "abs"])
def test_sphere_max_equals_cellwise_max(bias, name):
    rng = np.random.default_rng(hash((bias, name)) % 2**32)
    Xb = add_bias(rng.uniform(-1, 1, (12, 2)), bias)
    D = enumerate_patterns(Xb)
    act = make_activation(name)
    lam = rng.standard_normal(12)
    cert, u, s = SphereCertifier(Xb, D, act).max(lam)
    assert cert == pytest.approx(cell_values(Xb, D, lam, act).max, rel=1e-10)
    assert s * act(Xb @ u) @ lam == pytest.approx(cert, rel=1e-10)  # attained at u
    U = rng.standard_normal((100_000, Xb.shape[1]))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    assert np.abs(act(U @ Xb.T) @ lam).max() <= cert * (1 + 1e-12)


def test_one_dimensional_with_bias():
    rng = np.random.default_rng(1)
    Xb = add_bias(rng.uniform(-1, 1, (9, 1)), True)
    D = enumerate_patterns(Xb)
    act = make_activation("relu")
    lam = rng.standard_normal(9)
    cert, _, _ = SphereCertifier(Xb, D, act).max(lam)
    assert cert == pytest.approx(cell_values(Xb, D, lam, act).max, rel=1e-10)
