"""Suite ``throughput``: the batched ensemble trainer against a Python loop over separate models.

Both sides train the same GANs: generator MLP 1 -> 64 -> 64 -> 1 (SiLU), discriminator MLP
1 -> 64 -> 64 -> 1 (LeakyReLU 0.2), batch 256, Adam (betas 0.5, 0.999, lr 1e-3), one
discriminator step and one non-saturating generator step per iteration, on the two-mode
mixture. Every member draws its data and noise from its own ``torch.Generator``, in the same
order on both sides, and the loop's models start from the batched members' weights, so that
both compute the same numbers (:func:`loop_trainer`; the tests compare them).

* ``batched``: :meth:`gan_theory.training.trainer.EnsembleTrainer.step`.
* ``loop``: ``torch.nn.Sequential`` pairs with their own ``torch.optim.Adam``, stepped one
  after the other. Its time grows linearly with N, so for large N it is timed on its first
  ``loop_members`` models and scaled (recorded as ``loop.members_timed``).

Throughput is GAN steps per second summed over members. The roofline fraction divides the
batched step's achieved FLOP/s (:func:`gan_step_flops`, matmul FLOPs) by the matmul peak
measured in the same run (:func:`matmul_peak`). On CUDA the step is timed in three forms:
eager, ``torch.compile(mode="reduce-overhead")`` (CUDA graphs, via ``TrainConfig.compile``)
and a step captured by hand in a CUDA graph (:mod:`gan_theory.bench.cuda_graph`); each form
is also checked against eager (largest parameter difference after a few steps). On CPU it is
timed in two forms: eager and ``TrainConfig(compile=True)`` (each player's step compiled by
Inductor as one graph, :meth:`gan_theory.training.steps.StepFunctions.build`), each with its start-up time
(building the trainer and its first step, compilation included). Torch runs on its default
number of threads (one per core) unless ``gan-theory bench --threads`` says otherwise; the JSON
records it.

The allocator (CPU): glibc returns freed blocks of the step's activations (4 MiB each at N = 64)
to the system, so that every step page-faults fresh ones (7600 minor faults per step at N = 64,
measured with ``getrusage``). Before timing on CPU the suite asks glibc, with ``mallopt``, to
keep freed memory (no trimming, a fixed mmap threshold of 32 MiB: 1.3 faults per step); the
setting is process-wide, so the loop is timed under it too, and it is recorded in the result
(``allocator``). A training script gets most of it from the environment variables
``MALLOC_TRIM_THRESHOLD_=-1 MALLOC_MMAP_THRESHOLD_=33554432`` (112 faults per step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ._common import median_time

__all__ = ["ARCH", "ThroughputPlan", "gan_step_flops", "loop_trainer", "make_trainer", "matmul_peak", "run"]

BATCH = 256
HIDDEN = (64, 64)
ARCH = "G 1-64-64-1 SiLU, D 1-64-64-1 LeakyReLU(0.2), batch 256, Adam(lr 1e-3, betas 0.5, 0.999), non-saturating"


#: Largest parameter difference, relative to the largest parameter, for which a form of the
#: step counts as computing eager's numbers: float32 (eps 1.2e-7) after ``check_steps`` Adam
#: steps, where fused kernels reorder a few roundings per operation (measured: ~1e-7 after 3
#: steps at N = 64) and a wrong formula moves parameters by ~lr = 1e-3.
EQUAL_RTOL = 1e-5


@dataclass(frozen=True)
class ThroughputPlan:
    """What the suite measures: ensemble sizes, the loop's largest timed size, seconds per
    repeat and repeats, the matmul size."""

    sizes: tuple[int, ...]
    loop_members: int = 64
    repeat_seconds: float = 0.5
    repeats: int = 5
    matmul_n: int = 2048
    check_steps: int = 3
    #: The sizes at which the torch.compile form is timed too (each size compiles anew: on
    #: CUDA ~30-60 s; on CPU 10-30 s); on CUDA the hand-captured graph is timed at every size.
    compile_sizes: tuple[int, ...] = (1024, 4096)

    @classmethod
    def default(cls, device: torch.device, quick: bool) -> ThroughputPlan:
        if device.type == "cuda":
            sizes = (1, 8, 64, 256, 1024, 4096)
            return cls(sizes, loop_members=16, repeat_seconds=0.2 if quick else 0.3, repeats=5, matmul_n=8192,
                       compile_sizes=(1024, 4096))
        if quick:
            return cls((1, 8, 64), loop_members=16, repeat_seconds=0.4, repeats=5, compile_sizes=(64,))
        # 11 rounds of 0.5 s: on this shared 2-core machine the step's time drifts by 10-20%
        # between runs (memory-bound kernels feel neighbours that the matmul does not); more,
        # shorter rounds make each median less exposed to a slow stretch
        return cls((1, 8, 64, 256, 1024), loop_members=64, repeat_seconds=0.5, repeats=11, compile_sizes=(64, 1024))


def keep_freed_memory() -> dict[str, Any]:
    """Ask glibc's malloc to keep freed memory (``M_TRIM_THRESHOLD = -1``: never trim;
    ``M_MMAP_THRESHOLD = 32 MiB``: blocks up to that size come from the heap, not from fresh
    mappings). Process-wide; returns what was set, or why nothing was (not glibc)."""
    import ctypes
    import ctypes.util
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return {"setting": None, "why": f"not glibc ({platform.system()} {platform.libc_ver()})"}
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
        ok = bool(libc.mallopt(m_trim_threshold, -1)) and bool(libc.mallopt(m_mmap_threshold, 32 << 20))
    except (OSError, AttributeError) as exc:
        return {"setting": None, "why": f"{type(exc).__name__}: {exc}"}
    return {"setting": "glibc mallopt: M_TRIM_THRESHOLD=-1, M_MMAP_THRESHOLD=32 MiB", "applied": ok}


def _macs(sizes: Sequence[int]) -> int:
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def gan_step_flops(batch: int = BATCH, g_sizes: Sequence[int] = (1, *HIDDEN, 1),
                   d_sizes: Sequence[int] = (1, *HIDDEN, 1)) -> int:
    """Matmul FLOPs of one GAN step of one member (2 FLOPs per multiply-add).

    With ``M_g``, ``M_d`` the multiply-adds of one sample's forward pass: the discriminator step
    runs G forward on the fake batch (``M_g``), D forward on real and fake (``2 M_d``) and D
    backward on both (weights and inputs, ``4 M_d``); the generator step runs G forward
    (``M_g``), D forward (``M_d``), D backward to its input (``M_d``) and G backward (``2 M_g``):

    .. math::  F = 2 B (4 M_g + 8 M_d).
    """
    return 2 * batch * (4 * _macs(g_sizes) + 8 * _macs(d_sizes))


def matmul_peak(device: torch.device, n: int, repeats: int = 5) -> dict[str, Any]:
    """FLOP/s of an ``n x n`` float32 matmul (median of ``repeats``); on CUDA also with TF32."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    out = torch.empty(n, n, device=device)
    flops = 2.0 * n ** 3
    res: dict[str, Any] = {"n": n}
    modes = [("fp32", False)] + ([("tf32", True)] if device.type == "cuda" else [])
    for name, tf32 in modes:
        try:
            old = torch.backends.cuda.matmul.allow_tf32
            torch.backends.cuda.matmul.allow_tf32 = tf32
            try:
                t = median_time(lambda: torch.mm(a, b, out=out), device, repeats=repeats,
                                number=1 if device.type == "cpu" else 10, warmup=2)
            finally:
                torch.backends.cuda.matmul.allow_tf32 = old
        except Exception as exc:  # a precision setting this torch refuses: recorded (fp32 must work)
            if name == "fp32":
                raise
            res[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        res[name] = {"flops_per_s": flops / t["median_s"], **t}
    return res


def make_trainer(n: int, device: torch.device, compile: bool | str = False, seed: int = 0):
    """The batched trainer of the suite (``n`` members)."""
    from .. import toys
    from ..training.config import TrainConfig
    from ..training.trainer import EnsembleTrainer

    cfg = TrainConfig(generator="mlp", discriminator="mlp", ensemble=n, batch_size=BATCH, steps=10 ** 9,
                      device=str(device), g_hidden=HIDDEN, d_hidden=HIDDEN, lr_g=1e-3, lr_d=1e-3,
                      log_every=10 ** 9, compile=compile, seed=seed)
    return EnsembleTrainer(toys.mixture2(), cfg)


def _sequential(net, i: int, act: torch.nn.Module, device: torch.device) -> torch.nn.Sequential:
    """Member ``i`` of an ensemble MLP as a ``torch.nn.Sequential`` (``Linear.weight`` is the
    transpose of the ensemble's (in, out) weight)."""
    mods: list[torch.nn.Module] = []
    for k, layer in enumerate(net.layers):
        lin = torch.nn.Linear(layer.in_features, layer.out_features).to(device)
        with torch.no_grad():
            lin.weight.copy_(layer.weight[i].T)
            lin.bias.copy_(layer.bias[i, 0])
        mods.append(lin)
        if k < len(net.layers) - 1:
            mods.append(act)
    return torch.nn.Sequential(*mods)


def loop_trainer(trainer, members: int | None = None):
    """A Python loop over separately built models, starting from ``trainer``'s members (the
    first ``members`` of them, their weights now) and drawing from copies of their generators
    (in their current state): one call is one GAN step of each, the same computation as
    ``trainer.step()``.

    Returns ``(iteration, models)`` with ``models`` a list of ``(generator, discriminator)``.
    """
    from ..training.ensemble import LEAKY_SLOPE
    from ..training.losses import softplus

    cfg, device = trainer.config, trainer.device
    n = trainer.n_members if members is None else min(members, trainer.n_members)
    sample = trainer.sample_data
    rngs = []  # the members' generators in their current state (initialisation drew from them)
    for g in trainer.rngs[:n]:
        rngs.append(torch.Generator())
        rngs[-1].set_state(g.get_state())
    models = []
    for i in range(n):
        chunk = next(c for c in trainer.chunks if c.start <= i < c.start + c.size)
        j = i - chunk.start
        g = _sequential(chunk.generator.net, j, torch.nn.SiLU(), device)
        d = _sequential(chunk.discriminator, j, torch.nn.LeakyReLU(LEAKY_SLOPE), device)
        models.append((g, d))
    opts = [(torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=cfg.betas),
             torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=cfg.betas)) for g, d in models]
    b = cfg.batch_size

    def iteration() -> None:
        for (g, d), (opt_g, opt_d), rng in zip(models, opts, rngs):
            real = sample(b, rng).reshape(b, 1).to(device, torch.float32)
            z = torch.randn(b, 1, generator=rng, dtype=torch.float32).to(device)
            with torch.no_grad():
                fake = g(z)
            loss_d = softplus(-d(real)).mean() + softplus(d(fake)).mean()
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            z = torch.randn(b, 1, generator=rng, dtype=torch.float32).to(device)
            loss_g = softplus(-d(g(z))).mean()
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()

    return iteration, models


