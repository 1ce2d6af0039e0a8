"""The ``gan-theory`` command line.

``gan-theory table`` prints D*, C(G) and the JSD for the named pairs of :mod:`gan_theory.toys`
with their error bounds, checking C(G) = -log 4 + 2 JSD on each row.

Errors
------
Every option is parsed by a type that says what it expects (``--betas 0.5,0.999``: exactly two
numbers), and everything a command is given (options, claim ids, pair and target names, the
device, the output or run directory) is checked before anything is computed.

The rule at the boundary, in :func:`main` and nowhere else: a *refusal* is printed as one line,
``gan-theory: error: <message>``, on stderr, with exit code 2 and no traceback. Refusals are

* usage errors found by the command line itself (argparse's, and the checks above);
* ``OSError`` (a file or directory that is missing or cannot be created or written) and
  :class:`~gan_theory.results.AccuracyError` (a tolerance that cannot be met);
* ``ValueError`` and ``TypeError`` raised by a ``raise`` statement of gan-theory itself: the
  library refuses bad input with these, in messages that name the argument, what was expected
  and what came.

Anything else is a bug and keeps its full traceback: other exception types (``RuntimeError``,
``KeyError``, ``IndexError``, ...), and a ``ValueError`` or ``TypeError`` raised inside torch,
numpy, scipy or the standard library, or by a built-in such as ``len`` called in the package:
gan-theory passed on something it should have checked. ``GAN_THEORY_TRACEBACK=1`` shows the
traceback of refusals too.

Exit codes: 0 success; 1 a claim or a check failed (``check``, ``table``); 2 a refusal.

The argument types, :class:`CommandLineError` and the output-directory check are in
:mod:`gan_theory.cli_args`; ``train``'s options and command in :mod:`gan_theory.cli_train`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ._version import __version__
from .cli_args import CommandLineError, _seed, _threads, out_dir
from .cli_train import add_train_options, train_command

_PACKAGE_DIR = Path(__file__).resolve().parent


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors raised as :class:`CommandLineError` (one line, exit 2)."""

    def error(self, message: str):
        raise CommandLineError(f"{message} (see '{self.prog} --help')")


def _is_refusal(exc: BaseException) -> bool:
    """Whether ``exc`` refuses input (one line, exit 2) rather than shows a bug (traceback).

    A ``ValueError`` or ``TypeError`` is a refusal only when a ``raise`` statement of the
    package raised it: its innermost traceback frame is in gan_theory and stops at a raise
    instruction. One raised by torch, numpy or the standard library, or by a built-in called in
    the package (``len(0.5)``), is a bug: input that gan-theory should have checked.
    """
    import dis

    from .results import AccuracyError

    if isinstance(exc, (CommandLineError, OSError, AccuracyError)):
        return True
    if not isinstance(exc, (ValueError, TypeError)) or exc.__traceback__ is None:
        return False
    tb = exc.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    if not Path(code.co_filename).resolve().is_relative_to(_PACKAGE_DIR):
        return False
    for ins in dis.get_instructions(code):
        if ins.offset == tb.tb_lasti:
            return ins.opname in ("RAISE_VARARGS", "RERAISE")
    return False


def _one_line(exc: BaseException) -> str:
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text or type(exc).__name__


