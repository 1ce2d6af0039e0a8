"""The README's results section, written from the suites' JSON files (:func:`markdown`).

``python -m gan_theory.bench.report FILE.json ...`` prints it.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["markdown"]


def _g(x: Any, fmt: str = ".3g") -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, fmt)


def _threads(env: dict[str, Any]) -> str:
    n = env["torch_threads"]
    return f"{n} thread" + ("" if n == 1 else "s")


def _throughput(d: dict[str, Any]) -> list[str]:
    rows = d["rows"]
    env = d["environment"]
    peak = d["matmul_peak"]["fp32"]["flops_per_s"]
    out = [f"**Throughput** ({env['device_name']}, {_threads(env)}, torch {env['torch']}; "
           f"{d['architecture']}; matmul peak measured in the same run: {peak / 1e9:.0f} GFLOP/s fp32"
           + (f", {d['matmul_peak']['tf32']['flops_per_s'] / 1e12:.0f} TFLOP/s tf32" if "flops_per_s" in d["matmul_peak"].get("tf32", {})
              else "") + "):", "",
           "| N | GAN steps/s | x loop | fraction of fp32 matmul peak | step form | eager: x loop, fraction |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        eager = (f"{r['eager_ratio_to_loop']:.2f}, {r['eager_fraction_of_peak_fp32']:.1%}"
                 if "eager_ratio_to_loop" in r else "")
        out.append(f"| {r['N']} | {r['gan_steps_per_s']:.0f} | {r['ratio_to_loop']:.2f} | "
                   f"{r['fraction_of_peak_fp32']:.1%} | {r['best_form']} | {eager} |")
    by_n = {r["N"]: r for r in rows}
    big = rows[-1]
    if 64 in by_n:
        out += ["", f"At N = 64: x{by_n[64]['ratio_to_loop']:.2f} the loop, {by_n[64]['fraction_of_peak_fp32']:.1%} "
                    f"of the matmul peak; at N = {big['N']}: x{big['ratio_to_loop']:.2f}."]
        comp = by_n[64]["forms"].get("compiled", {})
        if "startup_s" in comp:
            out.append(f"The compiled form (TrainConfig(compile=True), opt-in) took {comp['startup_s']:.1f} s to build "
                       f"and take its first step at N = 64 in this run, eager "
                       f"{by_n[64]['forms']['eager']['startup_s']:.2f} s (compilation is cached on disk by "
                       f"Inductor: a first run takes longer).")
        if d.get("allocator", {}).get("setting"):
            out.append(f"Allocator: {d['allocator']['setting']} (both sides).")
    return out


def _convergence(d: dict[str, Any]) -> list[str]:
    env = d["environment"]
    out = [f"**Convergence** ({env['device_name']}, {_threads(env)}"
           f"{', --quick' if d.get('quick') else ''}): first logged step where the median over the ensemble of "
           "C(G) + log 4 <= eps; converged GANs per minute counting training alone / training plus exact metrics.",
           "", "| case | seeds | eps | step | per-seed median [IQR] | GANs/min (training) | GANs/min (with metrics) | "
           "metrics share of wall time |", "|---|---|---|---|---|---|---|---|"]
    for c in d["cases"]:
        for eps, e in c["eps"].items():
            if e["ensemble_step"] is None and eps != "0.01":
                continue
            out.append(f"| {c['case']} | {c['ensemble']} | {eps} | {_g(e['ensemble_step'], 'd')} | "
                       f"{_g(e['per_seed_median'], '.0f')} [{_g(e['per_seed_q1'], '.0f')}, {_g(e['per_seed_q3'], '.0f')}] | "
                       f"{_g(e.get('gans_per_minute_training'), '.1f')} | {_g(e.get('gans_per_minute_with_metrics'), '.1f')} | "
                       f"{_g(c['metrics_fraction'], '.0%')} |")
    for name, why in d.get("skipped", {}).items():
        out.append(f"\n{name}: {why}.")
    return out


def _integrators(d: dict[str, Any]) -> list[str]:
    env = d["environment"]
    out = [f"**Integrators** ({env['device_name']}, scipy {env['scipy']}): speed-up of `gan_theory.jsd` (default "
           "tolerance) over each baseline at equal accuracy: the baseline's fastest setting whose error against the "
           "reference is at most max(10 x ours, 1e-12) (marked * where no setting reached it: its most accurate one).",
           "",
           "| problem | baseline | setting | speed-up | baseline error | our error |", "|---|---|---|---|---|---|"]
    for p in d["problems"]:
        for m, s in p["speedups_at_equal_accuracy"].items():
            star = "" if s.get("equal_accuracy", True) else " *"
            out.append(f"| {p['problem']} | {m} | {s['setting']}{star} | x{s['speedup']:.2g} | {_g(s['baseline_error'], '.1e')} | "
                       f"{_g(s['ours_error'], '.1e')} |")
        if p.get("batch"):
            b = p["batch"]
            out.append(f"| {p['problem']} (batch of {b['size']}, per pair) | quad_strongest | 1e-12 | "
                       f"x{b['speedup']:.2g} | {_g(b['quad_max_error'], '.1e')} | {_g(b['ours_max_error'], '.1e')} |")
    return out


def markdown(paths: Iterable[str | Path]) -> str:
    """The results section (markdown) from the suites' JSON files, naming each device."""
    parts: list[str] = []
    for path in paths:
        d = json.loads(Path(path).read_text())
        fn = {"throughput": _throughput, "convergence": _convergence, "integrators": _integrators}.get(d.get("suite"))
        if fn is None:
            continue
        parts.append("\n".join(fn(d) + ["", f"(from `{Path(path).name}`, commit "
                                              f"{(d['environment'].get('git_commit') or 'unknown')[:12]}, "
                                              f"{d['environment']['date']})"]))
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    print(markdown(sys.argv[1:]))
