"""Adversarial sweep: the engine's fits and certificates against independent references.

Four parts (``--only`` runs some of them; the default runs all):

``plane``
    Many small 2-D data sets, most of them degenerate but legal (grids, duplicated, collinear
    and coincident points, points at the origin without bias, scales 1e-6 and 1e6, one sample,
    an all-zero X), plus some in general position, with scalar targets. For each data set,
    activation (relu, leaky, abs), loss (squared, logistic, hinge) and beta (fractions of the
    reference beta_max) the engine is compared with ``tests/reference.py``, which shares no
    code with ``cvx_core``.
``vector``
    Vector targets ``Y`` of shape (n, C), C in {2, 3} (squared: real values; logistic and
    hinge: each column +-1) on the 2-D data kinds grid, duplicate, collinear, general, one and
    two_identical. ``fit_convex`` splits Y into C independent programs, so the reference
    optimum (and its bracket) is the sum of the per-column reference optima over the same
    brute-force cells, and the reference beta_max the largest per-column one. Betas are
    fractions of that beta_max plus one between the smallest and largest per-column beta_max
    (some columns zero, the others not).
``highd``
    d in {3, 4, 6}, n in {20, 40}, data in general position, with duplicated rows, of rank 2
    embedded in d dimensions, and on an integer grid (ties, zero rows), with ``patterns=P``
    sampled (P in {50, 100}, ``seed``). The reference solves the program over the SAME patterns
    (``fit.patterns``, canonical for abs), betas are fractions of ``cvx_core.beta_max`` over
    those patterns, and ``certify`` is called with ``patterns=fit.patterns`` (the certificate
    is over the patterns used). Every sampled pattern must be a full-dimensional cell (an LP
    with a positive margin, :mod:`reference`). These fits route to the structured interior
    point (squared) or cvxpy/Clarabel (logistic, hinge); ``fit.solver`` and each column's
    ``fallback`` note are recorded.
``cnn``
    Two-layer CNNs (``cvx_core.cnn.fit_convex_cnn``) on the page's built-in signals and images,
    mostly noise-free (coincident patches: the images' background, repeated bumps) and tiny
    (two samples, filter size 1, stride 2, filters as long as the signal), with and without
    bias, every activation and loss, sum and mean pooling, beta 1e-3, 0.1 and 3. Patterns as
    the page chooses them (every cell up to 10 000, else 2 000 sampled directions). When the
    program has at most ``CNN_REF_MAX`` patterns it is solved again by
    ``tests/reference_cnn.py`` (cvxpy + Clarabel, written from the formula, the same patterns)
    for the OK / FALSE_OPTIMAL / LB_ABOVE / BELOW_REF labels; every fit is checked for its
    status, its ConvNet's objective (NET_MISMATCH) and ``certify_cnn`` of that network over
    the same patterns (CERTIFY_DISAGREE: gaps more than 1e-6 apart; CERTIFY_LB_ABOVE).
``cli``
    ``python -m cvx_core solve FILE --beta B [--loss L] [--activation A] [--no-bias]`` as a
    subprocess on CSV files of degenerate data (one row, two identical rows, a grid, duplicated
    rows, an all-zero X): exit status 0, one JSON object with ``objective``, ``gap`` and
    ``status`` on stdout, and the objective of ``fit_convex`` on the same data within 1e-9
    relative. Malformed input (text in a numeric column, a NaN, an inf, a single column, a
    ragged row, a numeric header, an empty file, a missing file, labels not +-1, beta <= 0)
    must give exit status 2 and a one-line message on stderr, without a traceback.

For each fit:

- ``cvx_core.beta_max`` against ``ref_beta_max`` over the same cells (plane, vector: the
  brute-force cells; highd: the sampled patterns);
- ``cvx_core.fit_convex`` (solver "auto") against the cvxpy/Clarabel optimum. The reference
  brackets the optimum: ``p_ref`` is the objective of its primal point projected onto the cones
  (a feasible point, so a true upper bound) and ``p_low`` a dual lower bound
  ``g(lambda / kappa)``;
- the fit's status against ``cvx_core.STATUSES`` ("optimal" exactly when gap <= 1e-6), its
  patterns against the brute-force cells, its network's objective against ``fit.objective``,
  the cone feasibility of ``fit.V`` / ``fit.W``, and ``cvx_core.certify(fit.network, ...)``'s
  gap against ``fit.gap``.

Labels (a fit can carry several; tolerance ``tol(p) = 1e-6 |p| + 1e-9``):

=================== ===================================================================
OK                  status "optimal", objective and lower bound <= p_ref + tol(p_ref)
FALSE_OPTIMAL       status "optimal" but objective > p_ref + tol(p_ref) (the worst bug)
LB_ABOVE            lower_bound > p_ref + tol(p_ref) (an invalid certificate)
BELOW_REF           objective < p_low - tol(p_low) (impossible: a miscomputed objective)
NOT_CERTIFIED       status is not "optimal"
STATUS_INVALID      status not in cvx_core.STATUSES, or "optimal" while gap > 1e-6, or not
                    "optimal" while gap <= 1e-6
FALLBACK            some column's solver fell back (``info["columns"][c]["fallback"]``; a note)
CRASH               fit_convex raised (or timed out)
PATTERN_MISMATCH    plane, vector: fit.patterns differ from the brute-force cells (as sets);
                    highd: from ``sample_patterns(Xb, P, seed)`` (canonical for abs)
PATTERN_INVALID     highd: a pattern of fit.patterns is not a full-dimensional cell, or repeats
NET_MISMATCH        fit.network.objective differs from fit.objective by > 1e-6 relative
INFEASIBLE          a block of fit.V / fit.W violates its cone by > 1e-9 (normalised)
CERTIFY_DISAGREE    |certify(fit.network).gap - fit.gap| > 1e-6 (CERTIFY_CRASH if it raised)
CERTIFY_LB_ABOVE    certify's lower bound > p_ref + tol(p_ref) (an invalid certificate)
BETA_MAX_MISMATCH   beta_max differs from the reference by > 1e-6 relative (one record per
                    data set, activation and loss, beta = None; BETA_MAX_CRASH if it raised)
CLI_FAIL            cli: wrong exit status, output, objective, or a traceback / multi-line error
REF_FAIL, REF_LOOSE the reference failed, or its bracket is wider than 1e-6 relative
=================== ===================================================================

Usage::

    PYTHONPATH=. python benchmarks/certification_sweep.py --quick                 # a few minutes
    PYTHONPATH=. python benchmarks/certification_sweep.py --out /tmp/sweep.json   # everything
    PYTHONPATH=. python benchmarks/certification_sweep.py --only plane --reps 4 --seed 1
    PYTHONPATH=. python benchmarks/certification_sweep.py --only vector,cli --md /tmp/s.md

``--out`` writes every record as JSON and the markdown summary to
``benchmarks/results/certification_sweep.md`` (or to ``--md`` when given; ``--md`` alone writes
only the summary). ``--reps`` replicates the data of the plane, vector and highd parts.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    # tiny problems, two workers: one BLAS thread each
    os.environ.setdefault(_var, "1")

import argparse
import json
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from reference import (  # noqa: E402
    MARGIN_TOL, RefProblem, _interior_point, _whiten, brute_patterns, ref_beta_max)

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("plane", "vector", "highd", "cnn", "cli")
#: activation -> (a, b); leaky uses the engine's default leak 0.1
ACTS = {"relu": (1.0, 0.0), "leaky": (1.0, 0.1), "abs": (1.0, -1.0)}
LOSSES = ("squared", "logistic", "hinge")
FRACTIONS = (2.0, 0.9, 0.5, 0.1, 1e-2, 1e-3, 1e-4)
QUICK_FRACTIONS = (0.9, 0.1, 1e-3)
VECTOR_FRACTIONS = (2.0, 0.5, 0.1, 1e-2, 1e-3)
QUICK_VECTOR_FRACTIONS = (0.5, 1e-2)
VECTOR_KINDS = ("grid", "duplicate", "collinear", "general", "one", "two_identical")
HIGHD_FRACTIONS = (0.5, 1e-1, 1e-2, 1e-3)
QUICK_HIGHD_FRACTIONS = (0.5, 1e-2)
REL = 1e-6
ABS = 1e-9
OPTIMAL_GAP = 1e-6  # "optimal" must mean a certified relative gap at most this
CLI_REL = 1e-9
FIT_TIMEOUT = 60  # seconds per engine call (signal.alarm in the worker)
CLI_TIMEOUT = 120  # seconds per CLI subprocess
FAIL_LABELS = ("FALSE_OPTIMAL", "LB_ABOVE", "BELOW_REF", "NOT_CERTIFIED", "STATUS_INVALID", "CRASH",
               "PATTERN_MISMATCH", "PATTERN_INVALID", "NET_MISMATCH", "INFEASIBLE", "CERTIFY_DISAGREE",
               "CERTIFY_LB_ABOVE", "CERTIFY_CRASH", "BETA_MAX_MISMATCH", "BETA_MAX_CRASH", "CLI_FAIL")
NOTE_LABELS = ("FALLBACK", "REF_FAIL", "REF_LOOSE")


# --------------------------------------------------------------------------- data
def _design(X: np.ndarray, bias: bool) -> np.ndarray:
    return np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X.copy()


def make_datasets(seed: int, quick: bool) -> list[dict]:
    """The 2-D data sets: dicts with name, kind, X (n, 2), bias, real targets and +-1 labels.

    Coordinates are rounded to 2 significant decimals so that reproducers print short.
    """
    rng = np.random.default_rng(seed)

    def unif(n):
        return np.round(rng.uniform(-1, 1, (n, 2)), 2)

    def grid(m, k):
        g = np.linspace(-1, 1, m)
        return np.array([(a, b) for a in g for b in g])[:k]

    def dup(n_distinct, reps):
        P = unif(n_distinct)
        return np.vstack([P, P[rng.integers(0, n_distinct, reps)]])

    def line(n, through_origin):
        t = np.round(rng.uniform(-1, 1, n), 2)
        d = np.round(rng.uniform(-1, 1, 2), 2)
        off = np.zeros(2) if through_origin else np.round(rng.uniform(-1, 1, 2), 2)
        return np.round(np.outer(t, d) + off, 4)

    spec = [  # (kind, X, bias)
        ("general", unif(3), True), ("general", unif(5), True), ("general", unif(8), True),
        ("general", unif(12), True), ("general", unif(6), False),
        ("grid", grid(2, 4), True), ("grid", grid(3, 5), True), ("grid", grid(3, 9), True),
        ("grid", grid(4, 7), True), ("grid", grid(4, 12), True), ("grid", grid(3, 9), False),
        ("duplicate", dup(3, 2), True), ("duplicate", dup(5, 3), True), ("duplicate", dup(4, 4), False),
        ("collinear", line(4, False), True), ("collinear", line(7, False), True), ("collinear", line(5, False), False),
        ("collinear_origin", line(4, True), True), ("collinear_origin", line(6, True), False),
        ("collinear_origin", np.vstack([line(4, True), [[0.0, 0.0]]]), False),
        ("coincident", np.tile(unif(1), (3, 1)), True), ("coincident", np.tile(unif(1), (5, 1)), False),
        ("origin", np.vstack([unif(4), [[0.0, 0.0]]]), False),
        ("origin", np.vstack([[[0.0, 0.0]], unif(3), [[0.0, 0.0]]]), False),
        ("tiny", np.round(1e-6 * unif(6), 8), True), ("tiny", np.round(1e-6 * unif(5), 8), False),
        ("huge", 1e6 * unif(6), True), ("huge", 1e6 * unif(5), False),
        ("one", unif(1), True), ("one", unif(1), False), ("one", np.zeros((1, 2)), True),
        ("two_identical", np.tile(unif(1), (2, 1)), True), ("two_identical", np.tile(unif(1), (2, 1)), False),
        ("rank0", np.zeros((3, 2)), False), ("rank0", np.zeros((1, 2)), False), ("rank0", np.zeros((3, 2)), True),
    ]
    out = []
    for j, (kind, X, bias) in enumerate(spec):
        n = X.shape[0]
        y_real = np.round(rng.standard_normal(n), 3)
        y_lab = rng.choice([-1.0, 1.0], n)
        if n >= 2 and np.all(y_lab == y_lab[0]) and rng.random() > 0.15:
            y_lab[rng.integers(n)] *= -1  # both classes, except now and then (one class is legal)
        out.append(dict(name=f"{kind}-{j}-n{n}-{'b' if bias else 'nob'}", kind=kind, X=X.astype(float),
                        bias=bool(bias), y_real=y_real, y_lab=y_lab))
    if quick:  # the largest data sets are left out (the quick sweep also has fewer betas)
        out = [ds for ds in out if ds["X"].shape[0] <= 9]
    return out


def make_vector_datasets(seed: int, quick: bool) -> list[dict]:
    """The 2-D data sets of :data:`VECTOR_KINDS` with targets of shape (n, C), C in {2, 3}.

    The targets come from their own generator (seed + 10 000), so the X of the plane part is
    reused with new targets. Label columns are +-1; one column in four is a single class.
    """
    rng = np.random.default_rng(seed + 10_000)
    out = []
    for j, ds in enumerate(ds for ds in make_datasets(seed, quick) if ds["kind"] in VECTOR_KINDS):
        n = ds["X"].shape[0]
        C = 2 + j % 2
        Y_real = np.round(rng.standard_normal((n, C)), 3)
        Y_lab = rng.choice([-1.0, 1.0], (n, C))
        for c in range(C):
            if n >= 2 and np.all(Y_lab[:, c] == Y_lab[0, c]) and rng.random() > 0.25:
                Y_lab[rng.integers(n), c] *= -1
        out.append(dict(ds, name=ds["name"] + f"-C{C}", y_real=Y_real, y_lab=Y_lab, C=C))
    return out


HIGHD_KINDS = ("general", "duplicate", "lowrank", "intgrid")


def make_highd_datasets(seed: int, quick: bool) -> list[dict]:
    """Data in d in {3, 4, 6} dimensions, n in {20, 40}, with sampled patterns (P, seed).

    Kinds: general (uniform, 2 decimals), duplicate (n/2 distinct rows, each twice, shuffled),
    lowrank (``A B`` with A (n, 2) uniform and B (2, d) small integers: rank 2 in d dimensions,
    up to rounding of the products), intgrid (integer coordinates in -2..2: repeated rows,
    collinear triples, zero rows). Each data set is run for two (activation, loss) pairs that
    rotate so that every pair meets every kind.
    """
    rng = np.random.default_rng(seed + 20_000)
    combos = [(act, loss) for loss in LOSSES for act in ACTS]
    out = []
    j = 0
    for kind in HIGHD_KINDS:
        for d in (3, 4, 6):
            for n in ((20,) if quick else (20, 40)):
                if kind == "general":
                    X = np.round(rng.uniform(-1, 1, (n, d)), 2)
                elif kind == "duplicate":
                    base = np.round(rng.uniform(-1, 1, (n // 2, d)), 2)
                    X = np.vstack([base, base])[rng.permutation(n)]
                elif kind == "lowrank":
                    A = np.round(rng.uniform(-1, 1, (n, 2)), 2)
                    B = rng.integers(-2, 3, (2, d)).astype(float)
                    while np.linalg.matrix_rank(B) < 2:
                        B = rng.integers(-2, 3, (2, d)).astype(float)
                    X = A @ B
                else:
                    X = rng.integers(-2, 3, (n, d)).astype(float)
                bias = (j + j // 6) % 3 != 2  # rotates: every d meets no bias (d = 3: the working set)
                P = (50, 100)[(j // 2) % 2]
                y_real = np.round(rng.standard_normal(n), 3)
                y_lab = rng.choice([-1.0, 1.0], n)
                pairs = [combos[(2 * j) % 9], combos[(2 * j + 1) % 9]]
                out.append(dict(name=f"hd-{kind}-d{d}-n{n}-P{P}-{'b' if bias else 'nob'}-s{seed}-{j}", kind=kind,
                                X=X, bias=bias, y_real=y_real, y_lab=y_lab, P=P, pseed=seed * 1000 + j, pairs=pairs,
                                d=d))
                j += 1
    return out


# --------------------------------------------------------------------------- helpers
class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Timeout(f"timed out after {FIT_TIMEOUT} s")


def _timed(fn, *args, **kw):
    """``fn(*args, **kw)`` under an alarm; returns (result, error message or None, seconds)."""
    t0 = time.perf_counter()
    signal.alarm(FIT_TIMEOUT)
    try:
        return fn(*args, **kw), None, time.perf_counter() - t0
    except Exception as exc:  # record (a timeout too), never stop the sweep
        return None, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0
    finally:
        signal.alarm(0)


def _fit_or_crash(rec: dict, records: list, *args, **kw):
    """``fit_convex(*args, **kw)`` timed into ``rec``; on an exception ``rec`` is labelled
    CRASH and recorded, and None is returned."""
    import cvx_core

    fit, err, rec["fit_time"] = _timed(cvx_core.fit_convex, *args, **kw)
    if err:
        rec["error"] = err
        rec["labels"].append("CRASH")
        records.append(rec)
    return fit


def _canon(D: np.ndarray, symmetric: bool) -> np.ndarray:
    D = np.asarray(D, dtype=bool)
    return np.where(D[:, :1], D, ~D) if symmetric else D


def _as_set(D: np.ndarray, symmetric: bool) -> set[bytes]:
    return {row.tobytes() for row in _canon(D, symmetric)}


def _cone_min(Xb: np.ndarray, D: np.ndarray, V: np.ndarray, W: np.ndarray) -> float:
    """min over nonzero blocks and nonzero rows of ``(2D_i - I) Xb v_i / (||v_i|| ||x_k||)``.

    ``V, W`` of shape (P, d) or (C, P, d) (every output column checked).
    """
    xn = np.linalg.norm(Xb, axis=1)
    rows = xn > 0
    worst = np.inf
    sgn = np.where(D, 1.0, -1.0)
    V3 = V[None] if V.ndim == 2 else V
    W3 = W[None] if W.ndim == 2 else W
    for M in list(V3) + list(W3):
        nm = np.linalg.norm(M, axis=1)
        live = nm > 0
        if live.any() and rows.any():
            sl = sgn[live][:, rows] * (M[live] @ Xb[rows].T) / (nm[live, None] * xn[None, rows])
            worst = min(worst, float(sl.min()))
    return worst


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def _above(x: float, p: float) -> bool:
    return x > p + REL * abs(p) + ABS


def _fallbacks(fit) -> list:
    return [c.get("fallback") for c in fit.info.get("columns", [])]


def _cell_margins(Xb: np.ndarray, D: np.ndarray) -> list[float]:
    """For each pattern, the normalised margin of the best interior point of its cell
    ``{u : (2 D_i - I) Xb u >= 0}`` (reference LP in whitened coordinates); a full-dimensional
    cell has margin > MARGIN_TOL. Zero rows must be True (0 >= 0), else the margin is -inf."""
    Q = _whiten(Xb)
    if Q.shape[1] == 0:
        return [np.inf if np.all(Di) else -np.inf for Di in D]
    norms = np.linalg.norm(Q, axis=1)
    nz = np.flatnonzero(norms > 0)
    Qn = np.zeros_like(Q)
    Qn[nz] = Q[nz] / norms[nz, None]
    out = []
    for Di in D:
        if not np.all(Di[norms == 0]):
            out.append(-np.inf)
            continue
        t, _ = _interior_point(Qn, [int(k) for k in nz], [1.0 if Di[k] else -1.0 for k in nz])
        out.append(float(t))
    return out


def _reference_labels(rec: dict, fit, claims: bool) -> None:
    """OK, FALSE_OPTIMAL and LB_ABOVE against the reference's upper end ``rec["p_ref"]``."""
    p = rec["p_ref"]
    rec["obj_rel"] = (fit.objective - p) / max(abs(p), 1e-300)
    if claims and not _above(fit.objective, p) and not _above(fit.lower_bound, p):
        rec["labels"].append("OK")
    if claims and _above(fit.objective, p):
        rec["labels"].append("FALSE_OPTIMAL")
    if _above(fit.lower_bound, p):
        rec["labels"].append("LB_ABOVE")


