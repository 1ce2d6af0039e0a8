"""Monotone rational-quadratic spline transforms (pure functions, no state).

A rational-quadratic (RQ) spline maps ``[-B, B]`` onto itself through ``K`` bins. Inside bin
``k`` it is the ratio of two quadratics in the bin's local coordinate; it is monotone
increasing, continuously differentiable, and has a closed-form inverse (the root of a
quadratic). With slope 1 at both end knots and the identity outside ``[-B, B]`` ("linear
tails"), it is a C^1 bijection of the whole line. The functions here act elementwise, with
one set of spline parameters per element (broadcast over any leading batch dimensions), so an
ensemble of flows, or a coupling layer whose parameters depend on the other coordinate, is
one call.

References
----------
C. Durkan, A. Bekasov, I. Murray, G. Papamakarios, "Neural Spline Flows", NeurIPS 2019,
Sec. 3.1 and Appendix A.

J. A. Gregory, R. Delbourgo, "Piecewise rational quadratic interpolation to monotonic data",
IMA J. Numer. Anal. 2 (1982) 123-130.
"""

from __future__ import annotations

import math

import torch
from torch.nn.functional import softplus

from ..checks import check_real

__all__ = ["MIN_BIN_SIZE", "MIN_DERIVATIVE", "rq_spline", "spline_knots"]

#: Smallest bin width and height, as a fraction of the range 2B (so no bin collapses).
MIN_BIN_SIZE = 1e-3
#: Smallest slope at an interior knot.
MIN_DERIVATIVE = 1e-3


def _check_shapes(widths: torch.Tensor, heights: torch.Tensor, derivatives: torch.Tensor) -> int:
    for name, v in (("widths", widths), ("heights", heights), ("derivatives", derivatives)):
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(v).__name__}")
        if v.dim() < 1:
            raise ValueError(f"{name}: expected a tensor with the bins as its last dimension, got a scalar")
    k = widths.shape[-1]
    if k < 2:
        raise ValueError(f"widths: expected at least 2 bins in the last dimension, got shape {tuple(widths.shape)}")
    if heights.shape[-1] != k:
        raise ValueError(f"heights: expected {k} bins in the last dimension (as widths), got shape "
                         f"{tuple(heights.shape)}")
    if derivatives.shape[-1] != k - 1:
        raise ValueError(f"derivatives: expected {k - 1} interior knot slopes in the last dimension "
                         f"(K - 1 for K = {k} bins), got shape {tuple(derivatives.shape)}")
    return k


def _check_options(k: int, bound: float, min_bin_size: float, min_derivative: float) -> tuple[float, float, float]:
    bound = check_real("bound", bound, lower=0.0, lower_open=True)
    min_bin_size = check_real("min_bin_size", min_bin_size, lower=0.0, upper=1.0 / k, upper_open=True)
    min_derivative = check_real("min_derivative", min_derivative, lower=0.0, upper=1.0, lower_open=True,
                                upper_open=True)
    return bound, min_bin_size, min_derivative


