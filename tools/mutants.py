"""A catalogue of realistic mutants of gan-theory, and a runner that checks the tests catch them.

Each :class:`Mutant` is one small source edit that plants a bug someone could plausibly write
(a sign, a factor, a swapped label, a forgotten correction), together with the tests that must
fail because of it. The runner copies the repository's files (``git ls-files``: tracked, plus
untracked files git does not ignore) to a temporary directory, applies one mutant there, and
runs the mutant's tests with ``PYTHONPATH`` pointing at the copy and the same interpreter
(``sys.executable``). A mutant is *caught* when its tests fail, *survived* when they pass,
*stale* when its snippet is not found exactly once in its file (the code moved on: update the
entry). Before the mutants, the test selections are run on the unmutated copy (all in one run;
one by one if that fails): a mutant whose selection fails there is an *error* (a broken baseline
is not a catch).

Usage::

    python tools/mutants.py                 # the whole catalogue
    python tools/mutants.py --list          # the catalogue, without running it
    python tools/mutants.py --only T01,E03 -j 2 --json mutants.json --timeout 120

The exit status is 0 only when every selected mutant is caught; 1 when any survived, is stale
or ended in an error. A mutant whose tests run past its timeout counts as caught (a planted
infinite loop is a catch) but is shown as ``timeout`` so that a slow machine is noticed.

Selections are pytest arguments (node ids, files; ``-k EXPR`` is allowed) for ``kind="pytest"``,
or claim ids for ``kind="check"`` (``python -m gan_theory check --only G..``, caught when the
check exits non-zero).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["CATALOGUE", "Mutant", "Outcome", "apply", "main", "repo_files", "run_catalogue", "run_mutant"]


@dataclass(frozen=True)
class Mutant:
    """One planted bug.

    Attributes
    ----------
    id : str
        Short unique id: E.. engine, T.. trainer, C.. claims, L.. command line.
    description : str
        The realistic bug, in one line.
    file : str
        Path relative to the repository root.
    old, new : str
        ``old`` must occur exactly once in ``file``; it is replaced by ``new``.
    tests : tuple of str
        For ``kind="pytest"``: pytest arguments (node ids, ``-k`` expressions). For
        ``kind="check"``: claim ids for ``gan-theory check --only``.
    kind : str
        ``"pytest"`` or ``"check"``.
    timeout : float
        Seconds for one run of the selection (mutated or not).
    """

    id: str
    description: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]
    kind: str = "pytest"
    timeout: float = 600.0

    @property
    def area(self) -> str:
        return {"E": "engine", "T": "trainer", "C": "claims", "L": "cli"}[self.id[0]]

    def selection_key(self) -> tuple:
        return (self.kind, self.tests)


def _m(id: str, description: str, file: str, old: str, new: str, *tests: str, kind: str = "pytest",
       timeout: float = 600.0) -> Mutant:
    return Mutant(id, description, file, old, new, tuple(tests), kind, timeout)


_G = "gan_theory/"
_T = "gan_theory/training/"

# --------------------------------------------------------------------------------------------
# The catalogue. Snippets are kept to formulas, constants, signs and loops (code whose logic
# should not change), so that they stay valid as the code around them is edited.
# --------------------------------------------------------------------------------------------
CATALOGUE: tuple[Mutant, ...] = (
    # ---------------------------------------------------------------- engine: log-space helpers
    _m("E01", "g_jsd far form: the factor 2 of 2a e^{-2a}/(1 + e^{-2a}) dropped",
       _G + "logspace.py", "g = LOG2 - 2.0 * np.minimum(a, 400.0) * e", "g = LOG2 - np.minimum(a, 400.0) * e",
       "tests/test_logspace.py::test_g_jsd_relative_accuracy_against_mpmath"),
    _m("E02", "g_jsd switches to the far form (cancelling against log 2) already at a = 0.05",
       _G + "logspace.py", "near = a < 1.0", "near = a < 0.05",
       "tests/test_logspace.py::test_g_jsd_relative_accuracy_against_mpmath"),
    _m("E03", "phi_kl series truncated after the r^5 term",
       _G + "logspace.py", "for k in range(2, 20))", "for k in range(2, 6))",
       "tests/test_logspace.py::test_phi_kl_relative_accuracy_against_mpmath"),
    _m("E04", "phi_kl large-|r| branch computes phi(-r): e^{r} - 1 - r",
       _G + "logspace.py", "out[~small] = np.expm1(-rb) + rb", "out[~small] = np.expm1(rb) - rb",
       "tests/test_logspace.py::test_phi_kl_relative_accuracy_against_mpmath"),
    _m("E05", "log_sigmoid(z) computed as log(sigmoid(-z))",
       _G + "logspace.py", "return -np.logaddexp(0.0, -z)", "return -np.logaddexp(0.0, z)",
       "tests/test_logspace.py::test_log_sigmoid_is_stable"),
    _m("E06", "jsd_terms: log m = log(p + q), the 1/2 of the mixture forgotten",
       _G + "logspace.py", "lm = hi + l1 - LOG2  # log m", "lm = hi + l1  # log m",
       "tests/test_logspace.py::test_jsd_terms_match_definition"),
    _m("E07", "kl_terms, p << q branch: p (r - 1) + q written as p r (the p - q part dropped)",
       _G + "logspace.py", "value = np.where(low, p * (r - 1.0) + q,", "value = np.where(low, p * r,",
       "tests/test_mutant_gaps.py::test_kl_terms_where_p_is_much_smaller_than_q",
       "tests/test_divergences.py::test_gaussian_kl_closed_form_and_quadrature"),
    _m("E08", "criterion_terms: log(1 - D*) taken as log D* (log_sigmoid(r) for the q term)",
       _G + "logspace.py", "b = np.where(q_zero, 0.0, q * log_sigmoid(-r))", "b = np.where(q_zero, 0.0, q * log_sigmoid(r))",
       "tests/test_logspace.py::test_criterion_terms_match_definition"),
    _m("E09", "squared Hellinger integrand with expm1(-|r|) instead of expm1(-|r|/2)",
       _G + "logspace.py", "np.expm1(-0.5 * ar) ** 2", "np.expm1(-ar) ** 2",
       "tests/test_logspace.py::test_f_generators_at_one_and_integrands_match_q_f_of_ratio"),
    _m("E10", "total variation integrand without the 1/2 of |p - q|/2",
       _G + "logspace.py", "value = -0.5 * np.exp(lmax) * np.expm1(-ar)", "value = -np.exp(lmax) * np.expm1(-ar)",
       "tests/test_logspace.py::test_f_generators_at_one_and_integrands_match_q_f_of_ratio"),
    _m("E11", "Jensen-Shannon f-divergence returned as the JSD (it is 2 JSD)",
       _G + "logspace.py", "return 2.0 * value, 2.0 * noise", "return value, noise",
       "tests/test_logspace.py::test_f_generators_at_one_and_integrands_match_q_f_of_ratio"),
    # ---------------------------------------------------------------- engine: quadrature
    _m("E12", "cell error estimate compares the Kronrod sum with itself instead of the Gauss sum",
       _G + "integrate/evaluate.py", "err = np.abs(kron - sums[:, :k, 1])", "err = np.abs(kron - sums[:, :k, 0])",
       "tests/test_quadrature.py::test_error_bound_holds"),
    _m("E13", "kink detection looks at the rule's nodes only: a kink between an end and a node is missed",
       _G + "integrate/evaluate.py", "kinked = np.any((s.max(axis=1) > 0) & (s.min(axis=1) < 0), axis=1)",
       "kinked = np.any((s[:, 1:-1].max(axis=1) > 0) & (s[:, 1:-1].min(axis=1) < 0), axis=1)",
       "tests/test_quadrature.py::test_kink_between_the_last_node_and_the_end_of_a_cell",
       "tests/test_quadrature.py::test_total_variation_with_a_crossing_next_to_a_cell_end"),
    _m("E14", "Jacobian of the whole-line map x = c + s t/(1 - t^2) written with (1 - t^2)",
       _G + "integrate/axes.py", "return x, (2.0 - w) * d * sd", "return x, w * d * sd",
       "tests/test_quadrature.py::test_error_bound_holds"),
    _m("E15", "one digit of a 21-point Gauss-Kronrod weight mistyped",
       _G + "integrate/kronrod_tables.py", "GK21_KRONROD_WEIGHTS = (\n    1.1694638867371874278e-2,",
       "GK21_KRONROD_WEIGHTS = (\n    1.1694683867371874278e-2,",
       "tests/test_rules.py::test_kronrod_rule_exact_to_degree_3n_plus_1"),
    _m("E17", "location-scale hints give the variance as the scale (scale ** 2 for the standard deviation)",
       _G + "densities/families.py", "def _location_scale(loc, scale):\n    return loc, scale, None",
       "def _location_scale(loc, scale):\n    return loc, scale ** 2, None",
       "tests/test_mutant_gaps.py::test_hints_give_the_standard_deviation_and_the_cusps"),
    # ---------------------------------------------------------------- engine: closed forms
    _m("E18", "Gaussian KL closed form: the mean difference scaled by sigma_p instead of sigma_q",
       _G + "closed_forms/gaussian.py", "phi = phi_kl(-2.0 * s)\n        t = (dmu / sq) ** 2", "phi = phi_kl(-2.0 * s)\n        t = (dmu / sp) ** 2",
       "tests/test_divergences.py::test_gaussian_kl_closed_form_and_quadrature"),
    _m("E19", "MVN KL: the Mahalanobis term not halved",
       _G + "closed_forms/gaussian.py", "v = 0.5 * (trace + maha)", "v = 0.5 * trace + maha",
       "tests/test_divergences.py::test_mvn_kl_closed_form_and_quadrature"),
    _m("E20", "W1 of Gaussians: a (1 - 2 Phi(-a/b)) written a (1 - Phi(-a/b))",
       _G + "closed_forms/gaussian.py", "folded = a * (1.0 - 2.0 * ndtr(-z))", "folded = a * (1.0 - ndtr(-z))",
       "tests/test_divergences.py::test_wasserstein1_closed_form_and_quadrature"),
    # ---------------------------------------------------------------- engine: D*, V, divergences
    _m("E21", "D* = beta + (alpha - beta) sigmoid(log p_g - log p_data): densities swapped",
       _G + "discriminator.py", "return b + (a - b) * expit(r)", "return b + (a - b) * expit(-r)",
       "tests/test_discriminator.py::test_d_star_is_the_label_weighted_ratio"),
    _m("E22", "D* where both densities vanish: the 0/0 convention forgotten (NaN)",
       _G + "discriminator.py", "r = np.where(both, 0.0, lp - lq)\n        a, b = self.real_label",
       "r = lp - lq\n        a, b = self.real_label",
       "tests/test_discriminator.py::test_where_both_densities_vanish_d_star_is_the_label_midpoint"),
    _m("E23", "the logits of D* (default labels) are log p_g - log p_data",
       _G + "discriminator.py", "return np.where(both, 0.0, lp - lq)", "return np.where(both, 0.0, lq - lp)",
       "tests/test_value.py::test_value_of_d_star_is_the_criterion"),
    _m("E24", "value_function through logits: log D and log(1 - D) swapped",
       _G + "value.py", "log_d, log_1md = log_sigmoid(v), log_sigmoid(-v)", "log_d, log_1md = log_sigmoid(-v), log_sigmoid(v)",
       "tests/test_value.py::test_value_of_d_star_is_the_criterion"),
    _m("E25", "value_function with probabilities: log(1 - D) computed as log1p(D)",
       _G + "value.py", "log_d, log_1md = np.log(v), np.log1p(-v)", "log_d, log_1md = np.log(v), np.log1p(v)",
       "tests/test_value.py::test_constant_discriminator"),
    _m("E26", "a result in another base multiplied by log(base) instead of divided",
       _G + "divergences.py", "return IntegralResult(result.value / c,", "return IntegralResult(result.value * c,",
       "tests/test_divergences.py::test_gaussian_kl_closed_form_and_quadrature"),
    _m("E27", "W1 by quadrature integrates F_p - F_q instead of |F_p - F_q|",
       _G + "divergences.py", "return np.abs(diff)[:, None], noise[:, None], diff", "return diff[:, None], noise[:, None], diff",
       "tests/test_divergences.py::test_wasserstein1_closed_form_and_quadrature"),
    # ---------------------------------------------------------------- engine: Monte Carlo
    _m("E28", "Monte Carlo standard error without the 1/n (the sample sd reported as the stderr)",
       _G + "montecarlo.py", "float(np.var(a, ddof=1)) / a.shape[0]", "float(np.var(a, ddof=1))",
       "tests/test_montecarlo.py::test_error_shrinks_like_one_over_sqrt_n"),
    _m("E29", "CLT interval with the one-sided quantile ndtri(confidence)",
       _G + "results.py", "ndtri(0.5 + self.confidence / 2.0)", "ndtri(self.confidence)",
       "tests/test_montecarlo.py::test_interval_and_z"),
    _m("E30", "Monte Carlo JSD: log(p/m) without the log 2",
       _G + "montecarlo.py", "return LOG2 + log_sigmoid(la - lb)", "return log_sigmoid(la - lb)",
       "tests/test_montecarlo.py::test_mc_agrees_with_quadrature"),
    _m("E34", "Laplace hints (the family table's) without the cusp as a break point",
       _G + "densities/families.py", "hints=lambda loc, scale: (loc, scale, np.asarray(loc)[..., None]),",
       "hints=lambda loc, scale: (loc, scale, None),",
       "tests/test_mutant_gaps.py::test_hints_give_the_standard_deviation_and_the_cusps"),
    _m("E35", "Monte Carlo KL with the log-ratio reversed (log q - log p)",
       _G + "montecarlo.py", "t = dp.log_prob(x) - dq.log_prob(x)", "t = dq.log_prob(x) - dp.log_prob(x)",
       "tests/test_montecarlo.py::test_mc_agrees_with_quadrature"),
    _m("E36", "Monte Carlo C(G): the p_g samples scored with log D* instead of log(1 - D*)",
       _G + "montecarlo.py", "b = log_sigmoid(dq.log_prob(xq) - dp.log_prob(xq))", "b = log_sigmoid(dp.log_prob(xq) - dq.log_prob(xq))",
       "tests/test_montecarlo.py::test_mc_agrees_with_quadrature"),
    _m("E37", "Monte Carlo V through logits: log(1 - D) on generated samples written log_sigmoid(l)",
       _G + "montecarlo.py", "a, b = log_sigmoid(vp), log_sigmoid(-vq)", "a, b = log_sigmoid(vp), log_sigmoid(vq)",
       "tests/test_montecarlo.py::test_value_function_from_samples_and_from_densities"),
    _m("E38", "user f-divergence where q = 0 < p: the slope of f at infinity replaced by 0",
       _G + "divergences.py", "value[zq] = np.exp(lp[zq]) * slope_at_infinity()", "value[zq] = 0.0",
       "tests/test_divergences.py::test_callable_f_where_q_vanishes_uses_the_slope_at_infinity"),
    _m("E39", "the integration stops on the quadrature error alone, ignoring the floating-point floor",
       _G + "integrate/refine.py", "done = ~finite | (quad_err + floor <= tol)", "done = ~finite | (quad_err <= tol)",
       "tests/test_quadrature.py", "tests/test_divergences.py::test_unreachable_accuracy_raises",
       "tests/test_divergences.py::test_error_bound_is_honest_across_tolerances"),
    _m("E40", "Laplace log-density normalised by 1/b instead of 1/(2b)",
       _G + "densities/families.py", "c = -np.log(2 * scale)", "c = -np.log(scale)",
       "tests/test_densities.py::test_fast_log_density_matches_torch"),
    _m("E41", "Student-t log-density without the pi of its normalising constant",
       _G + "densities/families.py", "- 0.5 * np.log(df * np.pi) - np.log(scale)", "- 0.5 * np.log(df) - np.log(scale)",
       "tests/test_densities.py::test_fast_log_density_matches_torch"),
    _m("E42", "Cauchy log-density with (x - loc)^2 / scale instead of ((x - loc) / scale)^2",
       _G + "densities/families.py", "c - np.log1p(((x - loc) / scale) ** 2)", "c - np.log1p((x - loc) ** 2 / scale)",
       "tests/test_densities.py::test_fast_log_density_matches_torch"),
    # ---------------------------------------------------------------- engine: issue 9 (hostile input)
    _m("E43", "re-centring a batch of mixtures: the per-element shift not given the component axis",
       _G + "densities/recentre.py", "comp = _shifted(d.component_distribution, c.unsqueeze(-1) if isinstance(c, torch.Tensor) else c)",
       "comp = _shifted(d.component_distribution, c)",
       "tests/test_hostile_engine.py::test_large_location_batches"),
    _m("E44", "re-centring on the widest mode instead of the narrowest (the narrow far mode stays unresolved)",
       _G + "densities/recentre.py", "c0 = float(c[np.argmin(s)])", "c0 = float(c[np.argmax(s)])",
       "tests/test_hostile_engine.py"),
    _m("E45", "graded cells beyond a mode's box: the left side's cells placed to the right of its edge",
       _G + "integrate/partition.py", "out.append(edge + d * e)", "out.append(edge + e)",
       "tests/test_hostile_engine.py::test_distant_kl_quadrature", "tests/test_hostile_engine.py::test_scale_ratios"),
    _m("E47", "unresolvable modes checked with the spacing at the signed centre (negative centres never refused)",
       _G + "integrate/partition.py", "MIN_ULPS_PER_SCALE * np.spacing(np.abs(centers))", "MIN_ULPS_PER_SCALE * np.spacing(centers)",
       "tests/test_hostile_engine.py::test_unresolvable_locations_raise",
       "tests/test_hostile_engine.py::test_unresolvable_negative_locations_raise"),
    _m("E48", "overflow path: every inf counted as truly infinite (an overflow looks like infinity again)",
       _G + "_overflow.py", "seen[\"inf\"] |= bool(np.any(np.isinf(v) & ~both))", "seen[\"inf\"] |= bool(np.any(np.isinf(v)))",
       "tests/test_hostile_inputs.py::test_pearson_overflow_is_an_error_with_the_log"),
    _m("E49", "overflow path: the log of the rescaled value without the shift added back",
       _G + "_overflow.py", "log_value = shift + math.log(res2.value) if res2.value > 0 else -math.inf",
       "log_value = math.log(res2.value) if res2.value > 0 else -math.inf",
       "tests/test_hostile_inputs.py::test_pearson_overflow_is_an_error_with_the_log"),
    _m("E50", "the logits flag accepts integers (logits=1 is read as True)",
       _G + "checks.py", "if not isinstance(value, (bool, np.bool_)):", "if not isinstance(value, (bool, np.bool_, int)):",
       "tests/test_hostile_inputs.py::test_logits_flag_must_be_a_bool"),
    _m("E51", "a d with a logits method is read through it only when logits=False (its probabilities read as logits)",
       _G + "value.py", "    if callable(getattr(d, \"logits\", None)):\n        d, logits = d.logits, True",
       "    if not logits and callable(getattr(d, \"logits\", None)):\n        d, logits = d.logits, True",
       "tests/test_hostile_inputs.py::test_logits_flag_does_not_misread_a_discriminator_with_logits"),
    _m("E52", "probabilities that round to 1 where p_g > 0 are not refused (V = -inf returned silently)",
       _G + "value.py", "if not (bad0.any() or bad1.any()):", "if not bad0.any():",
       "tests/test_hostile_inputs.py::test_value_function_probability_rounding_to_one_is_an_error"),
    # ---------------------------------------------------------------- engine: toys
    _m("E31", "ring angles 2 pi i/(k - 1), as linspace(0, 2 pi, k): the first and last modes coincide",
       _G + "toys.py", "torch.arange(k, dtype=_F64) / k", "torch.arange(k, dtype=_F64) / (k - 1)",
       "tests/test_toys.py::test_ring_modes"),
    _m("E32", "grid modes off-centre: (i - n/2) spacing instead of (i - (n - 1)/2) spacing",
       _G + "toys.py", "c = (torch.arange(n, dtype=_F64) - (n - 1) / 2) * spacing",
       "c = (torch.arange(n, dtype=_F64) - n / 2) * spacing",
       "tests/test_toys.py::test_grid_modes"),
    # ---------------------------------------------------------------- trainer
    _m("T01", "EnsembleAdam without its first-moment bias correction (issue 9)",
       _T + "optim.py", "torch._foreach_mul_(step, [_per_member(self.lr / bc1, p) for p in self.params])",
       "torch._foreach_mul_(step, [_per_member(self.lr, p) for p in self.params])",
       "tests/test_optim.py::test_ensemble_adam_equals_torch_adam_per_member"),
    _m("T02", "EnsembleAdam (some members stopped): no second-moment bias correction",
       _T + "optim.py", "denom = (v_new.sqrt() / _per_member(bc2.sqrt(), p)).add_(self.eps)",
       "denom = v_new.sqrt().add_(self.eps)",
       "tests/test_optim.py::test_ensemble_adam_equals_torch_adam_per_member"),
    _m("T03", "EnsembleAdam adds eps before the second-moment bias correction",
       _T + "optim.py", "torch._foreach_div_(denom, [_per_member(bc2.sqrt(), p) for p in self.params])\n"
                        "        torch._foreach_add_(denom, self.eps)",
       "torch._foreach_add_(denom, self.eps)\n"
       "        torch._foreach_div_(denom, [_per_member(bc2.sqrt(), p) for p in self.params])",
       "tests/test_optim.py::test_ensemble_adam_equals_torch_adam_per_member"),
    _m("T04", "EnsembleSGD momentum with dampening: buf = m buf + (1 - m) g",
       _T + "optim.py", "b_new = torch.where(first, g, buf * self.momentum + g)",
       "b_new = torch.where(first, g, buf * self.momentum + (1.0 - self.momentum) * g)",
       "tests/test_optim.py::test_ensemble_sgd_equals_torch_sgd_per_member"),
    _m("T05", "Adam's step count not restored from a checkpoint (bias corrections restart on resume)",
       _T + "optim.py", "self.step_count = state[\"step_count\"].clone().to(self.lr.device)",
       "self.step_count = torch.zeros_like(self.step_count)",
       "tests/test_training.py::test_checkpoint_and_resume_equal_an_uninterrupted_run"),
    _m("T06", "minimax generator loss with the wrong sign: +mean softplus(l), i.e. -log(1 - D)",
       _T + "losses.py", "return -softplus(fake_logits).mean(dim=-1)", "return softplus(fake_logits).mean(dim=-1)",
       "tests/test_mutant_gaps.py::test_minimax_generator_loss_is_minus_bce_with_target_zero",
       "tests/proofs/test_g5_saturation.py::test_g5_passes"),
    _m("T07", "BCE with the label swapped for real samples: softplus(l) where softplus(-l) is due",
       _T + "losses.py", "real = real_label * softplus(-real_logits) + (1.0 - real_label) * softplus(real_logits)",
       "real = real_label * softplus(real_logits) + (1.0 - real_label) * softplus(-real_logits)",
       "tests/proofs/test_g7_bce.py::test_g7_passes"),
    _m("T08", "minibatch V: the generated-sample term added instead of log(1 - D) (sign)",
       _T + "losses.py", "return -softplus(-real_logits).mean(dim=-1) - softplus(fake_logits).mean(dim=-1)",
       "return -softplus(-real_logits).mean(dim=-1) + softplus(fake_logits).mean(dim=-1)",
       "tests/proofs/test_g7_bce.py::test_g7_passes"),
    _m("T09", "softplus backward returns sigmoid(-x): every gradient through the losses is wrong",
       _T + "losses.py", "return grad * torch.sigmoid(x)", "return grad * torch.sigmoid(-x)",
       "tests/proofs/test_g5_saturation.py::test_g5_passes"),
    _m("T10", "the trainer always uses the minimax generator loss, whatever config.loss says",
       _T + "steps.py", "out = generator_loss(logits, loss, weight=w)", "out = generator_loss(logits, \"minimax\", weight=w)",
       "tests/proofs/test_g7_bce.py::test_g7_passes", "tests/proofs/test_g5_saturation.py::test_g5_passes"),
    _m("T11", "ensemble layer init with bound 1/fan_in instead of torch.nn.Linear's 1/sqrt(fan_in)",
       _T + "ensemble.py", "bound = 1.0 / math.sqrt(self.in_features)", "bound = 1.0 / self.in_features",
       "tests/test_mutant_gaps.py::test_ensemble_linear_init_is_torch_linear_init"),
    _m("T12", "every member seeded with config.seed: the ensemble is N copies of one run",
       _T + "validate.py", "return tuple(seed + i for i in range(n))", "return tuple(seed for i in range(n))",
       "tests/test_training.py::test_ensemble_member_equals_member_trained_alone_float32"),
    _m("T13", "data for a chunk drawn from the first chunk's generators (chunk offset forgotten)",
       _T + "trainer.py", "x = self.sample_batch(n, self.rngs[chunk.start:chunk.start + chunk.size])",
       "x = self.sample_batch(n, self.rngs[:chunk.size])",
       "tests/test_training.py::test_ensemble_member_equals_member_trained_alone_float64"),
    _m("T14", "non-finite guard checks only the loss, not the gradients",
       _T + "steps.py", "finite = torch.isfinite(sq) & torch.isfinite(loss.detach())",
       "finite = torch.isfinite(loss.detach())",
       "tests/test_mutant_gaps.py::test_a_non_finite_gradient_with_a_finite_loss_stops_the_member",
       "tests/test_training.py::test_non_finite_member_is_stopped_and_the_others_go_on"),
    _m("T15", "||D - D*||_m weighted by p + q instead of m = (p + q)/2 (issue 9)",
       _G + "discriminator.py", "m = 0.5 * np.exp(np.logaddexp(lp, lq))\n        diff = dd - ds",
       "m = np.exp(np.logaddexp(lp, lq))\n        diff = dd - ds",
       "tests/test_trainer_metrics.py::test_discriminator_error_against_mpmath"),
    _m("T16", "the grid generator's recorded JSD set to C + log 4 instead of (C + log 4)/2 (issue 9)",
       _T + "metrics.py", "\"jsd\": (criterion_value + LOG4) / 2,", "\"jsd\": criterion_value + LOG4,",
       "tests/test_trainer_metrics.py::test_grid_generator_records_jsd_and_criterion_of_its_density"),
    _m("T17", "the sup-error region shrunk from 99% to 50% of the mass (issue 9)",
       _G + "discriminator.py", "mass: float = 0.99,", "mass: float = 0.5,",
       "tests/test_trainer_metrics.py::test_discriminator_sup_error_is_over_the_central_99_percent"),
    _m("T18", "grid generator's functional gradient log(1 - D*) computed as log D*",
       _T + "grid.py", "g = F.logsigmoid(self.log_b() - self.log_a)", "g = F.logsigmoid(self.log_a - self.log_b())",
       "tests/test_training.py::test_grid_generator_decreases_the_criterion_monotonically_to_minus_log4"),
    _m("T19", "grid criterion: the generator's term uses log D* instead of log(1 - D*)",
       _T + "grid.py", "torch.exp(lb) * F.logsigmoid(lb - la)", "torch.exp(lb) * F.logsigmoid(la - lb)",
       "tests/test_training.py::test_grid_generator_decreases_the_criterion_monotonically_to_minus_log4"),
    _m("T20", "a member with a non-finite value is recorded as stopped but keeps training",
       _T + "steps.py", "active = active & out.finite\n", "active = active\n",
       "tests/test_training.py::test_non_finite_member_is_stopped_and_the_others_go_on"),
    _m("T21", "the exact D*'s logits in the trainer are log p_g - log p_data",
       _G + "logspace.py", "if a == 1.0 and b == 0.0:\n        return lp - lq", "if a == 1.0 and b == 0.0:\n        return lq - lp",
       "tests/proofs/test_g5_saturation.py::test_g5_passes"),
    _m("T22", "the learning-rate schedule is computed but never applied to the optimizers",
       _T + "trainer.py", "c.opt_g.lr = c.base_lr_g * factor", "c.opt_g.lr = c.base_lr_g",
       "tests/test_mutant_gaps.py::test_cosine_schedule_is_torch_cosine_annealing"),
    _m("T23", "cosine schedule over half a period: cos(pi t / (2 T))",
       _T + "config.py", "(1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * min(step, steps) / steps))",
       "(1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * min(step, steps) / (2 * steps)))",
       "tests/test_mutant_gaps.py::test_cosine_schedule_is_torch_cosine_annealing"),
    _m("T24", "one discriminator step per generator step, whatever d_steps says",
       _T + "trainer.py", "for _ in range(cfg.d_steps):", "for _ in range(1):",
       "tests/test_mutant_gaps.py::test_d_steps_discriminator_updates_per_generator_step"),
    _m("T25", "Adam built with its default betas instead of the configured ones",
       _T + "trainer.py", "return EnsembleAdam(params, lr, betas=self.config.betas)", "return EnsembleAdam(params, lr)",
       "tests/test_mutant_gaps.py::test_optimizers_take_their_settings_from_the_config"),
    _m("T26", "SGD built without the configured momentum",
       _T + "trainer.py", "return EnsembleSGD(params, lr, momentum=self.config.momentum)", "return EnsembleSGD(params, lr)",
       "tests/test_mutant_gaps.py::test_optimizers_take_their_settings_from_the_config"),
    # ---------------------------------------------------------------- trainer: issue 9 (run directories)
    _m("T27", "checkpoints loaded with weights_only=False (a crafted checkpoint runs code on resume)",
       _T + "rundir.py", "state = torch.load(io.BytesIO(data), map_location=\"cpu\", weights_only=True)",
       "state = torch.load(io.BytesIO(data), map_location=\"cpu\", weights_only=False)",
       "tests/test_runs.py::test_crafted_checkpoint_runs_nothing_on_resume"),
    _m("T28", "the checkpoint's format marker not checked (any dict from torch.load is taken as a checkpoint)",
       _T + "rundir.py", "if not isinstance(state, dict) or state.get(\"format\") != _CHECKPOINT_FORMAT:",
       "if not isinstance(state, dict):",
       "tests/test_runs.py::test_broken_checkpoint_gives_a_clear_error"),
    _m("T29", "a new run is refused only in a directory that holds a run's config.json (other files overwritten)",
       _T + "run.py", "if present and not overwrite:", "if CONFIG_FILE in present and not overwrite:",
       "tests/test_runs.py::test_new_run_into_a_non_empty_directory_is_refused"),
    _m("T30", "resume compares only the targets' dimension, not their fingerprints",
       _T + "resume.py", "if fp.get(\"log_prob_sha256\") != fp_mine[\"log_prob_sha256\"]:",
       "if fp.get(\"dim\") != fp_mine[\"dim\"]:",
       "tests/test_runs.py::test_resume_with_another_target_is_refused"),
    _m("T31", "resume parses the whole metrics file, torn last line and records after the checkpoint included",
       _T + "resume.py", "history = [json.loads(line) for line in kept.decode(\"utf-8\").splitlines()]",
       "history = [json.loads(line) for line in data.decode(\"utf-8\").splitlines()]",
       "tests/test_runs.py::test_torn_last_line_and_later_records_are_dropped_on_resume"),
    _m("T32", "metrics records keep NaN and inf (json.dumps writes NaN, which is not JSON)",
       _T + "rundir.py", "return float(v) if math.isfinite(v) else None", "return float(v)",
       "tests/test_runs.py::test_record_line_is_strict_json_with_null_for_non_finite",
       "tests/test_runs.py::test_metrics_of_a_diverging_member_are_strict_json"),
    _m("T33", "integer options accept numpy and torch bools (only Python's bool refused)",
       _G + "checks.py", "    if _is_bool(value):\n        raise TypeError(f\"{name}: expected an integer, got bool",
       "    if isinstance(value, bool):\n        raise TypeError(f\"{name}: expected an integer, got bool",
       "tests/test_config.py::test_bool_is_not_an_integer"),
    _m("T34", "real-valued options accept a bool as 0 or 1",
       _G + "checks.py", "if isinstance(value, bool) or not isinstance(value, (int, float)) and not _is_scalar_tensor(value):",
       "if not isinstance(value, (int, float)) and not _is_scalar_tensor(value):",
       "tests/test_config.py::test_bool_is_not_a_number"),
    # ---------------------------------------------------------------- claims
    _m("C01", "G7's tolerance dropped: only finiteness is required of the BCE identity",
       _G + "claims/g7_bce.py", "dev <= 1e-14 and finite,", "finite,",
       "tests/proofs/test_g7_bce.py::test_g7_fails_on_swapped_targets"),
    _m("C02", "an erratum passes when only its corrected statement holds (the stated one never checked)",
       _G + "claims/base.py", "return (not self.stated_route.passed) and self.corrected_route.passed",
       "return self.corrected_route.passed",
       "tests/test_mutant_gaps.py::test_an_erratum_needs_its_stated_form_to_fail"),
    _m("C03", "log 4 (gan_theory/constants.py, G2's optimum) mistyped as log 2",
       _G + "constants.py", "LOG4 = math.log(4.0)", "LOG4 = math.log(2.0)",
       "G2", kind="check"),
    _m("C04", "a claim route passes when its value is NaN",
       _G + "claims/base.py", "passed = bool(value <= tolerance) and not math.isnan(value)",
       "passed = not bool(value > tolerance)",
       "tests/test_mutant_gaps.py::test_a_route_with_a_nan_value_fails"),
    _m("C05", "a claim whose check crashed counts as passed when it produced no route",
       _G + "claims/base.py", "return self.error is None and all(r.passed for r in self.routes)",
       "return all(r.passed for r in self.routes)",
       "tests/test_mutant_gaps.py::test_a_claim_that_crashes_fails"),
    # ---------------------------------------------------------------- trainer: issue 10 (mixture, recipes, R1)
    _m("T40", "mixture generator: stratified weights w_k / B instead of w_k / count_k",
       _T + "mixture.py", "w = (self.weights() / counts)[:, comp]", "w = (self.weights() / comp.numel())[:, comp]",
       "tests/test_mixture.py::test_weighted_sample_strata_and_weights",
       "tests/test_mixture.py::test_weighted_sample_is_unbiased_for_a_polynomial"),
    _m("T41", "mixture generator: the weights detached in weighted_sample (the weight logits never learn)",
       _T + "mixture.py", "w = (self.weights() / counts)[:, comp]", "w = (self.weights().detach() / counts)[:, comp]",
       "tests/test_mixture.py::test_weighted_sample_gradients_reach_means_stds_and_weight_logits"),
    _m("T42", "recipes: generator='auto' picks the 1-D family in 2-D",
       _T + "config.py", "generator = AUTO[dim] if self.generator == \"auto\" else self.generator",
       "generator = AUTO[1] if self.generator == \"auto\" else self.generator",
       "tests/test_recipes.py::test_auto_picks_the_family_of_the_dimension"),
    _m("T43", "recipes: a field the user set is replaced by the recipe's value",
       _T + "config.py", "if name in names and getattr(self, name) is None:", "if name in names:",
       "tests/test_recipes.py::test_user_fields_are_kept_and_resolve_is_idempotent"),
    _m("T44", "R1: LeakyReLU's slope 0.2 taken as 0 in the explicit input gradient",
       _T + "ensemble.py", '"leaky_relu": _leaky_slope,', '"leaky_relu": lambda z: (z > 0).to(z.dtype),',
       "tests/test_steps.py::test_explicit_input_gradient_equals_autograd"),
    _m("T45", "R1: the penalty weighted gamma instead of gamma / 2",
       _T + "steps.py", "loss = loss + (0.5 * r1_gamma) * grad_x.square().sum(-1).mean(-1)",
       "loss = loss + r1_gamma * grad_x.square().sum(-1).mean(-1)",
       "tests/test_steps.py::test_r1_in_the_trainer_is_the_penalised_gradient"),
    _m("T46", "metrics: mode coverage's exact masses computed from a kernel estimate (p_g not exact)",
       _T + "metrics.py", "return coverage_metrics(modes, p_g if exact else None, samples)",
       "return coverage_metrics(modes, p_g, samples)",
       "tests/test_trainer_metrics.py::test_mode_coverage_without_an_exact_density_has_only_sample_metrics"),
    # ---------------------------------------------------------------- trainer: a network's kinks from its weights
    _m("T47", "kink_points: only the first hidden layer's kinks (the deeper layers' zeros never added)",
       _T + "members.py", "for depth in range(1, len(ws) - 1):", "for depth in range(1, 1):",
       "tests/test_kink_breaks.py::test_kink_points_are_every_sign_change_of_a_preactivation",
       "tests/test_kink_breaks.py::test_piecewise_logits_equal_the_forward_pass"),
    _m("T48", "kink_points: LeakyReLU's negative slope taken as 0.01 (torch's default) instead of the network's 0.2",
       _T + "members.py", "neg = LEAKY_SLOPE if net.activation == \"leaky_relu\" else 0.0",
       "neg = 0.01 if net.activation == \"leaky_relu\" else 0.0",
       "tests/test_kink_breaks.py::test_kink_points_are_every_sign_change_of_a_preactivation",
       "tests/test_kink_breaks.py::test_piecewise_logits_equal_the_forward_pass"),
    _m("T50", "traced LeakyReLU: the backward passes the gradient through unscaled on the negative side",
       _T + "ensemble.py", "        return grad * _leaky_slope(a)\n", "        return grad\n",
       "tests/test_steps.py::test_traced_leaky_relu_equals_aten_bit_for_bit"),
    _m("T51", "traced LeakyReLU: slope 1 at a = 0 (aten takes 0.2 there)",
       _T + "ensemble.py", "return torch.clamp(torch.sign(a), LEAKY_SLOPE, 1.0)",
       "return torch.clamp(torch.sign(a) + (a == 0), LEAKY_SLOPE, 1.0)",
       "tests/test_steps.py::test_traced_leaky_relu_equals_aten_bit_for_bit"),
    _m("T52", "one-output layer: the transposed product without the bias",
       _T + "ensemble.py",
       "return torch.baddbmm(bias.transpose(1, 2), weight.transpose(1, 2), x.transpose(1, 2)).transpose(1, 2)",
       "return torch.bmm(weight.transpose(1, 2), x.transpose(1, 2)).transpose(1, 2)",
       "tests/test_steps.py::test_one_output_layer_equals_baddbmm_and_its_autograd"),
    _m("T53", "one-output layer: the weight gradient summed over the wrong batch (members' batches swapped)",
       _T + "ensemble.py", "grad_w = torch.bmm(grad.transpose(1, 2), x).transpose(1, 2) if need_w else None",
       "grad_w = torch.bmm(grad.transpose(1, 2), x.flip(0)).transpose(1, 2) if need_w else None",
       "tests/test_steps.py::test_one_output_layer_equals_baddbmm_and_its_autograd"),
    _m("T54", "traced layer (torch.compile): the bias left out of a hidden layer",
       _T + "ensemble.py", "            return torch.bmm(x, self.weight) + self.bias\n",
       "            return torch.bmm(x, self.weight)\n",
       "tests/test_compile.py", "--slow"),
    _m("T55", "traced layer (torch.compile): a one-input layer's product taken with the bias only",
       _T + "ensemble.py", "                return x * self.weight + self.bias\n",
       "                return x + self.bias\n",
       "tests/test_compile.py", "--slow"),
    _m("T56", "standard draws: every row from the first generator",
       _G + "densities/draws.py", "    for row, g in zip(out, generators):\n        fill(row, generator=g)",
       "    for row in out:\n        fill(row, generator=generators[0])",
       "tests/test_sampling_rows.py::test_standard_draws_rows_are_randn_and_rand_of_their_generator",
       "tests/test_sampling_rows.py::test_batch_sampler_rows_equal_the_row_drawn_alone"),
    _m("T57", "mixture rows: the components of every row picked by the first generator",
       _G + "densities/sampling.py", "torch.multinomial(probs, n, replacement=True, generator=g, out=row)",
       "torch.multinomial(probs, n, replacement=True, generator=generators[0], out=row)",
       "tests/test_sampling_rows.py::test_batch_sampler_rows_equal_the_row_drawn_alone"),
    _m("T58", "uniform family: rows scaled by the component's high instead of its width",
       _G + "densities/families.py", ".mul_(width[idx]).add_(low[idx])", ".mul_(high[idx]).add_(low[idx])",
       "tests/test_sampling_rows.py::test_location_scale_rows_are_the_formula_on_the_generators_draws",
       "tests/test_families.py"),
    _m("T59", "compiled step: the CUDA-graph modes' choice inverted (one graph where pieces are needed, and back)",
       _T + "steps.py", "return mode not in _CUDAGRAPH_MODES and hasattr(",
       "return mode in _CUDAGRAPH_MODES and hasattr(",
       "tests/test_steps.py::test_compile_compiles_every_piece_and_false_compiles_none"),
    _m("T60", "generator update (eager and compiled): the last parameter's gradient dropped",
       _T + "steps.py", "    norm, finite, ok = update(opt, params, list(grads), loss_g, active)\n",
       "    norm, finite, ok = update(opt, params, list(grads)[:-1] + [None], loss_g, active)\n",
       "tests/test_steps.py"),
    _m("T61", "compiled step: the discriminator's step with R1 in one graph too (slower there)",
       _T + "steps.py", "d_one, g_one = one and not r1, one", "d_one, g_one = one, one",
       "tests/test_steps.py::test_compile_compiles_every_piece_and_false_compiles_none"),
    _m("T62", "mixture's stratified sample: the B mod K extra samples left out of the counts",
       _T + "mixture.py", "counts = (b // k + (torch.arange(k, device=z.device) < b % k)).to(z.dtype)",
       "counts = (b // k + 0 * (torch.arange(k, device=z.device) < b % k)).to(z.dtype)",
       "tests/test_mixture.py"),
    _m("T63", "entropy bonus: the log-density averaged without the stratified sample's weights",
       _T + "steps.py", "out = out + entropy_weight * ((w * log_q).sum(-1) if w is not None else log_q.mean(-1))",
       "out = out + entropy_weight * log_q.mean(-1)",
       "tests/test_mixture.py::test_entropy_bonus_is_lambda_times_the_weighted_log_density"),
    _m("T64", "entropy bonus: its weight not decayed (lambda_0 at every step)",
       _T + "config.py", "return self.entropy_weight * entropy_factor(step, self.steps)",
       "return self.entropy_weight",
       "tests/test_recipes.py::test_entropy_weight_decays_to_zero_on_a_cosine"),
    _m("T65", "mixture: log_prob(detach=False) still detaches the parameters",
       _T + "mixture.py", "        if detach:\n            mu, sigma, logits = mu.detach(), sigma.detach(), logits.detach()",
       "        if True:\n            mu, sigma, logits = mu.detach(), sigma.detach(), logits.detach()",
       "tests/test_mixture.py::test_log_prob_undetached_has_the_density_of_torch_distributions_and_its_gradients"),
    _m("T66", "entropy bonus: the log-density's gradient not taken through the samples",
       _T + "steps.py", "log_q = generator.log_prob(x, detach=False)", "log_q = generator.log_prob(x.detach(), detach=False)",
       "tests/test_mixture.py::test_entropy_bonus_gradient_is_exact_for_one_component"),
    _m("T49", "piecewise_logits: each point read on the region left of its own (off by one)",
       _T + "members.py", "r = np.searchsorted(kinks, flat, side=\"right\")",
       "r = np.maximum(np.searchsorted(kinks, flat, side=\"right\") - 1, 0)",
       "tests/test_kink_breaks.py::test_piecewise_logits_equal_the_forward_pass",
       "tests/test_kink_breaks.py::test_metrics_with_kink_breaks_bound_their_error"),
    # ---------------------------------------------------------------- engine: mode coverage
    _m("E81", "coverage: high quality within 2 standard deviations instead of 3",
       _G + "coverage/samples.py", "radius: float = 3.0, threshold: int = 1) -> ModeCoverage:",
       "radius: float = 2.0, threshold: int = 1) -> ModeCoverage:",
       "tests/test_coverage.py::test_sample_metrics_on_a_hand_built_set"),
    _m("E82", "coverage: the mode histogram's KL taken forward, KL(w || q), instead of reverse",
       _G + "coverage/samples.py", "return float(max(0.0, np.sum(q[pos] * np.log(q[pos] / w[pos]))))",
       "return float(np.sum(w * np.log(w / q))) if np.all(q > 0) else math.inf",
       "tests/test_coverage.py::test_sample_metrics_on_a_hand_built_set", "tests/test_coverage.py::test_p_g_on_seven_of_eight_ring_modes"),
    _m("E83", "coverage: the polar Jacobian rho dropped from the mass near a 2-D mode",
       _G + "coverage/mass.py", "jac = det[own] * t[:, 0]", "jac = det[own]",
       "tests/test_coverage.py::test_mass_of_a_gaussian_near_its_own_centre_is_chi_square"),
    _m("E84", "coverage: |det L| dropped from the mass near a 2-D mode",
       _G + "coverage/mass.py", "jac = det[own] * t[:, 0]", "jac = t[:, 0]",
       "tests/test_coverage.py::test_mass_of_a_gaussian_near_its_own_centre_is_chi_square"),
    _m("E85", "coverage: a sample's nearest mode by Euclidean distance instead of Mahalanobis",
       _G + "coverage/samples.py", "nearest = np.argmin(dist, axis=1)",
       "nearest = np.argmin(np.linalg.norm(np.asarray(samples, dtype=float).reshape(len(dist), -1)[:, None, :] "
       "- modes.centres[None], axis=2), axis=1)",
       "tests/test_coverage.py::test_high_quality_uses_each_modes_own_covariance"),
    _m("E86", "coverage: no high-quality sample gives a reverse KL of 0 (a perfect score)",
       _G + "coverage/samples.py", "return float(-np.log(w.min()))\n    q = q / total", "return 0.0\n    q = q / total",
       "tests/test_coverage.py::test_no_high_quality_sample_has_a_defined_reverse_kl"),
    _m("E87", "coverage: a mode needs more than `threshold` samples to count as captured",
       _G + "coverage/samples.py", "np.sum(counts >= threshold)", "np.sum(counts > threshold)",
       "tests/test_coverage.py::test_sample_metrics_on_a_hand_built_set"),
    _m("E88", "coverage: the reverse-KL error bound counts only one side of the enclosure",
       _G + "coverage/mass.py", "max(kl - max(0.0, float(pmin.sum())), float(pmax.sum()) - kl, 0.0) + rounding",
       "max(float(pmax.sum()) - kl, 0.0)",
       "tests/test_coverage.py::test_reverse_kl_bound_encloses_perturbed_masses"),
    _m("E89", "coverage: initial cells not refined near narrow p_g components (a spike stepped over)",
       _G + "coverage/mass.py", "    for _ in range(64):\n        s = sig", "    for _ in range(0):\n        s = sig",
       "tests/test_coverage.py::test_a_narrow_p_g_component_is_not_stepped_over"),
    # ---------------------------------------------------------------- command line
    _m("L01", "table: the identity C = -log 4 + 2 JSD judged against zero instead of the error bounds",
       _G + "cli.py", "ok = worst <= 1.0", "ok = worst <= 0.0",
       "tests/test_cli.py::test_table_checks_theorem_1"),
    _m("L02", "check exits 0 even when a claim fails",
       _G + "cli.py", "return 0 if all(r.passed for r in results) else 1", "return 0",
       "tests/test_mutant_gaps.py::test_check_exit_code_is_one_when_a_claim_fails"),
    _m("L03", "a comma-separated option value keeps only its first item",
       _G + "cli_args.py", "parts = text.split(\",\")", "parts = text.split(\",\")[:1]",
       "tests/test_cli.py::test_option_types_parse_what_they_promise"),
    _m("L04", "train: the options are --log_every (underscores), not --log-every",
       _G + "cli_train.py", "group.add_argument(\"--\" + f.name.replace(\"_\", \"-\")", "group.add_argument(\"--\" + f.name",
       "tests/test_training.py::test_cli_train_and_resume"),
    _m("L05", "every ValueError/TypeError from a package file is a refusal (a bug loses its traceback)",
       _G + "cli.py", "return ins.opname in (\"RAISE_VARARGS\", \"RERAISE\")", "return True",
       "tests/test_cli.py::test_bugs_keep_their_traceback"),
    _m("L06", "refusals exit with code 1, like a failed claim",
       _G + "cli.py", "print(f\"gan-theory: error: {_one_line(exc)}\", file=sys.stderr)\n        return 2",
       "print(f\"gan-theory: error: {_one_line(exc)}\", file=sys.stderr)\n        return 1",
       "tests/test_cli.py::test_bad_input_is_one_line_and_exit_code_2"),
    _m("L07", "CLI refusals print the exception's type instead of its message",
       _G + "cli.py", "return text or type(exc).__name__", "return type(exc).__name__",
       "tests/test_cli.py::test_bad_input_is_one_line_and_exit_code_2"),
)


# --------------------------------------------------------------------------------------------
# The runner
# --------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    id: str
    status: str  # caught, survived, timeout (counted caught), stale, error
    seconds: float
    detail: str = ""
    area: str = ""
    description: str = ""
    command: list[str] = field(default_factory=list)

    @property
    def caught(self) -> bool:
        return self.status in ("caught", "timeout")


def repo_files(root: Path = ROOT) -> list[str]:
    """Tracked files and untracked files that git does not ignore (paths relative to ``root``)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                         capture_output=True, check=True).stdout.decode()
    return sorted({p for p in out.split("\0") if p and (root / p).is_file()})