def _check_fit(rec: dict, fit, X, Y, beta, loss, sym, Xb, cert_kw) -> None:
    """The labels shared by all parts, given ``rec["p_ref"]`` / ``rec["p_low"]`` (or None)."""
    import cvx_core

    rec.update(status=fit.status, objective=fit.objective, lower_bound=fit.lower_bound, gap=fit.gap,
               solver=fit.solver, n_patterns=fit.n_patterns, n_neurons=fit.n_neurons,
               fallback=_fallbacks(fit),
               solver_status=[c.get("solver_status") for c in fit.info.get("columns", [])])
    claims = fit.status == "optimal"
    if fit.status not in cvx_core.STATUSES or claims != (fit.gap <= OPTIMAL_GAP):
        rec["labels"].append("STATUS_INVALID")
    if rec.get("p_ref") is not None:
        _reference_labels(rec, fit, claims)
        lo = rec["p_low"]
        if fit.objective < lo - REL * abs(lo) - ABS:
            rec["labels"].append("BELOW_REF")
    if not claims:
        rec["labels"].append("NOT_CERTIFIED")
    if any(rec["fallback"]):
        rec["labels"].append("FALLBACK")
    net_obj, err, _ = _timed(fit.network.objective, X, Y, beta, loss)
    if err or _rel(net_obj, fit.objective) > REL and abs(net_obj - fit.objective) > 1e-12:
        rec["labels"].append("NET_MISMATCH")
        rec["net_objective"] = net_obj if not err else err
    rec["cone_min"] = _cone_min(Xb, np.asarray(fit.patterns, bool), fit.V, fit.W)
    if rec["cone_min"] < -1e-9:
        rec["labels"].append("INFEASIBLE")
    cert, err, _ = _timed(cvx_core.certify, fit.network, X, Y, beta, loss=loss, **cert_kw)
    if err:
        rec["labels"].append("CERTIFY_CRASH")
        rec["certify_error"] = err
    else:
        rec["certify_gap"] = cert.gap
        rec["certify_lb"] = cert.lower_bound
        rec["certify_diff"] = abs(cert.gap - fit.gap)
        if rec["certify_diff"] > REL:
            rec["labels"].append("CERTIFY_DISAGREE")
        if rec.get("p_ref") is not None and _above(cert.lower_bound, rec["p_ref"]):
            rec["labels"].append("CERTIFY_LB_ABOVE")


