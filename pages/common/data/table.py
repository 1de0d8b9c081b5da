"""Data tables: CSV parsing and validation, point edits and their compact URL encoding, assembly.

Pure functions (no streamlit), validated once here at the upload boundary.

A CSV holds a header row and either three columns ``x1, x2, label`` (classification: two
feature columns and a label column with exactly two classes, mapped to -1/+1) or two columns
``x, y`` (1-D regression: one feature column and a real target). The label column is the
last one. Every problem raises ``ValueError`` with a message that names it (the UI shows it
with ``st.error`` and keeps the previous data loaded).

Symbols as everywhere: ``X (n, d)`` features in raw units, ``y (n,)`` labels -1/+1 or real
targets.
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, field

import numpy as np

from cvx_core.datasets import Dataset, scale_to_box, train_test_split

#: Largest accepted file (checked before anything is parsed).
MAX_BYTES = 2_000_000
#: Largest accepted number of data rows.
MAX_ROWS = 5_000
#: Smallest accepted number of data rows.
MIN_ROWS = 3
#: Added points kept in the URL are rounded to this many significant digits.
URL_DIGITS = 10


@dataclass(frozen=True)
class TableData:
    """A validated data table.

    Attributes
    ----------
    name : str
        File name as uploaded.
    X : ndarray of shape (n, d)
        Features in the file's units (d = 2 for classification, 1 for regression).
    y : ndarray of shape (n,)
        Labels -1/+1 (classification) or real targets (regression).
    task : {"classification", "regression"}
    columns : tuple of str
        Header names, features first, label last.
    label_map : dict
        Original label text -> -1/+1 (empty for regression).
    sha : str
        SHA-256 of the file's bytes (hex): identifies the file in a shared link.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    task: str
    columns: tuple
    label_map: dict = field(default_factory=dict, compare=False)
    sha: str = ""

    @property
    def n(self) -> int:
        return int(self.X.shape[0])


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB"


def check_size(n_bytes: int) -> None:
    """Refuse a file before reading it: empty, or larger than :data:`MAX_BYTES`."""
    if n_bytes == 0:
        raise ValueError("the file is empty: expected a header row (e.g. x1,x2,label) and data rows")
    if n_bytes > MAX_BYTES:
        raise ValueError(
            f"the file is {_mb(n_bytes)}; the limit is {_mb(MAX_BYTES)} (at most {MAX_ROWS:,} rows). "
            "Subsample the data before uploading: exact convex training needs a few hundred points at most."
        )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def parse_csv(data: bytes, name: str = "data.csv") -> TableData:
    """Parse and validate an uploaded CSV file.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        The file's name (reported back, never opened).

    Returns
    -------
    TableData

    Raises
    ------
    ValueError
        Empty or too large file, not UTF-8 text, no header, wrong column count, rows of the
        wrong length, text in a numeric column, NaN/inf, fewer than :data:`MIN_ROWS` or more
        than :data:`MAX_ROWS` rows, a single class or more than two classes, duplicate points.
    """
    check_size(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("expected a UTF-8 text file (CSV); this file is not text") from None
    if "\x00" in text:
        raise ValueError("expected a UTF-8 text file (CSV); this file contains binary data")
    lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines()) if ln.strip()]
    if not lines:
        raise ValueError("the file is empty: expected a header row (e.g. x1,x2,label) and data rows")
    delim = _delimiter(lines[0][1])
    reader = csv.reader([ln for _, ln in lines], delimiter=delim)
    try:
        rows = [[c.strip() for c in r] for r in reader]
    except csv.Error as exc:
        raise ValueError(f"could not read the CSV: {exc}") from None
    header, body = rows[0], rows[1:]
    linenos = [ln for ln, _ in lines[1:]]
    if all(_is_number(c) for c in header if c) and any(header):
        raise ValueError(
            f"no header: the first row ({', '.join(header)}) is numbers; expected column names in the "
            "first row, e.g. x1,x2,label (classification) or x,y (1-D regression)"
        )
    ncol = len(header)
    if ncol not in (2, 3):
        raise ValueError(
            f"expected 3 columns (x1, x2, label) or 2 columns (x, y for 1-D regression), got {ncol}: "
            f"{', '.join(header) or '(empty header)'}"
        )
    if any(not c for c in header):
        raise ValueError(f"expected a name for every column in the header, got: {','.join(header)}")
    if not body:
        raise ValueError("the file has a header but no data rows")
    if len(body) > MAX_ROWS:
        raise ValueError(f"the file has {len(body):,} data rows; the limit is {MAX_ROWS:,}. Subsample it first.")
    for ln, r in zip(linenos, body):
        if len(r) != ncol:
            raise ValueError(f"line {ln} has {len(r)} fields, expected {ncol} like the header ({', '.join(header)})")
    if len(body) < MIN_ROWS:
        raise ValueError(f"expected at least {MIN_ROWS} data rows, got {len(body)}")
    task = "classification" if ncol == 3 else "regression"
    n_feat = ncol - 1
    numeric_cols = list(range(n_feat)) + ([n_feat] if task == "regression" else [])
    values = np.empty((len(body), ncol))
    for j in numeric_cols:
        for i, (ln, r) in enumerate(zip(linenos, body)):
            try:
                values[i, j] = float(r[j])
            except ValueError:
                raise ValueError(
                    f"text in numeric column '{header[j]}' at line {ln}: {r[j]!r} is not a number"
                ) from None
        bad = [ln for ln, v in zip(linenos, values[:, j]) if not math.isfinite(v)]
        if bad:
            shown = ", ".join(map(str, bad[:5])) + (", ..." if len(bad) > 5 else "")
            raise ValueError(f"column '{header[j]}' has NaN or inf at line(s) {shown}: expected finite numbers")
    X = values[:, :n_feat].copy()
    label_map: dict = {}
    if task == "regression":
        y = values[:, n_feat].copy()
    else:
        y, label_map = _binary_labels([r[n_feat] for r in body], header[n_feat], linenos)
    _check_duplicates(X, linenos)
    return TableData(name, X, y, task, tuple(header), label_map, hashlib.sha256(data).hexdigest())