def _number(fn, device: torch.device, seconds: float) -> int:
    """Calls per repeat so that a repeat lasts about ``seconds`` (from one timed call)."""
    t = median_time(fn, device, repeats=1, number=1, warmup=0)["median_s"]
    return max(1, int(seconds / max(t, 1e-6)))


def max_param_difference(a, b) -> float:
    """Largest absolute difference between the parameters of two trainers (same sizes)."""
    worst = 0.0
    for ca, cb in zip(a.chunks, b.chunks):
        for pa, pb in zip(ca.parameters(), cb.parameters()):
            worst = max(worst, float((pa.detach() - pb.detach()).abs().max()))
    return worst


def _prepare_form(n: int, device: torch.device, form: str, plan: ThroughputPlan) -> tuple[Any, dict[str, Any]]:
    """One form of the batched step, built, checked and warmed up: returns ``(step, record)``
    with its start-up time (build and first step: compilation, capture) and, for a form other
    than eager, its largest parameter difference from eager after ``plan.check_steps`` steps
    from the same start (absolute and relative to the largest parameter)."""
    import time

    t0 = time.perf_counter()
    if form == "eager":
        tr = make_trainer(n, device)
        step = tr.step
    elif form == "compiled":
        tr = make_trainer(n, device, compile="reduce-overhead" if device.type == "cuda" else True)
        step = tr.step
    else:
        from .cuda_graph import CapturedStep

        tr = make_trainer(n, device)
        step = CapturedStep(tr)
    out: dict[str, Any] = {}
    if form != "eager":
        ref = make_trainer(n, device)
        for k in range(plan.check_steps):
            ref.step()
            step()
            if k == 0:
                out["startup_s"] = time.perf_counter() - t0
        out["max_param_diff_vs_eager"] = max_param_difference(tr, ref)
        scale = max(float(p.detach().abs().max()) for c in ref.chunks for p in c.parameters())
        out["max_param_diff_vs_eager_relative"] = out["max_param_diff_vs_eager"] / scale
    else:
        step()
        out["startup_s"] = time.perf_counter() - t0
    for _ in range(2):  # warm-up (compilation, graph capture, allocator)
        step()
    return step, out


