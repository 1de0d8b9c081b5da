"""Small hashable cache keys: the shared controls' values, the data's key, content hashes."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Controls:
    """The shared controls' values (hashable: usable as a cache key).

    ``source`` is empty for unedited built-in data; otherwise the content hash of the user
    data (upload and/or clicked points) registered in this session (:mod:`..data.registry`).
    """

    dataset: str
    n: int
    noise: float
    seed: int
    test: float
    activation: str
    leak: float
    loss: str
    bias: bool
    log_beta: float
    source: str = ""

    @property
    def beta(self) -> float:
        return float(10.0 ** self.log_beta)


def data_key(c: Controls) -> tuple:
    """A small hashable key for the data of ``c``: its content hash for user data, else the
    built-in generator's arguments."""
    return ("user", c.source) if c.source else (c.dataset, c.n, c.noise, c.seed, c.test)


def fingerprint(*arrays) -> str:
    """Content hash of numpy arrays (for keys that involve computed results)."""
    h = hashlib.sha1()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def fit_key(c, fit) -> tuple:
    """A small key that identifies a fit by content (a refit with the same controls, e.g. after
    a solver change, gets a new key)."""
    return c, fit.exact_patterns, fit.n_patterns, fingerprint(fit.V, fit.W, fit.network.U, fit.network.alpha)
