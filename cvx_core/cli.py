"""Command line: ``python -m cvx_core solve DATA.csv --beta B [...] [--json]`` for a two-layer
network, ``python -m cvx_core solve-cnn DATA.csv --beta B --filter-size H [...]`` for a
two-layer convolutional one.

CSV format: a header row, the feature columns, the target last; for ``solve-cnn`` each row's
features are one signal's samples in order (with ``--image-side S``, an S x S image row by row).
Prints a short summary (status and what it means, objective, certified lower bound and gap,
neurons, solver), or with ``--json`` one JSON object with ``objective``, ``lower_bound``,
``gap``, ``certificate``, ``n_patterns``, ``n_neurons``, ``solve_time_s``, ``status``,
``exact_patterns``, ``solver`` and ``beta`` (``solve-cnn`` adds ``n_patches``, ``filter_size``,
``stride`` and ``pooling``). Bad input prints a one-line error on stderr and exits 2.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys

import numpy as np

from .convex import fit_convex
from .model import ACTIVATIONS, LOSSES
from .tolerances import STATUSES


class UsageError(ValueError):
    """Raised for bad command-line input (exit status 2)."""


def read_csv(path: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read features and target (last column) from a CSV file with a header row."""
    try:
        with open(path, newline="") as fh:
            rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: expected a text CSV file ({exc})") from None
    if not rows:
        raise UsageError(f"{path}: expected a header row and data rows, the file is empty")
    header, data = rows[0], rows[1:]
    if len(header) < 2:
        raise UsageError(f"{path}: expected at least 2 columns (features, then the target), got {len(header)}")
    if all(_is_float(c) for c in header):
        raise UsageError(f"{path}: expected a header row of column names, the first row is numeric")
    if not data:
        raise UsageError(f"{path}: expected data rows after the header, found none")
    out = []
    for i, r in enumerate(data, start=2):
        if len(r) != len(header):
            raise UsageError(f"{path}: line {i}: expected {len(header)} columns like the header, got {len(r)}")
        try:
            out.append([float(c) for c in r])
        except ValueError:
            bad = next(c for c in r if not _is_float(c))
            raise UsageError(f"{path}: line {i}: expected numbers, got {bad!r}") from None
    A = np.array(out)
    if not np.all(np.isfinite(A)):
        raise UsageError(f"{path}: expected finite numbers, found NaN or inf")
    return A[:, :-1], A[:, -1], header


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _patterns_arg(s: str):
    if s in ("exact", "auto", "search"):
        return s
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'exact', 'auto', 'search' or a positive integer, got {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of patterns, got {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cvx_core", description="Convex training of two-layer networks.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solve", help="solve the convex program for a CSV data set")
    s.add_argument("data", help="CSV with a header row, feature columns, target last")
    s.add_argument("--beta", type=float, required=True, help="regularisation strength beta > 0")
    s.add_argument("--activation", choices=ACTIVATIONS, default="relu")
    s.add_argument("--leak", type=float, default=0.1)
    s.add_argument("--loss", choices=LOSSES, default="squared")
    s.add_argument("--no-bias", action="store_true", help="do not append the bias column")
    s.add_argument("--patterns", type=_patterns_arg, default="exact", help="'exact', a number of sampled directions, 'search' (200 sampled, then the pattern search) "
                        "or 'auto' (exact when Cover's count allows, else search)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--solver", default="auto")
    s.add_argument("--json", action="store_true", help="print one JSON object instead of the summary lines")
    c = sub.add_parser("solve-cnn", help="solve a two-layer CNN's convex program for a CSV of signals or images")
    c.add_argument("data", help="CSV with a header row, one signal (or image, row by row) per row, target last")
    c.add_argument("--beta", type=float, required=True, help="regularisation strength beta > 0")
    c.add_argument("--filter-size", type=int, required=True, help="filter length h (images: h x h)")
    c.add_argument("--stride", type=int, default=1)
    c.add_argument("--pooling", choices=("sum", "mean"), default="sum")
    c.add_argument("--image-side", type=int, default=None, help="rows are S x S images (S * S feature columns)")
    c.add_argument("--activation", choices=ACTIVATIONS, default="relu")
    c.add_argument("--leak", type=float, default=0.1)
    c.add_argument("--loss", choices=LOSSES, default="squared")
    c.add_argument("--no-bias", action="store_true", help="filters without a bias weight")
    c.add_argument("--patterns", type=_cnn_patterns_arg, default="exact",
                   help="'exact' (every pattern of the patch vectors) or a number of sampled directions")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--solver", choices=("auto", "working-set", "blocks"), default="auto")
    c.add_argument("--json", action="store_true", help="print one JSON object instead of the summary lines")
    return p


def _cnn_patterns_arg(s: str):
    out = _patterns_arg(s)
    if out in ("auto", "search"):
        raise argparse.ArgumentTypeError(f"expected 'exact' or a positive integer for a CNN, got {s!r}")
    return out


def _images(X: np.ndarray, side: int | None) -> np.ndarray:
    """The feature rows as signals, or as ``side x side`` images."""
    if side is None:
        return X
    if side < 1 or X.shape[1] != side * side:
        raise UsageError(f"--image-side {side} expects {side * side} feature columns per row, got {X.shape[1]}")
    return X.reshape(len(X), side, side)


def _fit(args):
    X, y, _ = read_csv(args.data)
    if args.command == "solve":
        return fit_convex(X, y, args.beta, activation=args.activation, leak=args.leak, loss=args.loss,
                          bias=not args.no_bias, patterns=args.patterns, solver=args.solver, seed=args.seed)
    from .cnn import fit_convex_cnn  # the CNN code only when asked for

    return fit_convex_cnn(_images(X, args.image_side), y, args.beta, filter_size=args.filter_size, stride=args.stride,
                          pooling=args.pooling, activation=args.activation, leak=args.leak, loss=args.loss,
                          bias=not args.no_bias, patterns=args.patterns, solver=args.solver, seed=args.seed)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        fit = _fit(args)
    except (UsageError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"error: solver failed: {exc}", file=sys.stderr)
        return 1
    out = {
        "objective": fit.objective,
        "lower_bound": fit.lower_bound,
        "gap": fit.gap,
        "certificate": fit.certificate,
        "n_patterns": fit.n_patterns,
        "n_neurons": fit.n_neurons,
        "solve_time_s": fit.solve_time,
        "status": fit.status,
        "exact_patterns": fit.exact_patterns,
        "solver": fit.solver,
        "beta": fit.beta,
    }
    search = fit.info.get("pattern_search")
    if search is not None:
        out["pattern_search"] = search
    if args.command == "solve-cnn":
        out.update(n_patches=int(fit.info["n_patches"]), filter_size=args.filter_size, stride=args.stride,
                   pooling=args.pooling)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"status      {fit.status} ({STATUSES[fit.status]})")
    print(f"objective   {fit.objective:.10g}")
    print(f"lower bound {fit.lower_bound:.10g}  (certified relative gap {fit.gap:.2e})")
    kind = "patterns (all)" if fit.exact_patterns else "patterns (sampled, then searched)" if search else "sampled patterns"
    unit = "filters" if args.command == "solve-cnn" else "neurons"
    print(f"{unit:<11} {fit.n_neurons} active, {fit.n_patterns} {kind}")
    if search is not None:
        print(f"search      {search['rounds']} rounds, {search['patterns_added']} patterns added: {search['meaning']}")
    print(f"solver      {fit.solver}, {fit.solve_time:.3f} s")
    return 0
