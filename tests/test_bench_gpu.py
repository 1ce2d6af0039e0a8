"""GPU checks of issue 12 (marked ``gpu``: skipped cleanly without CUDA; run by
``benchmarks/gpu_run.sh`` with ``pytest -m gpu``): the step captured in a CUDA graph equals
the eager step, a 4096-member ensemble trains with each member as it would alone, a short
convergence run on CUDA has the CPU run's statistics over seeds, and a run resumes on CUDA."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.gpu

LOG4 = math.log(4.0)


def _cuda():
    return torch.device("cuda")


def test_captured_graph_step_equals_eager_step():
    # Same trainer, same draws: the graph replays the eager step's kernels, so the parameters
    # agree to float32 rounding after 5 steps (bitwise is expected; 1e-6 allows reordering).
    from gan_theory.bench.cuda_graph import CapturedStep
    from gan_theory.bench.throughput import make_trainer, max_param_difference

    eager, graphed = make_trainer(64, _cuda()), make_trainer(64, _cuda())
    step = CapturedStep(graphed)
    assert max_param_difference(eager, graphed) == 0.0  # the capture's warm-up was undone
    for _ in range(5):
        eager.step()
        step()
    torch.cuda.synchronize()
    assert max_param_difference(eager, graphed) < 1e-6
    assert graphed.step_count == eager.step_count == 5


def test_reduce_overhead_compiled_step_equals_eager_step():
    # torch.compile(mode="reduce-overhead") through TrainConfig(compile=...): CUDA graphs of
    # fused kernels; equal to eager to float32 rounding (fusion reorders sums), 3 Adam steps.
    from gan_theory.bench.throughput import make_trainer, max_param_difference

    eager, compiled = make_trainer(8, _cuda()), make_trainer(8, _cuda(), compile="reduce-overhead")
    for _ in range(3):
        eager.step()
        compiled.step()
    torch.cuda.synchronize()
    assert max_param_difference(eager, compiled) < 1e-4


def test_4096_member_ensemble_trains_each_member_as_alone():
    # Member 4000 of a 4096-member ensemble on CUDA follows the trajectory of the same member
    # (same seed) trained alone on CUDA, to float32 rounding (batched matmuls sum in another order).
    from gan_theory.bench.throughput import make_trainer

    big = make_trainer(4096, _cuda())
    for _ in range(3):
        big.step()
    assert bool(big.active.all())
    from gan_theory.training.config import TrainConfig
    from gan_theory.training.trainer import EnsembleTrainer

    cfg = big.config.replace(ensemble=1, seed=big.config.member_seeds[4000])
    alone = EnsembleTrainer(big.p_data.source, cfg)
    assert isinstance(cfg, TrainConfig)
    for _ in range(3):
        alone.step()
    a = torch.cat([p[4000].flatten() for p in big.chunks[0].parameters()])
    b = torch.cat([p[0].flatten() for p in alone.chunks[0].parameters()])
    assert bool(torch.isfinite(a).all())
    assert float((a - b).detach().abs().max()) < 1e-4


def _final_gaps(device: str) -> list[float]:
    from torch.distributions import Normal

    import gan_theory as gt

    cfg = gt.TrainConfig(generator="affine", ensemble=16, steps=400, log_every=200, device=device)
    res = gt.train(Normal(2.0, 0.5), cfg, progress=False)
    return [r["criterion"] + LOG4 for r in res.final]


def test_short_convergence_on_cuda_matches_cpu_within_seed_noise():
    # The 1-D affine benchmark, 16 seeds, 400 steps, on CUDA and on CPU: float32 rounding differs,
    # so single trajectories differ, but the distribution over seeds must be the same. Checked
    # with the Mann-Whitney U test (p > 1e-3) and the medians within a factor of 3 (the seed
    # spread of C + log 4 at this point of training is about a factor of 3 between quartiles).
    from scipy.stats import mannwhitneyu

    cuda, cpu = _final_gaps("cuda"), _final_gaps("cpu")
    assert all(math.isfinite(g) and g >= -1e-9 for g in cuda + cpu)
    assert mannwhitneyu(cuda, cpu).pvalue > 1e-3
    ratio = statistics.median(cuda) / statistics.median(cpu)
    assert 1 / 3 < ratio < 3


def test_resume_on_cuda_continues_the_run(tmp_path):
    # A run stopped at step 20 (callback) and resumed to 40 on CUDA ends where the
    # uninterrupted run ends, to float tolerance (bitwise is promised on CPU only).
    from torch.distributions import Normal

    import gan_theory as gt

    cfg = gt.TrainConfig(generator="affine", ensemble=4, steps=40, log_every=10, checkpoint_every=10,
                         d_hidden=(16, 16), device="cuda")
    whole = gt.train(Normal(2.0, 0.5), cfg, out=tmp_path / "a", progress=False)
    gt.train(Normal(2.0, 0.5), cfg, out=tmp_path / "b", progress=False,
             callback=lambda recs: False if recs[0]["step"] >= 20 else None)
    resumed = gt.train(Normal(2.0, 0.5), out=tmp_path / "b", resume=True, progress=False)
    assert [r["step"] for r in resumed.final] == [40] * 4
    for a, b in zip(whole.final, resumed.final):
        assert a["criterion"] == pytest.approx(b["criterion"], rel=0, abs=1e-5)
    np.testing.assert_allclose([r["generator"]["loc"] for r in resumed.final],
                               [r["generator"]["loc"] for r in whole.final], rtol=0, atol=1e-5)
