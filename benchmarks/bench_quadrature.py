"""Speed and accuracy of the exact engine's quadrature, as ratios against scipy in the same run.

1-D: JSD of two Gaussians (7 pairs, from PERF-NOTES) by ``gan_theory.jsd`` against
``scipy.integrate.quad`` integrating the same JSD integrand over (-inf, inf) to the same
tolerance (epsabs 1e-13, epsrel 1e-11, the engine's 1-D defaults). quad calls a scalar Python
integrand written with ``math`` from the same log-density formulas (its fastest form).
Accuracy of both is measured against mpmath at 40 digits.

2-D: JSD of ring(8, radius 2, std 0.05) against N(0, 1.5^2 I) by ``gan_theory.jsd(atol=1e-9)``
against ``scipy.integrate.cubature`` (rule gk21, atol 1e-9) on [-12, 12]^2 with the same
vectorised integrand (the mass outside the box is below 1e-30). Accuracy against the
converged reference in tests/references/references_2d.json when present, else against the
engine at atol 1e-12.

Targets (issue 2): 1-D <= 1 ms per pair and >= 5x faster than quad; 2-D error <= 1e-9 in
<= 100 ms and >= 5x faster than cubature.

Run: python benchmarks/bench_quadrature.py  (writes benchmarks/results/quadrature_<device>.json)
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import mpmath as mp
import numpy as np
import torch
from scipy import integrate

import gan_theory as gt
from gan_theory.densities import as_density
from gan_theory.logspace import jsd_terms

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_time, machine, write  # noqa: E402

LOG2 = math.log(2.0)
PAIRS = [(0.0, 1.0, 1.0, 1.5), (0.0, 1.0, 0.0, 0.3), (0.0, 1.0, 5.0, 0.5), (0.0, 1.0, 0.5, 1.0),
         (0.0, 1.0, -2.0, 2.0), (0.0, 1.0, 10.0, 1.0), (0.0, 1.0, 0.1, 0.9)]


def mpmath_jsd(m1, s1, m2, s2) -> float:
    mp.mp.dps = 40
    m1, s1, m2, s2 = map(mp.mpf, (m1, s1, m2, s2))

    def lp(x, m, s):
        return -((x - m) / s) ** 2 / 2 - mp.log(s) - mp.log(2 * mp.pi) / 2

    def f(x):
        a, b = lp(x, m1, s1), lp(x, m2, s2)
        pa, pb = mp.exp(a), mp.exp(b)
        m = (pa + pb) / 2
        return (pa * mp.log(pa / m) + pb * mp.log(pb / m)) / 2

    pts = sorted({float(m1 + k * s1) for k in range(-12, 13)} | {float(m2 + k * s2) for k in range(-12, 13)})
    return float(mp.quad(f, [-mp.inf] + [mp.mpf(p) for p in pts] + [mp.inf]))


def quad_integrand(m1, s1, m2, s2):
    c1 = -math.log(s1) - 0.5 * math.log(2 * math.pi)
    c2 = -math.log(s2) - 0.5 * math.log(2 * math.pi)

    def f(x):
        a = c1 - 0.5 * ((x - m1) / s1) ** 2
        b = c2 - 0.5 * ((x - m2) / s2) ** 2
        hi, lo = (a, b) if a > b else (b, a)
        if hi == -math.inf:
            return 0.0
        lm = hi + math.log1p(math.exp(lo - hi)) - LOG2
        u = 0.5 * abs(a - b)
        g = u * math.tanh(u) - math.log1p(2 * math.sinh(0.5 * u) ** 2) if u < 20 else LOG2
        return math.exp(lm) * g

    return f


def one_d() -> dict:
    rows = []
    for m1, s1, m2, s2 in PAIRS:
        f64 = torch.float64
        p = torch.distributions.Normal(torch.tensor(m1, dtype=f64), torch.tensor(s1, dtype=f64))
        q = torch.distributions.Normal(torch.tensor(m2, dtype=f64), torch.tensor(s2, dtype=f64))
        ref = mpmath_jsd(m1, s1, m2, s2)
        ours = gt.jsd(p, q)
        t_ours = best_time(lambda: gt.jsd(p, q))
        f = quad_integrand(m1, s1, m2, s2)
        qv, qe = integrate.quad(f, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-11, limit=200)
        t_quad = best_time(lambda: integrate.quad(f, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-11, limit=200))
        rows.append({"pair": [m1, s1, m2, s2], "reference": ref,
                     "ours": {"value": ours.value, "reported_error": ours.error, "true_error": abs(ours.value - ref),
                              "seconds": t_ours},
                     "quad": {"value": qv, "reported_error": qe, "true_error": abs(qv - ref), "seconds": t_quad},
                     "speedup": t_quad / t_ours})
        print(f"1-D N({m1},{s1}) vs N({m2},{s2}): ours {t_ours * 1e6:7.1f} us (err {abs(ours.value - ref):.1e} <= "
              f"{ours.error:.1e}), quad {t_quad * 1e6:7.1f} us (err {abs(qv - ref):.1e}), x{t_quad / t_ours:.1f}")
    speed = [r["speedup"] for r in rows]
    return {"pairs": rows, "median_speedup": float(np.median(speed)), "min_speedup": float(np.min(speed)),
            "max_seconds_per_pair": max(r["ours"]["seconds"] for r in rows),
            "bound_holds": all(r["ours"]["true_error"] <= r["ours"]["reported_error"] for r in rows)}


def two_d() -> dict:
    ring = gt.toys.ring(8, 2.0, 0.05)
    g = gt.toys.correlated_gaussian(0.0, 1.5)
    dr, dg = as_density(ring), as_density(g)
    ref_file = Path(__file__).parent.parent / "tests" / "references" / "references_2d.json"
    ref, ref_source = None, None
    if ref_file.exists():
        for case in json.loads(ref_file.read_text())["cases"]:
            if case["p"].get("family") == "ring" and case["p"].get("std") == 0.05:
                ref, ref_source = float(case["values"]["jsd"]), "tests/references/references_2d.json"
    if ref is None:
        ref, ref_source = gt.jsd(ring, g, atol=1e-12, rtol=0).value, "gan_theory.jsd(atol=1e-12)"
    ours = gt.jsd(ring, g, atol=1e-9, rtol=0.0)
    t_ours = best_time(lambda: gt.jsd(ring, g, atol=1e-9, rtol=0.0), repeat=5)

    def f(x):
        return jsd_terms(dr.log_prob(x), dg.log_prob(x))[0]

    res = integrate.cubature(f, [-12.0, -12.0], [12.0, 12.0], rule="gk21", atol=1e-9, rtol=0.0,
                             max_subdivisions=100000)
    t_cub = best_time(lambda: integrate.cubature(f, [-12.0, -12.0], [12.0, 12.0], rule="gk21", atol=1e-9, rtol=0.0,
                                                 max_subdivisions=100000), repeat=3)
    out = {"reference": ref, "reference_source": ref_source,
           "ours": {"value": ours.value, "reported_error": ours.error, "true_error": abs(ours.value - ref),
                    "seconds": t_ours, "evaluations": ours.evaluations},
           "cubature": {"value": float(res.estimate), "reported_error": float(res.error),
                        "true_error": abs(float(res.estimate) - ref), "seconds": t_cub, "status": res.status},
           "speedup": t_cub / t_ours}
    print(f"2-D ring(8, std 0.05) vs N(0, 1.5^2 I): ours {t_ours * 1e3:.1f} ms (err {out['ours']['true_error']:.1e} <= "
          f"{ours.error:.1e}), cubature gk21 {t_cub * 1e3:.1f} ms (err {out['cubature']['true_error']:.1e}), "
          f"x{out['speedup']:.1f}")
    return out


def main() -> None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    payload = {"benchmark": "quadrature", "machine": machine(), "one_d": one_d(), "two_d": two_d()}
    path = write(f"quadrature_{device}.json", payload)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
