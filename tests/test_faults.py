"""A fault test: a short training run killed with SIGKILL (``kill -9``) at random moments, each
time resumed, must end with the records, the metrics file and the final state of an
uninterrupted run, bit for bit, with nothing lost.

How: a driver process imports the package once, then forks one child per life of the run
(so that a life costs no import); the child trains with ``resume`` whenever the directory
already holds a ``config.json``; the driver sleeps a random time drawn from a seeded RNG and
kills the child with SIGKILL. Metrics every step, checkpoints every 2 steps: a kill can land in
a measurement, a step, a metrics write or a checkpoint write. If a life finishes before its
kill, that run is complete and the next kills go to a new run directory. Expected values: the
same run uninterrupted, forked from the same driver (records without ``wall_time`` and
``train_time`` compared as JSON text; every tensor of the final checkpoint with
``torch.equal``).
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from gan_theory.training.rundir import load_checkpoint

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32",
                                reason="needs os.fork and SIGKILL")

ROOT = Path(__file__).resolve().parents[1]
TIMES = ("wall_time", "train_time")

DRIVER = textwrap.dedent('''
    import json, os, random, signal, sys, time, traceback
    from pathlib import Path

    import torch
    import gan_theory as gt
    from gan_theory.training import rundir
    from gan_theory.training.config import TrainConfig
    from gan_theory.training.run import train

    base, n_kills, seed, steps = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    CFG = TrainConfig(generator="affine", steps=steps, ensemble=2, log_every=1, checkpoint_every=2, device="cpu",
                      d_hidden=(8,), dtype="float64", batch_size=32)
    TARGET = gt.toys.gaussian(2.0, 0.5)

    def life(out, target=None):
        """Fork a child that runs (or resumes) the training in out; returns its pid and, for a
        targeted kill, the read end of a pipe on which it says that it is inside that write.

        target = (kind, n): the child's n-th write of kind 'record' (a metrics line) or
        'checkpoint' writes half of its bytes, says so, and waits to be killed.
        """
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            code = 1
            try:
                torch.set_num_threads(1)
                if target is not None:
                    real, seen = rundir._write_bytes, {"record": 0, "checkpoint": 0}

                    def hooked(fd, data):
                        data = bytes(data)
                        kind = ("checkpoint" if data.startswith(b"PK")
                                else "record" if data.startswith(b'{"step"') else None)
                        if kind is not None:
                            seen[kind] += 1
                            if (kind, seen[kind]) == target:
                                real(fd, data[: len(data) // 2])
                                os.write(w, b"x")
                                time.sleep(600)
                        real(fd, data)

                    rundir._write_bytes = hooked
                resume = (out / "config.json").exists()
                res = train(TARGET, CFG, out=out, resume=resume, progress=False)
                (out.parent / (out.name + ".history.json")).write_text(json.dumps(res.history))
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(w)
        return pid, r

    def wait(pid):
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)

    def state(out):
        """What a kill left behind."""
        m = out / "metrics.jsonl"
        data = m.read_bytes() if m.exists() else b""
        return {"checkpoint": (out / "checkpoint.pt").exists(), "checkpoint_tmp": (out / "checkpoint.pt.tmp").exists(),
                "config": (out / "config.json").exists(), "metrics_lines": data.count(b"\\n"),
                "torn_line": bool(data) and not data.endswith(b"\\n")}

    t0 = time.perf_counter()
    pid, r = life(base / "reference")
    assert wait(pid) == 0
    os.close(r)
    duration = time.perf_counter() - t0
    rng = random.Random(seed)
    kills, runs, run = [], [], 0
    out = base / f"run{run}"
    while True:
        i = len(kills)
        # every third kill is targeted at a write (alternately a metrics line and a checkpoint);
        # the others come after a random delay
        target = None
        if i < n_kills and i % 3 == 2:
            target = (("record", "checkpoint")[(i // 3) % 2], rng.randint(1, 3))
        pid, r = life(out, target)
        if i >= n_kills:
            assert wait(pid) == 0, "the last life failed"
            os.close(r)
            runs.append(out.name)
            break
        done = None
        if target is not None:
            if os.read(r, 1):  # inside the write
                os.kill(pid, signal.SIGKILL)
                assert wait(pid) == -signal.SIGKILL
            else:
                done = wait(pid)
            delay = None
        else:
            delay = rng.uniform(0.0, 2.5 * duration / n_kills)
            deadline = time.perf_counter() + delay
            while time.perf_counter() < deadline:
                got, status = os.waitpid(pid, os.WNOHANG)
                if got:
                    done = os.waitstatus_to_exitcode(status)
                    break
                time.sleep(min(0.002, max(0.0, deadline - time.perf_counter())))
            if done is None:
                os.kill(pid, signal.SIGKILL)
                assert wait(pid) == -signal.SIGKILL
        os.close(r)
        if done is None:
            kills.append({"run": out.name, "delay": delay, "target": target, **state(out)})
            continue
        assert done == 0, "a life failed"
        runs.append(out.name)  # finished before its kill: a new run takes the next kills
        run += 1
        out = base / f"run{run}"
    print(json.dumps({"duration": duration, "kills": kills, "runs": runs}))
''')


def records_text(history):
    return [json.dumps({k: v for k, v in r.items() if k not in TIMES}, sort_keys=True) for r in history]


def tensors(v):
    if isinstance(v, torch.Tensor):
        return [v]
    if isinstance(v, dict):
        return [t for k in sorted(v, key=str) for t in tensors(v[k])]
    if isinstance(v, (list, tuple)):
        return [t for x in v for t in tensors(x)]
    return []


def kill_and_resume(tmp_path, n_kills, seed, steps):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(driver), str(tmp_path), str(n_kills), str(seed), str(steps)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(summary["kills"]) >= n_kills
    ref_dir = tmp_path / "reference"
    ref_history = json.loads((tmp_path / "reference.history.json").read_text())
    ref_lines = records_text(json.loads(x) for x in (ref_dir / "metrics.jsonl").read_text().splitlines())
    ref_state = load_checkpoint(ref_dir / "checkpoint.pt")
    assert len(ref_lines) == 2 * (steps + 1)  # every step, both members
    assert records_text(ref_history) == ref_lines
    for name in summary["runs"]:
        d = tmp_path / name
        history = json.loads((tmp_path / f"{name}.history.json").read_text())
        assert records_text(history) == ref_lines, name  # the final records
        lines = (d / "metrics.jsonl").read_text().splitlines()
        assert records_text(json.loads(x) for x in lines) == ref_lines, name  # the file: nothing lost or repeated
        state = load_checkpoint(d / "checkpoint.pt")
        assert state["step"] == steps and state["stopped"] == ref_state["stopped"]
        a, b = tensors({k: state[k] for k in ("chunks", "opt_g", "opt_d", "rngs", "active", "last")}), \
            tensors({k: ref_state[k] for k in ("chunks", "opt_g", "opt_d", "rngs", "active", "last")})
        assert len(a) == len(b) > 0 and all(torch.equal(x, y) for x, y in zip(a, b)), name
        assert sorted(p.name for p in d.iterdir()) == ["checkpoint.pt", "config.json", "metrics.jsonl"]
    return summary


def summarise(s):
    k = s["kills"]
    return {"kills": len(k), "random_time": sum(x["target"] is None for x in k),
            "in_a_metrics_write": sum(x["torn_line"] for x in k),
            "in_a_checkpoint_write": sum(x["checkpoint_tmp"] for x in k),
            "before_the_first_checkpoint": sum(not x["checkpoint"] for x in k), "runs": s["runs"]}


def test_kill_9_at_random_moments_then_resume_equals_an_uninterrupted_run(tmp_path):
    """12 SIGKILLs, each followed by a resume: 8 after random delays (seeded), 4 inside writes
    (2 metrics lines, 2 checkpoints, each half written)."""
    s = summarise(kill_and_resume(tmp_path, n_kills=12, seed=2024, steps=16))
    print(s)
    assert s["kills"] >= 12 and s["random_time"] >= 8
    assert s["in_a_metrics_write"] >= 2 and s["in_a_checkpoint_write"] >= 2


@pytest.mark.slow
def test_kill_9_many_times_then_resume_equals_an_uninterrupted_run(tmp_path):
    """45 SIGKILLs over a longer run (30 after random delays, 15 inside writes)."""
    s = summarise(kill_and_resume(tmp_path, n_kills=45, seed=7, steps=40))
    print(s)
    assert s["kills"] >= 45 and s["random_time"] >= 30
    assert s["in_a_metrics_write"] >= 7 and s["in_a_checkpoint_write"] >= 7
