"""Build float64 torch distributions from the JSON specs used by tests/references/*.json."""

from __future__ import annotations

import math

import torch
import torch.distributions as td

import gan_theory as gt

F = torch.float64


def _t(x):
    return torch.as_tensor(x, dtype=F)


def build(spec: dict) -> td.Distribution:
    """The torch distribution described by a reference spec (see tests/references/README.md)."""
    f = spec["family"]
    if f == "normal":
        return td.Normal(_t(spec["loc"]), _t(spec["scale"]))
    if f == "laplace":
        return td.Laplace(_t(spec["loc"]), _t(spec["scale"]))
    if f == "student_t":
        return td.StudentT(_t(spec["df"]), _t(spec["loc"]), _t(spec["scale"]))
    if f == "cauchy":
        return td.Cauchy(_t(spec["loc"]), _t(spec["scale"]))
    if f == "gamma":
        return td.Gamma(_t(spec["concentration"]), _t(spec["rate"]))
    if f == "exponential":
        return td.Exponential(_t(spec["rate"]))
    if f == "beta":
        return td.Beta(_t(spec["concentration1"]), _t(spec["concentration0"]))
    if f == "uniform":
        return td.Uniform(_t(spec["low"]), _t(spec["high"]))
    if f == "mixture":
        comps = spec["components"]
        if {c["family"] for c in comps} != {"normal"}:
            raise ValueError(f"only Gaussian mixtures are used in the references, got {comps}")
        return td.MixtureSameFamily(td.Categorical(probs=_t(spec["weights"])),
                                    td.Normal(_t([c["loc"] for c in comps]), _t([c["scale"] for c in comps])))
    if f == "ring":
        return gt.toys.ring(spec["k"], spec["radius"], spec["std"], spec.get("phase", 0.0))
    if f == "grid":
        return gt.toys.grid(spec["n"], spec["spacing"], spec["std"])
    if f == "mvn":
        return td.MultivariateNormal(_t(spec["loc"]), covariance_matrix=_t(spec["covariance"]))
    if f == "uniform_square":
        return gt.toys.uniform_square(spec["low"], spec["high"])
    raise ValueError(f"unknown family {f!r}")


def number(s: str) -> float:
    """A reference value from its decimal string ('inf' for infinite)."""
    return math.inf if s == "inf" else float(s)
