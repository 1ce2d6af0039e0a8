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
* whatever :func:`extra_member_metrics` adds.

The member's ``p_g`` is turned into the engine's :class:`~gan_theory.densities.Density` (its
validation and quadrature hints) ONCE per logging step, by :func:`member_metrics`, and that
one object is passed to every metric.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..densities import Density, as_density
from ..discriminator import discriminator_error, discriminator_sup_error
from ..divergences import jsd
from ..results import AccuracyError
from ..value import criterion, value_function
from .config import TrainConfig
from .grid import LOG4
from .members import MemberDiscriminator, MemberGenerator

__all__ = ["extra_member_metrics", "grid_metrics", "member_metrics"]


def extra_member_metrics(p_data: Density, p_g: Density, config: TrainConfig,
                         generator: MemberGenerator | None = None) -> dict[str, Any]:
    """Further per-member metrics, added to every record of a member with a density.

    THE PLACE FOR NEW PER-MEMBER METRICS: return a dict of JSON-ready values (numbers, strings,
    lists, dicts) computed from the target ``p_data``, the member's ``p_g`` (both already
    converted, once for the step) and, for sample-based metrics, its ``generator``
    (``generator.sample(n, torch_generator)``: samples of the generator itself, which for the
    2-D MLP generator are not those of its kernel density estimate ``p_g``; draw them from a
    generator seeded for the purpose, never from the member's training stream, so that the
    training does not depend on the metrics). Mode coverage for 2-D targets with known modes
    (:mod:`gan_theory.coverage`) goes here. A metric that cannot be computed should raise
    ``ValueError`` or ``AccuracyError`` (recorded as ``metrics_error``), never return a wrong
    number. Nothing is added today.
    """
    return {}


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
            de = discriminator_error(discriminator, p_data, p_g, atol=natol, rtol=0.0, **labels)
            values.update(d_error=de.value, d_error_bound=de.error)
            values["d_sup_error"] = discriminator_sup_error(discriminator, p_data, p_g, **labels)
            v = value_function(discriminator, p_data, p_g, atol=natol, rtol=0.0)
            values.update(v_quadrature=v.value, v_quadrature_error=v.error)
        else:
            values.update(d_error=0.0, v_quadrature=c.value)
        if summary is not None:
            values["generator"] = summary()
        values.update(extra_member_metrics(p_data, p_g, config, generator))
    except (AccuracyError, ValueError) as exc:
        values["metrics_error"] = f"{type(exc).__name__}: {exc}"
    return values


def grid_metrics(criterion_value: float) -> dict[str, Any]:
    """The record of a grid generator's member: its discrete criterion on the grid, JSD =
    (C + log 4)/2 (Goodfellow et al. 2014, Thm. 1), and ``d_error = 0`` (D is the exact D*)."""
    return {"criterion": criterion_value, "jsd": (criterion_value + LOG4) / 2, "d_error": 0.0, "exact": True,
            "note": "discrete criterion on the grid; D is the exact D*"}
