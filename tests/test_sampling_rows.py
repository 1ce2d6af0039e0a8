"""Sampling one row per generator (issue 12): gan_theory.densities.draws and batch_sampler.

The trainer draws each member's data and noise from the member's own torch.Generator, all
members at once (``batch_sampler``, ``standard_draws``). Expected values: torch.randn and
torch.rand on the same generator (an independent route to the same numbers), the one-generator
sampler (the row drawn alone), and the location-scale formulas written out here.
"""

from __future__ import annotations

import pytest
import torch
import torch.distributions as td

import gan_theory as gt
from gan_theory.densities import FAMILIES, as_density, batch_sampler, sampler, standard_draws

F64 = torch.float64


def _gens(n, seed=7):
    return [torch.Generator().manual_seed(seed + i) for i in range(n)]


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("shape", [(1,), (7,), (16,), (100,), (256, 1), (37, 2)])
def test_standard_draws_rows_are_randn_and_rand_of_their_generator(dtype, shape):
    """Row i of standard_draws equals torch.randn / torch.rand from a generator in the same state
    bit for bit (sizes below and above 16, where torch's normal switches to its vectorised
    path), and leaves the generator in the same state."""
    for kind, ref_fn in (("normal", torch.randn), ("uniform", torch.rand)):
        gens, ref_gens = _gens(3), _gens(3)
        rows = standard_draws(kind, shape, gens, dtype)
        assert rows.shape == (3, *shape) and rows.dtype == dtype
        for row, g, rg in zip(rows, gens, ref_gens):
            assert torch.equal(row, ref_fn(*shape, generator=rg, dtype=dtype))
            assert torch.equal(g.get_state(), rg.get_state())


def test_standard_draws_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="kind: expected 'normal' or 'uniform', got 'gamma'"):
        standard_draws("gamma", (3,), _gens(1))


def _targets():
    """Every example of the family table (table samplers, inverse CDF, generic route) and
    mixtures of the table's families in 1-D and 2-D."""
    out = []
    for fam in FAMILIES.values():
        for d in (fam.examples() if fam.examples else []):
            if not d.batch_shape:
                out.append(pytest.param(d, id=f"{fam.type.__name__}"))
    f = torch.tensor
    mix = td.Categorical(f([0.2, 0.5, 0.3], dtype=F64))
    out += [
        pytest.param(gt.toys.mixture2(), id="mixture2"),
        pytest.param(gt.toys.ring(8, std=0.1), id="ring8"),
        pytest.param(gt.toys.grid(std=0.1), id="grid"),
        pytest.param(td.MixtureSameFamily(mix, td.Laplace(f([-1.0, 0.0, 2.0], dtype=F64), f([0.3, 1.0, 0.5], dtype=F64))),
                     id="laplace_mixture"),
        pytest.param(td.MixtureSameFamily(mix, td.Uniform(f([-1.0, 0.0, 2.0], dtype=F64), f([0.0, 0.5, 4.0], dtype=F64))),
                     id="uniform_mixture"),
        pytest.param(td.MixtureSameFamily(mix, td.MultivariateNormal(
            f([[0.0, 0.0], [1.0, -1.0], [-2.0, 0.5]], dtype=F64),
            scale_tril=f([[[1.0, 0.0], [0.3, 0.5]]] * 3, dtype=F64))), id="mvn_mixture"),
    ]
    return out


@pytest.mark.parametrize("dist", _targets())
@pytest.mark.parametrize("n", [1, 5, 37, 100, 256, 1000])
def test_batch_sampler_rows_equal_the_row_drawn_alone(dist, n):
    """Row i of batch_sampler(p)(n, generators) equals sampler(p)(n, generators[i]) from a
    generator in the same state, bit for bit, and both leave the generators in the same state:
    a member's data do not depend on the ensemble it trains in."""
    p = as_density(dist)
    gens, alone = _gens(4), _gens(4)
    rows = batch_sampler(p)(n, gens)
    assert rows.shape[:2] == (4, n) and rows.dtype == F64
    for row, g, a in zip(rows, gens, alone):
        assert torch.equal(row, sampler(p)(n, a))
        assert torch.equal(g.get_state(), a.get_state())


def test_location_scale_rows_are_the_formula_on_the_generators_draws():
    """Normal and Uniform mixtures: row i is loc[k] + scale[k] * randn (resp. low[k] + (high[k] -
    low[k]) * rand), the component k drawn first by multinomial, written out here with torch's
    own functions on the same generators."""
    f = torch.tensor
    w = f([0.3, 0.7], dtype=F64)
    loc, scale = f([-1.0, 2.0], dtype=F64), f([0.5, 0.25], dtype=F64)
    normal = td.MixtureSameFamily(td.Categorical(w), td.Normal(loc, scale))
    uniform = td.MixtureSameFamily(td.Categorical(w), td.Uniform(loc, loc + scale))
    for dist, draw in ((normal, torch.randn), (uniform, torch.rand)):
        rows = batch_sampler(as_density(dist))(50, _gens(3))
        for row, g in zip(rows, _gens(3)):
            k = torch.multinomial(w, 50, replacement=True, generator=g)
            assert torch.equal(row, draw(50, generator=g, dtype=F64) * scale[k] + loc[k])


@pytest.mark.parametrize("call, err, match", [
    (lambda: standard_draws("normal", (-1,), _gens(1)), ValueError, "shape"),
    (lambda: standard_draws("normal", (2.5,), _gens(1)), TypeError, "shape"),
    (lambda: standard_draws("normal", (3,), [0]), TypeError, "generators: expected CPU torch.Generator"),
    (lambda: batch_sampler(as_density(gt.toys.mixture2()))(-3, _gens(2)), ValueError, "n"),
    (lambda: batch_sampler(as_density(gt.toys.mixture2()))(True, _gens(2)), TypeError, "n: expected an integer"),
])
def test_bad_input_is_refused_with_the_argument_named(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_no_generators_give_no_rows():
    assert batch_sampler(as_density(gt.toys.ring(8, std=0.1)))(5, []).shape[0] == 0
    assert standard_draws("uniform", (4,), []).shape == (0, 4)