def _table(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from . import toys
    from .discriminator import optimal_discriminator
    from .divergences import jsd
    from .value import criterion

    names = args.pairs or list(toys.PAIRS)
    unknown = [n for n in names if n not in toys.PAIRS]
    if unknown:
        raise CommandLineError(f"PAIRS: unknown pair name(s) {', '.join(map(repr, unknown))}; expected some of "
                               f"{', '.join(toys.PAIRS)}")
    rows = []
    worst = 0.0
    header = f"{'pair':<22} {'D* at p_data mode':>18} {'C(G)':>22} {'JSD (nats)':>22} {'|C+log4-2JSD|':>14}"
    print(header)
    print("-" * len(header))
    for name in names:
        p, q = toys.pair(name)
        d_star = optimal_discriminator(p, q)
        x0 = torch.as_tensor(np.asarray(d_star.p_data.hints.centers[0]), dtype=torch.float64)
        d0 = float(d_star(x0.reshape(1) if d_star.dim == 1 else x0.reshape(1, 2))[0])
        c = criterion(p, q)
        j = jsd(p, q)
        gap = abs(c.value + math.log(4.0) - 2.0 * j.value)
        bound = c.error + 2 * j.error
        worst = max(worst, gap / max(bound, 1e-300))
        rows.append((name, d0, c, j, gap))
        print(f"{name:<22} {d0:>18.12f} {c.value:>14.12f} ±{c.error:.0e} {j.value:>14.12f} ±{j.error:.0e} {gap:>14.1e}")
    print()
    ok = worst <= 1.0
    print(f"C(G) = -log 4 + 2 JSD holds within the error bounds on every row: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


def _check(args: argparse.Namespace) -> int:
    import time

    import torch
    from tqdm.auto import tqdm

    from .claims import CLAIMS, CheckContext, run
    from .claims.report import table, write
    from .training.device import describe_device, resolve_device, versions

    if args.only is None:
        ids = list(CLAIMS)
    else:
        ids = list(dict.fromkeys(s.strip().upper() for s in args.only.split(",") if s.strip()))  # in order, once
        unknown = [i for i in ids if i not in CLAIMS]
        if unknown or not ids:
            what = "unknown claim id(s) " + ", ".join(map(repr, unknown)) if ids else "no claim ids"
            raise CommandLineError(f"--only: {what} in {args.only!r}; expected a comma-separated list of "
                                   f"some of {', '.join(CLAIMS)}")
    device = resolve_device(args.device, "--device")
    out = out_dir("--out", args.out)  # before hours of checks, not after
    bar = tqdm(total=len(ids), desc="proof check", unit="claim", disable=args.quiet or not sys.stderr.isatty())
    ctx = CheckContext(full=args.full, device=str(device), seed=args.seed,
                       progress=lambda what: bar.set_postfix_str(what, refresh=True))
    t0 = time.perf_counter()

    def on_result(r) -> None:
        bar.update(1)
        if not args.quiet:  # one line per claim, also in logs (flushed: CI shows it as it goes)
            bar.write(f"{r.id}: {r.verdict} ({r.seconds:.1f} s)")
            sys.stdout.flush()

    results = run(ids, ctx, on_result=on_result)
    bar.close()
    seconds = time.perf_counter() - t0
    meta = {"full": args.full, "seed": args.seed, "device": describe_device(device), "versions": versions(),
            "torch_threads": torch.get_num_threads(), "seconds": seconds, "only": ids}
    print(table(results))
    md, js = write(results, meta, out)
    print(f"\nreports: {md} and {js} ({seconds:.0f} s{', --full' if args.full else ''})")
    return 0 if all(r.passed for r in results) else 1


def _bench(args: argparse.Namespace) -> int:
    from .bench import parse_suites, run
    from .training.device import resolve_device

    suites = parse_suites(args.suite, "--suite")
    device = resolve_device(args.device, "--device")
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    return run(suites, device=device, quick=args.quick, out=out_dir("--out", args.out))


def _figures(args: argparse.Namespace) -> int:
    from .plotting.cli import figures_command

    return figures_command(args, out_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gan-theory",
        description="Check the theory of generative adversarial networks numerically.")
    parser.add_argument("--version", action="version", version=f"gan-theory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p_check = sub.add_parser("check", help="check every claim of GAN theory and write a report (the main job)",
                             description="Run the proof-check suite (claims G1-G10): print a table, write "
                                         "OUT/claims.md and OUT/claims.json, exit non-zero if a claim fails.")
    p_check.add_argument("--only", help="comma-separated claim ids, e.g. G1,G4")
    p_check.add_argument("--full", action="store_true", help="also run the slow checks (longer trainings, 2-D, flows)")
    p_check.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    p_check.add_argument("--seed", type=_seed, default=0, help="seed of every random draw (default 0)")
    p_check.add_argument("--out", default="reports", help="report directory (default: reports)")
    p_check.add_argument("--quiet", action="store_true", help="no progress bar")
    p_check.set_defaults(func=_check)
    p_table = sub.add_parser("table", help="D*, C(G) and JSD with error bounds for the named toy pairs")
    p_table.add_argument("pairs", nargs="*", help="pair names (default: all)")
    p_table.set_defaults(func=_table)
    p_train = sub.add_parser("train", help="train toy GANs and track them against the exact theory",
                             description="Train an ensemble of toy GANs (Algorithm 1) on a named target; metrics "
                                         "go to OUT/metrics.jsonl as they are computed.")
    p_train.add_argument("--target", help="toy target name (gaussian, mixture2, ring, ...)")
    p_train.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                         help="a parameter of the target (repeatable), e.g. --param std=0.1")
    p_train.add_argument("--out", help="run directory")
    p_train.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its checkpoint")
    p_train.add_argument("--overwrite", action="store_true",
                         help="replace the run in a non-empty --out directory (refused without it)")
    p_train.add_argument("--quiet", action="store_true", help="no progress bar")
    add_train_options(p_train)
    p_train.set_defaults(func=train_command)
    p_bench = sub.add_parser("bench", help="benchmarks: throughput, convergence, integrators (JSON and plots)")
    p_bench.add_argument("--suite", help="comma-separated suites (default: all): throughput,convergence,integrators")
    p_bench.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    p_bench.add_argument("--quick", action="store_true", help="small sizes: each suite in under 3 minutes on 2 cores")
    p_bench.add_argument("--out", default="bench-results", help="output directory (default: bench-results)")
    p_bench.add_argument("--threads", type=_threads, help="torch threads (default: torch's, one per core); recorded "
                                                         "in every result")
    p_bench.set_defaults(func=_bench)
    p_fig = sub.add_parser("figures", help="regenerate the figures from computed results",
                           description="Compute and draw the figures of GAN theory (deterministic: fixed seeds, "
                                       "no varying metadata) into OUT.")
    p_fig.add_argument("--out", default="figures", help="output directory (default: figures)")
    p_fig.add_argument("--only", metavar="NAME[,NAME]", help="comma-separated figure names (default: all)")
    p_fig.add_argument("--quick", action="store_true", help="shorter runs and coarser grids (same code)")
    p_fig.add_argument("--device", default="cpu", help="cpu (default: the committed figures), auto, cuda or cuda:N")
    p_fig.add_argument("--format", default="png", help="comma-separated formats: png, svg, pdf (default: png)")
    p_fig.add_argument("--seed", type=_seed, default=0, help="seed of every run (default 0)")
    p_fig.add_argument("--quiet", action="store_true", help="no progress bar or per-figure lines")
    p_fig.set_defaults(func=_figures)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring for the error rule)."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 0
        return int(args.func(args))
    except Exception as exc:
        if not _is_refusal(exc) or os.environ.get("GAN_THEORY_TRACEBACK"):
            raise
        print(f"gan-theory: error: {_one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
