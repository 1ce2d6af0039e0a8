"""The figures by name, and the runner behind ``gan-theory figures``.

Each figure is two functions: a pure ``*_data`` function that computes everything the figure
shows (a frozen dataclass of numpy arrays and floats; the tests check it against theory) and a
``plot_*`` function that draws that data. :func:`render` runs figures by name and writes them
deterministically (fixed seeds; metadata stripped by :func:`gan_theory.plotting.style.save`):
regenerating gives byte-identical files on the same machine and library versions.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import (criterion_convergence, criterion_landscape, discriminator_vs_optimal, errata, function_space,
               gan_2d, goodfellow_fig1, saturation)
from .style import FORMATS, save, style_context

__all__ = ["FIGURES", "FigureSpec", "parse_formats", "parse_names", "render"]


@dataclass(frozen=True)
class FigureSpec:
    """A figure: its name, one sentence on what it shows, its data and its drawing.

    ``data(quick=..., device=..., seed=...)`` computes the data; ``plot(data)`` returns a
    matplotlib Figure, or a dict ``{suffix: Figure}`` for a figure written as several files
    (``NAME_SUFFIX.png``).
    """

    name: str
    summary: str
    data: Callable[..., Any]
    plot: Callable[[Any], Any]


FIGURES = MappingProxyType({s.name: s for s in (
    FigureSpec("goodfellow_fig1", "Figure 1 of Goodfellow et al. (2014) from an actual 1-D run: D approaches D*, "
               "p_g moves to p_data, and D ends at 1/2.",
               goodfellow_fig1.goodfellow_fig1_data, goodfellow_fig1.plot_goodfellow_fig1),
    FigureSpec("criterion_convergence", "C(G) + log 4 of an ensemble against the step (median and interquartile "
               "band), minimax against non-saturating.",
               criterion_convergence.criterion_convergence_data, criterion_convergence.plot_criterion_convergence),
    FigureSpec("discriminator_vs_optimal", "A network D trained against a fixed G approaches D* (Prop. 1), and "
               "tracks D* during training.",
               discriminator_vs_optimal.discriminator_vs_optimal_data,
               discriminator_vs_optimal.plot_discriminator_vs_optimal),
    FigureSpec("criterion_landscape", "C(G) over Gaussian generators, minimal (-log 4) at the data's parameters; "
               "JSD against shift saturates at log 2.",
               criterion_landscape.criterion_landscape_data, criterion_landscape.plot_criterion_landscape),
    FigureSpec("saturation", "The minimax generator loss saturates where D rejects G; the non-saturating loss "
               "does not, and trains from a rejected start.",
               saturation.saturation_data, saturation.plot_saturation),
    FigureSpec("gan_2d", "2-D training on ring(8) and the 5x5 grid: trained D beside the exact D*, samples and "
               "the exact p_g.",
               gan_2d.gan_2d_data, gan_2d.plot_gan_2d),
    FigureSpec("function_space", "Prop. 2: with the exact D*, a density moved in function space converges to "
               "p_data and C falls monotonically to -log 4.",
               function_space.function_space_data, function_space.plot_function_space),
    FigureSpec("errata", "Each erratum of the claims: the stated form failing beside the corrected form "
               "holding, with the numbers of gan-theory check.",
               errata.errata_data, errata.plot_errata),
)})


def parse_names(text: str | None, option: str = "--only") -> list[str]:
    """Figure names from ``NAME[,NAME]`` (all when ``None``), in order, once each."""
    if text is None:
        return list(FIGURES)
    names = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    unknown = [n for n in names if n not in FIGURES]
    if unknown or not names:
        what = "unknown figure name(s) " + ", ".join(map(repr, unknown)) if names else "no figure names"
        raise ValueError(f"{option}: {what} in {text!r}; expected a comma-separated list of some of "
                         f"{', '.join(FIGURES)}")
    return names


def parse_formats(text: str, option: str = "--format") -> list[str]:
    """File formats from ``png,svg`` (each one of :data:`~gan_theory.plotting.style.FORMATS`)."""
    fmts = list(dict.fromkeys(s.strip().lower() for s in str(text).split(",") if s.strip()))
    unknown = [f for f in fmts if f not in FORMATS]
    if unknown or not fmts:
        what = "unknown format(s) " + ", ".join(map(repr, unknown)) if fmts else "no format"
        raise ValueError(f"{option}: {what} in {text!r}; expected a comma-separated list of some of "
                         f"{', '.join(FORMATS)}")
    return fmts


def render(names: Iterable[str], out: str | Path, *, formats: Sequence[str] = ("png",), quick: bool = False,
           device: str = "cpu", seed: int = 0, progress: bool | None = None,
           on_done: Callable[[str, list[Path], float], None] | None = None) -> dict[str, list[Path]]:
    """Compute and write the figures ``names`` into ``out``; returns ``{name: [paths]}``.

    Parameters
    ----------
    names : iterable of str
        Names of :data:`FIGURES`.
    out : path
        An existing, writable directory.
    formats : sequence of str
        File formats (``png``, ``svg``, ``pdf``).
    quick : bool
        Smaller runs and grids (the same code): what the tests use.
    device : str
        Where the training runs (``cpu`` gives the committed, bitwise reproducible figures).
    seed : int
        Seed of every run.
    progress : bool, optional
        A tqdm bar over the figures (default: when stderr is a terminal).
    on_done : callable, optional
        ``on_done(name, paths, seconds)`` after each figure.

    Notes
    -----
    Torch runs on one CPU thread while the figures are computed (the previous setting is
    restored afterwards): the floating-point reductions of a training step depend on the number
    of threads, so a fixed count gives the same figures on machines with different core counts;
    and the toy networks are too small to gain from more (on a shared 2-core machine, two
    threads took several times the CPU time of one).
    """
    import torch

    names = [parse_names(n)[0] for n in names]
    formats = parse_formats(",".join(formats))
    out = Path(out)
    disable = (not sys.stderr.isatty()) if progress is None else (not progress)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # see the docstring: same bytes on any core count, and faster here
    try:
        return _render(names, out, formats, quick, device, seed, disable, on_done)
    finally:
        torch.set_num_threads(threads)


def _render(names, out, formats, quick, device, seed, disable, on_done) -> dict[str, list[Path]]:
    from tqdm.auto import tqdm

    written: dict[str, list[Path]] = {}
    with tqdm(names, desc="figures", unit="figure", disable=disable) as bar:
        for name in bar:
            bar.set_postfix_str(name, refresh=True)
            spec = FIGURES[name]
            t0 = time.perf_counter()
            data = spec.data(quick=quick, device=device, seed=seed)
            with style_context():
                drawn = spec.plot(data)
            figs = drawn if isinstance(drawn, dict) else {"": drawn}
            paths = []
            for suffix, fig in figs.items():
                stem = f"{name}_{suffix}" if suffix else name
                for fmt in formats:
                    paths.append(save(fig, out / f"{stem}.{fmt}", fmt))
            written[name] = paths
            if on_done is not None:
                on_done(name, paths, time.perf_counter() - t0)
    return written
