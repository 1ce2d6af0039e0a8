"""The command line's argument types, its refusal type and its output-directory check.

Each argparse type here says what it expects in its message (``--betas 0.5,0.999``: exactly two
numbers); :class:`CommandLineError` is a refusal found by the command line itself, printed by
:func:`gan_theory.cli.main` as one line with exit code 2 (see the rule in :mod:`gan_theory.cli`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

#: Seeds of ``check``: the claims derive seeds ``seed + k`` (k below a few hundred), which must stay
#: below torch's bound of 2**64.
_CHECK_SEED_BOUND = 2 ** 63


class CommandLineError(Exception):
    """Bad command-line input found by the command line itself (printed in one line, exit 2)."""


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _numbers(convert, what: str, count: int | None = None):
    """An argparse type: comma-separated numbers (exactly ``count`` of them if given)."""

    def parse(text: str) -> tuple:
        parts = text.split(",")
        try:
            values = tuple(convert(part.strip()) for part in parts)
        except ValueError:
            values = None
        if values is None or (count is not None and len(values) != count):
            n = "one or more" if count is None else ("exactly two" if count == 2 else str(count))
            raise argparse.ArgumentTypeError(f"expected {n} {what} separated by commas, got {text!r}")
        return values

    return parse


def _one_or_more_floats(text: str) -> float | tuple[float, ...]:
    values = _numbers(float, "numbers")(text)
    return values[0] if len(values) == 1 else values


def _seed(text: str) -> int:
    seed = _int(text)
    if not 0 <= seed < _CHECK_SEED_BOUND:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 2**63 - 1 (the claims derive seeds "
                                         f"seed + k from it, and torch takes seeds below 2**64), got {text!r}")
    return seed


def _threads(text: str) -> int:
    """``--threads``: a positive number of torch threads."""
    n = _int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer (torch threads), got {text!r}")
    return n


def _flag_or_mode(text: str) -> bool | str:
    """``--compile``: true/false (also yes/no, 1/0) or a torch.compile mode, left to TrainConfig to check."""
    low = text.strip().lower()
    if low in ("true", "yes", "1"):
        return True
    if low in ("false", "no", "0"):
        return False
    return text.strip()


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


def _key_value(text: str):
    k, _, v = text.partition("=")
    if not _ or not k.strip():
        raise CommandLineError(f"--param: expected KEY=VALUE (e.g. std=0.1), got {text!r}")
    return k.strip(), _parse_value(v)


def out_dir(option: str, path: str) -> Path:
    """The directory ``path``, created if needed and checked to be writable (before any work)."""
    import tempfile

    if not path:
        raise CommandLineError(f"{option}: expected a directory path, got ''")
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise CommandLineError(f"{option}: {out} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise CommandLineError(f"{option}: the directory {out} cannot be created or written to "
                               f"({exc.strerror or exc})") from None
    return out
