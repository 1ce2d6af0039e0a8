"""Densities: what gan-theory accepts wherever a density is expected, and how it reads them.

Accepted inputs
---------------
* any ``torch.distributions.Distribution`` with ``batch_shape == ()`` and ``event_shape`` equal
  to ``()`` (a density on R) or ``(2,)`` (a density on R^2), with a continuous support;
* any frozen 1-D continuous ``scipy.stats`` distribution (``scipy.stats.norm(0, 1)``);
* the name of a toy target from :mod:`gan_theory.toys` (``"ring"``).

The theory engine reads a density through :class:`Density`, a thin internal view that

* evaluates the log-density in float64 on NumPy arrays: NumPy formulas for the common
  families (:mod:`gan_theory.densities.fast`), otherwise ``log_prob`` of the distribution rebuilt
  with float64 parameters; points outside the support get ``-inf``, not NaN or an error;
* knows where the mass is (:class:`~gan_theory.densities.Hints`): the support box, the centres
  and scales of the modes, the points where the density is not smooth. The quadrature uses
  them to place its initial cells, so narrow modes are never stepped over.

A distribution class of your own can describe where its mass lies, for any dimension, with a
method ``quadrature_hints()`` returning :class:`Hints` (the trainer's flow generators do); for
families with ``event_shape ()`` a function registered with :func:`register_hints` does the same.

Everything a user passes is validated here, with errors that name the argument.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.distributions as td

from ..constants import F64 as _DTYPE
from .fast import fast_view
from ..integrate import Landmarks
from .hints import IQR_PER_SD, Hints, family_hints, register_hints, to_landmarks, torch_hints
from .scipybridge import is_scipy_frozen, scipy_cdf_sf, scipy_loc_scale
from .torchconv import _torch_log_prob, check_parameters, parameters, sample_torch, to_float64
from ..results import AccuracyError

__all__ = ["Density", "DensityLike", "Hints", "as_density", "as_pair", "register_hints", "to_float64"]

_EPS64 = float(np.finfo(np.float64).eps)
_EPS32 = float(np.finfo(np.float32).eps)

DensityLike = Any  # torch Distribution, frozen scipy.stats distribution, toy name or Density


class Density:
    """A float64, NumPy-facing view of a density, with quadrature hints (internal).

    Use :func:`as_density` to make one.

    Attributes
    ----------
    source : object
        What the user passed.
    name : str
        The argument name used in error messages (``"p_data"``, ``"p_g"``, ...).
    dim : int
        1 or 2.
    hints : Hints
        Where the mass lies.
    eps : float
        Relative precision of :meth:`log_prob` (float64 epsilon, or float32 epsilon for a
        distribution that can only be evaluated in float32).
    normalised : bool
        Whether the density is known to integrate to 1 (a family with a fast path); otherwise
        the quadrature checks its mass.
    batch : int or None
        ``B`` for a batch of ``B`` densities (``log_prob`` then returns (n, B)); ``None`` for one.
    log_prob_at : callable or None
        For a 1-D batch of a family with a fast path: ``log_prob_at(x, member)`` is the
        log-density of element ``member[i]`` at ``x[i]``, so that each element can be
        integrated on cells of its own (see :func:`gan_theory.integrate.make_batch_domain`).
    """

    def __init__(self, source: Any, name: str, dim: int, hints: Hints, eps: float,
                 log_prob: Callable[[np.ndarray], np.ndarray], checked: bool, batch: int | None = None,
                 log_prob_at: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> None:
        self.log_prob_at = log_prob_at
        self.source = source
        self.name = name
        self.dim = dim
        self.batch = batch
        self.hints = hints
        self.eps = eps
        self._log_prob = log_prob
        self._checked = checked
        self.normalised = checked
        self._dist: td.Distribution | None = None
        #: Facts derived from the hints, made once and shared with :meth:`renamed` copies (keyed
        #: by the hints object they were made from).
        self.facts: dict[str, tuple] = {}

    @property
    def landmarks(self) -> Landmarks:
        """:attr:`hints` as the integrator's :class:`~gan_theory.integrate.Landmarks` (made once)."""
        hit = self.facts.get("landmarks")
        if hit is None or hit[0] is not self.hints:
            hit = self.facts["landmarks"] = (self.hints, to_landmarks(self.hints))
        return hit[1]

    @property
    def verify_mass(self) -> bool:
        """Whether a 2-D integral should integrate this density's mass even though it is known
        to be normalised: a Gaussian ridge thin across a direction at an angle to the axes
        (:func:`gan_theory.densities.oblique`), which a product of per-axis cells can miss."""
        hit = self.facts.get("verify_mass")
        if hit is None or hit[0] is not self.hints:
            from .recentre import oblique

            hit = self.facts["verify_mass"] = (self.hints, bool(self.dim == 2 and oblique(self)))
        return hit[1]

    @property
    def dist(self) -> td.Distribution | None:
        """The float64 torch distribution (``None`` for scipy.stats sources)."""
        if self._dist is None and isinstance(self.source, td.Distribution):
            try:
                self._dist = to_float64(self.source)
            except TypeError:
                self._dist = self.source
        return self._dist

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Log-density at ``x`` (shape (n,) in 1-D, (n, 2) in 2-D); ``-inf`` off the support.

        Raises
        ------
        ValueError
            If the density returns NaN or ``+inf`` (not a density).
        """
        lp = self._log_prob(x)
        if not self._checked:
            if np.isnan(lp).any():
                i = int(np.flatnonzero(np.isnan(lp))[0])
                raise ValueError(f"{self.name}: log_prob returned NaN at x = {x[i]}; a density must have a "
                                 f"log-density that is a number or -inf (off its support)")
            if (lp == np.inf).any():
                i = int(np.flatnonzero(lp == np.inf)[0])
                raise AccuracyError(f"{self.name}: the density is infinite at x = {x[i]} (a singularity at "
                                    f"the edge of its support that double precision cannot resolve there); the "
                                    f"requested accuracy cannot be met")
        return lp

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` float64 samples, shape (n,) or (n, 2), drawn reproducibly with ``generator``."""
        if self.batch is not None:
            raise ValueError(f"{self.name}: sampling a batch of densities is not supported; pass one density")
        if is_scipy_frozen(self.source):
            seed = int(torch.randint(0, 2**62, (1,), generator=generator).item())
            x = self.source.rvs(size=n, random_state=np.random.default_rng(seed))
            return torch.as_tensor(np.asarray(x, dtype=np.float64))
        out = sample_torch(self.dist, n, generator).to(_DTYPE)
        return out.reshape((n,) if self.dim == 1 else (n, 2))

    def cdf_sf(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """CDF and survival function at 1-D points, each accurate in its own tail."""
        if is_scipy_frozen(self.source):
            return (np.asarray(self.source.cdf(x), dtype=np.float64),
                    np.asarray(self.source.sf(x), dtype=np.float64))
        fn = scipy_cdf_sf(self.dist) if self.dim == 1 else None
        if fn is not None and self.batch is not None:
            cdf_sf = fn
            fn = lambda y: cdf_sf(y[:, None])  # noqa: E731 (broadcast over the batch)
        if fn is None:
            raise ValueError(f"{self.name}: no cumulative distribution function is known for "
                             f"{type(self.source).__name__}; pass a scipy.stats distribution or a torch "
                             f"family with a scipy equivalent (Normal, Laplace, StudentT, Gamma, Beta, ...)")
        return fn(x)

    def renamed(self, name: str) -> Density:
        """The same density with another argument name for error messages."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.name = name
        return new

    def __repr__(self) -> str:
        return f"Density({self.name}={self.source!r}, dim={self.dim})"


#: The views of distributions with a fast path (the family table's NumPy log-densities), made
#: once per distribution object: the checks and the reading of the parameters are not repeated
#: on every call. A cache, not state: an entry lives as long as its distribution, and is used
#: only while every tensor the distribution holds is the same object at the same version
#: (:func:`_signature`: an in-place change or a reassigned parameter makes a new view).
_FAST_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _signature(dist: td.Distribution) -> list:
    """The identity and version counter of every tensor held by ``dist`` and by the
    distributions nested in it (a mixture's components and weights, an Independent's base),
    flattened into one list."""
    out = []
    stack = [dist]
    tensor, parameter, distribution = torch.Tensor, torch.nn.Parameter, td.Distribution
    while stack:
        for v in stack.pop().__dict__.values():
            t = type(v)
            if t is tensor or t is parameter or (t is not torch.Size and isinstance(v, tensor)):
                out.append(id(v))
                out.append(v._version)
            elif t is not torch.Size and isinstance(v, distribution):
                stack.append(v)
    return out


def _scipy_density(obj: Any, name: str) -> Density:
    from scipy import stats

    if not isinstance(obj.dist, stats.rv_continuous):
        raise TypeError(f"{name}: expected a continuous scipy.stats distribution, got the discrete "
                        f"{obj.dist.name}")
    for v in list(obj.args) + list(obj.kwds.values()):
        arr = np.asarray(v, dtype=np.float64)
        if arr.shape != ():
            raise ValueError(f"{name}: expected a single scipy.stats distribution with scalar "
                             f"parameters, got a parameter of shape {arr.shape}")
        if not np.isfinite(arr):
            raise ValueError(f"{name}: parameters of scipy.stats.{obj.dist.name} must be finite, found {float(arr)}")
    lo, hi = obj.support()
    # Every continuous scipy.stats distribution is a location-scale family: its quartiles are
    # loc + scale * (those of the standard form). Taken from the standard form, the spread is
    # right even where loc + scale * q rounds onto one float (loc = 1e20, scale = 1).
    shapes, loc, scale = scipy_loc_scale(obj)
    q = np.asarray(obj.dist(*shapes).ppf([0.25, 0.5, 0.75]), dtype=np.float64)
    if not (lo < hi) or not np.all(np.isfinite(q)) or not q[2] > q[0]:
        raise ValueError(f"{name}: scipy.stats.{obj.dist.name} has invalid parameters {obj.args} {obj.kwds}")
    centre = float(loc + scale * q[1])
    spread = float(scale * ((q[2] - q[0]) / IQR_PER_SD))
    if not spread > 0:
        raise ValueError(f"{name}: scipy.stats.{obj.dist.name} with scale {scale!r} has a spread that underflows "
                         f"float64 ({scale!r} * {(q[2] - q[0]) / IQR_PER_SD!r})")
    breaks = np.unique(np.array([b for b in (lo, hi) if np.isfinite(b)] + [centre], dtype=np.float64))
    hints = Hints(np.array([lo], dtype=np.float64), np.array([hi], dtype=np.float64),
                  np.array([[centre]]), np.array([[spread]]), (breaks,))

    def log_prob(x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(obj.logpdf(x), dtype=np.float64)

    return Density(obj, name, 1, hints, _EPS64, log_prob, checked=False)


def family_hints_known(dist: td.Distribution) -> bool:
    """Whether the hint registry knows the (event_shape ()) family of ``dist``."""
    return family_hints(dist) is not None


def _param_dtype(dist: td.Distribution) -> torch.dtype:
    for v in parameters(dist).values():
        if v.is_floating_point():
            return v.dtype
    return torch.get_default_dtype()


def as_density(obj: DensityLike, name: str = "p", *, batch: bool = False) -> Density:
    """Validate ``obj`` and return the :class:`Density` view the engine computes with.

    Parameters
    ----------
    obj : torch.distributions.Distribution, frozen scipy.stats distribution, str or Density
        The density. A string is looked up in :mod:`gan_theory.toys` with default parameters.
    name : str
        The argument name to use in error messages (``"p_data"``, ``"p_g"``, ...).
    batch : bool
        Whether a batch of densities (a torch distribution with ``batch_shape (B,)``) is
        accepted, for the functions that compute one result per element of a batch.

    Raises
    ------
    TypeError
        If ``obj`` is not a density (not a distribution, or a discrete one).
    ValueError
        If the event shape is not ``()`` or ``(2,)``, the batch shape is not ``()``, or a
        parameter is NaN, infinite or outside its constraint.
    """
    cached = _FAST_CACHE.get(obj) if isinstance(obj, td.Distribution) else None
    if cached is not None and (batch or cached[1].batch is None) and cached[0] == _signature(obj):
        # validated before, unchanged since (the fast path's view, made once per object)
        return cached[1] if cached[1].name == name else cached[1].renamed(name)
    if isinstance(obj, Density):
        if obj.batch is not None and not batch:
            raise ValueError(f"{name}: expected a single density, got a batch of {obj.batch}")
        return obj if obj.name == name else obj.renamed(name)
    if isinstance(obj, str):
        from .. import toys

        return as_density(toys.make(obj), name)
    if is_scipy_frozen(obj):
        return _scipy_density(obj, name)
    if hasattr(obj, "logpdf") and hasattr(obj, "rvs"):
        raise TypeError(f"{name}: multivariate scipy.stats distributions are not supported; use a "
                        f"torch.distributions object (e.g. MultivariateNormal) for a 2-D density")
    if not isinstance(obj, td.Distribution):
        raise TypeError(f"{name}: expected a density (a torch.distributions.Distribution with event_shape "
                        f"() or (2,), a frozen 1-D scipy.stats distribution, or a toy name), "
                        f"got {type(obj).__name__}")
    try:
        support = obj.support
    except NotImplementedError:
        raise TypeError(f"{name}: {type(obj).__name__} does not define `support`; give the class a "
                        f"`support` attribute (e.g. torch.distributions.constraints.real) so that it can "
                        f"be told from a discrete distribution") from None
    if getattr(support, "is_discrete", False):
        raise TypeError(f"{name}: {type(obj).__name__} is a discrete distribution; a density with a "
                        f"continuous support is needed")
    if tuple(obj.event_shape) not in ((), (2,)):
        raise ValueError(f"{name}: expected event_shape () for a 1-D density or (2,) for a 2-D density, "
                         f"got event_shape {tuple(obj.event_shape)}")
    batch_shape = tuple(obj.batch_shape)
    if batch_shape != () and not (batch and len(batch_shape) == 1):
        expected = "a single density (batch_shape ()) or a batch of shape (B,)" if batch else \
            "a single density (batch_shape ())"
        raise ValueError(f"{name}: expected {expected}, got batch_shape {batch_shape}")
    size = batch_shape[0] if batch_shape else None
    dim = 1 if tuple(obj.event_shape) == () else 2
    fast = fast_view(obj, name)
    if fast is not None:
        density = Density(obj, name, dim, fast.hints, _EPS64, fast.log_prob, checked=True, batch=size,
                          log_prob_at=fast.log_prob_at)
        try:
            _FAST_CACHE[obj] = (_signature(obj), density)
        except TypeError:  # not weakly referenceable: no cache
            pass
        return density
    check_parameters(obj, name)
    if size is not None and not (isinstance(obj, td.MixtureSameFamily) or family_hints_known(obj)):
        raise ValueError(f"{name}: batches of {type(obj).__name__} are not supported; pass its elements one by one")
    density = Density(obj, name, dim, None, _EPS64, None, checked=False, batch=size)  # hints, log_prob below
    if callable(getattr(obj, "quadrature_hints", None)):
        hints = obj.quadrature_hints()
        if not isinstance(hints, Hints) or hints.dim != dim:
            raise TypeError(f"{name}: quadrature_hints() must return a gan_theory.densities.Hints of dimension {dim}")
    else:
        try:
            hints = torch_hints(obj, dim, lambda n: density.sample(n, torch.Generator().manual_seed(0)))
        except NotImplementedError:
            raise TypeError(f"{name}: cannot tell where the mass of {type(obj).__name__} lies: it has no "
                            f"registered hints and cannot be sampled (no `sample`/`rsample`). Provide one of: "
                            f"a method `quadrature_hints()` returning gan_theory.densities.Hints, hints "
                            f"registered with gt.register_hints({type(obj).__name__}), or a `sample` "
                            f"method") from None
    if not np.all(np.isfinite(hints.centers)) or not np.all(hints.scales > 0):
        raise ValueError(f"{name}: could not locate the mass of {type(obj).__name__} "
                         f"(centres {hints.centers.tolist()}, scales {hints.scales.tolist()})")
    density.hints = hints
    dist = density.dist
    probe = torch.as_tensor(hints.centers[0, 0] if dim == 1 else hints.centers[0], dtype=_DTYPE)
    if size is not None:
        probe = probe.unsqueeze(0)
    with torch.no_grad():
        lp_new = dist.log_prob(probe)
        lp_old = obj.log_prob(probe.to(_param_dtype(obj)))
    if lp_new.dtype != _DTYPE:
        density.eps = _EPS32
        warnings.warn(f"{name}: {type(obj).__name__} evaluates its log-density in {lp_new.dtype}, so "
                      f"results are limited to about {_EPS32:.0e} relative accuracy", stacklevel=3)
    elif dist is not obj and not torch.allclose(lp_new, lp_old.to(_DTYPE), rtol=1e-4, atol=1e-4):
        raise TypeError(f"{name}: rebuilding {type(obj).__name__} in float64 changed its log-density "
                        f"({lp_old.tolist()} -> {lp_new.tolist()}); this type is not supported")
    density._log_prob = _torch_log_prob(dist, dim, hints, size is not None)
    return density


def as_pair(p: DensityLike, q: DensityLike, names: tuple[str, str] = ("p", "q"), *,
            batch: bool = False) -> tuple[Density, Density]:
    """Validate two densities and check that they live in the same dimension (and, for batches,
    that the batch sizes match or one of them is a single density)."""
    dp, dq = as_density(p, names[0], batch=batch), as_density(q, names[1], batch=batch)
    if dp.dim != dq.dim:
        raise ValueError(f"{names[0]} and {names[1]}: densities must have the same dimension; "
                         f"{names[0]} is {dp.dim}-D, {names[1]} is {dq.dim}-D")
    if dp.batch is not None and dq.batch is not None and dp.batch != dq.batch:
        raise ValueError(f"{names[0]} and {names[1]}: batches must have the same size; got {dp.batch} and {dq.batch}")
    return dp, dq


def batch_size(*densities: Density) -> int | None:
    """The common batch size of densities (``None`` if none is a batch)."""
    sizes = {d.batch for d in densities if d.batch is not None}
    return sizes.pop() if sizes else None
