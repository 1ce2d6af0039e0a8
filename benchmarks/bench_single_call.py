"""The cost of one 1-D call: JSD of N(0, 1) against N(1, 0.3^2), three ways, in the same run.

* ``ours``: ``gan_theory.jsd(p, q)`` on the same two distribution objects, called repeatedly
  (what a user's loop does; per-density facts are cached on the objects).
* ``quad``: ``scipy.integrate.quad`` at its strongest (issue 13): a scalar integrand
  hand-written with ``math``, the finite range [mu_min - 12 s_max, mu_max + 12 s_max]
  (the mass outside is below 1e-32), ``points`` at the two means, ``epsabs = epsrel = 1e-12``,
  ``limit = 200``.
* ``floor``: the same integrand in NumPy on a fixed 1024-node Gauss-Legendre rule over that
  range (nodes and weights made once, outside the timing): the cost of evaluating the
  integrand on about as many points with no error control at all.

Accuracy of every value against mpmath at 40 digits (``bench_quadrature.mpmath_jsd``).
Targets (issue 13): ours <= 100 us per call and >= 2.5x quad.

Each time is the best of several rounds, the three contenders interleaved round by round, in
wall-clock time (``seconds``) and in the CPU time of the thread (``cpu_seconds``, which a
machine shared with other work inflates much less: the 2-core development machine this was
written on ran at load 6-7).

Run: python benchmarks/bench_single_call.py  (writes benchmarks/results/single_call_<device>.json)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy import integrate

import gan_theory as gt

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_time, machine, write  # noqa: E402
from bench_quadrature import mpmath_jsd, quad_integrand, vectorised_integrand  # noqa: E402

PAIR = (0.0, 1.0, 1.0, 0.3)
QUAD_KW = {"epsabs": 1e-12, "epsrel": 1e-12, "limit": 200}
FLOOR_NODES = 1024


def measure(repeat: int = 15) -> dict:
    m1, s1, m2, s2 = PAIR
    f64 = torch.float64
    p = torch.distributions.Normal(torch.tensor(m1, dtype=f64), torch.tensor(s1, dtype=f64))
    q = torch.distributions.Normal(torch.tensor(m2, dtype=f64), torch.tensor(s2, dtype=f64))
    ref = mpmath_jsd(m1, s1, m2, s2)
    lo, hi = min(m1, m2) - 12 * max(s1, s2), max(m1, m2) + 12 * max(s1, s2)
    f = quad_integrand(m1, s1, m2, s2)

    def quad():
        return integrate.quad(f, lo, hi, points=[m1, m2], **QUAD_KW)

    x, w = np.polynomial.legendre.leggauss(FLOOR_NODES)
    xs, ws = 0.5 * (hi - lo) * x + 0.5 * (hi + lo), 0.5 * (hi - lo) * w

    def floor():
        return float(vectorised_integrand(xs, m1, s1, m2, s2) @ ws)

    ours = gt.jsd(p, q)
    qv, qe = quad()
    fv = floor()
    fns = {"ours": lambda: gt.jsd(p, q), "quad": quad, "floor": floor}
    t = {k: float("inf") for k in fns}
    cpu = dict(t)
    for _ in range(repeat):  # interleaved rounds: the three see the same machine
        for name, fn in fns.items():
            t[name] = min(t[name], best_time(fn, repeat=1, budget=0.1))
            cpu[name] = min(cpu[name], cpu_time(fn))
    out = {"pair": list(PAIR), "reference": ref,
           "ours": {"value": ours.value, "reported_error": ours.error, "true_error": abs(ours.value - ref),
                    "evaluations": ours.evaluations, "cells": ours.cells, "seconds": t["ours"]},
           "quad": {"value": qv, "reported_error": qe, "true_error": abs(qv - ref), "seconds": t["quad"],
                    "range": [lo, hi], **QUAD_KW},
           "floor": {"value": fv, "true_error": abs(fv - ref), "seconds": t["floor"], "nodes": FLOOR_NODES},
           "cpu_seconds": cpu,
           "speedup_vs_quad": t["quad"] / t["ours"], "ratio_to_floor": t["ours"] / t["floor"],
           "cpu_speedup_vs_quad": cpu["quad"] / cpu["ours"], "cpu_ratio_to_floor": cpu["ours"] / cpu["floor"],
           "targets": {"max_seconds": 100e-6, "min_speedup_vs_quad": 2.5}}
    out["targets_met"] = bool(t["ours"] <= 100e-6 and out["speedup_vs_quad"] >= 2.5
                              and out["ours"]["true_error"] <= ours.error)
    out["cpu_targets_met"] = bool(cpu["ours"] <= 100e-6 and out["cpu_speedup_vs_quad"] >= 2.5
                                  and out["ours"]["true_error"] <= ours.error)
    return out


def cpu_time(fn, calls: int = 100) -> float:
    """Mean CPU time of this thread per call of ``fn`` over ``calls`` calls."""
    t0 = time.thread_time()
    for _ in range(calls):
        fn()
    return (time.thread_time() - t0) / calls


def main() -> None:
    out = measure()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    payload = {"benchmark": "single_call", "machine": machine(), **out}
    print(f"1-D JSD N(0,1) vs N(1,0.3^2): ours {out['ours']['seconds'] * 1e6:.1f} us "
          f"(err {out['ours']['true_error']:.1e} <= {out['ours']['reported_error']:.1e}), "
          f"quad {out['quad']['seconds'] * 1e6:.1f} us (err {out['quad']['true_error']:.1e}), "
          f"x{out['speedup_vs_quad']:.2f}; floor {out['floor']['seconds'] * 1e6:.1f} us, "
          f"ours/floor {out['ratio_to_floor']:.2f}; targets met: {out['targets_met']}")
    c = out["cpu_seconds"]
    print(f"  thread CPU time: ours {c['ours'] * 1e6:.1f} us, quad {c['quad'] * 1e6:.1f} us, "
          f"x{out['cpu_speedup_vs_quad']:.2f}; floor {c['floor'] * 1e6:.1f} us, ours/floor "
          f"{out['cpu_ratio_to_floor']:.2f}; targets met: {out['cpu_targets_met']}")
    path = write(f"single_call_{device}.json", payload)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
