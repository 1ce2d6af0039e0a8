"""torch distributions in the engine: float64 rebuilds, parameter checks, reproducible sampling
and the generic log-density (torch's ``log_prob`` with ``-inf`` off the support)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import torch
import torch.distributions as td
from torch.distributions import constraints

from ..constants import F64 as _DTYPE
from .families import FAMILIES

__all__ = ["check_parameters", "parameters", "rebuild", "sample_torch", "to_float64"]



def _cast(v: Any, dtype: torch.dtype, device: torch.device | str | None) -> Any:
    if isinstance(v, torch.Tensor):
        return v.detach().to(device=device or v.device, dtype=dtype)
    if isinstance(v, float):
        return torch.tensor(v, dtype=dtype, device=device)
    return v


def _convert_transform(t: td.Transform, dtype: torch.dtype, device: torch.device | str | None) -> td.Transform:
    if isinstance(t, td.AffineTransform):
        return td.AffineTransform(_cast(t.loc, dtype, device), _cast(t.scale, dtype, device), event_dim=t.event_dim)
    if isinstance(t, td.ComposeTransform):
        return td.ComposeTransform([_convert_transform(p, dtype, device) for p in t.parts])
    return t


def rebuild(dist: td.Distribution, dtype: torch.dtype = _DTYPE, device: torch.device | str | None = None) -> td.Distribution:
    """Rebuild a torch distribution with parameters of ``dtype`` (on ``device``), validation off.

    Handles the families of ``torch.distributions`` whose constructor takes the names in
    ``arg_constraints`` (Normal, Laplace, StudentT, Gamma, Beta, ...), those with a ``rebuild``
    in the family table (Uniform, MultivariateNormal), and the wrappers ``MixtureSameFamily``,
    ``Independent`` and ``TransformedDistribution``. Validation is turned off in the copy because
    the quadrature evaluates log-densities outside the support (where they are ``-inf``); the
    parameters are checked separately by :func:`gan_theory.densities.as_density`.

    Raises
    ------
    TypeError
        If the distribution's type cannot be rebuilt.
    """
    if isinstance(dist, td.MixtureSameFamily):
        mix = td.Categorical(logits=_cast(dist.mixture_distribution.logits, dtype, device), validate_args=False)
        return td.MixtureSameFamily(mix, rebuild(dist.component_distribution, dtype, device), validate_args=False)
    if isinstance(dist, td.Independent):
        return td.Independent(rebuild(dist.base_dist, dtype, device), dist.reinterpreted_batch_ndims,
                              validate_args=False)
    if type(dist) is td.TransformedDistribution:
        return td.TransformedDistribution(rebuild(dist.base_dist, dtype, device),
                                          [_convert_transform(t, dtype, device) for t in dist.transforms],
                                          validate_args=False)
    # a family with its own rebuild in the table (a subclass is rebuilt like its parent)
    fam = next((FAMILIES[t] for t in type(dist).__mro__ if t in FAMILIES and FAMILIES[t].rebuild is not None), None)
    if fam is not None:
        return fam.rebuild(dist, lambda v: _cast(v, dtype, device))
    names = list(dist.arg_constraints)
    try:
        params = {k: _cast(getattr(dist, k), dtype, device) for k in names}
        return type(dist)(**params, validate_args=False)
    except (TypeError, ValueError, AttributeError, NotImplementedError) as exc:
        raise TypeError(f"cannot rebuild {type(dist).__name__} with {dtype} parameters: {exc}") from exc


def to_float64(dist: td.Distribution) -> td.Distribution:
    """:func:`rebuild` in float64 on the distribution's own device."""
    return rebuild(dist, _DTYPE)


def _walk(dist: td.Distribution, prefix: str = ""):
    """Yield (distribution, path prefix) for ``dist`` and every distribution nested in it."""
    yield dist, prefix
    if isinstance(dist, td.MixtureSameFamily):
        yield from _walk(dist.mixture_distribution, prefix + "mixture_distribution.")
        yield from _walk(dist.component_distribution, prefix + "component_distribution.")
    elif isinstance(dist, (td.Independent, td.TransformedDistribution)) and hasattr(dist, "base_dist"):
        yield from _walk(dist.base_dist, prefix + "base_dist.")