def _ref_solve(rec: dict, probs: list, beta: float) -> None:
    """Sum of the reference brackets of the column problems ``probs`` into ``rec``."""
    try:
        t0 = time.perf_counter()
        sols = [prob.solve(beta) for prob in probs]
        up, lo = sum(s.upper for s in sols), sum(s.lower for s in sols)
        rec.update(p_ref=up, p_low=lo, p_raw=sum(s.value for s in sols),
                   ref_violation=max(s.violation for s in sols),
                   ref_status="; ".join(f"{s.solver}:{s.status}" for s in sols), ref_time=time.perf_counter() - t0)
        if (up - lo) / max(abs(up), 1e-300) > REL and up - lo > ABS:
            rec["labels"].append("REF_LOOSE")
    except Exception as exc:  # noqa: BLE001
        rec.update(p_ref=None, ref_error=f"{type(exc).__name__}: {exc}")
        rec["labels"].append("REF_FAIL")


def _beta_max_record(base, bm_ref, bm, err, **extra) -> dict:
    rec = dict(base, check="beta_max", beta=None, frac=None, beta_max_ref=bm_ref, beta_max=bm, error=err,
               labels=[], **extra)
    if err:
        rec["labels"].append("BETA_MAX_CRASH")
    else:
        rec["beta_max_rel"] = _rel(bm, bm_ref) if max(bm, bm_ref) > 1e-12 else abs(bm - bm_ref)
        if rec["beta_max_rel"] > REL:
            rec["labels"].append("BETA_MAX_MISMATCH")
    return rec


