"""``gan-theory train``: its options, made from the fields of TrainConfig, and the command.

The parser entry is in :mod:`gan_theory.cli`; every field of
:class:`~gan_theory.training.config.TrainConfig` becomes an option ``--field-name`` parsed by the
type of its annotation (:data:`FIELD_TYPES`); ranges are TrainConfig's to check.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from .cli_args import (CommandLineError, _flag_or_mode, _float, _int, _key_value, _numbers, _one_or_more_floats,
                       out_dir)

#: The parser of each kind of TrainConfig field (by its annotation); ranges are TrainConfig's job.
FIELD_TYPES = {
    "bool | str": _flag_or_mode,
    "str": str,
    "int": _int,
    "int | None": _int,
    "float": _float,
    "float | tuple[float, ...]": _one_or_more_floats,
    "float | tuple[float, ...] | None": _one_or_more_floats,
    "float | None": _float,
    "str | None": str,
    "tuple[float, float]": _numbers(float, "numbers", 2),
    "tuple[int, ...]": _numbers(int, "integers"),
    "tuple[int, ...] | None": _numbers(int, "integers"),
}


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``gan-theory train`` that set TrainConfig fields: one per field, parsed by
    the type of its annotation (``dest`` is ``cfg_<field>``, ``None`` when not given)."""
    import dataclasses

    from .training.config import RECIPE_FIELDS, TrainConfig

    group = parser.add_argument_group("training configuration (gan_theory.TrainConfig; lists are comma-separated)")
    for f in dataclasses.fields(TrainConfig):
        if f.type not in FIELD_TYPES:  # a new kind of field needs its parser here
            raise RuntimeError(f"gan-theory train: no command-line parser for TrainConfig.{f.name}: {f.type}")
        group.add_argument("--" + f.name.replace("_", "-"), dest=f"cfg_{f.name}", type=FIELD_TYPES[f.type],
                           default=None, metavar=f.name.upper(),
                           help=f"default {f.default!r}" + (" (from the generator's recipe)"
                                                             if f.default is None and f.name in RECIPE_FIELDS else ""))


def train_command(args: argparse.Namespace) -> int:
    """``gan-theory train``: a new run on a toy target, or ``--resume DIR``; prints each member's final
    metrics. Returns the exit code."""
    from . import toys
    from .training.config import TrainConfig
    from .training.run import Trainer
    from .training.rundir import read_run_meta

    overrides = {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_") and v is not None}
    if args.resume:
        other_out = args.out is not None and Path(args.out).resolve() != Path(args.resume).resolve()
        for option, given in (("--target", args.target), ("--param", args.param), ("--out", other_out)):
            if given:
                raise CommandLineError(f"{option}: --resume DIR continues the run in DIR with its own target and "
                                       f"configuration; drop {option}")
        if not Path(args.resume).is_dir():
            raise CommandLineError(f"--resume: {args.resume!r} is not a directory (expected a run directory of "
                                   "gan-theory train --out)")
        out = Path(args.resume)
        meta = read_run_meta(out)
        config = TrainConfig.from_dict(meta["config"])
        if overrides:
            raise CommandLineError("--resume continues a run with its own configuration; drop "
                                   + ", ".join("--" + k.replace("_", "-") for k in sorted(overrides)))
        target = meta.get("target")
        if not target:
            raise CommandLineError(f"--resume: {out}/config.json does not name a toy target; resume from Python")
    else:
        if not args.target:
            raise CommandLineError("--target NAME is needed (one of " + ", ".join(toys.names()) + ")")
        params = {}
        for text in args.param:
            key, value = _key_value(text)
            if key in params:
                raise CommandLineError(f"--param: {key} given twice")
            params[key] = value
        target = {"name": args.target, "params": params}
        config = TrainConfig(**overrides)
        out = out_dir("--out", args.out) if args.out is not None else None
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
