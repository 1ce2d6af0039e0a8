"""``gan-theory bench``: benchmarks of throughput, convergence and integrators, on CPU or CUDA.

A leaf package: nothing else in gan-theory imports it, and matplotlib is imported only here
(Agg backend). Each suite writes ``OUT/<suite>_<device>.json`` (strict JSON: the device name,
the torch, CUDA and SciPy versions, the thread count, the date and the git commit, then the
measurements) and ``OUT/<suite>_<device>.png``. :func:`markdown` turns result files into the
README's results section.

Suites: :mod:`.throughput`, :mod:`.convergence`, :mod:`.integrators` (their docstrings say what
each measures and how). Timing rules: :mod:`._common`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from ._common import environment, write_json

__all__ = ["SUITES", "markdown", "parse_suites", "run", "run_suite"]

SUITES = ("throughput", "convergence", "integrators")


def parse_suites(text: str | None, name: str = "suite") -> tuple[str, ...]:
    """Suite names from ``"a,b"`` (``None``: every suite), in order, once each; a ``ValueError``
    naming ``name`` for an empty or unknown name."""
    if text is None:
        return SUITES
    names = [s.strip() for s in str(text).split(",")]
    if not names or any(not s for s in names):
        raise ValueError(f"{name}: expected suite names separated by commas (some of {', '.join(SUITES)}), "
                         f"got {text!r}")
    unknown = [s for s in names if s not in SUITES]
    if unknown:
        raise ValueError(f"{name}: unknown suite(s) {', '.join(map(repr, unknown))}; expected some of "
                         f"{', '.join(SUITES)}")
    return tuple(dict.fromkeys(names))


def markdown(paths) -> str:
    """The README's results section from result files (:func:`gan_theory.bench.report.markdown`)."""
    from .report import markdown as _markdown

    return _markdown(paths)


def _module(suite: str):
    from . import convergence, integrators, throughput

    return {"throughput": throughput, "convergence": convergence, "integrators": integrators}[suite]


def _plan(suite: str, device: torch.device, quick: bool):
    mod = _module(suite)
    plan_cls = {"throughput": mod.__dict__.get("ThroughputPlan"), "convergence": mod.__dict__.get("ConvergencePlan"),
                "integrators": mod.__dict__.get("IntegratorPlan")}[suite]
    return plan_cls.default(device, quick)


def run_suite(suite: str, device: torch.device, out: Path, *, quick: bool = False, plan: Any = None,
              plot: bool = True) -> dict[str, Any]:
    """Run one suite (with ``plan``, default: the suite's plan for ``device`` and ``quick``),
    write its JSON and plot into ``out``; returns the payload."""
    mod = _module(suite)
    plan = _plan(suite, device, quick) if plan is None else plan
    env = environment(device)
    t0 = time.perf_counter()
    payload = mod.run(device, plan)
    payload = {"suite": suite, "environment": env, "quick": bool(quick), "seconds": time.perf_counter() - t0,
               **{k: v for k, v in payload.items() if k != "suite"}}
    tag = device.type
    write_json(out / f"{suite}_{tag}.json", payload)
    if plot:
        mod.plot(payload, out / f"{suite}_{tag}.png")
    return payload


def run(suites: tuple[str, ...], *, device: torch.device, quick: bool, out: Path) -> int:
    """Run ``suites`` in order (the command line's entry point); returns the exit code (0)."""
    for suite in suites:
        t0 = time.perf_counter()
        print(f"bench {suite} on {device}{' (--quick)' if quick else ''} ...", flush=True)
        run_suite(suite, device, out, quick=quick)
        print(f"bench {suite}: {time.perf_counter() - t0:.0f} s, wrote {out / f'{suite}_{device.type}.json'}",
              flush=True)
    text = markdown(sorted(out.glob("*.json")))
    (out / "results.md").write_text(text)
    print(text)
    return 0
