"""Built-in data sets: seeded, in the box, both classes, general position; bad arguments."""
import numpy as np
import pytest

from cvx_core import add_bias, cover_count, enumerate_patterns
from cvx_core.datasets import DATASETS, load_dataset, make_dataset


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_properties(name):
    X, y = make_dataset(name, 40, noise=0.05, seed=3)
    X2, y2 = make_dataset(name, 40, noise=0.05, seed=3)
    np.testing.assert_array_equal(X, X2)
    assert X.shape[0] == y.shape[0] == 40 and np.all(np.abs(X) <= 1 + 1e-12)
    if name != "regression1d":
        assert set(np.unique(y)) == {-1.0, 1.0}
        assert enumerate_patterns(add_bias(X, True)).shape[0] == cover_count(40, 3)


def test_split_and_bad_arguments():
    d = load_dataset("moons", 50, test_fraction=0.2, seed=1)
    assert d.X.shape[0] == 40 and d.X_test.shape[0] == 10
    with pytest.raises(ValueError, match="data set"):
        make_dataset("swiss")
    with pytest.raises(ValueError, match="sample count"):
        make_dataset("xor", 1)
    with pytest.raises(ValueError, match="noise"):
        make_dataset("xor", 10, noise=-1)
    with pytest.raises(ValueError, match="test fraction"):
        load_dataset("xor", 10, test_fraction=1.5)
