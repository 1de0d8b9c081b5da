"""The controls a lecturer may hide in lecture mode (``?lecture=1&hide=...``), with their labels.

The sidebar's shared controls and the pages' own ones. A page draws a hideable control only
when :func:`pages.common.lecture.show` says so and calls :func:`keep_hidden` for the rest, so a
hidden control keeps its value (from the URL or the session) and the view does not change.
Plain strings only: the share box and the URL parser import this on every first page.
"""
from __future__ import annotations

from .. import lecture
from ..url import keep

#: Shared controls in the sidebar.
SHARED = {
    "dataset": "Data set", "n": "Samples n", "seed": "Seed", "noise": "Noise", "test": "Test fraction",
    "activation": "Activation", "leak": "Leak", "loss": "Loss", "bias": "Bias", "log_beta": "log10 beta",
}
#: Every hideable control: URL key -> label in the share box.
HIDEABLE = {
    **SHARED,
    "arr_N": "Arrangements: directions N", "arr_theta": "Arrangements: direction u (azimuth)",
    "arr_elev": "Arrangements: direction u (elevation)", "arr_colour": "Arrangements: colour cells by",
    "arr_ratio": "Arrangements: approximation ratio switch",
    "path_ratio": "Sparsity path: smallest beta", "path_nbetas": "Sparsity path: number of betas",
    "sgd_settings": "SGD vs convex: training settings",
    "cnn_data": "CNN: data set", "cnn_n": "CNN: samples n", "cnn_len": "CNN: signal length / image side",
    "cnn_noise": "CNN: noise", "cnn_seed": "CNN: seed", "cnn_h": "CNN: filter size", "cnn_stride": "CNN: stride",
    "cnn_pool": "CNN: pooling", "cnn_log_beta": "CNN: log10 beta", "cnn_training": "CNN: gradient training settings",
}


def keep_hidden(keys) -> None:
    """Keep the values of the hideable ``keys`` not drawn in this run (streamlit drops a
    widget's state when it is not drawn)."""
    keep(*(key for key in keys if key in HIDEABLE and not lecture.show(key)))
