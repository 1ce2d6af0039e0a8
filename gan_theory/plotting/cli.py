"""``gan-theory figures``: the command's work (the parser entry is in :mod:`gan_theory.cli`)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["figures_command"]


def figures_command(args, out_dir: Callable[[str, str], Path]) -> int:
    """Check every option before computing anything, then render the figures with progress.

    Bad input (an unknown figure name or format, a device that is not there, an output
    directory that cannot be written) raises ``ValueError`` or the command line's own error,
    which :func:`gan_theory.cli.main` prints as one line with exit code 2.
    """
    from gan_theory.training.device import resolve_device

    from .registry import parse_formats, parse_names, render

    names = parse_names(args.only)
    formats = parse_formats(args.format)
    device = str(resolve_device(args.device, "--device"))
    out = out_dir("--out", args.out)
    t0 = time.perf_counter()

    def done(name: str, paths: list[Path], seconds: float) -> None:
        if not args.quiet:
            print(f"{name}: {', '.join(str(p) for p in paths)} ({seconds:.1f} s)", flush=True)

    render(names, out, formats=formats, quick=args.quick, device=device, seed=args.seed,
           progress=False if args.quiet else None, on_done=done)
    if not args.quiet:
        print(f"{len(names)} figure(s) in {out} ({time.perf_counter() - t0:.0f} s{', --quick' if args.quick else ''})")
    sys.stdout.flush()
    return 0
