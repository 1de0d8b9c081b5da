"""CSV parsing/validation, point edits and their URL encoding, data assembly (pages.common.data.table)."""
import numpy as np
import pytest

from cvx_core.datasets import load_dataset
from pages.common.data import table as data_io
from pages.common.data.table import compose, decode_points, encode_points, parse_csv, to_csv


def _csv(text: str) -> bytes:
    return text.encode()


def test_classification_csv_maps_two_labels_to_pm1():
    t = parse_csv(_csv("a,b,cls\n0,0,cat\n1,0,dog\n0,1,cat\n"), "pets.csv")
    assert t.task == "classification" and t.X.shape == (3, 2)
    assert t.label_map == {"cat": -1, "dog": 1}
    np.testing.assert_array_equal(t.y, [-1, 1, -1])
    assert t.columns == ("a", "b", "cls") and len(t.sha) == 64


def test_zero_one_labels_keep_their_meaning_and_pm1_stays():
    t = parse_csv(_csv("x1,x2,y\n0,0,1\n1,0,0\n0,1,1\n"))
    np.testing.assert_array_equal(t.y, [1, -1, 1])
    t = parse_csv(_csv("x1;x2;y\n0;0;-1\n1;0;1\n0;1;-1\n"))  # semicolon delimiter
    np.testing.assert_array_equal(t.y, [-1, 1, -1])


