"""Built-in CNN data (cvx_core.signals): shapes, labels, what each set is, and bad input."""
import numpy as np
import pytest

from cvx_core.signals import make_signals


def test_each_set_is_what_its_sentence_says():
    X, y = make_signals("bump", 8, 10, seed=1)
    assert X.shape == (8, 10) and list(y) == [1, 1, 1, 1, -1, -1, -1, -1]
    assert np.all(X.max(axis=1)[y > 0] == pytest.approx(1.0)) and np.all(X.min(axis=1)[y < 0] == pytest.approx(-1.0))
    X, y = make_signals("edge", 6, 9, seed=2)
    steps = np.diff(X, axis=1)
    assert np.all((steps >= 0) == (y[:, None] > 0) | (steps == 0))  # rising for +1, falling for -1
    X, y = make_signals("frequencies", 6, 16, seed=3)
    crossings = (np.diff(np.sign(X), axis=1) != 0).sum(axis=1)
    assert crossings[y > 0].max() < crossings[y < 0].min()  # one period against four
    X, y = make_signals("bars_crosses", 6, 5, seed=4)
    lit = (X > 0).sum(axis=(1, 2))
    assert X.shape == (6, 5, 5) and np.all(lit[y > 0] == 5) and np.all(lit[y < 0] == 9)


def test_noise_is_seeded():
    a, _ = make_signals("bump", 4, 6, noise=0.2, seed=7)
    b, _ = make_signals("bump", 4, 6, noise=0.2, seed=7)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kw, match", [
    (dict(name="waves"), "expected a data set in"),
    (dict(name="bump", n=1), "n as an integer in"),
    (dict(name="bump", length=3), r"length as an integer in \[4,"),
    (dict(name="bars_crosses", length=2), r"length as an integer in \[3,"),
    (dict(name="edge", noise=-1.0), "noise >= 0"),
])
def test_bad_input_is_named(kw, match):
    with pytest.raises(ValueError, match=match):
        make_signals(**kw)