def copy_repo(dest: Path, files: list[str], root: Path = ROOT) -> None:
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)


def apply(m: Mutant, tree: Path) -> str | None:
    """Apply ``m`` in the copy ``tree``; returns why it cannot (stale), or None."""
    path = tree / m.file
    if not path.is_file():
        return f"{m.file}: no such file"
    text = path.read_text()
    n = text.count(m.old)
    if n != 1:
        return f"{m.file}: the snippet occurs {n} times, expected exactly once"
    path.write_text(text.replace(m.old, m.new, 1))
    return None


def command(kind: str, tests: tuple[str, ...], tree: Path) -> list[str]:
    if kind == "check":
        return [sys.executable, "-m", "gan_theory", "check", "--only", ",".join(tests), "--quiet",
                "--out", str(tree / "_mutant_reports")]
    if kind != "pytest":
        raise ValueError(f"kind: expected 'pytest' or 'check', got {kind!r}")
    return [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]


def _run(cmd: list[str], tree: Path, timeout: float) -> tuple[int | None, str, float]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.pop("PYTEST_ADDOPTS", None)
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
        return r.returncode, (r.stdout + r.stderr)[-3000:], time.perf_counter() - t0
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return None, out[-3000:], time.perf_counter() - t0


def _last_lines(text: str, n: int = 3) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return " | ".join(lines[-n:])