def _binary_labels(raw: list[str], col: str, linenos: list[int]) -> tuple[np.ndarray, dict]:
    """Two distinct labels -> -1/+1 (numeric -1/+1 and 0/1 keep their meaning)."""
    for ln, v in zip(linenos, raw):
        if v == "":
            raise ValueError(f"empty label in column '{col}' at line {ln}")
        if _is_number(v) and not math.isfinite(float(v)):
            raise ValueError(f"label column '{col}' has NaN or inf at line {ln}")
    numeric = all(_is_number(v) for v in raw)
    keys = [float(v) for v in raw] if numeric else raw
    classes = sorted(set(keys))
    if len(classes) == 1:
        raise ValueError(
            f"only one class in label column '{col}' ({raw[0]}): a classifier needs two classes"
        )
    if len(classes) > 2:
        shown = ", ".join(str(c) for c in classes[:5]) + (", ..." if len(classes) > 5 else "")
        raise ValueError(
            f"expected two classes in label column '{col}', got {len(classes)} ({shown}); "
            "the dashboard trains a scalar-output network (binary labels)"
        )
    lo, hi = classes
    y = np.where(np.asarray([k == hi for k in keys]), 1.0, -1.0)
    names = {}
    for k, v in zip(keys, raw):
        names.setdefault(k, v)
    return y, {names[lo]: -1, names[hi]: 1}


def _check_duplicates(X: np.ndarray, linenos: list[int]) -> None:
    _, first, inverse, counts = np.unique(X, axis=0, return_index=True, return_inverse=True, return_counts=True)
    if np.all(counts == 1):
        return
    g = int(np.flatnonzero(counts > 1)[0])
    rows = np.flatnonzero(np.ravel(inverse) == g)
    n_dup = int(np.sum(counts[counts > 1] - 1))
    pt = ", ".join(f"{v:g}" for v in X[rows[0]])
    raise ValueError(
        f"duplicate points: lines {linenos[rows[0]]} and {linenos[rows[1]]} have the same features ({pt}) "
        f"({n_dup} duplicate row(s) in all); identical points give coincident hyperplanes. "
        "Remove the duplicates (keep one of each) and upload again"
    )


