"""Python snippets that reproduce the current fit or path with ``cvx_core`` (tests execute them)."""
from __future__ import annotations

import numpy as np

from cvx_core.datasets import Dataset

#: Up to this many points the snippet embeds the data; above, it reads the downloaded CSV.
SNIPPET_INLINE_ROWS = 500


def _array_literal(A: np.ndarray) -> str:
    A = np.asarray(A, dtype=float)
    if A.ndim == 1:
        return "np.array([" + ", ".join(repr(float(v)) for v in A) + "])"
    rows = ",\n    ".join("[" + ", ".join(repr(float(v)) for v in r) + "]" for r in A)
    return f"np.array([\n    {rows},\n]).reshape(-1, {A.shape[1]})"


def snippet(c, data: Dataset, patterns="exact", csv_name: str = "data_train.csv") -> str:
    """A short Python script that reproduces ``fit_for(c, patterns)`` with ``cvx_core``.

    Built-in data is regenerated from its name and seed; user data is embedded (up to
    :data:`SNIPPET_INLINE_ROWS` points) or read from the training CSV (``csv_name``).
    """
    if isinstance(patterns, np.ndarray):
        raise ValueError("the snippet reproduces exact or sampled (int) patterns only")
    lines = ["import numpy as np", "import cvx_core"]
    if not c.source:
        lines += ["from cvx_core.datasets import load_dataset", "",
                  f"data = load_dataset({c.dataset!r}, n={c.n}, noise={c.noise!r}, seed={c.seed}, "
                  f"test_fraction={c.test!r})",
                  "X, y = data.X, data.y"]
    elif data.X.shape[0] <= SNIPPET_INLINE_ROWS:
        lines += ["", f"# {getattr(data, 'description', 'user data')} (training set, model coordinates)",
                  f"X = {_array_literal(data.X)}", f"y = {_array_literal(data.y)}"]
    else:
        lines += ["", f"# the training CSV downloaded from the dashboard ({csv_name})",
                  f"table = np.loadtxt({csv_name!r}, delimiter=',', skiprows=1, ndmin=2)",
                  "X, y = table[:, :-1], table[:, -1]"]
    pat = repr(patterns) if isinstance(patterns, str) else str(int(patterns))
    lines += ["",
              f"fit = cvx_core.fit_convex(X, y, beta={c.beta!r}, activation={c.activation!r}, leak={c.leak!r},",
              f"                          loss={c.loss!r}, bias={c.bias!r}, patterns={pat})",
              'print(f"objective {fit.objective:.10g}  certified gap {fit.gap:.1e}  "',
              '      f"active neurons {fit.n_neurons}  status {fit.status}")',
              ""]
    return "\n".join(lines)


def path_snippet(c, data: Dataset, n_samples: int, n_betas: int, min_ratio: float, k: int, path) -> str | None:
    """Python that reproduces the regularization path ``path`` (selected beta ``betas[k]``;
    ``n_samples`` sampled patterns, 0 = exact), or None when :func:`snippet` has none."""
    try:
        head = snippet(c, data, n_samples if n_samples > 0 else "exact")
    except ValueError:
        return None
    marker = "\nfit = cvx_core.fit_convex("
    if marker not in head:
        return None
    pat = repr("exact") if n_samples == 0 else str(n_samples)
    test = "" if c.source or not c.test else ",\n                           X_test=data.X_test, y_test=data.y_test"
    return (head.split(marker)[0] + "\nfrom cvx_core.path import regularization_path\n\n"
            f"path = regularization_path(X, y, n_betas={n_betas}, min_ratio={min_ratio!r}, activation={c.activation!r},\n"
            f"                           leak={c.leak!r}, loss={c.loss!r}, bias={c.bias!r}, patterns={pat}, "
            f"seed={c.seed}{test})\n"
            f"net = path.network({k})  # beta = {path.betas[k]:.6g}, objective {path.objectives[k]:.10g}\n"
            "print(path.to_csv())\n")