def run_mutant(m: Mutant | None, files: list[str], *, kind: str | None = None, tests: tuple[str, ...] | None = None,
               timeout: float | None = None, root: Path = ROOT) -> Outcome:
    """Run one mutant (or, with ``m=None``, the unmutated selection ``kind``/``tests``) in a fresh copy."""
    kind = m.kind if m is not None else kind
    tests = m.tests if m is not None else tests
    timeout = m.timeout if m is not None else timeout
    ident = m.id if m is not None else "baseline " + " ".join(tests)
    with tempfile.TemporaryDirectory(prefix="gt-mutant-") as tmp:
        tree = Path(tmp)
        copy_repo(tree, files, root)
        if m is not None:
            why = apply(m, tree)
            if why is not None:
                return Outcome(ident, "stale", 0.0, why, m.area, m.description)
        cmd = command(kind, tests, tree)
        rc, out, secs = _run(cmd, tree, timeout)
    shown = cmd[2:] if kind == "pytest" else cmd[1:]
    base = dict(area=m.area if m else "", description=m.description if m else "", command=shown)
    if rc is None:
        return Outcome(ident, "timeout", secs, f"no result within {timeout:.0f} s", **base)
    if kind == "check":
        status = "caught" if rc != 0 else "survived"
        if m is None:
            status = "ok" if rc == 0 else "error"
        return Outcome(ident, status, secs, f"exit {rc}: {_last_lines(out)}", **base)
    # pytest: 0 passed, 1 tests failed, 2 interrupted (a collection error: the mutant broke an
    # import), 3 internal error, 4 usage error (e.g. no such file), 5 nothing collected.
    if m is None:
        status = "ok" if rc == 0 else "error"
    elif rc == 0:
        status = "survived"
    elif rc in (1, 2):
        status = "caught"
    else:
        status = "error"
    return Outcome(ident, status, secs, f"exit {rc}: {_last_lines(out)}", **base)


