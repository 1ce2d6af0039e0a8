"""``gan-theory bench`` (issue 12): the command line, the suites' JSON, and the numbers they
compute checked against independent references (the loop's models, torch's FLOP counter,
mpmath, the metrics history recomputed by hand)."""

from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pytest
import torch

from gan_theory import cli
from gan_theory.bench import SUITES, markdown, parse_suites, run_suite
from gan_theory.bench._common import _git_commit, environment
from gan_theory.bench.convergence import LOG4, Case, ConvergencePlan, crossings
from gan_theory.bench.integrators import IntegratorPlan
from gan_theory.bench.throughput import ThroughputPlan, gan_step_flops, loop_trainer, make_trainer

CPU = torch.device("cpu")
ENV_KEYS = {"device", "device_name", "torch", "cuda", "scipy", "torch_threads", "date", "git_commit"}


def _strict(path):
    """Load a JSON file, refusing NaN and Infinity (strict JSON)."""
    def bad(token):
        raise ValueError(f"{path}: non-strict JSON constant {token}")
    return json.loads(path.read_text(), parse_constant=bad)


# ------------------------------------------------------------------ command line
@pytest.mark.parametrize("argv, words", [
    (["bench", "--suite", "nope"], "unknown suite"),
    (["bench", "--suite", "throughput,"], "--suite"),
    (["bench", "--device", "tpu"], "--device"),
    (["bench", "--threads", "0"], "--threads"),
    (["bench", "--threads", "two"], "--threads"),
])
def test_bench_refuses_bad_input_in_one_line(argv, words, capsys, tmp_path):
    assert cli.main(argv + ["--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gan-theory: error:") and words in err[0]
    assert not (tmp_path / "o").exists()  # refused before the output directory is made


def test_bench_refuses_an_out_path_that_is_a_file(capsys, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    assert cli.main(["bench", "--suite", "integrators", "--out", str(f)]) == 2
    assert "--out" in capsys.readouterr().err


def test_parse_suites_keeps_order_and_drops_repeats():
    assert parse_suites(None) == SUITES
    assert parse_suites("integrators, throughput,integrators") == ("integrators", "throughput")


def test_environment_outside_a_git_checkout(tmp_path):
    assert _git_commit(tmp_path) is None  # no failure, no commit
    env = environment(CPU)
    assert ENV_KEYS <= set(env) and env["torch_threads"] == torch.get_num_threads()


# ------------------------------------------------------------------ throughput
def test_batched_step_computes_what_the_loop_computes():
    # The loop (torch.nn.Sequential + torch.optim.Adam per member) is an independent
    # implementation of the same GANs: same weights, same draws, so the parameters after 4
    # steps agree to float32 rounding (measured ~2e-7; a loop that draws its noise from fresh
    # generators instead of the members' differs by 2 lr = 2e-3 after one step).
    tr = make_trainer(3, CPU)
    iteration, models = loop_trainer(tr)
    for _ in range(4):
        tr.step()
        iteration()
    chunk = tr.chunks[0]
    worst = 0.0
    for i, (g, d) in enumerate(models):
        for net, seq in ((chunk.generator.net, g), (chunk.discriminator, d)):
            lins = [m for m in seq if isinstance(m, torch.nn.Linear)]
            for layer, lin in zip(net.layers, lins, strict=True):
                worst = max(worst, float((layer.weight[i].T - lin.weight).detach().abs().max()),
                            float((layer.bias[i, 0] - lin.bias).detach().abs().max()))
    assert worst < 2e-6


def test_flop_count_matches_torchs_counter():
    # torch.utils.flop_counter counts the matmul FLOPs the step really runs; the formula
    # 2 B (4 M_g + 8 M_d) must agree within 2% (it ignores the width-1 layers' input gradients).
    from torch.utils.flop_counter import FlopCounterMode

    tr = make_trainer(1, CPU)
    tr.step()
    with FlopCounterMode(display=False) as counter:
        tr.step()
    assert abs(gan_step_flops() / counter.get_total_flops() - 1) < 0.02


def test_throughput_suite_json(tmp_path):
    plan = ThroughputPlan(sizes=(1, 2), loop_members=2, repeat_seconds=0.01, repeats=2, matmul_n=128)
    run_suite("throughput", CPU, tmp_path, plan=plan)
    d = _strict(tmp_path / "throughput_cpu.json")
    assert d["suite"] == "throughput" and ENV_KEYS <= set(d["environment"])
    peak = d["matmul_peak"]["fp32"]
    assert peak["flops_per_s"] == pytest.approx(2 * 128 ** 3 / peak["median_s"])
    for row in d["rows"]:
        eager = row["forms"]["eager"]
        assert eager["gan_steps_per_s"] == pytest.approx(row["N"] / eager["median_s"])
        assert row["ratio_to_loop"] == pytest.approx(row["gan_steps_per_s"] / row["loop"]["gan_steps_per_s"])
        # the row's peak: the 128^3 matmul timed round by round with the steps and the loop
        row_peak = row["matmul_peak_fp32"]
        assert row_peak["flops_per_s"] == pytest.approx(2 * 128 ** 3 / row_peak["median_s"])
        assert row["fraction_of_peak_fp32"] == pytest.approx(row["gan_steps_per_s"] * d["flops_per_gan_step"]
                                                             / row_peak["flops_per_s"])
        assert row["loop"]["repeats"] == eager["repeats"] == row_peak["repeats"] == 2
        assert eager["min_s"] <= eager["median_s"] <= eager["max_s"]
        assert row["best_form"] == "eager" and eager["startup_s"] > 0  # no compiled form at these sizes
        assert row["eager_ratio_to_loop"] == pytest.approx(eager["gan_steps_per_s"] / row["loop"]["gan_steps_per_s"])
    # the allocator setting is recorded (applied on glibc, else why not)
    assert d["allocator"]["setting"] is not None or d["allocator"]["why"]
    assert (tmp_path / "throughput_cpu.png").stat().st_size > 0
    assert "cpu" in markdown([tmp_path / "throughput_cpu.json"])


# ------------------------------------------------------------------ convergence
def test_crossings_on_a_history_written_by_hand():
    # two members; gaps (C + log 4) at steps 0, 10, 20: member 0: 0.5, 0.005, 0.0005;
    # member 1: 0.5, 0.05, 0.0002. Median gaps: 0.5, 0.0275, 0.00035.
    gaps = {0: (0.5, 0.5), 10: (0.005, 0.05), 20: (0.0005, 0.0002)}
    hist = [{"step": s, "member": m, "criterion": g[m] - LOG4, "wall_time": 2.0 * s, "train_time": 1.0 * s}
            for s, g in gaps.items() for m in range(2)]
    c = crossings(hist, 2, eps_values=(1e-2, 1e-3, 1e-5))
    e2, e3, e5 = c["eps"]["0.01"], c["eps"]["0.001"], c["eps"]["1e-05"]
    assert e2["ensemble_step"] == 20 and e2["per_seed_steps"] == [10.0, 20.0] and e2["per_seed_median"] == 15.0
    assert e2["gans_per_minute_training"] == pytest.approx(2 / (20 / 60))
    assert e2["gans_per_minute_with_metrics"] == pytest.approx(2 / (40 / 60))
    assert e3["ensemble_step"] == 20 and e3["per_seed_q1"] == 20.0
    assert e5["ensemble_step"] is None and e5["per_seed_median"] == math.inf


def test_convergence_case_is_consistent_with_its_metrics_history(tmp_path):
    case = Case("tiny", "gaussian", {"loc": 2.0, "scale": 0.5}, "affine", "non_saturating", 3, 40, 10, 60.0)
    from gan_theory.bench.convergence import run_case

    res = run_case(case, CPU, keep_history=True)
    hist = res["history"]
    steps = sorted({r["step"] for r in hist})
    assert steps == [0, 10, 20, 30, 40] and res["steps"] == steps
    # the medians recomputed from the records by hand
    for s, med in zip(steps, res["median_gap"]):
        gaps = [r["criterion"] + LOG4 for r in hist if r["step"] == s]
        assert med == pytest.approx(statistics.median(gaps), rel=0, abs=0)
    for eps, row in res["eps"].items():
        first = next((s for s, m in zip(steps, res["median_gap"]) if m <= float(eps)), None)
        assert row["ensemble_step"] == first
    assert res["metrics_seconds"] >= 0 and 0 <= res["metrics_fraction"] <= 1
    assert res["train_seconds"] == pytest.approx(max(r["train_time"] for r in hist))


def test_convergence_suite_json(tmp_path):
    plan = ConvergencePlan((Case("tiny", "gaussian", {"loc": 2.0, "scale": 0.5}, "affine", "minimax", 2, 20, 10),))
    run_suite("convergence", CPU, tmp_path, plan=plan)
    d = _strict(tmp_path / "convergence_cpu.json")
    assert d["eps"] == [1e-2, 1e-3, 1e-4] and d["cases"][0]["loss"] == "minimax"
    assert set(d["cases"][0]["eps"]) == {"0.01", "0.001", "0.0001"}
    assert (tmp_path / "convergence_cpu.png").stat().st_size > 0
    assert "Convergence" in markdown([tmp_path / "convergence_cpu.json"])


# ------------------------------------------------------------------ integrators
def test_integrators_suite_errors_against_mpmath(tmp_path):
    plan = IntegratorPlan(tolerances=(1e-8,), batch=3, repeats=1, problems=("normal_pair",), dblquad=False)
    run_suite("integrators", CPU, tmp_path, plan=plan, plot=True)
    d = _strict(tmp_path / "integrators_cpu.json")
    (p,) = d["problems"]
    # the reference is mpmath at 30 digits; recomputed here at 40 digits, independently
    import mpmath

    with mpmath.workdps(40):
        def f(x):
            a, b = mpmath.npdf(x, 0, 1), mpmath.npdf(x, 1, 1.5)
            return (a * mpmath.log(2 * a / (a + b)) + b * mpmath.log(2 * b / (a + b))) / 2
        ref = float(mpmath.quad(f, [-mpmath.inf, 0, 1, mpmath.inf]))
    assert p["reference"] == pytest.approx(ref, rel=0, abs=1e-15)
    methods = {r["method"] for r in p["rows"]}
    assert {"ours", "quad_strongest", "quad_infinite", "tanhsinh", "cubature", "mpmath"} <= methods
    for r in p["rows"]:
        assert r["error"] == pytest.approx(abs(r["value"] - p["reference"]), rel=0, abs=0)
        if r["method"] == "ours":
            assert r["error"] <= r["reported_error"] + 1e-16
        if r["method"] == "quad_strongest":
            assert r["error"] < 1e-8
    assert p["batch"]["ours_error_bound_holds"] and p["batch"]["size"] == 3
    assert set(p["speedups_at_equal_accuracy"]) == methods - {"ours"}


def test_integrators_without_mpmath_record_why(tmp_path, monkeypatch):
    # mpmath is a test extra, not a dependency: without it the suite still runs, with ours at a
    # tight tolerance as the reference (its value must still be the 30-digit mpmath one, 1e-15)
    # and the mpmath rows skipped with a reason.
    import sys

    import mpmath

    with mpmath.workdps(30):
        ref = float(mpmath.quad(lambda x: (mpmath.npdf(x, 0, 1) * mpmath.log(2 * mpmath.npdf(x, 0, 1) / (
            mpmath.npdf(x, 0, 1) + mpmath.npdf(x, 1, 1.5))) + mpmath.npdf(x, 1, 1.5) * mpmath.log(
            2 * mpmath.npdf(x, 1, 1.5) / (mpmath.npdf(x, 0, 1) + mpmath.npdf(x, 1, 1.5)))) / 2,
            [-mpmath.inf, 0, 1, mpmath.inf]))
    monkeypatch.setitem(sys.modules, "mpmath", None)  # import mpmath now raises ImportError
    plan = IntegratorPlan(tolerances=(1e-8,), batch=3, repeats=1, problems=("normal_pair",), dblquad=False)
    run_suite("integrators", CPU, tmp_path, plan=plan, plot=False)
    (p,) = _strict(tmp_path / "integrators_cpu.json")["problems"]
    assert "mpmath" in p["skipped"] and "mpmath" not in {r["method"] for r in p["rows"]}
    assert p["reference"] == pytest.approx(ref, rel=0, abs=1e-15)
