"""Certificates for any network: how far from the global optimum is it? (docs/math.md section 5)

:func:`certify` takes any :class:`cvx_core.TwoLayerNet` -- trained by SGD, loaded from JSON or
recovered from a convex fit -- and returns a :class:`Certificate`: the network's objective, a
certified lower bound on the global optimum, the relative gap between them, ``cert(lambda) /
beta`` of the network's own dual vector and the direction of the most violated dual constraint
(a neuron to insert).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .certificates.arrangement import cells_containing, facet_lookup
from .certificates.cells import lower_bound
from .certificates.dual import polish_dual
from .certificates.evaluate import cert_max
from .model import TwoLayerNet, add_bias, data_scale, make_loss
from .patterns import auto_patterns, resolve_patterns
from .threads import single_blas_thread
from .tolerances import OPTIMAL_GAP
from .validation import check_beta, check_Xy


@dataclass(frozen=True)
class Certificate:
    """Result of :func:`certify` for any network.

    Attributes
    ----------
    objective : float
        The network's training objective ``L + (beta/2) sum(||u_j||^2 + ||alpha_j||_1^2)``.
    certificate : float
        ``cert(lambda) / beta``; the network is globally optimal iff this is <= 1 and it is
        stationary (then ``gap`` is 0 up to rounding).
    lower_bound : float
        ``g(lambda / kappa)``, a certified lower bound on the global optimum.
    gap : float
        ``(objective - lower_bound) / |objective|``.
    u_star : ndarray of shape (d',)
        Unit direction of the most violated dual constraint (a neuron to insert).
    u_star_sign : int
        Sign of the output weight that neuron would carry.
    u_star_pattern : ndarray of bool, shape (n,)
    exact : bool
        True when the maximum was taken over all patterns of the data.
    n_patterns : int
    dual : ndarray
        ``lambda = -grad L(yhat)``.
    """

    objective: float
    certificate: float
    lower_bound: float
    gap: float
    u_star: np.ndarray
    u_star_sign: int
    u_star_pattern: np.ndarray
    exact: bool
    n_patterns: int
    dual: np.ndarray

    @property
    def globally_optimal(self) -> bool:
        return self.gap <= OPTIMAL_GAP


def hinge_subgradient(lam, yhat, y):
    """The hinge dual vector in the subdifferential at ``yhat`` nearest ``lam``: ``y`` where the
    margin is below 1, 0 above, ``y clip(y lam, 0, 1)`` at a margin of 1 (within rounding)."""
    margin = y * yhat
    at_kink = np.abs(margin - 1.0) <= 1e-9 * np.maximum(1.0, np.abs(yhat))
    t = np.where(margin < 1.0, 1.0, 0.0)
    return y * np.where(at_kink, np.clip(y * lam, 0.0, 1.0), t)


@single_blas_thread
def certify(net: TwoLayerNet, X, y, beta, *, loss: str = "squared", patterns="auto", seed: int = 0,
            refine: bool = True) -> Certificate:
    """Certify how close any network is to the global optimum (docs/math.md section 5).

    The network's own dual vector ``lambda = -grad L(yhat)`` gives ``cert(lambda)`` (is the
    network stationary and dual feasible?) and the bound ``g(lambda / kappa)``. With
    ``refine`` the dual program over the network's own cells and the cells its dual violates
    is also solved (:func:`cvx_core.certificates.dual.polish_dual`): any dual vector bounds the optimum, and
    this one is exact once those cells hold the optimum's, so an optimal network is certified
    to the dual solve's accuracy, not only to its own accuracy. For the hinge loss the dual
    vector reported is the one of the subdifferential nearest that dual solution.

    Parameters
    ----------
    net : TwoLayerNet
    X : array_like of shape (n, d)
    y : array_like of shape (n,) or (n, C)
    beta : float
    loss : {"squared", "logistic", "hinge"}
    patterns : "auto", "exact", int or ndarray
        "auto" enumerates all patterns when Cover's count is at most
        ``MAX_EXACT_PATTERNS`` (then the certificate is exact) and otherwise samples 5 000
        Gaussian directions plus the network's own patterns (``exact=False``).
    refine : bool
        Solve the dual program for a better bound (a few small conic solves).

    Returns
    -------
    Certificate
    """
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"expected a TwoLayerNet, got {type(net).__name__}")
    lossf = make_loss(loss)
    X, y = check_Xy(X, y, lossf.name)
    beta = check_beta(beta)
    if X.shape[1] != net.n_inputs:
        raise ValueError(f"expected X with {net.n_inputs} feature columns for this network, got {X.shape[1]}")
    act = net.sigma
    Xb = add_bias(X, net.bias)
    own = Xb @ net.U.T >= 0  # (n, m): each neuron's pattern
    if isinstance(patterns, str) and patterns == "auto":
        D, exact = auto_patterns(Xb, act, seed=seed, extra=own.T)
    else:
        D, exact = resolve_patterns(Xb, patterns, act, seed)
    yhat = net.predict(X)
    objective = net.objective(X, y, beta, loss)
    Y = y[:, None] if y.ndim == 1 else y
    Yh = yhat[:, None] if yhat.ndim == 1 else yhat
    A = net.alpha[:, None] if net.alpha.ndim == 1 else net.alpha
    # certified on the unit scale (see fit_convex): the same values, better conditioned solves
    c_scale = data_scale(Xb)
    Xb, beta = Xb / c_scale, beta / c_scale
    row_of = {r.tobytes(): i for i, r in enumerate(np.packbits(D, axis=1))} if refine else {}
    facets = facet_lookup(Xb, D, act, exact) if refine else None
    lb = 0.0
    cert = -1.0
    lams = []
    for c in range(Y.shape[1]):
        lam = lossf.dual_variable(Yh[:, c], Y[:, c])
        cmax, u, s = cert_max(Xb, D, lam, act, exact)
        lb_c = lower_bound(lossf, lam, Y[:, c], cmax, beta)
        if refine:
            cells = []
            for j in np.flatnonzero(A[:, c] != 0):
                sj = 1 if A[j, c] > 0 else -1
                pat = own[:, j] if not (act.symmetric and not own[0, j]) else ~own[:, j]
                i = row_of.get(np.packbits(pat).tobytes(), -1)
                # a neuron on some data hyperplanes lies in the closure of several cells
                found = [i] if i >= 0 else cells_containing(Xb, D, net.U[j], act.symmetric)
                cells += [(int(k), sj) for k in found]
            # one output: stop once the network is certified (columns share its penalty otherwise)
            target = objective - 0.1 * OPTIMAL_GAP * abs(objective) if Y.shape[1] == 1 else np.inf
            polished, _ = polish_dual(Xb, Y[:, c], D, beta, act, lossf, cells,
                                      lambda l: cert_max(Xb, D, l, act, exact), facets, lam_start=lam,
                                      target=target)
            if polished is not None:
                lb_c = max(lb_c, polished.lower_bound)
                if lossf.name == "hinge":
                    sub = hinge_subgradient(polished.lam, Yh[:, c], Y[:, c])
                    c_sub, u_sub, s_sub = cert_max(Xb, D, sub, act, exact)
                    lb_c = max(lb_c, lower_bound(lossf, sub, Y[:, c], c_sub, beta))
                    if c_sub < cmax:
                        lam, cmax, u, s = sub, c_sub, u_sub, s_sub
        lams.append(lam)
        lb += lb_c
        if cmax > cert:
            cert, u_star, sign = cmax, u, s
            pat = Xb @ u >= 0
    gap = (objective - lb) / max(abs(objective), 1e-300)
    dual = lams[0] if y.ndim == 1 else np.stack(lams, axis=1)
    return Certificate(float(objective), float(cert / beta), float(lb), float(gap), u_star, sign,
                       pat.copy(), exact, int(D.shape[0]), dual)