def parameters(dist: td.Distribution) -> dict[str, torch.Tensor]:
    """The tensor parameters of a distribution and of the distributions and affine transforms
    nested in it, keyed by dotted path."""
    out: dict[str, torch.Tensor] = {}
    for d, prefix in _walk(dist):
        if isinstance(d, td.MultivariateNormal):
            out[prefix + "loc"] = d.loc
            out[prefix + "scale_tril"] = d.scale_tril
            continue
        if isinstance(d, td.Categorical):
            out[prefix + "probs"] = d.probs
            continue
        for k in d.arg_constraints:
            v = getattr(d, k, None)
            if isinstance(v, torch.Tensor):
                out[prefix + k] = v
        for i, t in enumerate(getattr(d, "transforms", [])):
            for k in ("loc", "scale"):
                v = getattr(t, k, None)
                if isinstance(v, torch.Tensor):
                    out[f"{prefix}transforms[{i}].{k}"] = v
    return out


def check_parameters(dist: td.Distribution, name: str) -> None:
    """Raise a ValueError naming the argument and the parameter if any parameter (of ``dist`` or
    of a distribution nested in it) is NaN, infinite or outside its constraint."""
    for pname, value in parameters(dist).items():
        v = value.detach()
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            bad = v[~torch.isfinite(v)].flatten()[0].item()
            raise ValueError(f"{name}: parameter {pname!r} of {type(dist).__name__} must be finite, found {bad}")
    for d, prefix in _walk(dist):
        if isinstance(d, td.Categorical):
            continue
        for pname, c in d.arg_constraints.items():
            if constraints.is_dependent(c):
                continue
            v = getattr(d, pname, None)
            if isinstance(v, torch.Tensor) and not bool(c.check(v).all()):
                raise ValueError(f"{name}: parameter {prefix + pname!r} of {type(dist).__name__} must satisfy "
                                 f"{c}, found {v.detach().flatten().tolist()[:6]}")


def sample_torch(dist: td.Distribution, n: int, generator: torch.Generator) -> torch.Tensor:
    """Sample from a torch distribution reproducibly from ``generator``.

    ``torch.distributions`` draws from the global generator; the global state is forked,
    seeded from ``generator`` and restored afterwards, so the caller's global RNG is untouched
    and the same ``generator`` state gives the same samples.
    """
    seed = int(torch.randint(0, 2**62, (1,), generator=generator).item())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        with torch.no_grad():
            return dist.sample((n,))


def _support_check(dist: td.Distribution, x: torch.Tensor) -> torch.Tensor:
    """Boolean mask of the points of ``x`` inside the support (union over mixture components)."""
    if isinstance(dist, td.MixtureSameFamily):
        xx = x.unsqueeze(-1 - len(dist.event_shape))
        return _support_check(dist.component_distribution, xx).any(-1)
    return dist.support.check(x)


def _torch_log_prob(dist: td.Distribution, dim: int, hints: Any, batched: bool) -> Callable[[np.ndarray], np.ndarray]:
    """Log-density through ``dist.log_prob``, with ``-inf`` off the support ((n, B) for a batch)."""
    bounded = bool(np.any(np.isfinite(hints.lower)) or np.any(np.isfinite(hints.upper)))
    safe = torch.as_tensor(hints.centers[0] if dim == 2 else hints.centers[0, 0], dtype=_DTYPE)

    def log_prob(x: np.ndarray) -> np.ndarray:
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
        if batched:
            xt = xt.unsqueeze(1)
        with torch.no_grad():
            if bounded:
                inside = _support_check(dist, xt)
                if not bool(inside.all()):
                    xs = torch.where(inside.unsqueeze(-1) if dim == 2 else inside, xt, safe)
                    return torch.where(inside, dist.log_prob(xs).to(_DTYPE), -math.inf).numpy()
            return dist.log_prob(xt).to(_DTYPE).numpy()

    return log_prob