_BRUTE: dict = {}


def _brute(Xb: np.ndarray, sym: bool) -> np.ndarray:
    key = (Xb.tobytes(), Xb.shape, sym)
    if key not in _BRUTE:
        _BRUTE[key] = brute_patterns(Xb, symmetric=sym)
    return _BRUTE[key]


def _init_worker() -> None:
    warnings.simplefilter("ignore")
    signal.signal(signal.SIGALRM, _on_alarm)


# --------------------------------------------------------------------------- part: plane and vector
def run_group(ds: dict, act: str, loss: str, fractions, part: str = "plane") -> list[dict]:
    """Every check for one (data set, activation, loss): a beta_max record and one per beta.

    Scalar targets (part "plane") or vector targets of shape (n, C) (part "vector"): the
    reference is then the sum of the per-column references and its beta_max the largest.
    """
    import cvx_core

    _init_worker()
    X, bias = ds["X"], ds["bias"]
    Y = ds["y_real"] if loss == "squared" else ds["y_lab"]
    a, b = ACTS[act]
    sym = act == "abs"
    Xb = _design(X, bias)
    B = _brute(Xb, sym)
    cols = [Y] if Y.ndim == 1 else [Y[:, c] for c in range(Y.shape[1])]
    base = dict(part=part, name=ds["name"], kind=ds["kind"], n=int(X.shape[0]), d=int(X.shape[1]), bias=bias,
                activation=act, loss=loss, X=X.tolist(), y=Y.tolist(), n_brute=int(B.shape[0]),
                C=None if Y.ndim == 1 else int(Y.shape[1]))
    records = []

    bm_cols = [ref_beta_max(Xb, B, yc, a, b, loss) for yc in cols]
    bm_ref = max(bm_cols)
    bm, err, _ = _timed(cvx_core.beta_max, X, Y, activation=act, loss=loss, bias=bias)
    records.append(_beta_max_record(base, bm_ref, bm, err, beta_max_cols=bm_cols))

    betas = [(f, f * bm_ref) for f in fractions] if bm_ref > 0 else [(None, 1.0)]
    if Y.ndim == 2:  # a beta between the columns' beta_max: some columns zero, the others not
        lo, hi = min(bm_cols), max(bm_cols)
        if lo > 0 and hi > 1.05 * lo:
            betas.append(("mid", float(np.sqrt(lo * hi))))
        elif lo == 0 < hi:
            betas.append(("mid", 0.5 * hi))
    probs = None
    for frac, beta in betas:
        rec = dict(base, check="fit", beta=beta, frac=frac, beta_max_ref=bm_ref, labels=[])
        try:
            if probs is None:
                probs = [RefProblem(Xb, yc, B, a, b, loss) for yc in cols]
        except Exception as exc:  # noqa: BLE001
            probs = []
            rec.update(ref_error=f"{type(exc).__name__}: {exc}")
        if probs:
            _ref_solve(rec, probs, beta)
        else:
            rec.update(p_ref=None)
            rec["labels"].append("REF_FAIL")
        fit = _fit_or_crash(rec, records, X, Y, beta, activation=act, loss=loss, bias=bias)
        if fit is None:
            continue
        if _as_set(fit.patterns, sym) != _as_set(B, sym):
            rec["labels"].append("PATTERN_MISMATCH")
            eng, ref = _as_set(fit.patterns, sym), _as_set(B, sym)
            rec["patterns_missing"] = len(ref - eng)
            rec["patterns_extra"] = len(eng - ref)
        _check_fit(rec, fit, X, Y, beta, loss, sym, Xb, {})
        records.append(rec)
    return records


