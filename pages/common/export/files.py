"""Model weights as JSON (written and read, never pickled) and data as CSV."""
from __future__ import annotations

import json

import numpy as np

import cvx_core
from cvx_core.datasets import Dataset

from ..data import table as data_io

#: Largest accepted network JSON upload.
MAX_JSON_BYTES = 1_000_000


def model_json(fit: cvx_core.ConvexFit) -> str:
    """The fitted network as JSON (:meth:`TwoLayerNet.to_dict` plus what it was trained with)."""
    obj = fit.network.to_dict()
    obj["trained"] = {"beta": fit.beta, "loss": fit.loss, "objective": fit.objective, "gap": fit.gap,
                      "n_neurons": fit.n_neurons, "status": fit.status}
    return json.dumps(obj, indent=1)


def load_network(data: bytes) -> cvx_core.TwoLayerNet:
    """A network from uploaded JSON bytes (size-checked, parsed with ``json``; never unpickled).

    Raises
    ------
    ValueError
        Empty or too large file, not UTF-8 JSON, or not a network (message from
        :meth:`TwoLayerNet.from_json`).
    """
    if len(data) == 0:
        raise ValueError("the file is empty: expected a network JSON with keys U, alpha, activation, bias")
    if len(data) > MAX_JSON_BYTES:
        raise ValueError(f"the file is {len(data) / 1e6:.1f} MB; the limit for a network JSON is "
                         f"{MAX_JSON_BYTES / 1e6:.1f} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("expected a UTF-8 JSON file; this file is not text") from None
    return cvx_core.TwoLayerNet.from_json(text)


def certify_network(net: cvx_core.TwoLayerNet, data: Dataset, beta: float, loss: str) -> cvx_core.Certificate:
    """Certificate of an uploaded network on the current data (ValueError on a mismatch)."""
    d = data.X.shape[1]
    if net.n_inputs != d:
        raise ValueError(f"this network takes {net.n_inputs} input feature(s) but the data has {d}")
    return cvx_core.certify(net, data.X, data.y, beta, loss=loss)


# --------------------------------------------------------------------------- data CSV
def data_csv(data: Dataset, raw: bool = False, split: bool = False) -> str:
    """Training then test data as CSV in the upload format (``raw``: undo the box rescaling;
    ``split``: add a train/test column, which makes the file no longer re-uploadable)."""
    X = np.vstack([data.X, data.X_test]) if len(data.X_test) else data.X
    y = np.concatenate([data.y, data.y_test]) if len(data.y_test) else data.y
    if raw and hasattr(data, "to_raw"):
        X = data.to_raw(X)
    text = data_io.to_csv(X, y)
    if not split:
        return text
    labels = ["train"] * len(data.y) + ["test"] * len(data.y_test)
    lines = text.splitlines()
    return "\n".join([lines[0] + ",split"] + [ln + "," + s for ln, s in zip(lines[1:], labels)]) + "\n"


def train_csv(data: Dataset) -> str:
    """Training data only, in the upload format (three or two columns)."""
    return data_io.to_csv(data.X, data.y)
