"""The look of every figure, and the deterministic writer.

Colours are the Okabe-Ito palette (distinguishable under the common colour-vision
deficiencies); heatmaps use ``viridis`` (perceptually uniform), and differences centred at 0 use
the diverging ``PuOr``. Figures are drawn inside :func:`style_context`, so
that the package's rcParams never leak into a user's session, and written by :func:`save` with
every varying piece of metadata removed (software version, dates, the random SVG ids), so that
drawing the same data twice gives the same bytes.

References
----------
M. Okabe and K. Ito, "Color Universal Design (CUD): how to make figures and presentations that
are friendly to colorblind people", 2008.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import matplotlib

__all__ = ["COLORS", "DPI", "FORMATS", "WIDTH", "new_figure", "save", "style_context"]

#: Okabe-Ito colours by role.
COLORS = {
    "data": "#000000",        # p_data: black
    "generator": "#0072B2",   # p_g: blue
    "disc": "#D55E00",        # trained D: vermillion
    "optimal": "#009E73",     # exact D*: bluish green
    "minimax": "#D55E00",
    "non_saturating": "#0072B2",
    "accent": "#E69F00",      # orange
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "grey": "#777777",
}
#: Width of every figure in inches (README width: 1200 px at DPI, shown at about 800 px).
WIDTH = 8.0
DPI = 150
FORMATS = ("png", "svg", "pdf")

_RC = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "legend.edgecolor": "0.8",
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "image.cmap": "viridis",
    "svg.hashsalt": "gan-theory",   # fixed ids in SVG output
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "path.simplify": True,
}


@contextlib.contextmanager
def style_context() -> Iterator[None]:
    """The figures' rcParams for the duration of the block (restored afterwards).

    Figures are made with :class:`matplotlib.figure.Figure` directly, not through pyplot: no
    GUI backend is touched, and saving picks the Agg renderer for PNG.
    """
    with matplotlib.rc_context(_RC):
        yield


def new_figure(height: float, *, width: float = WIDTH, **kwargs):
    """A figure of ``width`` x ``height`` inches laid out by constrained layout (no clipped labels)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained", **kwargs)


def save(fig, path: Path, fmt: str) -> Path:
    """Write ``fig`` to ``path`` in ``fmt`` with no varying metadata (same data, same bytes)."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    metadata = {"png": {"Software": None},
                "svg": {"Date": None, "Creator": None},
                "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None}}[fmt]
    path = Path(path)
    with style_context():
        fig.savefig(path, format=fmt, metadata=metadata, dpi=DPI)
    return path