def _interleaved(fns: dict[str, Any], device: torch.device, plan: ThroughputPlan) -> dict[str, dict[str, float]]:
    """Time every callable of ``fns`` round by round (one repeat of each per round, ``repeats``
    rounds), so that each ratio between them comes from the same stretch of time: on a shared
    machine whose load drifts, timing one after the other for seconds each moved the ratios by
    x2 between runs. Returns each one's median, min and max over the rounds (per call)."""
    numbers = {k: _number(fn, device, plan.repeat_seconds) for k, fn in fns.items()}
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(plan.repeats):
        for k, fn in fns.items():
            times[k].append(median_time(fn, device, repeats=1, number=numbers[k], warmup=0)["median_s"])
    import statistics

    return {k: {"median_s": statistics.median(v), "min_s": min(v), "max_s": max(v), "repeats": plan.repeats,
                "number": numbers[k]} for k, v in times.items()}


def run(device: torch.device, plan: ThroughputPlan) -> dict[str, Any]:
    """Measure every size of ``plan``; returns the suite's JSON payload (without environment).

    Per size, the forms of the batched step, the loop and the matmul peak are timed round by
    round (:func:`_interleaved`); the row's ratios and roofline fraction use that row's peak."""
    allocator = keep_freed_memory() if device.type == "cpu" else {"setting": None, "why": "not timed on CPU"}
    peak = matmul_peak(device, plan.matmul_n, repeats=plan.repeats)
    a = torch.randn(plan.matmul_n, plan.matmul_n, device=device)
    b = torch.randn(plan.matmul_n, plan.matmul_n, device=device)
    c = torch.empty(plan.matmul_n, plan.matmul_n, device=device)
    flops = gan_step_flops()
    rows = []
    forms = ("eager", "compiled", "captured") if device.type == "cuda" else ("eager", "compiled")
    for n in plan.sizes:
        row: dict[str, Any] = {"N": n, "forms": {}}
        steps = {}
        for form in forms:
            if form == "compiled" and n not in plan.compile_sizes:
                continue
            try:
                steps[form], row["forms"][form] = _prepare_form(n, device, form, plan)
            except Exception as exc:  # a form that fails on this machine is recorded, not fatal
                if form == "eager":
                    raise
                row["forms"][form] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
        tr = make_trainer(n, device)
        iteration, models = loop_trainer(tr, plan.loop_members)
        m = len(models)
        iteration()
        timed = _interleaved({**steps, "loop": iteration, "matmul": lambda: torch.mm(a, b, out=c)}, device, plan)
        for form in steps:
            row["forms"][form].update(timed[form])
            row["forms"][form]["gan_steps_per_s"] = n / timed[form]["median_s"]
        row["loop"] = {**timed["loop"], "members_timed": m, "gan_steps_per_s": m / timed["loop"]["median_s"]}
        row["matmul_peak_fp32"] = {**timed["matmul"], "flops_per_s": 2.0 * plan.matmul_n ** 3 / timed["matmul"]["median_s"]}
        row_peak = row["matmul_peak_fp32"]["flops_per_s"]
        # a form counts only if it computes eager's numbers (float32 tolerance, see EQUAL_RTOL)
        ok = {k: v for k, v in row["forms"].items() if "gan_steps_per_s" in v
              and v.get("max_param_diff_vs_eager_relative", 0.0) <= EQUAL_RTOL}
        best = max(ok, key=lambda k: ok[k]["gan_steps_per_s"])
        row["best_form"] = best
        rate = ok[best]["gan_steps_per_s"]
        row["gan_steps_per_s"] = rate
        row["ratio_to_loop"] = rate / row["loop"]["gan_steps_per_s"]
        row["flops_per_s"] = rate * flops
        row["fraction_of_peak_fp32"] = row["flops_per_s"] / row_peak
        eager_rate = row["forms"]["eager"]["gan_steps_per_s"]
        row["eager_ratio_to_loop"] = eager_rate / row["loop"]["gan_steps_per_s"]
        row["eager_fraction_of_peak_fp32"] = eager_rate * flops / row_peak
        if "flops_per_s" in peak.get("tf32", {}):
            row["fraction_of_peak_tf32"] = row["flops_per_s"] / peak["tf32"]["flops_per_s"]
        rows.append(row)
    return {"suite": "throughput", "architecture": ARCH, "batch": BATCH, "flops_per_gan_step": flops,
            "flops_formula": "2 B (4 M_g + 8 M_d), M = multiply-adds of one forward pass",
            "matmul_peak": peak, "rows": rows, "allocator": allocator,
            "timing": ("per N: the forms, the loop and an fp32 matmul timed round by round, one repeat of each per "
                       "round; fraction_of_peak_fp32 divides by that row's matmul (matmul_peak_fp32)"),
            "cpu_default_step": ("eager (TrainConfig.compile=False, the trainer's default); compile=True is the "
                                 "'compiled' form, opt-in because of its start-up time (startup_s)"),
            "cuda_default_step": ("eager (the trainer's default; the choice among eager, reduce-overhead and the "
                                  "hand-captured graph awaits the GPU run: see best_form per N)")}