def select(only: str | None) -> list[Mutant]:
    if not only:
        return list(CATALOGUE)
    wanted = [s.strip().upper() for s in only.split(",") if s.strip()]
    known = {m.id: m for m in CATALOGUE}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise SystemExit(f"mutants: --only: unknown id(s) {unknown}")
    return [known[w] for w in wanted]


def run_catalogue(mutants: list[Mutant], jobs: int = 1, *, progress=print) -> tuple[list[Outcome], list[Outcome]]:
    """Run the baselines (all selections at once; one by one if that fails), then the mutants
    whose baseline passed. Returns the mutants' outcomes and the baselines'."""
    files = repo_files()
    selections: dict[tuple, float] = {}
    for m in mutants:
        selections[m.selection_key()] = max(selections.get(m.selection_key(), 0.0), m.timeout)
    baseline: dict[tuple, Outcome] = {}
    # First one run per kind over the union of the plain selections (node ids, files, claim
    # ids); only if that fails, one run per selection, to say which one is broken.
    for kind in ("pytest", "check"):
        keys = [k for k in selections if k[0] == kind and not any(t.startswith("-") for t in k[1])]
        if len(keys) < 2:
            continue
        union = tuple(dict.fromkeys(t for k in keys for t in k[1]))
        out = run_mutant(None, files, kind=kind, tests=union, timeout=sum(selections[k] for k in keys))
        progress(f"baseline {out.status:<8} {out.seconds:6.1f} s  all {len(keys)} {kind} selections at once")
        if out.status == "ok":
            for k in keys:
                baseline[k] = Outcome(f"baseline {' '.join(k[1])}", "ok", out.seconds, "in the joint run")

    def base_job(key):
        return key, run_mutant(None, files, kind=key[0], tests=key[1], timeout=selections[key])

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for key, out in pool.map(base_job, [k for k in selections if k not in baseline]):
            baseline[key] = out
            progress(f"baseline {out.status:<8} {out.seconds:6.1f} s  {' '.join(key[1])}")

    def mut_job(m):
        b = baseline[m.selection_key()]
        if b.status != "ok":
            return Outcome(m.id, "error", 0.0, f"the unmutated selection does not pass ({b.status}: {b.detail})",
                           m.area, m.description)
        return run_mutant(m, files)

    results = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for out in pool.map(mut_job, mutants):
            results.append(out)
            progress(f"{out.id:<5} {out.status:<8} {out.seconds:6.1f} s  {out.description}")
    return results, list(baseline.values())


