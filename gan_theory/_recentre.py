"""Integration relative to a shared centre, for densities far from 0 (internal).

Near ``x = 1e20`` doubles are 16384 apart, so ``Normal(1e20, 1)`` cannot be evaluated at any
point but its centre: every quadrature node rounds onto the same few representable numbers. Yet
``JSD(Normal(1e20, 1) || Normal(1e20, 2))`` is a perfectly well-defined number, the same as
``JSD(Normal(0, 1) || Normal(0, 2))``: the quantities integrated here (JSD, KL, C(G),
f-divergences, W1) depend only on the densities' positions relative to each other. For
location families the pair is therefore rebuilt with every location shifted by a common centre
``c``, ``loc - c`` computed exactly (the shift is used only when every subtraction is exact,
checked with the error term of Knuth's TwoSum), and integrated in ``t = x - c``.

The centre is the centre of the narrowest mode, used only where that helps: when some mode is
far from 0 compared with its scale (``|centre| / scale > 2^12``), and the worst such ratio
after the shift is at least 16 times smaller than before. A batch gets one centre per element.
A pair that cannot be re-centred (a family with no location parameter, a shift that is not
exact) is integrated where it is: the quadrature raises
:class:`~gan_theory.results.AccuracyError` if a mode is then too narrow for the float spacing
at its location.

References
----------
D. E. Knuth, *The Art of Computer Programming*, Vol. 2, 3rd ed., Section 4.2.2 (the exact
error of a floating-point sum).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.distributions as td

from .densities import Density, as_density

__all__ = ["recentre"]

#: A mode farther from 0 than this many of its scales makes a shift worth considering.
FAR = 2.0 ** 12
#: The shift is used only if it brings the worst |centre| / scale down by this factor.
GAIN = 16.0

_LOC_FAMILIES = (td.Normal, td.Laplace, td.Cauchy, td.Gumbel)


def _rows(d: Density, batch: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Centres, scales and (for a 1-D batch with per-element hints) the element of each row."""
    h = d.hints
    c, s = h.centers[:, 0], h.scales[:, 0]
    if batch is None:
        return c, s, None
    if d.batch is None:  # a single density: its rows hold for every element
        return np.tile(c, batch), np.tile(s, batch), np.repeat(np.arange(batch), c.size)
    if h.members is None:
        return c, s, None
    return c, s, h.members[0]


def _centres(p: Density, q: Density, batch: int | None) -> float | np.ndarray | None:
    """The shift: a float, one per batch element (B,), or ``None`` (none worth making)."""
    (cp, sp, mp), (cq, sq, mq) = _rows(p, batch), _rows(q, batch)
    c, s = np.concatenate([cp, cq]), np.concatenate([sp, sq])
    with np.errstate(all="ignore"):
        far = np.abs(c) / s
    if not far.max(initial=0.0) > FAR:
        return None
    if mp is None or mq is None:  # one centre for all
        c0 = float(c[np.argmin(s)])
        with np.errstate(all="ignore"):
            after = float(np.max(np.abs(c - c0) / s))
        return c0 if after * GAIN < float(far.max()) else None
    mem = np.concatenate([mp, mq])
    before, after = np.zeros(batch), np.zeros(batch)
    np.maximum.at(before, mem, far)
    order = np.lexsort((s, mem))  # by element, then scale: the narrowest row first
    first = order[np.r_[True, mem[order][1:] != mem[order][:-1]]]
    centre = np.zeros(batch)
    centre[mem[first]] = c[first]
    with np.errstate(all="ignore"):
        np.maximum.at(after, mem, np.abs(c - centre[mem]) / s)
    shift = np.where((before > FAR) & (after * GAIN < before), centre, 0.0)
    return shift if np.any(shift != 0.0) else None


def _minus(a: torch.Tensor, c: float | torch.Tensor) -> torch.Tensor | None:
    """``a - c`` if it is exact in float64 (the TwoSum error term is 0), else ``None``."""
    a = a.to(torch.float64)
    s = a - c
    v = s - a
    err = (a - (s - v)) + (-c - v)
    return s if bool(torch.all(err == 0)) else None


def _shifted(d: td.Distribution, c: float | torch.Tensor) -> td.Distribution | None:
    """``d`` moved by ``-c`` (exactly), or ``None`` for a family without a location parameter
    or a shift that is not exact. ``c`` of shape (B,) moves batch element ``b`` by ``-c[b]``."""
    t = type(d)
    if t in _LOC_FAMILIES:
        loc = _minus(d.loc, c)
        return None if loc is None else t(loc, d.scale.to(torch.float64), validate_args=False)
    if t is td.StudentT:
        loc = _minus(d.loc, c)
        return None if loc is None else td.StudentT(d.df.to(torch.float64), loc, d.scale.to(torch.float64),
                                                    validate_args=False)
    if t is td.Uniform:
        low, high = _minus(d.low, c), _minus(d.high, c)
        return None if low is None or high is None else td.Uniform(low, high, validate_args=False)
    if t is td.MixtureSameFamily and d.event_shape == ():
        comp = _shifted(d.component_distribution, c.unsqueeze(-1) if isinstance(c, torch.Tensor) else c)
        if comp is None:
            return None
        logits = d.mixture_distribution.logits.to(torch.float64).expand(comp.batch_shape)
        return td.MixtureSameFamily(td.Categorical(logits=logits, validate_args=False), comp, validate_args=False)
    return None


def recentre(p: Density, q: Density, batch: int | None = None) -> tuple[Density, Density]:
    """The pair re-centred for integration (see the module docstring), or the pair itself.

    Only for quantities that depend on the densities alone, never on ``x`` itself (not for
    ``V(D, G)``, whose discriminator sees absolute positions).
    """
    if p.dim != 1:
        return p, q
    if p.batch is None and q.batch is None and p.hints.centers.size + q.hints.centers.size <= 8:
        # the common case, in plain Python: every mode close to 0 for its scale
        if all(abs(c) <= FAR * s for h in (p.hints, q.hints)
               for c, s in zip(h.centers.ravel().tolist(), h.scales.ravel().tolist())):
            return p, q
    shift = _centres(p, q, batch)
    if shift is None or p.dist is None or q.dist is None:
        return p, q
    c = shift if isinstance(shift, float) else torch.from_numpy(shift)
    sp, sq = _shifted(p.dist, c), _shifted(q.dist, c)
    if sp is None or sq is None:
        return p, q
    return as_density(sp, p.name, batch=True), as_density(sq, q.name, batch=True)
