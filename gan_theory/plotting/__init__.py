"""Figures of GAN theory, regenerated from computed results (``gan-theory figures``).

A leaf package: nothing else in gan_theory imports it, so ``import gan_theory`` never imports
matplotlib. One module per figure, each with a pure ``*_data`` function (the numbers, checked
against theory by the tests) and a ``plot_*`` function (the drawing);
:mod:`~gan_theory.plotting.registry` runs them by name and writes the files deterministically.

>>> from gan_theory.plotting import FIGURES, render                    # doctest: +SKIP
>>> render(["criterion_landscape"], "figures", quick=True)            # doctest: +SKIP
"""

from .registry import FIGURES, FigureSpec, render

__all__ = ["FIGURES", "FigureSpec", "render"]
