"""Speed and accuracy of the exact engine's quadrature, as ratios against scipy in the same run.

1-D: JSD of two Gaussians (7 pairs) by ``gan_theory.jsd`` against
``scipy.integrate.quad`` integrating the same JSD integrand over (-inf, inf) to the same
tolerance (epsabs 1e-13, epsrel 1e-11, the engine's 1-D defaults). Three quad baselines, all
timed in the same run:

* ``quad_math``: a scalar integrand hand-written with ``math`` from the Gaussian log-density
  formulas (the fastest form quad can be given; the strongest baseline);
* ``quad_same_log_densities``: quad calling the very log-density functions the engine
  integrates (``as_density(p).log_prob``) and the engine's JSD integrand, one point at a time;
* ``quad_torch_log_prob``: quad calling ``torch.distributions.Normal.log_prob``.

And the engine on all 7 pairs as one batch (``q`` a ``Normal`` with batch_shape (7,)) and on
32, 256 and 1024 random pairs (N(0, 1) against N(m, s^2), m in [-3, 3], log s in [-1, 1]) as
one batch, timed per pair against as many ``quad_math`` calls, and against
``scipy.integrate.tanhsinh`` integrating all pairs of the batch at once (the same integrand in
NumPy, same tolerances). Each element of a batch is integrated on cells of its own, so the
per-call overhead is shared and the work per pair stays that of a single call.
Accuracy of every value is measured against mpmath at 40 digits.

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


def vectorised_integrand(x, m1, s1, m2, s2):
    """The JSD integrand of ``quad_integrand`` in NumPy, for ``scipy.integrate.tanhsinh``, which
    integrates many pairs at once (parameters broadcast against ``x``)."""
    a = -np.log(s1) - 0.5 * math.log(2 * math.pi) - 0.5 * ((x - m1) / s1) ** 2
    b = -np.log(s2) - 0.5 * math.log(2 * math.pi) - 0.5 * ((x - m2) / s2) ** 2
    d = np.abs(a - b)
    e = np.exp(-d)
    u = 0.5 * d
    un = np.minimum(u, 1.0)
    g = np.where(u < 1.0, un * np.tanh(un) - np.log1p(2 * np.sinh(0.5 * un) ** 2),
                 LOG2 - 2 * np.minimum(u, 400.0) * e / (1 + e) - np.log1p(e))
    return np.exp(np.maximum(a, b) + np.log1p(e) - LOG2) * g


def same_log_density_integrand(p, q):
    """quad's integrand from the engine's own log-density closures and JSD terms."""
    dp, dq = as_density(p), as_density(q)

    def f(x):
        y = np.array([x])
        return float(jsd_terms(dp.log_prob(y), dq.log_prob(y))[0][0])

    return f


def torch_integrand(p, q):
    def f(x):
        t = torch.tensor([x], dtype=torch.float64)
        a, b = float(p.log_prob(t)), float(q.log_prob(t))
        return float(jsd_terms(np.array([a]), np.array([b]))[0][0])

    return f


QUAD_KW = {"epsabs": 1e-13, "epsrel": 1e-11, "limit": 200}


def quad_jsd(f):
    return integrate.quad(f, -np.inf, np.inf, **QUAD_KW)


def one_d() -> dict:
    rows = []
    f64 = torch.float64
    for m1, s1, m2, s2 in PAIRS:
        p = torch.distributions.Normal(torch.tensor(m1, dtype=f64), torch.tensor(s1, dtype=f64))
        q = torch.distributions.Normal(torch.tensor(m2, dtype=f64), torch.tensor(s2, dtype=f64))
        ref = mpmath_jsd(m1, s1, m2, s2)
        ours = gt.jsd(p, q)
        t_ours = best_time(lambda: gt.jsd(p, q))
        row = {"pair": [m1, s1, m2, s2], "reference": ref,
               "ours": {"value": ours.value, "reported_error": ours.error, "true_error": abs(ours.value - ref),
                        "seconds": t_ours}}
        baselines = {"quad_math": quad_integrand(m1, s1, m2, s2),
                     "quad_same_log_densities": same_log_density_integrand(p, q),
                     "quad_torch_log_prob": torch_integrand(p, q)}
        for name, f in baselines.items():
            qv, qe = quad_jsd(f)
            t_quad = best_time(lambda f=f: quad_jsd(f), repeat=5 if name == "quad_torch_log_prob" else 7)
            row[name] = {"value": qv, "reported_error": qe, "true_error": abs(qv - ref), "seconds": t_quad,
                         "speedup": t_quad / t_ours}
        rows.append(row)
        print(f"1-D N({m1},{s1}) vs N({m2},{s2}): ours {t_ours * 1e6:7.1f} us (err {abs(ours.value - ref):.1e} <= "
              f"{ours.error:.1e}); quad: " + ", ".join(
                  f"{k[5:]} {row[k]['seconds'] * 1e6:.0f} us x{row[k]['speedup']:.1f}" for k in baselines))
    out = {"pairs": rows, "max_seconds_per_pair": max(r["ours"]["seconds"] for r in rows),
           "bound_holds": all(r["ours"]["true_error"] <= r["ours"]["reported_error"] for r in rows)}
    for name in ("quad_math", "quad_same_log_densities", "quad_torch_log_prob"):
        speed = [r[name]["speedup"] for r in rows]
        out[name] = {"median_speedup": float(np.median(speed)), "min_speedup": float(np.min(speed))}
    out["batched"] = [batched(PAIRS, "the 7 pairs above")] + [batched(random_pairs(n), f"{n} random pairs")
                                                             for n in (32, 256, 1024)]
    return out


def random_pairs(n: int) -> list[tuple[float, float, float, float]]:
    rng = np.random.default_rng(20261123)
    return [(0.0, 1.0, float(m), float(s)) for m, s in zip(rng.uniform(-3, 3, n), np.exp(rng.uniform(-1, 1, n)))]


def batched(pairs, label: str) -> dict:
    """The engine on all pairs as one batch (p = N(0, 1), q a batch of Normals), per pair."""
    f64 = torch.float64
    p = torch.distributions.Normal(torch.tensor(0.0, dtype=f64), torch.tensor(1.0, dtype=f64))
    q = torch.distributions.Normal(torch.tensor([m for _, _, m, _ in pairs], dtype=f64),
                                   torch.tensor([s for _, _, _, s in pairs], dtype=f64))
    ours = gt.jsd(p, q)
    t_batch = best_time(lambda: gt.jsd(p, q), repeat=5)
    fs = [quad_integrand(*pair) for pair in pairs]
    t_loop = best_time(lambda: [quad_jsd(f) for f in fs], repeat=3)
    refs = np.array([mpmath_jsd(*pair) for pair in pairs]) if len(pairs) <= 16 else None
    n = len(pairs)
    out = {"pairs": label, "n": n, "seconds_per_pair": t_batch / n, "quad_math_seconds_per_pair": t_loop / n,
           "speedup_vs_quad_math": t_loop / t_batch, "max_reported_error": float(np.max(ours.error))}
    quad_values = np.array([quad_jsd(f)[0] for f in fs])
    out["max_difference_from_quad_math"] = float(np.max(np.abs(ours.value - quad_values)))
    # scipy's vectorised integrator on all pairs at once, same integrand and tolerances
    args = tuple(np.array([pair[i] for pair in pairs]) for i in range(4))

    def th():
        return integrate.tanhsinh(vectorised_integrand, -np.inf, np.inf, args=args, atol=QUAD_KW["epsabs"],
                                  rtol=QUAD_KW["epsrel"])

    res_th = th()
    t_th = best_time(th, repeat=3)
    out.update({"tanhsinh_seconds_per_pair": t_th / n, "speedup_vs_tanhsinh": t_th / t_batch,
                "tanhsinh_all_converged": bool(np.all(res_th.success)),
                "max_difference_from_tanhsinh": float(np.max(np.abs(ours.value - res_th.integral)))})
    if refs is not None:
        out["max_true_error"] = float(np.max(np.abs(ours.value - refs)))
        out["bound_holds"] = bool(np.all(np.abs(ours.value - refs) <= ours.error))
    print(f"1-D batch of {n} ({label}): ours {t_batch / n * 1e6:.1f} us per pair, quad_math "
          f"{t_loop / n * 1e6:.1f} us per pair, x{t_loop / t_batch:.1f}; tanhsinh (vectorised) "
          f"{t_th / n * 1e6:.1f} us per pair, x{t_th / t_batch:.1f}")
    return out


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