# --------------------------------------------------------------------------- part: highd
def run_highd_group(ds: dict, act: str, loss: str, fractions) -> list[dict]:
    """One (data set, activation, loss) of the highd part: sampled patterns, same-pattern reference."""
    import cvx_core

    _init_worker()
    X, bias, P, pseed = ds["X"], ds["bias"], ds["P"], ds["pseed"]
    y = ds["y_real"] if loss == "squared" else ds["y_lab"]
    a, b = ACTS[act]
    sym = act == "abs"
    Xb = _design(X, bias)
    base = dict(part="highd", name=ds["name"], kind=ds["kind"], n=int(X.shape[0]), d=int(X.shape[1]), bias=bias,
                activation=act, loss=loss, X=X.tolist(), y=y.tolist(), P=P, seed=pseed, C=None)
    records = []
    # the patterns fit_convex(patterns=P, seed=pseed) is documented to use
    D0, err, _ = _timed(cvx_core.sample_patterns, Xb, P, seed=pseed)
    if err:
        records.append(dict(base, check="beta_max", beta=None, frac=None, beta_max_ref=None, beta_max=None,
                            error=err, labels=["BETA_MAX_CRASH"]))
        return records
    D0 = np.unique(_canon(D0, sym), axis=0)
    bm_ref = ref_beta_max(Xb, D0, y, a, b, loss)
    bm, err, _ = _timed(cvx_core.beta_max, X, y, activation=act, loss=loss, bias=bias, patterns=D0)
    bm_int, err2, _ = _timed(cvx_core.beta_max, X, y, activation=act, loss=loss, bias=bias, patterns=P, seed=pseed)
    rec = _beta_max_record(base, bm_ref, bm, err, n_patterns=int(D0.shape[0]), beta_max_int=bm_int)
    if not err and (err2 or _rel(bm_int, bm) > REL):  # patterns=P, seed vs the same patterns as an array
        rec["labels"].append("BETA_MAX_MISMATCH")
        rec["error"] = err2 or f"beta_max(patterns={P}, seed={pseed}) = {bm_int!r} vs {bm!r} over those patterns"
    records.append(rec)
    scale = bm if (not err and bm and bm > 0) else bm_ref
    betas = [(f, f * scale) for f in fractions] if scale > 0 else [(None, 1.0)]

    probs: dict = {}
    cell_ok: dict = {}
    for frac, beta in betas:
        rec = dict(base, check="fit", beta=beta, frac=frac, beta_max_ref=bm_ref, labels=[])
        fit = _fit_or_crash(rec, records, X, y, beta, activation=act, loss=loss, bias=bias, patterns=P, seed=pseed)
        if fit is None:
            continue
        D = np.asarray(fit.patterns, bool)
        rec["routing"] = [c.get("routing") for c in fit.info.get("columns", [])]
        if _as_set(D, sym) != _as_set(D0, sym):
            rec["labels"].append("PATTERN_MISMATCH")
            eng, ref = _as_set(D, sym), _as_set(D0, sym)
            rec["patterns_missing"] = len(ref - eng)
            rec["patterns_extra"] = len(eng - ref)
        key = D.tobytes()
        if key not in cell_ok:
            bad = []
            if sym and not np.all(D[:, 0]):
                bad.append("not canonical (D[0] False)")
            if len({r.tobytes() for r in D}) != D.shape[0]:
                bad.append("repeated patterns")
            margins = _cell_margins(Xb, D)
            nbad = sum(1 for t in margins if not t > MARGIN_TOL)
            if nbad:
                bad.append(f"{nbad} of {D.shape[0]} patterns are not full-dimensional cells "
                           f"(smallest margin {min(margins):.3g})")
            cell_ok[key] = "; ".join(bad)
        if cell_ok[key]:
            rec["labels"].append("PATTERN_INVALID")
            rec["pattern_problem"] = cell_ok[key]
        if key not in probs:
            try:
                probs[key] = [RefProblem(Xb, y, D, a, b, loss)]
            except Exception as exc:  # noqa: BLE001
                probs[key] = []
                rec["ref_error"] = f"{type(exc).__name__}: {exc}"
        if probs[key]:
            _ref_solve(rec, probs[key], beta)
        else:
            rec["p_ref"] = None
            rec["labels"].append("REF_FAIL")
        _check_fit(rec, fit, X, y, beta, loss, sym, Xb, {"patterns": fit.patterns})
        records.append(rec)
    return records


# --------------------------------------------------------------------------- part: cnn
CNN_REF_MAX = 400  # patterns: the cvxpy reference of larger CNN programs takes minutes
CNN_BETAS = (1e-3, 0.1, 3.0)
QUICK_CNN_BETAS = (1e-3, 0.1)
#: (data, n, length, noise, filter size, stride, bias)
CNN_SHAPES = [(2, 4, 0.0, 1, 1, True), (2, 4, 0.0, 2, 1, False), (6, 6, 0.0, 2, 1, True), (6, 6, 0.0, 3, 2, True),
              (4, 5, 0.1, 1, 1, False), (8, 8, 0.0, 2, 2, True), (12, 8, 0.0, 2, 1, True), (5, 4, 0.3, 4, 1, True)]
CNN_MODELS = [("relu", "squared", "sum"), ("leaky", "logistic", "mean"), ("abs", "hinge", "sum"),
              ("relu", "logistic", "sum")]


def make_cnn_cases(seed: int, quick: bool) -> list[dict]:
    from cvx_core.signals import IMAGES, SIGNALS

    cases = []
    for data in SIGNALS + IMAGES:
        for n, length, noise, h, stride, bias in CNN_SHAPES[:5] if quick else CNN_SHAPES:
            if data in IMAGES and h > 3:
                continue
            cases.append(dict(name=f"{data}-n{n}-L{length}-h{h}-s{stride}{'' if bias else '-nobias'}-noise{noise:g}",
                              kind=data, data=data, n=n, length=length, noise=noise, h=h, stride=stride, bias=bias,
                              seed=seed + 3))
    return cases


def run_cnn_group(case: dict, act: str, loss: str, pooling: str, betas) -> list[dict]:
    """One (data, shape, activation, loss, pooling) of the cnn part."""
    from reference_cnn import cnn_reference

    import cvx_core
    from cvx_core.cnn import certify_cnn, fit_convex_cnn, patch_matrix
    from cvx_core.patterns import auto_choice
    from cvx_core.signals import make_signals

    _init_worker()
    X, y = make_signals(case["data"], case["n"], case["length"], noise=case["noise"], seed=case["seed"])
    a, b = ACTS[act]
    kw = dict(filter_size=case["h"], stride=case["stride"], bias=case["bias"], activation=act, loss=loss,
              pooling=pooling)
    patterns = auto_choice(patch_matrix(X, case["h"], case["stride"], case["bias"]), max_exact=10_000,
                           n_samples=2000)
    base = dict(part="cnn", name=case["name"], kind=case["kind"], n=case["n"], d=case["h"], bias=case["bias"],
                activation=act, loss=loss, pooling=pooling, patterns_arg=patterns, C=None, length=case["length"],
                noise=case["noise"], stride=case["stride"], seed=case["seed"])
    records = []
    for beta in betas:
        rec = dict(base, check="fit", beta=beta, frac=None, labels=[])
        fit, err, rec["fit_time"] = _timed(fit_convex_cnn, X, y, beta, patterns=patterns, **kw)
        if err:
            rec.update(error=err)
            rec["labels"].append("CRASH")
            records.append(rec)
            continue
        rec.update(status=fit.status, objective=fit.objective, lower_bound=fit.lower_bound, gap=fit.gap,
                   solver=fit.solver, n_patterns=fit.n_patterns, n_neurons=fit.n_neurons, fallback=[],
                   solver_status=[c.get("solver_status") for c in fit.info.get("columns", [])])
        claims = fit.status == "optimal"
        if fit.status not in cvx_core.STATUSES or claims != (fit.gap <= OPTIMAL_GAP):
            rec["labels"].append("STATUS_INVALID")
        if not claims:
            rec["labels"].append("NOT_CERTIFIED")
        if fit.n_patterns <= CNN_REF_MAX:
            try:
                p = cnn_reference(X, y, fit.patterns, beta, filter_size=case["h"], stride=case["stride"],
                                  pooling=pooling, a=a, b=b, loss=loss, bias=case["bias"])
                rec.update(p_ref=p, p_low=p)
                _reference_labels(rec, fit, claims)
                if fit.objective < p - REL * abs(p) - ABS:  # the reference gives a value, not a bracket:
                    rec["labels"].append("REF_LOOSE")  # a fit below it (its network agrees) means cvxpy stopped short
            except Exception as exc:  # noqa: BLE001
                rec.update(p_ref=None, ref_error=f"{type(exc).__name__}: {exc}")
                rec["labels"].append("REF_FAIL")
        else:
            rec["p_ref"] = None
        net_obj, err, _ = _timed(fit.network.objective, X, y, beta, loss=loss)
        if err or _rel(net_obj, fit.objective) > REL and abs(net_obj - fit.objective) > 1e-12:
            rec["labels"].append("NET_MISMATCH")
            rec["net_objective"] = net_obj if not err else err
        cert, err, _ = _timed(certify_cnn, fit.network, X, y, beta, loss=loss, patterns=fit.patterns)
        if err:
            rec["labels"].append("CERTIFY_CRASH")
            rec["certify_error"] = err
        else:
            rec.update(certify_gap=cert.gap, certify_lb=cert.lower_bound, certify_diff=abs(cert.gap - fit.gap))
            if claims and cert.gap > OPTIMAL_GAP + REL:
                rec["labels"].append("CERTIFY_DISAGREE")
            if rec.get("p_ref") is not None and _above(cert.lower_bound, rec["p_ref"]):
                rec["labels"].append("CERTIFY_LB_ABOVE")
        records.append(rec)
    return records