def _interior(widths: torch.Tensor, heights: torch.Tensor, k: int, bound: float,
              min_bin_size: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The interior knots ``x^(1..K-1)`` and ``y^(1..K-1)``, each (..., K - 1)."""

    def inner(raw: torch.Tensor) -> torch.Tensor:
        e = torch.exp(raw - raw.amax(dim=-1, keepdim=True))  # softmax, written out: ~3x faster in float64
        frac = min_bin_size + (1.0 - k * min_bin_size) * (e / e.sum(dim=-1, keepdim=True))
        return 2.0 * bound * torch.cumsum(frac[..., :-1], dim=-1) - bound

    return inner(widths), inner(heights)


def _slope(raw: torch.Tensor, min_derivative: float) -> torch.Tensor:
    """Interior knot slope ``delta_min + softplus(raw + c)``, equal to 1 (to rounding) at 0."""
    return min_derivative + softplus(raw + math.log(math.expm1(1.0 - min_derivative)))


def spline_knots(widths: torch.Tensor, heights: torch.Tensor, derivatives: torch.Tensor, bound: float, *,
                 min_bin_size: float = MIN_BIN_SIZE,
                 min_derivative: float = MIN_DERIVATIVE) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Knots and knot slopes from unconstrained spline parameters.

    .. math::

        w_k = 2B\\,[m + (1 - Km)\\,\\mathrm{softmax}(\\tilde w)_k], \\qquad
        x^{(k)} = -B + \\sum_{j<k} w_j, \\quad x^{(0)} = -B,\\ x^{(K)} = B,

    likewise for the heights and the ``y`` knots, and

    .. math::

        \\delta^{(k)} = \\delta_{\\min} + \\mathrm{softplus}(\\tilde\\delta_k + c), \\quad
        c = \\log(e^{1 - \\delta_{\\min}} - 1), \\quad k = 1, \\dots, K-1, \\qquad
        \\delta^{(0)} = \\delta^{(K)} = 1.

    The shift ``c`` makes all-zero parameters the identity map (equal bins, every slope 1).

    Parameters
    ----------
    widths, heights : Tensor, shape (..., K)
        Unconstrained bin widths and heights.
    derivatives : Tensor, shape (..., K - 1)
        Unconstrained slopes at the interior knots.
    bound : float
        ``B > 0``: the spline acts on ``[-B, B]``.
    min_bin_size : float
        ``m``, the smallest bin width and height as a fraction of ``2B`` (``K m < 1``).
    min_derivative : float
        ``delta_min``, the smallest interior slope (in ``(0, 1)``).

    Returns
    -------
    knots_x, knots_y : Tensor, shape (..., K + 1)
        Increasing, from exactly ``-B`` to exactly ``B``.
    slopes : Tensor, shape (..., K + 1)
        The slope at every knot, exactly 1 at both ends.
    """
    k = _check_shapes(widths, heights, derivatives)
    opts = _check_options(k, bound, min_bin_size, min_derivative)
    xs, ys = _interior(widths, heights, k, *opts[:2])
    ds = _slope(derivatives, opts[2])
    b = opts[0]

    def ends(t: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
        return torch.cat([torch.full_like(t[..., :1], lo), t, torch.full_like(t[..., :1], hi)], dim=-1)

    return ends(xs, -b, b), ends(ys, -b, b), ends(ds, 1.0, 1.0)


def _take(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``t[..., idx]`` elementwise: ``t`` (..., M) broadcast against ``idx`` (...)."""
    return torch.gather(t.expand(idx.shape + t.shape[-1:]), -1, idx.unsqueeze(-1)).squeeze(-1)


def _bin_values(inner: torch.Tensor, idx: torch.Tensor, first: torch.Tensor, last: torch.Tensor,
                lo: float, hi: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Values at the left and right knot of bin ``idx`` from the interior values (K - 1), with the
    end values ``lo`` (knot 0) and ``hi`` (knot K) filled in exactly."""
    k1 = inner.shape[-1]
    left = _take(inner, (idx - 1).clamp(min=0))
    right = _take(inner, idx.clamp(max=k1 - 1))
    return torch.where(first, lo, left), torch.where(last, hi, right)


def rq_spline(x: torch.Tensor, widths: torch.Tensor, heights: torch.Tensor, derivatives: torch.Tensor,
              bound: float, inverse: bool = False, *, min_bin_size: float = MIN_BIN_SIZE,
              min_derivative: float = MIN_DERIVATIVE) -> tuple[torch.Tensor, torch.Tensor]:
    """Monotone rational-quadratic spline with linear tails, forward or inverse, elementwise.

    With knots ``(x^(k), y^(k))`` and slopes ``delta^(k)`` from :func:`spline_knots`, a point
    ``x`` in bin ``k`` (``x^(k) <= x < x^(k+1)``) has, writing ``w = x^(k+1) - x^(k)``,
    ``h = y^(k+1) - y^(k)``, ``s = h / w`` and ``xi = (x - x^(k)) / w``,

    .. math::

        y = y^{(k)} + \\frac{h\\,[s\\,\\xi^2 + \\delta^{(k)}\\xi(1-\\xi)]}
                          {s + [\\delta^{(k+1)} + \\delta^{(k)} - 2s]\\,\\xi(1-\\xi)},

    .. math::

        \\frac{dy}{dx} = \\frac{s^2\\,[\\delta^{(k+1)}\\xi^2 + 2s\\,\\xi(1-\\xi)
                                       + \\delta^{(k)}(1-\\xi)^2]}
                              {\\big(s + [\\delta^{(k+1)} + \\delta^{(k)} - 2s]\\,\\xi(1-\\xi)\\big)^2}
                         > 0.

    Outside ``[-B, B]`` the map is the identity (``y = x``, ``log|dy/dx| = 0``); as the end
    slopes are 1, the whole map is C^1.

    The inverse solves ``a xi^2 + b xi + c = 0`` in the bin ``k`` with
    ``y^(k) <= y < y^(k+1)``, where, with ``r = y - y^(k)`` and
    ``D = delta^(k+1) + delta^(k) - 2s``,

    .. math::

        a = h(s - \\delta^{(k)}) + rD, \\qquad b = h\\,\\delta^{(k)} - rD, \\qquad c = -s\\,r,

    taking the root in ``[0, 1]``, ``xi = (-b + sqrt(b^2 - 4ac)) / (2a)``, in the form that
    avoids cancellation: ``xi = 2c / (-b - sqrt(b^2 - 4ac))`` when ``b >= 0`` (this form also
    holds when ``a = 0``), and ``(-b + sqrt(b^2 - 4ac)) / (2a)`` when ``b < 0`` (then
    ``a > 0``).

    Parameters
    ----------
    x : Tensor
        Points (any shape ``S``); ``y`` when ``inverse=True``.
    widths, heights : Tensor, shape broadcastable to ``S + (K,)``
        Unconstrained bin widths and heights (through a softmax with a minimum bin size).
    derivatives : Tensor, shape broadcastable to ``S + (K - 1,)``
        Unconstrained interior knot slopes (through a shifted softplus with a minimum, so that
        zero parameters give the identity).
    bound : float
        ``B > 0``.
    inverse : bool
        Apply the inverse map.
    min_bin_size, min_derivative : float
        See :func:`spline_knots`.

    Returns
    -------
    out : Tensor, shape ``S`` broadcast with the parameters' batch shape
        ``y`` (forward) or ``x`` (inverse).
    logabsdet : Tensor, same shape
        Forward: ``log|dy/dx|`` at ``x``. Inverse: ``log|dx/dy|`` at ``y``, the log-Jacobian
        of the inverse map, which is minus the forward one at the preimage.

    Raises
    ------
    TypeError, ValueError
        For a non-tensor input, fewer than 2 bins, mismatched bin counts, or ``bound <= 0``.

    Notes
    -----
    The inverse is backward stable: a round trip ``x -> y -> x`` returns ``x`` to within a
    small multiple of ``eps |y| |dx/dy|`` (measured: at most 16 times that bound), so it loses
    accuracy only where the spline is nearly flat (``dy/dx`` near ``delta_min^2``). The bin is
    found by comparing with the ``K - 1`` interior knots (O(K) per point, which broadcasts
    over per-point parameters, unlike ``torch.searchsorted``).

    References
    ----------
    C. Durkan, A. Bekasov, I. Murray, G. Papamakarios, "Neural Spline Flows", NeurIPS 2019,
    Sec. 3.1 (forward map and derivative) and Appendix A (inverse).

    W. H. Press et al., *Numerical Recipes*, 3rd ed., Sec. 5.6 (roots of a quadratic without
    cancellation).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}")
    k = _check_shapes(widths, heights, derivatives)
    bound, min_bin_size, min_derivative = _check_options(k, bound, min_bin_size, min_derivative)
    xs, ys = _interior(widths, heights, k, bound, min_bin_size)
    shape = torch.broadcast_shapes(x.shape, xs.shape[:-1], ys.shape[:-1], derivatives.shape[:-1])
    x = x.expand(shape)
    inside = (x >= -bound) & (x <= bound)
    xc = x.clamp(-bound, bound)  # keeps the unused branch finite (and its gradient 0, not NaN)
    idx = (xc.unsqueeze(-1) >= (ys if inverse else xs)).sum(-1)  # the bin, 0..K-1
    first, last = idx == 0, idx == k - 1
    x0, x1 = _bin_values(xs, idx, first, last, -bound, bound)
    y0, y1 = _bin_values(ys, idx, first, last, -bound, bound)
    # the slopes' softplus only where needed: 2 per point instead of K - 1
    d0, d1 = (_slope(v, min_derivative) for v in _bin_values(derivatives, idx, first, last, 0.0, 0.0))
    d0 = torch.where(first, 1.0, d0)
    d1 = torch.where(last, 1.0, d1)
    w, h = x1 - x0, y1 - y0
    s = h / w
    dsum = d1 + d0 - 2.0 * s
    if not inverse:
        xi = (xc - x0) / w  # in [0, 1]: x0 <= xc <= x1, and rounding is monotone
        xi1 = xi * (1.0 - xi)
        den = s + dsum * xi1
        out = y0 + h * (s * xi * xi + d0 * xi1) / den
    else:
        r = xc - y0
        a = h * (s - d0) + r * dsum
        b = h * d0 - r * dsum
        c = -s * r
        sq = torch.sqrt((b * b - 4.0 * a * c).clamp(min=0.0))
        pos = b >= 0
        # each branch's denominator is replaced where that branch is not used, so neither
        # produces inf/NaN there (NaN would leak into gradients through torch.where)
        den_pos = torch.where(pos, -b - sq, -1.0)
        den_neg = torch.where(pos, 1.0, 2.0 * a)
        # not clamped to [0, 1]: a clamp would zero the gradient where rounding steps past an end
        xi = torch.where(pos, 2.0 * c / den_pos, (-b + sq) / den_neg)
        xi1 = xi * (1.0 - xi)
        den = s + dsum * xi1
        out = x0 + xi * w
    num = d1 * xi * xi + 2.0 * s * xi1 + d0 * (1.0 - xi) ** 2
    logdet = 2.0 * torch.log(s) + torch.log(num) - 2.0 * torch.log(den)
    if inverse:
        logdet = -logdet
    out = torch.where(inside, out, x)
    logdet = torch.where(inside, logdet, 0.0)
    return out, logdet
