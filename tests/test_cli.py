"""python -m cvx_core solve: JSON output and one-line errors with exit status 2."""
import json
import subprocess
import sys

import numpy as np
import pytest

from cvx_core import fit_convex


def run(*args):
    return subprocess.run([sys.executable, "-m", "cvx_core", *args], capture_output=True, text=True)


@pytest.fixture
def csv_file(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (10, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    p = tmp_path / "d.csv"
    p.write_text("x1,x2,label\n" + "\n".join(f"{a},{b},{c}" for (a, b), c in zip(X, y)) + "\n")
    return p, X, y


def test_solve_json_matches_engine(csv_file):
    p, X, y = csv_file
    out = run("solve", str(p), "--beta", "0.05", "--json")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    for key in ("objective", "lower_bound", "gap", "certificate", "n_patterns", "n_neurons", "solve_time_s", "status"):
        assert key in obj
    f = fit_convex(X, y, 0.05)
    assert obj["objective"] == pytest.approx(f.objective, rel=1e-9)
    assert obj["n_patterns"] == f.n_patterns


def test_default_output_is_a_summary_with_the_status(csv_file):
    p, X, y = csv_file
    out = run("solve", str(p), "--beta", "0.05")
    assert out.returncode == 0, out.stderr
    f = fit_convex(X, y, 0.05)
    lines = dict(line.split(None, 1) for line in out.stdout.strip().splitlines())
    assert lines["status"].startswith(f.status + " (")
    assert float(lines["objective"]) == pytest.approx(f.objective, rel=1e-9)


def test_options(csv_file):
    p, X, y = csv_file
    out = run("solve", str(p), "--beta", "0.05", "--activation", "abs", "--loss", "hinge", "--no-bias",
              "--patterns", "40", "--seed", "3", "--json")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    f = fit_convex(X, y, 0.05, activation="abs", loss="hinge", bias=False, patterns=40, seed=3)
    assert obj["objective"] == pytest.approx(f.objective, rel=1e-6)
    assert obj["exact_patterns"] is False


@pytest.mark.parametrize("content, msg", [
    ("", "empty"),
    ("1,2,3\n4,5,6\n", "header"),
    ("a,b,c\n1,2\n", "expected 3 columns"),
    ("a,b,c\n1,x,3\n", "expected numbers, got 'x'"),
    ("a,b,c\n1,nan,3\n", "finite"),
    ("a,b,c\n", "data rows"),
])
def test_bad_files_one_line_error_exit_2(tmp_path, content, msg):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    out = run("solve", str(p), "--beta", "0.1", "--json")
    assert out.returncode == 2
    assert msg in out.stderr and out.stderr.count("\n") == 1 and out.stdout == ""


def test_missing_file_and_bad_beta(tmp_path, csv_file):
    out = run("solve", str(tmp_path / "nope.csv"), "--beta", "0.1")
    assert out.returncode == 2 and "cannot read" in out.stderr
    out = run("solve", str(csv_file[0]), "--beta", "-1")
    assert out.returncode == 2 and "beta > 0" in out.stderr
    out = run("solve", str(csv_file[0]), "--beta", "0.1", "--patterns", "many")
    assert out.returncode == 2 and "exact" in out.stderr


def test_pattern_search_from_the_command_line(tmp_path):
    """--patterns search: the JSON carries what the search did, the summary what it means, and
    the objective is the engine's."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 5))
    y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    p = tmp_path / "hd.csv"
    p.write_text("a,b,c,d,e,label\n" + "\n".join(",".join(map(str, [*x, t])) for x, t in zip(X, y)) + "\n")
    out = run("solve", str(p), "--beta", "0.5", "--loss", "logistic", "--patterns", "search", "--json")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    f = fit_convex(X, y, 0.5, loss="logistic", patterns="search")
    assert obj["objective"] == pytest.approx(f.objective, rel=1e-9)
    assert obj["pattern_search"]["patterns"] == obj["n_patterns"] and not obj["exact_patterns"]
    text = run("solve", str(p), "--beta", "0.5", "--loss", "logistic", "--patterns", "search").stdout
    assert "sampled, then searched" in text and "certified over the patterns found" in text
    bad = run("solve", str(p), "--beta", "0.5", "--patterns", "everything")
    assert bad.returncode == 2 and "'exact', 'auto', 'search' or a positive integer" in bad.stderr


def _write(path, X, y):
    path.write_text(",".join(f"x{j}" for j in range(X.shape[1])) + ",y\n"
                    + "\n".join(",".join(repr(float(v)) for v in [*r, t]) for r, t in zip(X, y)) + "\n")
    return path


def test_solve_cnn_signals_and_images_match_the_engine(tmp_path):
    from cvx_core.cnn import fit_convex_cnn
    from cvx_core.signals import make_signals

    X, y = make_signals("bump", 6, 6, noise=0.1, seed=1)
    out = run("solve-cnn", str(_write(tmp_path / "s.csv", X, y)), "--beta", "0.1", "--filter-size", "2",
              "--loss", "logistic", "--json")
    assert out.returncode == 0, out.stderr
    obj, f = json.loads(out.stdout), fit_convex_cnn(X, y, 0.1, filter_size=2, loss="logistic")
    assert obj["objective"] == pytest.approx(f.objective, rel=1e-9) and obj["n_patches"] == 5 == f.info["n_patches"]
    assert obj["status"] == "optimal" and obj["filter_size"] == 2 and obj["pooling"] == "sum"

    I, t = make_signals("bars_crosses", 4, 4, noise=0.1, seed=2)  # 4 x 4 images
    out = run("solve-cnn", str(_write(tmp_path / "i.csv", I.reshape(4, -1), t)), "--beta", "0.1", "--filter-size",
              "2", "--stride", "2", "--pooling", "mean", "--image-side", "4")
    assert out.returncode == 0, out.stderr
    f = fit_convex_cnn(I, t, 0.1, filter_size=2, stride=2, pooling="mean")
    assert f"objective   {f.objective:.10g}" in out.stdout and "filters" in out.stdout


@pytest.mark.parametrize("extra, message", [
    (["--filter-size", "9"], "at least filter_size = 9"),
    (["--filter-size", "2", "--image-side", "3"], "expects 9 feature columns per row, got 6"),
    (["--filter-size", "2", "--patterns", "search"], "'exact' or a positive integer for a CNN"),
])
def test_solve_cnn_bad_input_is_one_line_and_exit_2(tmp_path, extra, message):
    X = np.arange(24, dtype=float).reshape(4, 6) % 5
    out = run("solve-cnn", str(_write(tmp_path / "s.csv", X, np.array([1.0, -1, 1, -1]))), "--beta", "0.1", *extra)
    assert out.returncode == 2 and message in out.stderr
