"""Integration relative to a shared centre, for densities far from 0 (internal).

Near ``x = 1e20`` doubles are 16384 apart, so ``Normal(1e20, 1)`` cannot be evaluated at any
point but its centre: every quadrature node rounds onto the same few representable numbers. Yet
``JSD(Normal(1e20, 1) || Normal(1e20, 2))`` is a perfectly well-defined number, the same as
``JSD(Normal(0, 1) || Normal(0, 2))``: the quantities integrated here (JSD, KL, C(G),
f-divergences, W1) depend only on the densities' positions relative to each other. For
location families (the torch ones listed in :func:`_shifted`, and every frozen continuous
scipy.stats distribution: all are location-scale families) the pair is therefore rebuilt
with every location shifted by a common centre
``c``, ``loc - c`` computed exactly (the shift is used only when every subtraction is exact,
checked with the error term of Knuth's TwoSum), and integrated in ``t = x - c``.

The centre is the centre of the narrowest mode, used only where that helps: when some mode is
far from 0 compared with its scale (``|centre| / scale > 2^12``), and the worst such ratio
after the shift is at least 16 times smaller than before. A batch gets one centre per element.
A pair that cannot be re-centred (a family with no location parameter, a shift that is not
exact) is integrated where it is: the quadrature raises
:class:`~gan_theory.results.AccuracyError` if a mode is then too narrow for the float spacing
at its location.

In 2-D, a pair of Gaussians (``MultivariateNormal``) is integrated in the coordinates that
whiten the narrower of the two, ``t = L^{-1} (x - mu)`` with ``L`` its Cholesky factor, when
one of them is much thinner across some direction than along the axes (a correlation close to
+-1): the quadrature's cells are products of per-axis intervals sized by each axis's spread,
and a ridge thinner than the axes' spreads at an angle to them would pass between every node.
The pushforward of a Gaussian by an affine map is a Gaussian, so the pair is rebuilt
(``N(0, I)`` and ``N(L^{-1} (mu_q - mu_p), (L^{-1} L_q)(L^{-1} L_q)^T)``, ``L^{-1} L_q`` lower
triangular), its parameters computed exactly in rational arithmetic and rounded once. The
quantities integrated here are f-divergences (``q f(p/q)``, homogeneous of degree 1 in the
densities), unchanged by any smooth bijection of the space. A pair whose two densities are thin
in different directions is only helped for the narrower one; the quadrature's mass check
(:func:`gan_theory.integrate.pair_integral`) refuses what it then misses.

References
----------
D. E. Knuth, *The Art of Computer Programming*, Vol. 2, 3rd ed., Section 4.2.2 (the exact
error of a floating-point sum).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch
import torch.distributions as td

from .scipybridge import scipy_loc_scale
from .density import Density, as_density, batch_size, is_scipy_frozen

__all__ = ["oblique", "recentre", "recentred"]

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
        return _whitened(p, q) if batch is None else (p, q)
    if p.batch is None and q.batch is None and p.hints.centers.size + q.hints.centers.size <= 8:
        # the common case: every mode close to 0 for its scale (a fact of each density, kept)
        if _near_zero(p) and _near_zero(q):
            return p, q
    shift = _centres(p, q, batch)
    if shift is None:
        return p, q
    c = shift if isinstance(shift, float) else torch.from_numpy(shift)
    sp, sq = _moved(p, c), _moved(q, c)
    if sp is None or sq is None:
        return p, q
    return sp, sq


def _near_zero(d: Density) -> bool:
    """Whether every mode of ``d`` lies within :data:`FAR` of its scales of 0 (plain Python on
    these few numbers; kept on the density, whose hints do not change)."""
    hit = d.facts.get("near_zero")
    if hit is None or hit[0] is not d.hints:
        h = d.hints
        near = all(abs(c) <= FAR * s for c, s in zip(h.centers.ravel().tolist(), h.scales.ravel().tolist()))
        hit = d.facts["near_zero"] = (h, near)
    return hit[1]


def recentred(p: Density, q: Density) -> tuple[Density, Density]:
    """:func:`recentre` with the pair's own batch size: the pair to integrate a quantity that
    depends on the log-densities alone (JSD, KL, f-divergences, C(G)), moved near 0 when that
    lets narrow modes far from 0 be resolved."""
    return recentre(p, q, batch_size(p, q))


def _moved(d: Density, c: float | torch.Tensor) -> Density | None:
    """The density ``d`` moved by ``-c`` exactly, or ``None`` where that cannot be done.

    A frozen scipy.stats distribution is a location-scale family (its density is
    ``pdf_0((x - loc) / scale) / scale``): it is rebuilt with ``loc - c`` (one shift only, not a
    batch of them)."""
    if is_scipy_frozen(d.source):
        if not isinstance(c, float):
            return None
        shapes, loc, scale = scipy_loc_scale(d.source)
        new = _minus(torch.tensor(loc, dtype=torch.float64), c)
        return None if new is None else as_density(d.source.dist(*shapes, loc=float(new), scale=scale), d.name)
    if d.dist is None:
        return None
    moved = _shifted(d.dist, c)
    return None if moved is None else as_density(moved, d.name, batch=True)


#: A Gaussian whose thinnest direction is narrower than its thinnest axis by this factor is
#: integrated in whitened coordinates (an axis-aligned cell grid would otherwise be too coarse).
THIN = 8.0


def _tril(d: td.Distribution) -> tuple[list[float], list[list[float]]] | None:
    """loc and scale_tril of a single 2-D MultivariateNormal as Python floats, else ``None``."""
    if type(d) is not td.MultivariateNormal or d.batch_shape != () or d.event_shape != (2,):
        return None
    return d.loc.detach().to(torch.float64).tolist(), d.scale_tril.detach().to(torch.float64).tolist()


def _thinness(tril: list[list[float]]) -> float:
    """The thinnest axis's spread over the thinnest direction's spread (>= 1)."""
    (a, _), (b, c) = tril
    sd_axes = min(a, float(np.hypot(b, c)))
    # the singular values of [[a, 0], [b, c]]: product a c, sum of squares a^2 + b^2 + c^2
    s2 = a * a + b * b + c * c
    smin2 = 2 * (a * c) ** 2 / (s2 + np.sqrt(max(s2 * s2 - 4 * (a * c) ** 2, 0.0)))
    return sd_axes / np.sqrt(smin2) if smin2 > 0 else np.inf


def _whitened(p: Density, q: Density) -> tuple[Density, Density]:
    """A pair of 2-D Gaussians, one of them thin at an angle to the axes, in the coordinates
    that whiten the narrower one (see the module docstring); any other pair as it is."""
    if p.batch is not None or q.batch is not None:
        return p, q
    tp, tq = _tril(p.source) if isinstance(p.source, td.Distribution) else None, \
        _tril(q.source) if isinstance(q.source, td.Distribution) else None
    if tp is None or tq is None or max(_thinness(tp[1]), _thinness(tq[1])) < THIN:
        return p, q
    # whiten by the narrower (the smaller determinant a c)
    det_p, det_q = tp[1][0][0] * tp[1][1][1], tq[1][0][0] * tq[1][1][1]
    (mu, ((a, _), (b, c))) = tp if det_p <= det_q else tq
    F = Fraction
    a, b, c = F(a), F(b), F(c)

    def push(loc: list[float], tril: list[list[float]]) -> td.MultivariateNormal:
        """The pushforward of N(loc, tril tril^T) by t = L^{-1} (x - mu), rounded once."""
        d0, d1 = F(loc[0]) - F(mu[0]), F(loc[1]) - F(mu[1])
        (aq, _), (bq, cq) = tril
        aq, bq, cq = F(aq), F(bq), F(cq)
        m = [float(d0 / a), float((d1 * a - b * d0) / (a * c))]
        s = [[float(aq / a), 0.0], [float((bq * a - b * aq) / (a * c)), float(cq / c)]]
        return td.MultivariateNormal(torch.tensor(m, dtype=torch.float64),
                                     scale_tril=torch.tensor(s, dtype=torch.float64), validate_args=False)

    return as_density(push(*tp), p.name), as_density(push(*tq), q.name)


def oblique(d: Density) -> bool:
    """Whether a 2-D density has a Gaussian part (a MultivariateNormal, or the components of a
    mixture of them) thinner across some direction than along its thinnest axis by
    :data:`THIN`: a ridge at an angle to the axes, which per-axis hints overstate."""
    src = d.source
    if isinstance(src, td.MixtureSameFamily):
        src = src.component_distribution
    if not isinstance(src, (td.MultivariateNormal, td.LowRankMultivariateNormal)) or src.event_shape != (2,):
        return False
    tril = src.scale_tril.detach().to(torch.float64).reshape(-1, 2, 2).tolist()
    return any(_thinness(t) >= THIN for t in tril)
