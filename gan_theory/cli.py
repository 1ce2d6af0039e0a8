"""The ``gan-theory`` command line.

``gan-theory table`` prints D*, C(G) and the JSD for the named pairs of :mod:`gan_theory.toys`
with their error bounds, checking C(G) = -log 4 + 2 JSD on each row.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

from . import __version__


def _table(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from . import toys
    from .discriminator import optimal_discriminator
    from .divergences import jsd
    from .value import criterion

    names = args.pairs or list(toys.PAIRS)
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


def _parse_value(text: str):
    """A number, a comma-separated tuple of numbers, or a string."""
    parts = [p.strip() for p in text.split(",")]
    out = []
    for p in parts:
        try:
            out.append(int(p))
        except ValueError:
            try:
                out.append(float(p))
            except ValueError:
                out.append(p)
    return tuple(out) if len(out) > 1 else out[0]


def _train_options(parser: argparse.ArgumentParser) -> None:
    import dataclasses

    from .training.config import TrainConfig

    group = parser.add_argument_group("training configuration (gan_theory.TrainConfig; lists are comma-separated)")
    for f in dataclasses.fields(TrainConfig):
        group.add_argument("--" + f.name.replace("_", "-"), dest=f"cfg_{f.name}", type=_parse_value, default=None,
                           metavar=f.name.upper(), help=f"default {f.default!r}")


def _train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from . import toys
    from .training.config import TrainConfig
    from .training.loop import Trainer, read_run_meta

    overrides = {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_") and v is not None}
    for key in ("seeds", "d_hidden", "g_hidden"):  # tuple fields given a single value
        if key in overrides and not isinstance(overrides[key], tuple):
            overrides[key] = (overrides[key],)
    if args.resume:
        out = Path(args.resume)
        meta = read_run_meta(out)
        config = TrainConfig.from_dict(meta["config"])
        if overrides:
            raise SystemExit("gan-theory train: --resume continues a run with its own configuration; "
                             f"drop {sorted(overrides)}")
        target = meta.get("target")
        if not target:
            raise SystemExit(f"gan-theory train: {out}/config.json does not name a toy target; resume from Python")
    else:
        if not args.target:
            raise SystemExit("gan-theory train: --target NAME is needed (one of " + ", ".join(toys.names()) + ")")
        params = dict(_key_value(p) for p in args.param)
        target = {"name": args.target, "params": params}
        config = TrainConfig(**overrides)
        out = Path(args.out) if args.out else None
    p_data = toys.make(target["name"], **target["params"])
    trainer = Trainer(p_data, config, out=out, target=target)
    result = trainer.run(resume=bool(args.resume), overwrite=args.overwrite, progress=None if not args.quiet else False)
    print(f"{'member':>6} {'seed':>6} {'C(G) + log 4':>14} {'JSD':>12} {'||D - D*||_m':>14}  status")
    for rec in result.final:
        c = rec.get("criterion")
        gap = f"{c + math.log(4.0):14.3e}" if isinstance(c, float) else f"{'-':>14}"
        j = rec.get("jsd")
        js = f"{j:12.3e}" if isinstance(j, float) else f"{'-':>12}"
        de = rec.get("d_error")
        ds = f"{de:14.3e}" if isinstance(de, float) else f"{'-':>14}"
        print(f"{rec['member']:>6} {rec['seed']:>6} {gap} {js} {ds}  {rec['status']}")
    if out is not None:
        print(f"\nrun directory: {out} (config.json, metrics.jsonl, checkpoint.pt)")
    return 0


def _key_value(text: str):
    if "=" not in text:
        raise SystemExit(f"gan-theory train: --param expects KEY=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    return k.strip(), _parse_value(v)


def _check(args: argparse.Namespace) -> int:
    import time

    import torch
    from tqdm.auto import tqdm

    from .claims import CLAIMS, CheckContext, run
    from .claims.report import table, write
    from .training.loop import describe_device, resolve_device, versions

    ids = [s.strip().upper() for s in args.only.split(",") if s.strip()] if args.only else list(CLAIMS)
    unknown = [i for i in ids if i not in CLAIMS]
    if unknown:
        raise SystemExit(f"gan-theory check: --only: unknown claim id(s) {unknown}; expected some of {', '.join(CLAIMS)}")
    device = resolve_device(args.device)
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
    md, js = write(results, meta, args.out)
    print(f"\nreports: {md} and {js} ({seconds:.0f} s{', --full' if args.full else ''})")
    return 0 if all(r.passed for r in results) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gan-theory",
        description="Check the theory of generative adversarial networks numerically.")
    parser.add_argument("--version", action="version", version=f"gan-theory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p_check = sub.add_parser("check", help="check every claim of GAN theory and write a report (the main job)",
                             description="Run the proof-check suite (claims G1-G10): print a table, write "
                                         "OUT/claims.md and OUT/claims.json, exit non-zero if a claim fails.")
    p_check.add_argument("--only", help="comma-separated claim ids, e.g. G1,G4")
    p_check.add_argument("--full", action="store_true", help="also run the slow checks (longer trainings, 2-D, flows)")
    p_check.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    p_check.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
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
    _train_options(p_train)
    p_train.set_defaults(func=_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