def table(results: list[Outcome]) -> str:
    lines = [f"{'id':<5} {'area':<8} {'status':<9} {'seconds':>8}  description", "-" * 100]
    for r in results:
        lines.append(f"{r.id:<5} {r.area:<8} {r.status:<9} {r.seconds:8.1f}  {r.description}")
        if r.status in ("survived", "stale", "error"):
            lines.append(f"{'':<24}{r.detail[:300]}")
    caught = sum(r.caught for r in results)
    lines.append("-" * 100)
    lines.append(f"mutation score: {caught}/{len(results)} caught"
                 f" ({100.0 * caught / max(len(results), 1):.1f}%); "
                 + ", ".join(f"{s}: {sum(r.status == s for r in results)}"
                             for s in ("caught", "timeout", "survived", "stale", "error")))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/mutants.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated mutant ids")
    parser.add_argument("--list", action="store_true", help="print the catalogue and exit")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="mutants run at once (default 1)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="seconds for each run of a selection, instead of each entry's own (600 by default)")
    args = parser.parse_args(argv)
    mutants = select(args.only)
    if args.timeout is not None:
        if not args.timeout > 0:
            raise SystemExit(f"mutants: --timeout: expected a positive number of seconds, got {args.timeout}")
        mutants = [replace(m, timeout=args.timeout) for m in mutants]
    if args.list:
        for m in mutants:
            print(f"{m.id:<5} {m.area:<8} {m.file:<40} {m.description}")
            print(f"{'':<15}{m.kind}: {' '.join(m.tests)}")
        print(f"{len(mutants)} mutants")
        return 0
    if args.jobs < 1:
        raise SystemExit(f"mutants: -j: expected a positive number of jobs, got {args.jobs}")
    t0 = time.perf_counter()
    results, baselines = run_catalogue(mutants, args.jobs, progress=lambda s: print(s, flush=True))
    print()
    print(table(results))
    print(f"({time.perf_counter() - t0:.0f} s, {len(baselines)} baseline selection(s))")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": [asdict(r) for r in results],
                                               "baselines": [asdict(b) for b in baselines],
                                               "score": [sum(r.caught for r in results), len(results)]}, indent=2))
    return 0 if all(r.caught for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
