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


@pytest.mark.parametrize("dist", [gt.toys.mixture2(), gt.toys.ring(8, std=0.1),
                                  td.Gamma(torch.tensor(2.0, dtype=F64), torch.tensor(1.5, dtype=F64)),
                                  td.Cauchy(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))],
                         ids=["mixture", "ring", "generic", "inverse_cdf"])
def test_no_generators_or_no_samples_give_empty_rows(dist):
    """Every route (table mixture, 2-D mixture, generic, inverse CDF): G = 0 or n = 0 gives an empty
    (G, n[, 2]) tensor, not an error from torch."""
    p = as_density(dist)
    event = () if p.dim == 1 else (2,)
    assert batch_sampler(p)(5, []).shape == (0, 5, *event)
    assert batch_sampler(p)(0, _gens(3)).shape == (3, 0, *event)
    assert standard_draws("uniform", (4,), []).shape == (0, 4)


def test_one_generator_instead_of_a_list_is_refused():
    p = as_density(gt.toys.mixture2())
    with pytest.raises(TypeError, match="generators: expected a sequence"):
        batch_sampler(p)(3, torch.Generator())
    with pytest.raises(TypeError, match="generators: expected a sequence"):
        standard_draws("normal", (3,), torch.Generator())
    with pytest.raises(TypeError, match="shape: expected a tuple"):
        standard_draws("normal", 3, _gens(1))


def test_a_family_sampler_with_the_old_signature_gets_a_clear_error():
    """A family registered with a sampler written for (idx, generator) (before issue 12) fails with a
    message naming Family.sampler and the signature, not deep inside torch."""
    import dataclasses

    from gan_theory.densities import table

    class MyNormal(td.Normal):
        pass

    def old_style(loc, scale):
        return lambda idx, g: torch.randn(loc[idx].shape, generator=g, dtype=F64) * scale[idx] + loc[idx]

    base = table.FAMILIES[td.Normal]
    entry = dataclasses.replace(base, type=MyNormal, sampler=old_style, examples=None)
    table.FAMILIES[MyNormal] = entry
    try:
        d = td.MixtureSameFamily(td.Categorical(torch.tensor([0.5, 0.5], dtype=F64)),
                                 MyNormal(torch.tensor([-1.0, 1.0], dtype=F64), torch.tensor([0.5, 0.5], dtype=F64)))
        with pytest.raises(TypeError, match=r"Family.sampler of MyNormal: expected a function \(idx of shape"):
            batch_sampler(as_density(d))(4, _gens(2))
    finally:
        del table.FAMILIES[MyNormal]


def test_laplace_and_mvn_rows_are_their_formulas_on_the_generators_draws():
    """Laplace: loc - scale sign(u) log1p(-|u|) with u = 2 rand - 1; a 2-D Gaussian mixture with a
    full scale_tril: loc[k] + L[k] z. Written out here on the same generators (component by
    multinomial first); float64, the Laplace to the last bit, the Gaussian to 1e-15 (the 2 x 2
    product may fuse a multiply-add)."""
    f = torch.tensor
    w = f([0.4, 0.6], dtype=F64)
    loc, scale = f([-1.0, 2.0], dtype=F64), f([0.5, 0.25], dtype=F64)
    lap = td.MixtureSameFamily(td.Categorical(w), td.Laplace(loc, scale))
    rows = batch_sampler(as_density(lap))(40, _gens(3))
    for row, g in zip(rows, _gens(3)):
        k = torch.multinomial(w, 40, replacement=True, generator=g)
        u = torch.rand(40, generator=g, dtype=F64) * 2 - 1
        assert torch.equal(row, loc[k] - scale[k] * torch.sign(u) * torch.log1p(-u.abs()))
    mu = f([[0.0, 1.0], [2.0, -1.0]], dtype=F64)
    tril = f([[[1.0, 0.0], [0.5, 0.7]], [[0.3, 0.0], [-0.2, 0.9]]], dtype=F64)
    mvn = td.MixtureSameFamily(td.Categorical(w), td.MultivariateNormal(mu, scale_tril=tril))
    rows = batch_sampler(as_density(mvn))(40, _gens(3))
    for row, g in zip(rows, _gens(3)):
        k = torch.multinomial(w, 40, replacement=True, generator=g)
        z = torch.randn(40, 2, generator=g, dtype=F64)
        expected = torch.stack([mu[k, 0] + tril[k, 0, 0] * z[:, 0],
                                mu[k, 1] + (tril[k, 1, 0] * z[:, 0] + tril[k, 1, 1] * z[:, 1])], -1)
        assert torch.allclose(row, expected, rtol=1e-15, atol=1e-15)
