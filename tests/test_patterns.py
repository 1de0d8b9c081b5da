"""Pattern enumeration and sampling: Cover's count, degenerate data, refusal of huge sizes."""
import numpy as np
import pytest

from cvx_core import add_bias, cover_bound, cover_count, enumerate_patterns, sample_patterns
from cvx_core.patterns import canonical_symmetric, data_rank


@pytest.mark.parametrize("n, r", [(12, 2), (15, 3), (11, 4)])
def test_cover_count_general_position(n, r):
    X = np.random.default_rng(r).standard_normal((n, r))
    D = enumerate_patterns(X)
    assert D.shape == (cover_count(n, r), n)
    assert len({row.tobytes() for row in D}) == D.shape[0]  # distinct
    assert cover_count(n, r) <= cover_bound(n, r)


def test_patterns_are_realised_by_directions():
    rng = np.random.default_rng(0)
    Xb = add_bias(rng.uniform(-1, 1, (10, 2)), True)
    D = enumerate_patterns(Xb)
    found = {row.tobytes() for row in sample_patterns(Xb, 200_000, seed=1)}
    assert found <= {row.tobytes() for row in D}  # every sampled pattern is enumerated
    assert len(found) >= 0.9 * D.shape[0]  # and sampling finds most of them


def test_cover_example_from_math_md():
    # 2-D data with bias, n = 100: P = 9 902.
    X = np.random.default_rng(5).uniform(-1, 1, (100, 2))
    assert enumerate_patterns(add_bias(X, True)).shape[0] == 9902


def test_rank_deficient_data_handled_in_row_space():
    rng = np.random.default_rng(2)
    B = rng.standard_normal((9, 2))
    X = B @ rng.standard_normal((2, 4))  # rank 2 in R^4
    assert data_rank(X) == 2
    D = enumerate_patterns(X)
    assert D.shape[0] == cover_count(9, 2)
    assert {r.tobytes() for r in D} == {r.tobytes() for r in enumerate_patterns(B)}


def test_degenerate_data_duplicates_and_collinear_points():
    rng = np.random.default_rng(3)
    X = np.vstack([rng.uniform(-1, 1, (6, 2)), np.c_[np.linspace(-1, 1, 5), np.zeros(5)]])
    X = np.vstack([X, X[:2]])  # duplicate points
    Xb = add_bias(X, True)
    D = enumerate_patterns(Xb)
    S = sample_patterns(Xb, 300_000, seed=0)
    assert {r.tobytes() for r in S} <= {r.tobytes() for r in D}
    assert np.array_equal(D[:, -1], D[:, 1]) and np.array_equal(D[:, -2], D[:, 0])


def test_refuses_explosive_sizes_with_predicted_count():
    X = np.random.default_rng(0).standard_normal((400, 6))
    with pytest.raises(ValueError, match=r"about [\d,]+ patterns.*sample"):
        enumerate_patterns(X)


@pytest.mark.parametrize("bad, msg", [
    (np.zeros(5), "2-D"),
    (np.zeros((0, 2)), "at least one sample"),
    (np.array([[1.0, np.nan]]), "finite"),
])
def test_bad_input(bad, msg):
    with pytest.raises(ValueError, match=msg):
        enumerate_patterns(bad)


def test_sample_patterns_validation_and_symmetry():
    Xb = add_bias(np.random.default_rng(0).standard_normal((8, 2)), True)
    with pytest.raises(ValueError, match="positive integer"):
        sample_patterns(Xb, 0)
    S = sample_patterns(Xb, 5000, seed=3, symmetric=True)
    assert np.all(S[:, 0])  # canonical member of each {D, ~D} pair
    assert np.array_equal(canonical_symmetric(S), S)
    assert np.array_equal(sample_patterns(Xb, 500, seed=4), sample_patterns(Xb, 500, seed=4))