def test_regression_csv_has_one_feature_and_real_targets():
    t = parse_csv(_csv("x,y\n0.5,1.25\n-0.5,2\n0.1,-3e-2\n"))
    assert t.task == "regression" and t.X.shape == (3, 1)
    np.testing.assert_allclose(t.y, [1.25, 2, -0.03])


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("\n  \n", "empty"),
    ("0.1,0.2,1\n0.3,0.4,-1\n0.5,0.1,1\n", "no header"),
    ("x1,x2,x3,label\n1,2,3,1\n", "got 4"),
    ("x\n1\n2\n3\n", "got 1"),
    ("x1,x2,label\n", "no data rows"),
    ("x1,x2,label\n0,0,1\n1,1\n2,2,1\n", "line 3 has 2 fields"),
    ("x1,x2,label\n0,0,1\n1,abc,-1\n2,2,1\n", "text in numeric column 'x2' at line 3"),
    ("x1,x2,label\n0,0,1\n1,nan,-1\n2,2,1\n", "NaN or inf"),
    ("x1,x2,label\n0,0,1\n1,inf,-1\n2,2,1\n", "NaN or inf"),
    ("x,y\n0,1\n1,NaN\n2,2\n", "NaN or inf"),
    ("x1,x2,label\n0,0,1\n1,1,1\n2,2,1\n", "only one class"),
    ("x1,x2,label\n0,0,a\n1,1,b\n2,2,c\n", "two classes"),
    ("x1,x2,label\n0,0,1\n1,1,-1\n0,0,1\n", "duplicate points: lines 2 and 4"),
    ("x1,x2,label\n0,0,1\n1,1,\n2,2,-1\n", "empty label"),
    ("x1,x2,label\n0,0,1\n1,1,-1\n", "at least 3"),
])
def test_malformed_csv_is_refused_with_a_message_naming_the_problem(text, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(")):
        parse_csv(_csv(text))


def test_binary_file_is_refused():
    with pytest.raises(ValueError, match="not text|binary"):
        parse_csv(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")


def test_100_mb_file_is_refused_before_parsing():
    big = b"x1,x2,label\n" + b"0" * 100_000_000
    with pytest.raises(ValueError, match=r"100\.0 MB; the limit is 2\.0 MB"):
        data_io.check_size(len(big))
    with pytest.raises(ValueError, match="limit"):
        parse_csv(big)


def test_too_many_rows_refused():
    rows = "\n".join(f"{i},{i % 7},{1 if i % 2 else -1}" for i in range(data_io.MAX_ROWS + 1))
    with pytest.raises(ValueError, match="data rows; the limit"):
        parse_csv(_csv("x1,x2,label\n" + rows))


def test_csv_round_trip_is_exact():
    d = load_dataset("moons", 17, 0.1, 3)
    t = parse_csv(to_csv(d.X, d.y).encode())
    np.testing.assert_array_equal(t.X, d.X)
    np.testing.assert_array_equal(t.y, d.y)
    r = load_dataset("regression1d", 9, 0.1, 1)
    t = parse_csv(to_csv(r.X, r.y).encode())
    assert t.task == "regression"
    np.testing.assert_array_equal(t.y, r.y)


def test_points_encoding_round_trip_and_rejects_garbage():
    pts = [(0.123456789, -1.5, 1.0), (2.0, 3.25e-7, -1.0)]
    back = decode_points(encode_points(pts))
    np.testing.assert_allclose(back, pts, rtol=1e-5)
    for bad in ("1,2", "1,2,3", "a,b,1", "1,2,1;", "nan,1,1"):
        with pytest.raises(ValueError):
            decode_points(bad, 3)
    assert decode_points("") == []
    with pytest.raises(ValueError):
        data_io.decode_indices("1,-2")


def test_compose_edits_and_origin_track_rows():
    d = load_dataset("xor", 10, 0.0, 0, 0.2)
    added = [(0.5, 0.5, 1.0), (-0.25, 0.75, -1.0)]
    u = compose("xor", "classification", d.X, d.y, test=0, seed=0, rescale=False, dropped=[1, 3, 99],
                added=added, split=False, X_test=d.X_test, y_test=d.y_test)
    n = len(d.y)
    assert u.X.shape[0] == n - 2 + 2  # index 99 is out of range and ignored
    np.testing.assert_array_equal(u.X[-2:], [[0.5, 0.5], [-0.25, 0.75]])
    np.testing.assert_array_equal(u.y[-2:], [1, -1])
    np.testing.assert_array_equal(u.X_test, d.X_test)  # added points never go to the test set
    keep = [i for i in range(n) if i not in (1, 3)]
    np.testing.assert_array_equal(u.origin, keep + [-1, -2])
    np.testing.assert_array_equal(u.X[: n - 2], d.X[keep])
    assert u.task == "classification"


def test_rescaling_is_explicit_and_reversible():
    rng = np.random.default_rng(0)
    X = rng.normal([100.0, -5.0], [20.0, 0.01], size=(12, 2))
    y = np.where(X[:, 0] > 100, 1.0, -1.0)
    u = compose("up", "classification", X, y, test=0.25, seed=1, rescale=True, dropped=[], added=[(110.0, -5.0, 1.0)])
    allX = np.vstack([u.X, u.X_test])
    assert allX[:-1].min() >= -1 - 1e-12 and allX.max() <= 1 + 1e-12
    # the inverse map gives back the file's units exactly (up to rounding)
    back = u.to_raw(allX)
    np.testing.assert_allclose(np.sort(back[:, 0]), np.sort(np.r_[X[:, 0], 110.0]), rtol=1e-12)
    np.testing.assert_allclose(u.to_display(u.to_raw(u.X)), u.X, atol=1e-12)
    v = compose("up", "classification", X, y, test=0.25, seed=1, rescale=False, dropped=[], added=[])
    np.testing.assert_allclose(np.sort(np.vstack([v.X, v.X_test])[:, 0]), np.sort(X[:, 0]))
    assert u.key != v.key


def test_content_hash_sees_any_change():
    X = np.arange(6.0).reshape(3, 2)
    y = np.array([1.0, -1.0, 1.0])
    h = data_io.content_hash(X, y)
    X2 = X.copy()
    X2[1, 1] += 1e-12
    assert data_io.content_hash(X2, y) != h
    assert data_io.content_hash(X, -y) != h
    assert data_io.content_hash(X.copy(), y.copy()) == h


def test_nearest():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, 0.5]])
    assert data_io.nearest(X, (0.9, 0.8)) == 1
    assert data_io.nearest(X, (-0.8, 0.4)) == 2
    assert data_io.nearest(np.empty((0, 2)), (0, 0)) == -1
