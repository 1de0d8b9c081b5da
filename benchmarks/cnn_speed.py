"""Speed of the convex CNN fit (issue 21's targets) against cvxpy + Clarabel, in one process.

Run: PYTHONPATH=. python benchmarks/cnn_speed.py [--reference-rank2]

Targets (issue 21):
1. 1-D signals, n = 40, length 16, filter 2, stride 1, no bias (600 patch vectors, rank 2, all
   patterns exact): certified optimum in under 1 s;
2. with a bias (rank 3): n = 12, length 8 (84 patch vectors, about 7 000 patterns): under 2 s;
3. at least 50x faster than cvxpy + Clarabel on the same patterns for the second case.

Every time is a whole ``fit_convex_cnn`` call on data the process has not seen before
(pattern enumeration, the sphere certificate's geometry, the working set, pruning and the
certificate), after the numba kernels are loaded once (reported). ReLU, squared loss, sum
pooling, labels +-1 of the built-in sets with noise 0.1. "gap" is the certified relative gap;
the reference is ``tests/reference_cnn.py`` (cvxpy + Clarabel, the whole program over the same
patterns), "ratio" = reference / fit in wall time, "cpu_x" the same in CPU time (less sensitive to
other work on the machine), "diff" = |objective - reference| / reference.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

from cvx_core.cnn import fit_convex_cnn  # noqa: E402
from cvx_core.cnn_training import train_cnn_runs  # noqa: E402
from cvx_core.signals import make_signals  # noqa: E402

warnings.simplefilter("ignore", RuntimeWarning)


def timed(f):
    t, c = time.perf_counter(), time.process_time()
    out = f()
    return out, time.perf_counter() - t, time.process_time() - c


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference-rank2", action="store_true",
                    help="also run cvxpy + Clarabel on case 1 (1 200 patterns x 600 rows: minutes)")
    args = ap.parse_args()
    from cvx_core.solvers import warm_up

    print(f"numba kernels ready in {warm_up():.2f} s")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times move with it; cpu_s "
          "is the process's CPU time)")
    print(f"{'case':<44} {'patterns':>8} {'time_s':>7} {'cpu_s':>6} {'ref_s':>8} {'ratio':>6} {'cpu_x':>6} {'diff':>8} "
          f"{'gap':>8} {'neurons':>7} {'rounds':>6}")
    from reference_cnn import cnn_reference

    cases = [("1: n=40 L=16 h=2 no bias", 40, 16, False, args.reference_rank2),
             ("2: n=12 L=8 h=2 bias", 12, 8, True, True)]
    seed = 0
    for label, n, L, bias, ref in cases:
        for name in ("bump", "edge", "frequencies"):
            for beta in (1e-1, 1e-2, 1e-3):
                seed += 1  # fresh data for every fit: no cached enumeration or geometry
                X, y = make_signals(name, n, L, noise=0.1, seed=seed)
                fit, t, cpu = timed(lambda: fit_convex_cnn(X, y, beta, filter_size=2, bias=bias))
                line = f"{label + f' {name} beta={beta:g}':<44} {fit.n_patterns:>8} {t:7.3f} {cpu:6.3f}"
                if ref:
                    r, tr, cr = timed(lambda: cnn_reference(X, y, fit.patterns, beta, filter_size=2, bias=bias))
                    line += f" {tr:8.2f} {tr / t:6.0f} {cr / cpu:6.0f} {abs(fit.objective - r) / abs(r):8.1e}"
                else:
                    line += f" {'-':>8} {'-':>6} {'-':>6} {'-':>8}"
                line += f" {fit.gap:8.1e} {fit.n_neurons:>7} {fit.info['rounds']:>6}  {fit.status}"
                print(line, flush=True)
    print("\nInner solver of case 2: Clarabel (solver='auto') against cvx_core.solvers.blocks.solve_design "
          "(solver='blocks'), the same working set")
    for name in ("bump", "edge", "frequencies"):
        for beta in (1e-1, 1e-2):
            seed += 1
            X, y = make_signals(name, 12, 8, noise=0.1, seed=seed)
            fits = [timed(lambda: fit_convex_cnn(X, y, beta, filter_size=2, solver=sv)) for sv in ("auto", "blocks")]
            (fa, ta, _), (fb, tb, _) = fits
            print(f"  {name} beta={beta:g}: clarabel {ta:.3f} s (inner {fa.info['inner_time']:.3f} s, gap {fa.gap:.1e}), "
                  f"solve_design {tb:.3f} s (inner {fb.info['inner_time']:.3f} s, gap {fb.gap:.1e}, {fb.status}), "
                  f"objectives differ by {abs(fa.objective - fb.objective) / fa.objective:.1e}")
    print("\nOutside the targets: images (bars vs crosses, 2000 sampled directions, certified over those) and the")
    print("Convolutional networks page's default gradient runs (Adam, lr 0.03, 3 seeds, 32 filters, 2000 steps)")
    for side, h, stride in ((6, 2, 1), (8, 2, 1), (8, 3, 2)):
        seed += 1
        X, y = make_signals("bars_crosses", 12, side, noise=0.1, seed=seed)
        fit, t, cpu = timed(lambda: fit_convex_cnn(X, y, 0.1, filter_size=h, stride=stride, patterns=2000))
        print(f"{f'images n=12 {side}x{side} h={h} s={stride} beta=0.1':<44} {fit.n_patterns:>8} {t:7.3f} {cpu:6.3f} "
              f"{'-':>8} {'-':>6} {'-':>6} {'-':>8} {fit.gap:8.1e} {fit.n_neurons:>7} {fit.info['rounds']:>6}  {fit.status}")
    X, y = make_signals("bump", 12, 8, noise=0.1, seed=0)
    for beta in (1e-1, 1e-2):
        fit = fit_convex_cnn(X, y, beta, filter_size=2)
        hs, t, cpu = timed(lambda: train_cnn_runs(X, y, beta, filter_size=2, seeds=(0, 1, 2), lrs=(0.03,), width=32,
                                                  steps=2000))
        above = ", ".join(f"{100 * (h.final_objective - fit.objective) / fit.objective:.1f}%" for h in hs)
        print(f"page default runs, beta={beta:g}: {t:.3f} s (cpu {cpu:.3f} s), final objectives above p*: {above}")


if __name__ == "__main__":
    main()
