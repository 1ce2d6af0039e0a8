"""Suite ``integrators``: error against time on the same JSD problems, ours and the baselines.

Problems (JSD in nats, :data:`PROBLEMS`): N(0, 1) against N(1, 1.5^2); the two-mode mixture
``0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2)`` against N(0.5, 2^2); in 2-D the ring(8, std=0.05)
against N(0, 1.5^2 I). Methods, each at a few tolerances, each timed (median of repeats) and
its error measured against a reference:

* ``ours``: :func:`gan_theory.jsd`, a single call, and (1-D) a batch of ``batch`` pairs
  (per-pair time);
* ``quad_strongest``: ``scipy.integrate.quad`` at its strongest: a hand-written ``math``
  integrand, the finite range of +-12 scales around the modes, the modes as break points,
  ``epsabs = epsrel = tol``, ``limit=200``; ``quad_infinite``: the same integrand over
  (-inf, inf) (the weaker baseline quoted before issue 12);
* ``tanhsinh`` and ``cubature`` (``scipy.integrate``, when the installed SciPy has them; the
  reason is recorded otherwise), on the same finite range split at the modes;
* ``mpmath``: ``mpmath.quad`` at 15 digits split at the modes (1-D).

References: ``mpmath.quad`` at 30 digits (1-D; without mpmath installed, ours at a tight
tolerance, the mpmath rows and the batch comparison skipped with the reason); in 2-D ``cubature`` at rtol 1e-13 on the
+-12-scale box, cross-checked against ours (both recorded). The speed-up at equal accuracy
compares each method's tightest setting with ours at its default, both reaching the accuracy
recorded beside it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["IntegratorPlan", "PROBLEMS", "run"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)

#: 1-D problems as mixtures ``(weights, means, stds)`` for p and q; 2-D as (ring std, q std).
PROBLEMS = {
    "normal_pair": {"dim": 1, "p": ((1.0,), (0.0,), (1.0,)), "q": ((1.0,), (1.0,), (1.5,))},
    "mixture2_vs_normal": {"dim": 1, "p": ((0.5, 0.5), (-2.0, 2.0), (0.5, 0.5)), "q": ((1.0,), (0.5,), (2.0,))},
    "ring8_vs_normal": {"dim": 2, "ring_std": 0.05, "radius": 2.0, "q_std": 1.5},
}


@dataclass(frozen=True)
class IntegratorPlan:
    tolerances: tuple[float, ...] = (1e-6, 1e-9, 1e-12)
    batch: int = 64
    repeats: int = 5
    problems: tuple[str, ...] = tuple(PROBLEMS)
    dblquad: bool = True

    @classmethod
    def default(cls, device: torch.device, quick: bool) -> IntegratorPlan:
        return cls(batch=32, repeats=3, dblquad=False) if quick else cls()


# ------------------------------------------------------------------ integrands
def _mix_logpdf(x: float, mix) -> float:
    w, m, s = mix
    terms = [math.log(wi) - 0.5 * ((x - mi) / si) ** 2 - math.log(si) - _LOG_SQRT_2PI for wi, mi, si in zip(w, m, s)]
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


def _jsd_point(lp: float, lq: float) -> float:
    """The JSD integrand from the log-densities, in ``math``: 0.5 (p log(2p/(p+q)) + q log(2q/(p+q)))."""
    lm = max(lp, lq) + math.log1p(math.exp(-abs(lp - lq)))  # log(p + q)
    out = 0.0
    if lp > -745.0:
        out += math.exp(lp) * (math.log(2.0) + lp - lm)
    if lq > -745.0:
        out += math.exp(lq) * (math.log(2.0) + lq - lm)
    return 0.5 * out


def _mix_logpdf_np(x: np.ndarray, mix) -> np.ndarray:
    w, m, s = (np.asarray(v, dtype=np.float64) for v in mix)
    t = np.log(w) - 0.5 * ((x[..., None] - m) / s) ** 2 - np.log(s) - _LOG_SQRT_2PI
    return np.logaddexp.reduce(t, axis=-1)


def _jsd_np(lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
    lm = np.logaddexp(lp, lq)
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        a = np.where(lp > -745.0, np.exp(lp) * (math.log(2.0) + lp - lm), 0.0)
        b = np.where(lq > -745.0, np.exp(lq) * (math.log(2.0) + lq - lm), 0.0)
    return 0.5 * (a + b)


def _range_and_breaks(problem) -> tuple[float, float, list[float]]:
    means = list(problem["p"][1]) + list(problem["q"][1])
    stds = list(problem["p"][2]) + list(problem["q"][2])
    lo = min(m - 12 * s for m, s in zip(means, stds))
    hi = max(m + 12 * s for m, s in zip(means, stds))
    return lo, hi, sorted(set(means))


def _torch_mix(mix):
    from torch.distributions import Categorical, MixtureSameFamily, Normal

    w, m, s = (torch.tensor(v, dtype=torch.float64) for v in mix)
    if len(w) == 1:
        return Normal(m[0], s[0])
    return MixtureSameFamily(Categorical(probs=w), Normal(m, s))


def _mpmath_jsd(problem, dps: int) -> float:
    import mpmath

    with mpmath.workdps(dps):
        def logpdf(x, mix):
            w, m, s = mix
            return mpmath.log(sum(mpmath.mpf(wi) * mpmath.npdf(x, mi, si) for wi, mi, si in zip(w, m, s)))

        def f(x):
            lp, lq = logpdf(x, problem["p"]), logpdf(x, problem["q"])
            p, q = mpmath.exp(lp), mpmath.exp(lq)
            lm = mpmath.log(p + q)
            return (p * (mpmath.log(2) + lp - lm) + q * (mpmath.log(2) + lq - lm)) / 2

        _, _, brk = _range_and_breaks(problem)
        return float(mpmath.quad(f, [-mpmath.inf] + brk + [mpmath.inf]))


def _has_mpmath() -> bool:
    try:
        import mpmath  # noqa: F401
    except ImportError:
        return False
    return True


# ------------------------------------------------------------------ timing
def _time(fn, repeats: int) -> tuple[float, Any]:
    out = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def _record(method: str, setting: Any, seconds: float, value: float, ref: float, **extra) -> dict[str, Any]:
    return {"method": method, "setting": setting, "seconds": seconds, "value": value, "error": abs(value - ref),
            **extra}


def _one_d(name: str, problem, plan: IntegratorPlan) -> dict[str, Any]:
    from scipy import integrate

    import gan_theory as gt

    lo, hi, brk = _range_and_breaks(problem)
    p_mix, q_mix = problem["p"], problem["q"]
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    p, q = _torch_mix(p_mix), _torch_mix(q_mix)
    has_mpmath = _has_mpmath()
    if has_mpmath:
        ref, ref_method = _mpmath_jsd(problem, 30), "mpmath.quad, 30 digits"
    else:  # mpmath is a test extra, not a dependency
        tight = gt.jsd(p, q, atol=1e-15, rtol=1e-13)
        ref, ref_method = tight.value, f"gan_theory.jsd at atol 1e-15, rtol 1e-13 (error bound {tight.error:.1e})"
        skipped["mpmath"] = "mpmath is not installed (pip install mpmath, or the test extras)"
    for tol in plan.tolerances:
        t, r = _time(lambda: gt.jsd(p, q, atol=tol * 1e-2, rtol=tol), plan.repeats)
        rows.append(_record("ours", tol, t, r.value, ref, reported_error=r.error))
    t, r = _time(lambda: gt.jsd(p, q), plan.repeats)
    rows.append(_record("ours", "default", t, r.value, ref, reported_error=r.error))

    def f(x: float) -> float:
        return _jsd_point(_mix_logpdf(x, p_mix), _mix_logpdf(x, q_mix))

    for tol in plan.tolerances:
        t, v = _time(lambda: integrate.quad(f, lo, hi, points=brk, epsabs=tol, epsrel=tol, limit=200)[0],
                     plan.repeats)
        rows.append(_record("quad_strongest", tol, t, v, ref))
        t, v = _time(lambda: integrate.quad(f, -np.inf, np.inf, epsabs=tol, epsrel=tol, limit=200)[0], plan.repeats)
        rows.append(_record("quad_infinite", tol, t, v, ref))
    edges = np.array([lo] + brk + [hi])

    def fv(x):
        x = np.asarray(x, dtype=np.float64)
        return _jsd_np(_mix_logpdf_np(x, p_mix), _mix_logpdf_np(x, q_mix))

    if hasattr(integrate, "tanhsinh"):
        for tol in plan.tolerances:
            t, v = _time(lambda: float(np.sum(integrate.tanhsinh(fv, edges[:-1], edges[1:], atol=tol * 1e-2,
                                                                   rtol=tol).integral)), plan.repeats)
            rows.append(_record("tanhsinh", tol, t, v, ref))
    else:
        skipped["tanhsinh"] = "scipy.integrate.tanhsinh is not in the installed SciPy"
    if hasattr(integrate, "cubature"):
        def fc(x):
            return fv(x[:, 0])

        for tol in plan.tolerances:
            t, v = _time(lambda: float(integrate.cubature(fc, [lo], [hi], rtol=tol, atol=tol * 1e-2,
                                                          points=[np.array([b]) for b in brk]).estimate),
                         plan.repeats)
            rows.append(_record("cubature", tol, t, v, ref))
    else:
        skipped["cubature"] = "scipy.integrate.cubature is not in the installed SciPy"
    if has_mpmath:
        t, v = _time(lambda: _mpmath_jsd(problem, 15), max(1, plan.repeats // 2))
        rows.append(_record("mpmath", "dps=15", t, v, ref))
    out = {"problem": name, "dim": 1, "reference": ref, "reference_method": ref_method,
           "rows": rows, "skipped": skipped}
    if len(p_mix[0]) == 1 and len(q_mix[0]) == 1 and has_mpmath:
        out["batch"] = _batch(problem, plan)
    return out


def _batch(problem, plan: IntegratorPlan) -> dict[str, Any]:
    """A batch of ``plan.batch`` pairs (p's mean moved across [-1, 1]): ours in one call against
    the strongest quad per pair; errors against mpmath at 30 digits."""
    from scipy import integrate
    from torch.distributions import Normal

    import gan_theory as gt

    n = plan.batch
    shifts = np.linspace(-1.0, 1.0, n)
    probs = []
    for s in shifts:
        (w, m, sd), q = problem["p"], problem["q"]
        probs.append({"p": (w, (m[0] + float(s),), sd), "q": q})
    refs = np.array([_mpmath_jsd(pr, 30) for pr in probs])
    p = Normal(torch.tensor([pr["p"][1][0] for pr in probs], dtype=torch.float64), problem["p"][2][0])
    q = Normal(torch.tensor(problem["q"][1][0], dtype=torch.float64), problem["q"][2][0])
    t_ours, r = _time(lambda: gt.jsd(p, q), plan.repeats)

    def quad_all():
        vals = []
        for pr in probs:
            lo, hi, brk = _range_and_breaks(pr)
            pm, qm = pr["p"], pr["q"]
            vals.append(integrate.quad(lambda x: _jsd_point(_mix_logpdf(x, pm), _mix_logpdf(x, qm)), lo, hi,
                                       points=brk, epsabs=1e-12, epsrel=1e-12, limit=200)[0])
        return np.array(vals)

    t_quad, v = _time(quad_all, max(1, plan.repeats // 2))
    return {"size": n, "ours_seconds_per_pair": t_ours / n, "ours_max_error": float(np.max(np.abs(r.value - refs))),
            "ours_error_bound_holds": bool(np.all(np.abs(r.value - refs) <= r.error + 1e-15)),
            "quad_strongest_seconds_per_pair": t_quad / n, "quad_max_error": float(np.max(np.abs(v - refs))),
            "speedup": t_quad / t_ours}


def _two_d(name: str, problem, plan: IntegratorPlan) -> dict[str, Any]:
    from scipy import integrate
    from torch.distributions import MultivariateNormal

    import gan_theory as gt

    k, radius, rs, qs = 8, problem["radius"], problem["ring_std"], problem["q_std"]
    p = gt.toys.ring(k=k, radius=radius, std=rs)
    q = MultivariateNormal(torch.zeros(2, dtype=torch.float64), qs ** 2 * torch.eye(2, dtype=torch.float64))
    modes = gt.toys.ring_modes(k, radius).numpy()
    half = 12 * qs

    def fc(x):
        lp = np.logaddexp.reduce(-0.5 * (((x[:, None, :] - modes[None]) / rs) ** 2).sum(-1)
                                 - 2 * math.log(rs) - 2 * _LOG_SQRT_2PI - math.log(k), axis=1)
        lq = -0.5 * ((x / qs) ** 2).sum(-1) - 2 * math.log(qs) - 2 * _LOG_SQRT_2PI
        return _jsd_np(lp, lq)

    skipped: dict[str, str] = {}
    ours_tight = gt.jsd(p, q, atol=1e-13, rtol=1e-12)
    ref_method = "gan_theory.jsd at atol 1e-13, rtol 1e-12"
    ref = ours_tight.value
    cross = None
    if hasattr(integrate, "cubature"):
        c = integrate.cubature(fc, [-half, -half], [half, half], rtol=1e-12, atol=1e-14,
                               points=[m for m in modes] + [np.zeros(2)], max_subdivisions=200000)
        cross = {"cubature_rtol_1e-12": float(c.estimate), "cubature_status": str(c.status),
                 "difference_to_reference": abs(float(c.estimate) - ref), "reference_error_bound": ours_tight.error}
    rows: list[dict[str, Any]] = []
    for tol in plan.tolerances[:2] + ((1e-10,) if plan.tolerances[-1] < 1e-10 else ()):
        t, r = _time(lambda: gt.jsd(p, q, atol=tol * 1e-2, rtol=tol), max(1, plan.repeats // 2))
        rows.append(_record("ours", tol, t, r.value, ref, reported_error=r.error))
    t, r = _time(lambda: gt.jsd(p, q), max(1, plan.repeats // 2))
    rows.append(_record("ours", "default", t, r.value, ref, reported_error=r.error))
    if hasattr(integrate, "cubature"):
        for tol in plan.tolerances[:2] + (1e-10,):
            t, c = _time(lambda: integrate.cubature(fc, [-half, -half], [half, half], rtol=tol, atol=tol * 1e-2,
                                                    points=[m for m in modes] + [np.zeros(2)],
                                                    max_subdivisions=200000), 1)
            rows.append(_record("cubature", tol, t, float(c.estimate), ref, status=str(c.status)))
    else:
        skipped["cubature"] = "scipy.integrate.cubature is not in the installed SciPy"
    if plan.dblquad:
        def f2(y, x):
            return float(fc(np.array([[x, y]]))[0])

        t, v = _time(lambda: integrate.dblquad(f2, -half, half, -half, half, epsabs=1e-8, epsrel=1e-8)[0], 1)
        rows.append(_record("dblquad", 1e-8, t, v, ref))
    else:
        skipped["dblquad"] = "not run with --quick (seconds per call)"
    skipped["tanhsinh"] = "1-D only (scipy.integrate.tanhsinh integrates over intervals)"
    skipped["mpmath"] = "2-D mpmath.quad over the ring's 8 narrow modes takes minutes per call"
    return {"problem": name, "dim": 2, "reference": ref, "reference_method": ref_method, "cross_check": cross,
            "rows": rows, "skipped": skipped}


def speedups(problem: dict[str, Any]) -> dict[str, Any]:
    """Each baseline against ours at its default tolerance, at equal accuracy: the baseline's
    fastest setting whose error against the reference is at most ``max(10 x our error, 1e-12)``
    (``equal_accuracy: true``), or, when none is, its most accurate setting (``false``)."""
    rows = problem["rows"]
    ours = next(r for r in rows if r["method"] == "ours" and r["setting"] == "default")
    target = max(10 * ours["error"], 1e-12)
    out = {}
    for method in sorted({r["method"] for r in rows} - {"ours"}):
        mine = [r for r in rows if r["method"] == method]
        good = [r for r in mine if r["error"] <= target]
        pick = min(good, key=lambda r: r["seconds"]) if good else min(mine, key=lambda r: r["error"])
        out[method] = {"setting": pick["setting"], "speedup": pick["seconds"] / ours["seconds"],
                       "baseline_error": pick["error"], "ours_error": ours["error"], "equal_accuracy": bool(good),
                       "accuracy_target": target}
    return out


def run(device: torch.device, plan: IntegratorPlan) -> dict[str, Any]:
    problems = []
    for name in plan.problems:
        pr = PROBLEMS[name]
        res = _one_d(name, pr, plan) if pr["dim"] == 1 else _two_d(name, pr, plan)
        res["speedups_at_equal_accuracy"] = speedups(res)
        problems.append(res)
    return {"suite": "integrators", "note": "CPU only (the engine is NumPy); --device does not apply",
            "problems": problems}


def plot(payload: dict[str, Any], path) -> None:
    from ._common import plot_figure

    probs = payload["problems"]

    def draw(axes) -> None:
        for ax, pr in zip(axes, probs):
            for method in sorted({r["method"] for r in pr["rows"]}):
                pts = sorted((r["seconds"], max(r["error"], 1e-17)) for r in pr["rows"] if r["method"] == method)
                ax.loglog([p[0] for p in pts], [p[1] for p in pts], "o-", label=method, ms=3)
            ax.set_title(pr["problem"], fontsize=8)
            ax.set_xlabel("seconds per call")
            ax.set_ylabel("|error|")
            ax.legend(fontsize=6)

    plot_figure(path, draw, ncols=len(probs), width=4.0)