# --------------------------------------------------------------------------- part: cli
def make_cli_cases(seed: int) -> list[dict]:
    """Solve cases (degenerate data, a few losses / activations / betas) and malformed inputs."""
    rng = np.random.default_rng(seed + 30_000)
    g = np.linspace(-1, 1, 3)
    base = np.round(rng.uniform(-1, 1, (3, 2)), 2)
    data = [
        ("one", np.round(rng.uniform(-1, 1, (1, 2)), 2)),
        ("two_identical", np.tile(np.round(rng.uniform(-1, 1, (1, 2)), 2), (2, 1))),
        ("grid", np.array([(a, b) for a in g for b in g])),
        ("duplicate", np.vstack([base, base[[0, 2, 2]]])),
        ("rank0", np.zeros((3, 2))),
        ("one_feature", np.round(rng.uniform(-1, 1, (4, 1)), 2)),
    ]
    settings = [  # (loss, activation, bias, fraction of beta_max)
        ("squared", "relu", True, 0.3), ("squared", "relu", True, 2.0), ("logistic", "leaky", True, 0.1),
        ("hinge", "abs", False, 0.3), ("squared", "abs", False, 0.01), ("hinge", "relu", True, 0.01),
    ]
    cases = []
    for kind, X in data:
        n = X.shape[0]
        y_real = np.round(rng.standard_normal(n), 3)
        y_lab = rng.choice([-1.0, 1.0], n)
        for loss, act, bias, frac in settings:
            y = y_real if loss == "squared" else y_lab
            cases.append(dict(kind=kind, X=X.tolist(), y=y.tolist(), loss=loss, activation=act, bias=bias,
                              frac=frac, malformed=None))
    bad = [  # (what, csv text, extra args); every one must exit 2 with a one-line message
        ("text", "a,b,y\n0.1,0.2,1\n0.3,abc,2\n", []),
        ("nan", "a,b,y\n0.1,nan,1\n0.3,0.4,2\n", []),
        ("NaN_target", "a,b,y\n0.1,0.2,NaN\n", []),
        ("inf", "a,b,y\n0.1,inf,1\n", []),
        ("single_column", "y\n1\n2\n", []),
        ("ragged", "a,b,y\n0.1,0.2,1\n0.3,2\n", []),
        ("numeric_header", "1,2,3\n0.1,0.2,1\n", []),
        ("header_only", "a,b,y\n", []),
        ("empty", "", []),
        ("labels_not_pm1", "a,b,y\n0.1,0.2,0.5\n0.3,0.4,1\n", ["--loss", "logistic"]),
        ("beta_zero", "a,b,y\n0.1,0.2,0.5\n", ["--beta=0"]),
        ("beta_negative", "a,b,y\n0.1,0.2,0.5\n", ["--beta=-1"]),
        ("beta_nan", "a,b,y\n0.1,0.2,0.5\n", ["--beta=nan"]),
        ("missing_file", None, []),
        ("binary", b"\xff\xfe\x00a,b\x00\n\x80\x81", []),
    ]
    for what, text, extra in bad:
        cases.append(dict(kind="malformed", malformed=what, csv=text if not isinstance(text, bytes) else None,
                          csv_bytes=list(text) if isinstance(text, bytes) else None, extra=extra,
                          loss="-", activation="-", bias=None, frac=None))
    return cases


def _csv_text(X, y) -> str:
    cols = [f"x{j}" for j in range(len(X[0]))] + ["target"]
    return "\n".join([",".join(cols)] + [",".join(repr(float(v)) for v in list(r) + [t]) for r, t in zip(X, y)]) + "\n"


def run_cli_case(case: dict, tmpdir: str, j: int) -> list[dict]:
    """One CLI run (subprocess) and its checks."""
    import cvx_core

    _init_worker()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    rec = dict(part="cli", check="cli", name=f"cli-{case['kind']}-{case.get('malformed') or j}", kind=case["kind"],
               loss=case["loss"], activation=case["activation"], bias=case["bias"], frac=case["frac"], labels=[],
               malformed=case.get("malformed"))
    path = Path(tmpdir) / f"case{j}.csv"
    if case["malformed"]:
        rec.update(n=0, X=None, y=None, beta=None)
        if case["malformed"] == "missing_file":
            path = Path(tmpdir) / f"does_not_exist_{j}.csv"
            rec["csv"] = None
        elif case.get("csv_bytes") is not None:
            path.write_bytes(bytes(case["csv_bytes"]))
            rec["csv"] = repr(bytes(case["csv_bytes"]))
        else:
            path.write_text(case["csv"])
            rec["csv"] = case["csv"]
        args = ["solve", str(path)] + (["--beta", "0.1"] if not any(e.startswith("--beta") for e in case["extra"])
                                       else []) + case["extra"]
    else:
        X, y = np.array(case["X"], float), np.array(case["y"], float)
        a, b = ACTS[case["activation"]]
        bm, err, _ = _timed(cvx_core.beta_max, X, y, activation=case["activation"], loss=case["loss"],
                            bias=case["bias"])
        beta = float(case["frac"] * bm) if (not err and bm > 0) else 0.1
        text = _csv_text(X, y)
        path.write_text(text)
        rec.update(n=int(X.shape[0]), d=int(X.shape[1]), X=case["X"], y=case["y"], beta=beta, csv=text)
        args = ["solve", str(path), "--beta", repr(beta), "--loss", case["loss"], "--activation", case["activation"], "--json"]
        if not case["bias"]:
            args.append("--no-bias")
    cmd = [sys.executable, "-m", "cvx_core"] + args
    rec["args"] = args[2:]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT)
    except subprocess.TimeoutExpired:
        rec.update(returncode=None, cli_problem=f"timed out after {CLI_TIMEOUT} s")
        rec["labels"].append("CLI_FAIL")
        return [rec]
    rec["cli_time"] = time.perf_counter() - t0
    rec.update(returncode=proc.returncode, stdout=proc.stdout[-2000:], stderr=proc.stderr[-2000:])
    problems = []
    if case["malformed"]:
        err_lines = [l for l in proc.stderr.splitlines() if l.strip()]
        if proc.returncode != 2:
            problems.append(f"exit status {proc.returncode}, expected 2")
        if "Traceback" in proc.stderr:
            problems.append("traceback on stderr")
        if len(err_lines) != 1:
            problems.append(f"{len(err_lines)} lines on stderr, expected 1")
        if proc.stdout.strip():
            problems.append("output on stdout")
    else:
        if proc.returncode != 0:
            problems.append(f"exit status {proc.returncode}: {proc.stderr.strip()[-300:]}")
        else:
            try:
                out = json.loads(proc.stdout)
            except ValueError as exc:
                out = None
                problems.append(f"stdout is not one JSON object ({exc})")
            if out is not None:
                missing = [k for k in ("objective", "gap", "status") if k not in out]
                if missing:
                    problems.append(f"JSON lacks {missing}")
                else:
                    rec.update(cli_objective=out["objective"], cli_gap=out["gap"], cli_status=out["status"])
                    if out["status"] not in cvx_core.STATUSES:
                        problems.append(f"status {out['status']!r} not in STATUSES")
                    elif (out["status"] == "optimal") != (out["gap"] <= OPTIMAL_GAP):
                        problems.append(f"status {out['status']!r} with gap {out['gap']!r}")
                    fit, err, _ = _timed(cvx_core.fit_convex, X, y, beta, activation=case["activation"],
                                         loss=case["loss"], bias=case["bias"])
                    if err:
                        problems.append(f"fit_convex raised in-process: {err}")
                    else:
                        rec.update(objective=fit.objective, status=fit.status, gap=fit.gap)
                        rec["cli_rel"] = _rel(out["objective"], fit.objective) if fit.objective else abs(out["objective"])
                        if rec["cli_rel"] > CLI_REL:
                            problems.append(f"objective {out['objective']!r} vs fit_convex {fit.objective!r}")
                        if out["status"] != fit.status:
                            problems.append(f"status {out['status']!r} vs fit_convex {fit.status!r}")
    if problems:
        rec["labels"].append("CLI_FAIL")
        rec["cli_problem"] = "; ".join(problems)
    else:
        rec["labels"].append("OK")
    return [rec]


