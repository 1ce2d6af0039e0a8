"""Per-member metrics: each member measured against the exact theory at a logging step.

For member ``i`` with generator density ``p_g`` (exact for the affine, flow and grid
generators; for the MLP generator an exact pushforward in 1-D, a kernel density estimate in
2-D, marked ``exact: false``):

* ``criterion`` = C(G) = max_D V(G, D) (Goodfellow et al. 2014, Thm. 1) and ``jsd``, by
  error-controlled quadrature (``*_error``: their error bounds);
* with a network discriminator: ``d_error`` = ``||D - D*||_m`` (the L2 distance under the
  mixture ``m = (p_data + p_g)/2``), ``d_sup_error`` (the sup of ``|D - D*|`` on the central
  99% region) and ``v_quadrature`` = V(D, G) of the trained D;
* ``generator``: the generator's own summary (its parameters), when it has one;
* mode coverage, on targets with known modes (:func:`extra_member_metrics`).

The member's ``p_g`` is turned into the engine's :class:`~gan_theory.densities.Density` (its
validation and quadrature hints) ONCE per logging step, by :func:`member_metrics`, and that
one object is passed to every metric.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..coverage import coverage_metrics, target_modes
from ..densities import Density, as_density
from ..discriminator import discriminator_error, discriminator_sup_error
from ..divergences import jsd
from ..results import AccuracyError
from ..value import criterion, value_function
from .config import TrainConfig
from .grid import LOG4
from .members import MemberDiscriminator, MemberGenerator

__all__ = ["COVERAGE_SAMPLES", "extra_member_metrics", "grid_metrics", "member_metrics", "with_kinks_as_breaks"]


#: Generated samples per member for the sample-based mode-coverage metrics (PacGAN and VEEGAN
#: count modes on 2500 samples).
COVERAGE_SAMPLES = 2500


def extra_member_metrics(p_data: Density, p_g: Density, config: TrainConfig,
                         generator: MemberGenerator | None = None, exact: bool = True) -> dict[str, Any]:
    """Further per-member metrics, added to every record of a member with a density.

    THE PLACE FOR NEW PER-MEMBER METRICS: return a dict of JSON-ready values computed from the
    target ``p_data``, the member's ``p_g`` (both already converted, once for the step) and, for
    sample-based metrics, its ``generator``. A metric that cannot be computed raises
    ``ValueError`` or ``AccuracyError`` (recorded as ``metrics_error``), never a wrong number.

    Today: **mode coverage** (:func:`gan_theory.coverage.coverage_metrics`) when the target has
    known modes (a Gaussian or a mixture of Gaussians: the ring, the grid, ...):
    ``modes_captured``, ``high_quality`` and ``reverse_kl_modes`` from ``COVERAGE_SAMPLES``
    samples of the generator itself (for the 2-D MLP generator these are its own samples, not
    those of its kernel density estimate), and, when ``p_g`` is exact, the exact p_g-mass near
    each mode by quadrature (``mass_near_modes``, ``mode_mass_captured``, ``reverse_kl_mass``,
    with error bounds). The samples come from a ``torch.Generator`` seeded with the member's
    seed and used for nothing else, so the training never depends on the metrics, and the same
    latent draws are used at every log step (the metrics move only because G moves).
    """
    modes = target_modes(p_data)
    if modes is None or generator is None or not hasattr(generator.module, "latent_dim"):
        return {}
    draws = torch.Generator().manual_seed(config.member_seeds[generator.member])
    samples = generator.sample(COVERAGE_SAMPLES, draws)
    return coverage_metrics(modes, p_g if exact else None, samples)


def with_kinks_as_breaks(discriminator: MemberDiscriminator, p_data: Density) -> tuple[Any, Density]:
    """``(d, p)`` for integrating a function of a trained discriminator against ``p_data``.

    For a 1-D piecewise-linear network, its kinks computed from its weights
    (:meth:`MemberDiscriminator.kink_points`) become break points of ``p_data``'s quadrature
    hints (cell edges, exactly), and the discriminator is read without its kink indicator
    (:meth:`MemberDiscriminator.between_kinks`): the integrand is smooth inside every cell, so
    the Gauss-Kronrod error estimate holds as for any smooth integrand, and the quadrature does
    not search the cells for kinks by root finding (which called the network ~1000 times per
    integral: ~300 ms of every member's measurement on the 1-D affine benchmark). Otherwise
    (2-D, where kinks are lines; smooth activations) ``(discriminator, p_data)`` unchanged.
    """
    if p_data.dim != 1 or discriminator.kinks is None:
        return discriminator, p_data
    kinks = discriminator.kink_points()
    hints = p_data.hints
    out = p_data.renamed(p_data.name)
    out.hints = dataclasses.replace(hints, breaks=(np.union1d(hints.breaks[0], kinks),))
    return discriminator.between_kinks(), out


def member_metrics(p_data: Density, member_density: Callable[[], Any], exact: bool, discriminator: MemberDiscriminator | None,
                   config: TrainConfig, summary: Callable[[], Any] | None = None,
                   generator: MemberGenerator | None = None) -> dict[str, Any]:
    """The theory metrics of one member (the keys are listed in the module docstring).

    Parameters
    ----------
    p_data : Density
        The target.
    member_density : callable
        ``member_density()``: the member's ``p_g`` (``generator.member_density(j)``), converted
        here once.
    exact : bool
        Whether ``p_g`` is the generator's exact density.
    discriminator : MemberDiscriminator or None
        The member's trained network (None: the exact D*, whose distance to D* is 0 and whose
        V is C(G)).
    config : TrainConfig
        For the labels and the quadrature tolerances.
    summary : callable, optional
        ``summary()``: the generator's summary of this member, recorded as ``generator``.
    generator : MemberGenerator, optional
        The member's generator, for :func:`extra_member_metrics`.

    A metric that fails (``AccuracyError``, ``ValueError``: a density the quadrature cannot
    bound) ends the metrics there with ``metrics_error`` saying why.
    """
    values: dict[str, Any] = {}
    atol, natol = config.quadrature_atol, config.network_quadrature_atol
    labels = {"real_label": config.real_label, "fake_label": config.fake_label}
    try:
        p_g = as_density(member_density(), "p_g")
        values["exact"] = bool(exact)
        c = criterion(p_data, p_g, atol=atol, rtol=0.0)
        values.update(criterion=c.value, criterion_error=c.error)
        js = jsd(p_data, p_g, atol=atol, rtol=0.0)
        values.update(jsd=js.value, jsd_error=js.error)
        if discriminator is not None:
            d, p_k = with_kinks_as_breaks(discriminator, p_data)
            de = discriminator_error(d, p_k, p_g, atol=natol, rtol=0.0, **labels)
            values.update(d_error=de.value, d_error_bound=de.error)
            values["d_sup_error"] = discriminator_sup_error(d, p_data, p_g, **labels)
            v = value_function(d, p_k, p_g, atol=natol, rtol=0.0)
            values.update(v_quadrature=v.value, v_quadrature_error=v.error)
        else:
            values.update(d_error=0.0, v_quadrature=c.value)
        if summary is not None:
            values["generator"] = summary()
        values.update(extra_member_metrics(p_data, p_g, config, generator, exact))
    except (AccuracyError, ValueError) as exc:
        values["metrics_error"] = f"{type(exc).__name__}: {exc}"
    return values


def grid_metrics(criterion_value: float) -> dict[str, Any]:
    """The record of a grid generator's member: its discrete criterion on the grid, JSD =
    (C + log 4)/2 (Goodfellow et al. 2014, Thm. 1), and ``d_error = 0`` (D is the exact D*)."""
    return {"criterion": criterion_value, "jsd": (criterion_value + LOG4) / 2, "d_error": 0.0, "exact": True,
            "note": "discrete criterion on the grid; D is the exact D*"}
