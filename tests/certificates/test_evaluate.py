"""The certified bound over a pattern list (cvx_core.certificates.evaluate)."""
import numpy as np
import pytest

from cvx_core import sample_patterns
from cvx_core.certificates.cells import cell_values
from cvx_core.certificates.evaluate import best_bound
from cvx_core.model import add_bias, make_activation, make_loss


@pytest.mark.parametrize("where", ["below", "above"])
def test_a_floor_at_beta_gives_the_same_bound_with_fewer_projections(where):
    """With ``floor = beta`` the cells below beta keep upper bounds, yet the bound is the exact
    one: kappa = max(1, cert / beta) is 1 whenever cert <= beta, and a maximum above beta is
    still projected exactly. Checked with every cell's exact value as the reference."""
    rng = np.random.default_rng(2)
    Xb = add_bias(rng.standard_normal((70, 9)), True)
    y = np.sign(Xb[:, 0] * Xb[:, 1] + 0.1)
    D = sample_patterns(Xb, 120, seed=1)
    act, loss = make_activation("relu"), make_loss("logistic")
    yhat = 0.3 * rng.standard_normal(70)
    lam = loss.clip_dual(loss.dual_variable(yhat, y), y)
    full = cell_values(Xb, D, lam, act, threshold=0.0)  # every cell exact
    assert full.exact.all()
    # every cell below beta, or a few above it
    beta = 1.2 * full.max if where == "below" else float(np.quantile(full.values, 0.995))
    exact = best_bound(Xb, y, D, beta, act, loss, yhat, [])
    floored = best_bound(Xb, y, D, beta, act, loss, yhat, [], floor=beta)
    assert floored.lower_bound == pytest.approx(exact.lower_bound, rel=1e-12)
    assert (floored.cert <= beta) == (where == "below")
    if where == "above":
        assert floored.cert == pytest.approx(full.max, rel=1e-10)
    lazy = cell_values(Xb, D, lam, act, threshold=beta, floor=beta)
    assert lazy.exact.sum() < full.exact.sum()  # cells below beta were not projected


def _priced_program(seed, monkeypatch):
    """A small logistic program, predictions, a second dual vector, and the list into which
    every ``cert_max`` call (one pricing over D) records its dual vector."""
    from cvx_core.certificates import evaluate

    rng = np.random.default_rng(seed)
    Xb = add_bias(rng.standard_normal((40, 5)), True)
    y = np.sign(Xb[:, 0] + 0.1)
    D = sample_patterns(Xb, 50, seed=0)
    act, loss, beta = make_activation("relu"), make_loss("logistic"), 0.5
    yhat = 0.2 * rng.standard_normal(40)
    other = loss.clip_dual(loss.dual_variable(0.5 * yhat, y), y)
    priced = []
    real = evaluate.cert_max
    monkeypatch.setattr(evaluate, "cert_max", lambda Xb, D, lam, *a: priced.append(lam) or real(Xb, D, lam, *a))
    return Xb, y, D, act, loss, beta, yhat, other, priced


def test_known_bounds_are_reused_and_new_ones_recorded(monkeypatch):
    """A dual vector whose bound is known is not priced again (the solver's own bound and the
    unpruned network's dual vector are usually the same), and a new one is recorded."""
    Xb, y, D, act, loss, beta, yhat, other, priced = _priced_program(3, monkeypatch)
    lam = loss.clip_dual(loss.dual_variable(yhat, y), y)
    known = {}
    first = best_bound(Xb, y, D, beta, act, loss, yhat, [other], known=known)
    assert len(priced) == 2 and set(known) == {lam.tobytes(), other.tobytes()}
    again = best_bound(Xb, y, D, beta, act, loss, yhat, [other], known=known)
    assert len(priced) == 2 and again is first
    fresh = best_bound(Xb, y, D, beta, act, loss, yhat, [other])
    assert len(priced) == 4 and fresh.lower_bound == first.lower_bound


def test_the_first_candidate_within_enough_ends_the_search(monkeypatch):
    """With ``enough`` the candidates after the first whose gap is within it are not priced
    (the recertification of a column over a vector target's union asks only for its own gap);
    a candidate outside it does not stop the search."""
    Xb, y, D, act, loss, beta, yhat, other, priced = _priced_program(4, monkeypatch)
    first = best_bound(Xb, y, D, beta, act, loss, yhat, [])
    obj = loss.value(yhat, y) + 1.0  # any value above the bound: the gap is known exactly
    gap = (obj - first.lower_bound) / abs(obj)
    priced.clear()
    best_bound(Xb, y, D, beta, act, loss, yhat, [other], objective=obj, enough=gap * 1.001)
    assert len(priced) == 1
    best_bound(Xb, y, D, beta, act, loss, yhat, [other], objective=obj, enough=gap * 0.999)
    assert len(priced) == 3