def to_csv(X: np.ndarray, y: np.ndarray, columns: tuple | None = None) -> str:
    """Write ``X, y`` as CSV with a header (the format :func:`parse_csv` reads).

    Values are written with ``repr`` precision so a round trip is exact.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if columns is None:
        columns = ("x", "y") if X.shape[1] == 1 else tuple(f"x{j + 1}" for j in range(X.shape[1])) + ("label",)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row, t in zip(X, np.asarray(y, dtype=float)):
        w.writerow([repr(float(v)) for v in row] + [_fmt_label(t)])
    return buf.getvalue()


def _fmt_label(t: float) -> str:
    return str(int(t)) if float(t).is_integer() and abs(t) < 1e15 else repr(float(t))


# --------------------------------------------------------------------------- point edits
def encode_points(points: list[tuple]) -> str:
    """``[(x1, x2, label), ...]`` (or ``(x, y)`` for regression) -> ``"x1,x2,label;..."``."""
    return ";".join(",".join(_short(v) for v in p) for p in points)


def _short(v: float) -> str:
    s = f"{float(v):.{URL_DIGITS}g}"
    return "0" if s == "-0" else s


def decode_points(text: str, width: int | None = None) -> list[tuple]:
    """Inverse of :func:`encode_points`; raises ``ValueError`` on malformed text."""
    if not text:
        return []
    out = []
    for part in text.split(";"):
        vals = tuple(float(v) for v in part.split(","))
        if width is not None and len(vals) != width:
            raise ValueError(f"expected {width} numbers per point, got {part!r}")
        if len(vals) not in (2, 3) or not all(math.isfinite(v) for v in vals):
            raise ValueError(f"expected finite x,y or x1,x2,label per point, got {part!r}")
        if len(vals) == 3 and vals[2] not in (-1.0, 1.0):
            raise ValueError(f"expected label -1 or 1, got {part!r}")
        out.append(vals)
    return out


def encode_indices(idx) -> str:
    return ",".join(str(int(i)) for i in idx)


def decode_indices(text: str) -> list[int]:
    if not text:
        return []
    out = [int(v) for v in text.split(",")]
    if any(i < 0 for i in out):
        raise ValueError(f"expected non-negative point indices, got {text!r}")
    return out


def apply_edits(X: np.ndarray, y: np.ndarray, dropped: list[int], added: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """Remove rows ``dropped`` (indices into X; out-of-range ones are ignored) and append ``added``.

    ``added`` points are ``(x1, x2, label)`` for 2-D data or ``(x, y)`` for 1-D regression.
    """
    keep = np.ones(X.shape[0], dtype=bool)
    idx = [i for i in dropped if 0 <= i < X.shape[0]]
    keep[idx] = False
    d = X.shape[1]
    if added:
        A = np.asarray(added, dtype=float).reshape(len(added), -1)
        Xa, ya = A[:, :d], A[:, d]
    else:
        Xa, ya = np.empty((0, d)), np.empty(0)
    return np.vstack([X[keep], Xa]), np.concatenate([y[keep], ya])


def nearest(X: np.ndarray, point) -> int:
    """Index of the row of X nearest to ``point`` (Euclidean), or -1 for empty X."""
    if X.shape[0] == 0:
        return -1
    return int(np.argmin(np.sum((X - np.asarray(point, dtype=float)[: X.shape[1]]) ** 2, axis=1)))


def content_hash(*arrays: np.ndarray, extra: str = "") -> str:
    """SHA-256 over arrays' shapes and bytes (float64): a cache key for user data."""
    h = hashlib.sha256(extra.encode())
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a, dtype=float))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- assembled data
@dataclass(frozen=True)
class UserDataset(Dataset):
    """A :class:`Dataset` built from an upload and/or edited by clicks.

    ``X`` and ``X_test`` are in display (model) coordinates; raw units are
    ``X * half + center`` (the identity for built-in data, which is already in the box).
    """

    kind: str = "classification"
    description: str = ""
    center: np.ndarray = field(default_factory=lambda: np.zeros(1), compare=False)
    half: np.ndarray = field(default_factory=lambda: np.ones(1), compare=False)
    key: str = ""
    origin: np.ndarray | None = field(default=None, compare=False)

    @property
    def task(self) -> str:
        return self.kind

    def to_raw(self, Z: np.ndarray) -> np.ndarray:
        """Display coordinates -> the data's own units."""
        return np.asarray(Z, dtype=float) * self.half + self.center

    def to_display(self, Z: np.ndarray) -> np.ndarray:
        """The data's own units -> display coordinates."""
        return (np.asarray(Z, dtype=float) - self.center) / self.half


def compose(name: str, kind: str, X: np.ndarray, y: np.ndarray, *, test: float, seed: int,
            rescale: bool, dropped: list[int], added: list[tuple], description: str = "",
            split: bool = True, X_test=None, y_test=None) -> UserDataset:
    """Assemble user data: optional rescale to the box, seeded split, then the click edits.

    Parameters
    ----------
    X, y : the base data in its own units (the full table when ``split``, else the training part
        with ``X_test, y_test`` given).
    rescale : bool
        Map each feature column affinely onto [-1, 1] (:func:`cvx_core.datasets.scale_to_box`,
        fitted on the base data only, so added points do not move it).
    dropped : list of int
        Indices into the base training set to remove.
    added : list of tuples
        Points in the data's own units: ``(x1, x2, label)`` or ``(x, y)``; appended to the
        training set (never to the test set).
    """
    X = np.asarray(X, dtype=float)
    d = X.shape[1]
    if rescale:
        full = X if X_test is None or not len(X_test) else np.vstack([X, X_test])
        _, center, half = scale_to_box(full)
    else:
        center, half = np.zeros(d), np.ones(d)
    Xs = (X - center) / half
    if split:
        Xtr, ytr, Xte, yte = train_test_split(Xs, np.asarray(y, dtype=float), test, seed)
    else:
        Xtr, ytr = Xs, np.asarray(y, dtype=float)
        Xte = (np.asarray(X_test, dtype=float).reshape(-1, d) - center) / half
        yte = np.asarray(y_test, dtype=float)
    added_disp = [tuple(((np.asarray(p[:d]) - center) / half).tolist()) + tuple(p[d:]) for p in added]
    n_base = Xtr.shape[0]
    Xtr, ytr = apply_edits(Xtr, ytr, dropped, added_disp)
    keep = np.setdiff1d(np.arange(n_base), np.asarray(dropped, dtype=int))
    origin = np.concatenate([keep, -1 - np.arange(len(added))]).astype(int)
    key = content_hash(Xtr, ytr, Xte, yte, extra=f"{name}|{kind}")
    return UserDataset(name, Xtr, ytr, Xte, yte, kind=kind, description=description,
                       center=center, half=half, key=key, origin=origin)