# --------------------------------------------------------------------------- report
def _literal(r: dict) -> str:
    if r["part"] == "cli":
        return f"dict(csv={r.get('csv')!r}, args={r.get('args')!r})"
    if r["part"] == "cnn":  # the data are the built-in generator's: its arguments reproduce them
        return (f"make_signals{r['kind'], r['n'], r['length'], r['noise']} seed={r['seed']}; fit_convex_cnn(X, y, "
                f"{r['beta']!r}, filter_size={r['d']}, stride={r['stride']}, bias={r['bias']}, "
                f"activation={r['activation']!r}, loss={r['loss']!r}, pooling={r['pooling']!r}, "
                f"patterns={r['patterns_arg']!r})")
    extra = f", patterns={r['P']!r}, seed={r['seed']!r}" if r["part"] == "highd" else ""
    return (f"dict(X={r['X']!r}, y={r['y']!r}, activation={r['activation']!r}, loss={r['loss']!r}, "
            f"bias={r['bias']!r}, beta={r['beta']!r}{extra})")


def _detail(r: dict, label: str) -> str:
    if label in ("CRASH",):
        return r.get("error", "")[:200]
    if label == "CLI_FAIL":
        return (r.get("cli_problem") or "")[:300]
    if label == "CERTIFY_CRASH":
        return r.get("certify_error", "")[:200]
    if label.startswith("BETA_MAX"):
        return f"engine {r.get('beta_max')!r} vs ref {r['beta_max_ref']!r}" + (f"; {r['error'][:150]}" if r.get("error") else "")
    if label == "REF_FAIL":
        return r.get("ref_error", "")[:200]
    if label == "PATTERN_MISMATCH":
        return (f"engine {r.get('n_patterns')} vs ref {r.get('n_brute', '')} "
                f"(missing {r.get('patterns_missing')}, extra {r.get('patterns_extra')})")
    if label == "PATTERN_INVALID":
        return r.get("pattern_problem", "")
    parts = [f"status={r.get('status')!r}", f"obj={r.get('objective')!r}", f"p_ref={r.get('p_ref')!r}",
             f"lb={r.get('lower_bound')!r}", f"gap={r.get('gap')!r}", f"frac={r.get('frac')}",
             f"solver={r.get('solver')!r}"]
    if label == "CERTIFY_DISAGREE":
        parts.append(f"certify_gap={r.get('certify_gap')!r}")
    if label == "INFEASIBLE":
        parts.append(f"cone_min={r.get('cone_min')!r}")
    if label == "NET_MISMATCH":
        parts.append(f"net_obj={r.get('net_objective')!r}")
    if label in ("FALLBACK", "NOT_CERTIFIED"):
        parts.append(f"fallback={[f for f in r.get('fallback') or [] if f]!r}"[:300])
        parts.append(f"solver_status={r.get('solver_status')!r}")
    return ", ".join(parts)


def _label_table(lines: list, rs: list[dict], dims=("kind", "loss")) -> None:
    labels = [l for l in ("OK",) + FAIL_LABELS + NOTE_LABELS if any(l in r["labels"] for r in rs)]
    lines.append("| group | records | " + " | ".join(labels) + " |")
    lines.append("|---|---:|" + "---:|" * len(labels))
    for dim in dims:
        for k in sorted({str(r.get(dim)) for r in rs}):
            sub = [r for r in rs if str(r.get(dim)) == k]
            cnt = Counter(l for r in sub for l in r["labels"])
            lines.append(f"| {dim}={k} | {len(sub)} | " + " | ".join(str(cnt.get(l, 0) or "") for l in labels) + " |")
    cnt = Counter(l for r in rs for l in r["labels"])
    lines.append(f"| **total** | {len(rs)} | " + " | ".join(str(cnt.get(l, 0)) for l in labels) + " |")
    lines.append("")