def plot(payload: dict[str, Any], path) -> None:
    from ._common import plot_figure

    rows = payload["rows"]

    def draw(axes) -> None:
        ns = [r["N"] for r in rows]
        ax = axes[0]
        forms = sorted({f for r in rows for f, v in r["forms"].items() if "gan_steps_per_s" in v})
        for f in forms:
            pts = [(r["N"], r["forms"][f]["gan_steps_per_s"]) for r in rows if "gan_steps_per_s" in r["forms"].get(f, {})]
            ax.loglog([p[0] for p in pts], [p[1] for p in pts], "o-", label=f"batched ({f})")
        ax.loglog(ns, [r["loop"]["gan_steps_per_s"] for r in rows], "s--", label="loop")
        ax.set_xlabel("ensemble size N")
        ax.set_ylabel("GAN steps / s")
        ax.legend(fontsize=7)
        ax.set_title(payload["environment"]["device_name"][:40], fontsize=8)
        ax = axes[1]
        ax.semilogx(ns, [r["fraction_of_peak_fp32"] for r in rows], "o-", label="fraction of fp32 matmul peak")
        ax.semilogx(ns, [r["ratio_to_loop"] / max(r["ratio_to_loop"] for r in rows) for r in rows], "s--",
                    label="ratio to loop / max")
        ax.set_xlabel("ensemble size N")
        ax.legend(fontsize=7)

    plot_figure(path, draw, ncols=2)
