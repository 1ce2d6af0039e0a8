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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gan-theory",
        description="Check the theory of generative adversarial networks numerically.")
    parser.add_argument("--version", action="version", version=f"gan-theory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p_table = sub.add_parser("table", help="D*, C(G) and JSD with error bounds for the named toy pairs")
    p_table.add_argument("pairs", nargs="*", help="pair names (default: all)")
    p_table.set_defaults(func=_table)
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