def summarise(records: list[dict], elapsed: float, n_repro: int = 20, part_times: dict | None = None) -> str:
    lines = ["# Certification sweep", ""]
    fits = [r for r in records if r["check"] in ("fit", "cli")]
    clean = sum(1 for r in fits if not set(r["labels"]) & set(FAIL_LABELS))
    lines.append(f"{len(records)} records ({len(fits)} fits or CLI runs) in {elapsed:.0f} s; "
                 f"without any failure label: {clean} / {len(fits)}.")
    lines.append("")
    lines.append("| part | records | fits | beta_max checks | data sets | with failures | worker time (s) |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    parts = [p for p in PARTS if any(r["part"] == p for r in records)]
    for p in parts:
        rs = [r for r in records if r["part"] == p]
        nf = sum(1 for r in rs if r["check"] in ("fit", "cli"))
        nb = sum(1 for r in rs if r["check"] == "beta_max")
        bad = sum(1 for r in rs if set(r["labels"]) & set(FAIL_LABELS))
        pt = (part_times or {}).get(p)
        lines.append(f"| {p} | {len(rs)} | {nf} | {nb} | {len({r['name'] for r in rs})} | {bad} | "
                     f"{'' if pt is None else f'{pt:.0f}'} |")
    lines.append("")
    lines.append("(beta_max records carry only the BETA_MAX_* labels; every other label is per fit or CLI run. "
                 "Worker time is summed over the workers.)")
    lines.append("")

    def worst(title, rs, value):
        vals = [(value(r), r) for r in rs]
        vals = [(v, r) for v, r in vals if v is not None and np.isfinite(v)]
        if not vals:
            lines.append(f"- {title}: n/a")
            return
        v, r = max(vals, key=lambda t: t[0])
        lines.append(f"- {title}: {v:.3g} ({r['name']}, {r['activation']}, {r['loss']}, frac={r.get('frac')})")

    for p in parts:
        rs = [r for r in records if r["part"] == p]
        lines.append(f"## Part `{p}`")
        lines.append("")
        _label_table(lines, rs, ("kind", "loss", "activation") if p != "cli" else ("kind", "loss"))
        pf = [r for r in rs if r["check"] == "fit"]
        groups = [r for r in rs if r["check"] == "beta_max"]
        lines.append(f"Worst differences ({p}):")
        lines.append("")
        if p == "cli":
            worst("CLI objective vs fit_convex (relative)", rs, lambda r: r.get("cli_rel"))
            worst("CLI run time (s)", rs, lambda r: r.get("cli_time"))
        else:
            worst("objective above reference, (obj - p_ref) / |p_ref|", pf, lambda r: r.get("obj_rel"))
            worst("objective below reference, (p_ref - obj) / |p_ref|", pf,
                  lambda r: None if r.get("obj_rel") is None else -r["obj_rel"])
            worst("beta_max vs reference (relative)", groups, lambda r: r.get("beta_max_rel"))
            worst("certify gap vs fit gap (absolute)", pf, lambda r: r.get("certify_diff"))
            worst("fit gap", pf, lambda r: r.get("gap"))
            worst("cone violation of the fit (normalised)", pf,
                  lambda r: None if r.get("cone_min") is None else -r["cone_min"])
            worst("reference bracket (p_ref - p_low) / |p_ref|", pf,
                  lambda r: None if r.get("p_ref") is None else (r["p_ref"] - r["p_low"]) / max(abs(r["p_ref"]), 1e-300))
            worst("fit time (s)", pf, lambda r: r.get("fit_time"))
            if p == "highd":
                sol = Counter(r.get("solver") for r in pf)
                lines.append(f"- solvers: {dict(sol)}; fits with a fallback note: "
                             f"{sum(1 for r in pf if any(r.get('fallback') or []))}")
        lines.append("")
    lines.append("## Reproducers (smallest first)")
    for label in FAIL_LABELS + NOTE_LABELS:
        rs = [r for r in records if label in r["labels"]]
        if not rs:
            continue
        rs.sort(key=lambda r: (r.get("n") or 0, len(repr(r.get("X"))), repr(r.get("frac") or 0)))
        lines.append("")
        lines.append(f"### {label} ({len(rs)}: " + ", ".join(f"{p} {c}" for p, c in
                                                            sorted(Counter(r["part"] for r in rs).items())) + ")")
        lines.append("")
        for r in rs[:n_repro]:
            lines.append(f"- `{_literal(r)}`  ")
            lines.append(f"  {r['part']}/{r['kind']}: {_detail(r, label)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main
def _parse_only(values) -> list[str]:
    if not values:
        return list(PARTS)
    out = []
    for v in values:
        for p in v.split(","):
            p = p.strip()
            if not p:
                continue
            if p not in PARTS:
                raise argparse.ArgumentTypeError(f"expected parts among {PARTS}, got {p!r}")
            if p not in out:
                out.append(p)
    return [p for p in PARTS if p in out]


def _run_task(kind: str, *args):
    """Worker entry: returns (part, records, seconds)."""
    t0 = time.perf_counter()
    if kind == "plane":
        recs = run_group(*args, part="plane")
    elif kind == "vector":
        recs = run_group(*args, part="vector")
    elif kind == "highd":
        recs = run_highd_group(*args)
    elif kind == "cnn":
        recs = run_cnn_group(*args)
    else:
        recs = run_cli_case(*args)
    return kind, recs, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small data sets and fewer betas (a few minutes on 2 cores)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reps", type=int, default=1, help="data-set replicates (seeds seed, seed + 1, ...)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", action="append", metavar="{plane,vector,highd,cnn,cli}",
                    help="run only these parts (repeatable or a comma list; default: all)")
    ap.add_argument("--out", type=Path, help="write every record as JSON here (and the markdown summary)")
    ap.add_argument("--md", type=Path, default=None,
                    help="markdown summary (default with --out: benchmarks/results/certification_sweep.md)")
    args = ap.parse_args(argv)
    try:
        parts = _parse_only(args.only)
    except argparse.ArgumentTypeError as exc:
        ap.error(str(exc))
    cmdline = "PYTHONPATH=. python benchmarks/certification_sweep.py" + (
        "" if not (sys.argv[1:] if argv is None else argv) else " " + shlex.join(sys.argv[1:] if argv is None else argv))
    warnings.simplefilter("ignore")

    tasks = []  # (kind, args); the slow highd groups first
    seeds = [args.seed + rep for rep in range(args.reps)]
    suffix = (lambda s: f"-s{s}") if args.reps > 1 else (lambda s: "")
    if "highd" in parts:
        fr = QUICK_HIGHD_FRACTIONS if args.quick else HIGHD_FRACTIONS
        for s in seeds:
            for ds in make_highd_datasets(s, args.quick):
                for act, loss in ds["pairs"]:
                    tasks.append(("highd", (ds, act, loss, fr)))
    if "vector" in parts:
        fr = QUICK_VECTOR_FRACTIONS if args.quick else VECTOR_FRACTIONS
        for s in seeds:
            for ds in make_vector_datasets(s, args.quick):
                ds = dict(ds, name=ds["name"] + suffix(s))
                tasks += [("vector", (ds, act, loss, fr)) for act in ACTS for loss in LOSSES]
    if "plane" in parts:
        fr = QUICK_FRACTIONS if args.quick else FRACTIONS
        for s in seeds:
            for ds in make_datasets(s, args.quick):
                ds = dict(ds, name=ds["name"] + suffix(s))
                tasks += [("plane", (ds, act, loss, fr)) for act in ACTS for loss in LOSSES]
    if "cnn" in parts:
        betas = QUICK_CNN_BETAS if args.quick else CNN_BETAS
        for s in seeds:
            for case in make_cnn_cases(s, args.quick):
                case = dict(case, name=case["name"] + suffix(s))
                tasks += [("cnn", (case, act, loss, pool, betas)) for act, loss, pool in CNN_MODELS]
    tmp = tempfile.TemporaryDirectory(prefix="cert_sweep_cli_")
    if "cli" in parts:
        tasks += [("cli", (case, tmp.name, j)) for j, case in enumerate(make_cli_cases(args.seed))]
    print(f"parts {parts}: {Counter(k for k, _ in tasks)} task groups", file=sys.stderr)

    t0 = time.perf_counter()
    records: list[dict] = []
    part_times: Counter = Counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futs = {pool.submit(_run_task, kind, *targs): (kind, targs) for kind, targs in tasks}
        for j, fut in enumerate(as_completed(futs), 1):
            try:
                kind, recs, dt = fut.result()
                records.extend(recs)
                part_times[kind] += dt
            except Exception as exc:  # noqa: BLE001 - a broken worker must not stop the sweep
                kind, targs = futs[fut]
                print(f"{kind} task {str(targs)[:120]} failed: {exc!r}", file=sys.stderr)
            if j % 20 == 0 or j == len(tasks):
                bad = sum(1 for r in records if set(r["labels"]) & set(FAIL_LABELS))
                print(f"[{time.perf_counter() - t0:6.0f} s] {j}/{len(tasks)} tasks, {len(records)} records, "
                      f"{bad} with failures", file=sys.stderr)
    tmp.cleanup()
    order = {p: i for i, p in enumerate(PARTS)}
    records.sort(key=lambda r: (order[r["part"]], r["name"], str(r.get("activation")), str(r.get("loss")),
                                r.get("beta") is not None, -(r["frac"] if isinstance(r.get("frac"), float) else 0)))
    text = summarise(records, time.perf_counter() - t0, part_times=dict(part_times))
    print(text)
    md = args.md if args.md is not None else (ROOT / "benchmarks" / "results" / "certification_sweep.md"
                                              if args.out else None)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(records, indent=1, default=float))
    if md is not None:
        md.parent.mkdir(parents=True, exist_ok=True)
        md.write_text(f"Generated by `{cmdline}`.\n\n" + text)
    if args.out or md is not None:
        print(f"wrote {', '.join(str(p) for p in (args.out, md) if p is not None)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
