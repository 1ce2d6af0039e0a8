"""The run directory under hostile input and faults: crafted and broken checkpoints, runs into
non-empty directories, resumes against another target, strict metrics, torn writes, a full disk.

Expected values: the same run uninterrupted, in its own directory (its records apart from
``wall_time`` and ``train_time``, compared as JSON text, i.e. bit for bit, and its final
parameters compared with ``torch.equal``); for the errors, what the issue asks the message to
say (the file, and what is wrong with it).
"""

import errno
import hashlib
import io
import json
import math
import os
import pickle
import random

import numpy as np
import pytest
import torch

import gan_theory as gt
from gan_theory.training import rundir
from gan_theory.training.config import TrainConfig
from gan_theory.training.run import train
from gan_theory.training.rundir import (CheckpointError, RunDirectoryError, RunWriteError, load_checkpoint, record_line,
                                        target_fingerprint)

TARGET = gt.toys.gaussian(2.0, 0.5)
OTHER = gt.toys.gaussian(2.0, 0.6)
# 12 steps, metrics every 2, checkpoints every 4: records at 0, 2, ..., 12; checkpoints at 4, 8, 12
CFG = TrainConfig(generator="affine", steps=12, ensemble=2, log_every=2, checkpoint_every=4, device="cpu",
                  d_hidden=(8,), dtype="float64", batch_size=32)
TIMES = ("wall_time", "train_time")


class Stop(Exception):
    """Raised from a callback: the process 'dies' after the records of that step were written."""


def stop_at(step):
    def callback(records):
        if records[0]["step"] >= step:
            raise Stop(step)
    return callback


def records_text(history):
    """Records without their timings, as JSON text (equal text: equal bits)."""
    return [json.dumps({k: v for k, v in r.items() if k not in TIMES}, sort_keys=True) for r in history]


def file_records(path):
    return records_text([json.loads(line) for line in path.read_text().splitlines()])


def final_tensors(run_dir):
    state = load_checkpoint(run_dir / "checkpoint.pt")
    return [t for chunk in state["chunks"] for t in chunk.values()]


def assert_equals_reference(run_dir, result, reference):
    ref_dir, ref = reference
    assert records_text(result.history) == records_text(ref.history)
    expected = records_text(ref.history)
    assert file_records(run_dir / "metrics.jsonl") == file_records(ref_dir / "metrics.jsonl") == expected
    for a, b in zip(final_tensors(run_dir), final_tensors(ref_dir)):
        assert torch.equal(a, b)
    assert not any(p.name.endswith(".tmp") for p in run_dir.iterdir())


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run every interrupted one must equal."""
    d = tmp_path_factory.mktemp("reference")
    return d, train(TARGET, CFG, out=d, progress=False)


def interrupted(tmp_path, step, name="run"):
    """A run 'killed' after writing its records of ``step`` (its last checkpoint is before)."""
    d = tmp_path / name
    with pytest.raises(Stop):
        train(TARGET, CFG, out=d, progress=False, callback=stop_at(step))
    return d


def cli_error(args, capsys):
    """The CLI's error message: raised, or printed with exit code 2."""
    from gan_theory.cli import main

    capsys.readouterr()
    try:
        rc = main(args)
    except (CheckpointError, RunDirectoryError) as exc:
        return str(exc)
    except SystemExit as exc:
        assert exc.code == 2
        return capsys.readouterr().err
    assert rc == 2
    return capsys.readouterr().err


# ----------------------------------------------------------------------------- security
class _Payload:
    """Unpickling this calls ``pathlib.Path.touch(marker)``: it would create a file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import pathlib
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_crafted_checkpoint_runs_nothing_on_resume(tmp_path, capsys):
    d = interrupted(tmp_path, 6)
    marker = tmp_path / "pwned"
    genuine = torch.load(d / "checkpoint.pt", weights_only=True)
    genuine["stopped"] = {0: _Payload(str(marker))}  # a checkpoint that looks right, with a payload inside
    torch.save(genuine, d / "checkpoint.pt")
    # with weights_only=False the payload runs: the file appears (the test would see it)
    with pytest.raises(CheckpointError, match="is not a safe gan-theory checkpoint") as info:
        train(TARGET, CFG, out=d, resume=True, progress=False)
    assert not marker.exists(), "the checkpoint's payload ran"
    assert str(d / "checkpoint.pt") in str(info.value) and "nothing in it was run" in str(info.value)
    # the CLI resume path refuses it the same way, and runs nothing
    from gan_theory.cli import main
    c = tmp_path / "cli"
    assert main(["train", "--target", "gaussian", "--steps", "2", "--d-hidden", "4", "--out", str(c), "--quiet",
                 "--device", "cpu"]) == 0
    genuine = torch.load(c / "checkpoint.pt", weights_only=True)
    genuine["stopped"] = {0: _Payload(str(marker))}
    torch.save(genuine, c / "checkpoint.pt")
    assert "is not a safe gan-theory checkpoint" in cli_error(["train", "--resume", str(c), "--quiet"], capsys)
    assert not marker.exists()


def test_checkpoints_hold_only_plain_data(reference):
    ref_dir, _ = reference

    def walk(v):
        if isinstance(v, dict):
            assert all(isinstance(k, (str, int)) for k in v)
            for x in v.values():
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        else:
            assert v is None or isinstance(v, (torch.Tensor, bool, int, float, str)), type(v)

    state = torch.load(ref_dir / "checkpoint.pt", weights_only=True)  # would raise on anything else
    walk(state)
    # the run records the resolved configuration (generator "auto" and the recipe fields filled)
    assert state["format"] == "gan-theory checkpoint" and state["config"] == CFG.resolve(1).to_dict()


def _broken_checkpoints(genuine: bytes):
    rng = random.Random(9)
    foreign = io.BytesIO()
    torch.save({"model": torch.zeros(3), "epoch": 4}, foreign)
    return {
        "empty": (b"", "the file is empty"),
        "truncated": (genuine[: len(genuine) // 2], "cannot be read as a torch archive"),
        "truncated_header": (genuine[:10], "cannot be read as a torch archive"),
        "random": (bytes(rng.randrange(256) for _ in range(4096)), "it is not a torch archive"),
        "text": (b"this is not a checkpoint\n", "it is not a torch archive"),
        "foreign": (foreign.getvalue(), "without the gan-theory checkpoint marker"),
        "plain_pickle": (pickle.dumps({"step": 3}), "it is not a torch archive"),
    }


@pytest.mark.parametrize("kind", ["empty", "truncated", "truncated_header", "random", "text", "foreign",
                                  "plain_pickle"])
def test_broken_checkpoint_gives_a_clear_error(tmp_path, kind):
    d = interrupted(tmp_path, 6)
    data, what = _broken_checkpoints((d / "checkpoint.pt").read_bytes())[kind]
    (d / "checkpoint.pt").write_bytes(data)
    with pytest.raises(CheckpointError) as info:
        train(TARGET, CFG, out=d, resume=True, progress=False)
    msg = str(info.value)
    assert isinstance(info.value, ValueError) and not isinstance(info.value, OSError)
    assert str(d / "checkpoint.pt") in msg and "not a valid gan-theory checkpoint" in msg and what in msg, msg


def test_checkpoint_that_does_not_fit_the_run(tmp_path):
    """A genuine gan-theory checkpoint of this run id whose tensors have other shapes."""
    d = interrupted(tmp_path, 6)
    state = torch.load(d / "checkpoint.pt", weights_only=True)
    state["chunks"][0] = {k: torch.zeros(7) for k in state["chunks"][0]}
    torch.save(state, d / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="does not fit the run's models"):
        train(TARGET, CFG, out=d, resume=True, progress=False)


# ----------------------------------------------------------------------------- non-empty directories
def test_new_run_into_a_non_empty_directory_is_refused(tmp_path, reference):
    d = tmp_path / "run"
    train(TARGET, CFG, out=d, progress=False)
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    with pytest.raises(RunDirectoryError, match="is not empty") as info:
        train(TARGET, CFG, out=d, progress=False)
    assert "resume=True" in str(info.value) and "overwrite=True" in str(info.value) and str(d) in str(info.value)
    assert {p.name: p.read_bytes() for p in d.iterdir()} == before  # nothing touched
    # any file makes a directory non-empty
    other = tmp_path / "notes"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(RunDirectoryError, match="notes.txt"):
        train(TARGET, CFG, out=other, progress=False)
    with pytest.raises(ValueError, match="resume, overwrite: choose one"):
        train(TARGET, CFG, out=d, resume=True, overwrite=True, progress=False)
    with pytest.raises(TypeError, match="overwrite: expected True or False"):
        train(TARGET, CFG, out=d, overwrite="no", progress=False)


def test_overwrite_killed_before_its_first_checkpoint_never_pairs_old_and_new(tmp_path):
    """The issue's case: a finished run is overwritten by a run on another target, which dies
    before its first checkpoint; resuming must continue the new run, not 'finish' with the old
    checkpoint."""
    d = tmp_path / "run"
    train(TARGET, CFG, out=d, progress=False)
    with pytest.raises(Stop):
        train(OTHER, CFG, out=d, overwrite=True, progress=False, callback=stop_at(2))
    assert not (d / "checkpoint.pt").exists()  # the old checkpoint went first
    resumed = train(OTHER, CFG, out=d, resume=True, progress=False)
    ref = train(OTHER, CFG, out=tmp_path / "ref", progress=False)
    assert_equals_reference(d, resumed, (tmp_path / "ref", ref))


def test_cli_refuses_a_non_empty_out_and_overwrites_when_told(tmp_path, capsys):
    from gan_theory.cli import main

    d = tmp_path / "run"
    args = ["train", "--target", "gaussian", "--steps", "2", "--log-every", "1", "--d-hidden", "4", "--out", str(d),
            "--quiet", "--device", "cpu"]
    assert main(args) == 0
    msg = cli_error(args, capsys)
    assert "is not empty" in msg and "--overwrite" in msg and "--resume" in msg
    assert main(args + ["--overwrite"]) == 0
    assert main(["train", "--resume", str(d), "--quiet"]) == 0


# ----------------------------------------------------------------------------- the target
def test_resume_with_another_target_is_refused(tmp_path):
    d = interrupted(tmp_path, 6)
    with pytest.raises(RunDirectoryError, match="was trained on another target") as info:
        train(OTHER, CFG, out=d, resume=True, progress=False)
    assert "Normal" in str(info.value) and str(d) in str(info.value)
    with pytest.raises(RunDirectoryError, match="different configuration.*seed: 0 in the run, 1 asked"):
        train(TARGET, CFG.replace(seed=1), out=d, resume=True, progress=False)
    meta = json.loads((d / "config.json").read_text())
    assert meta["target_fingerprint"] == target_fingerprint(TARGET)
    # the run's own configuration is read from config.json when none is given
    assert max(h["step"] for h in train(TARGET, out=d, resume=True, progress=False).history) == CFG.steps


def test_target_fingerprint_tells_targets_apart():
    from torch.distributions import Uniform

    same = [target_fingerprint(gt.toys.gaussian(2.0, 0.5)), target_fingerprint(TARGET)]
    assert same[0] == same[1]
    # a toy by name and the same density passed as an object are the same target
    assert target_fingerprint(gt.toys.make("ring"))["log_prob_sha256"] == \
        target_fingerprint(gt.toys.ring())["log_prob_sha256"]
    pairs = [(gt.toys.gaussian(0.0, 1.0), gt.toys.gaussian(0.0, 1.0 + 1e-9)),
             (Uniform(1e5, 1e5 + 1.0), Uniform(1e5, 1e5 + 2.0)),  # -inf at every fixed point
             (gt.toys.ring(), gt.toys.ring(std=0.03)),
             (gt.toys.mixture2(), gt.toys.mixture2(weight=0.4))]
    for a, b in pairs:
        assert target_fingerprint(a)["log_prob_sha256"] != target_fingerprint(b)["log_prob_sha256"], (a, b)


# ----------------------------------------------------------------------------- metrics.jsonl
def _strict(text):
    def refuse(c):
        raise ValueError(f"non-standard JSON constant {c}")
    return json.loads(text, parse_constant=refuse)


def test_record_line_is_strict_json_with_null_for_non_finite():
    line = record_line({"a": math.nan, "b": math.inf, "c": [1.5, -math.inf], "d": np.float64("nan"),
                        "e": torch.tensor([2.0, float("nan")]), "f": {"g": np.int64(3)}, "s": "ok"})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert _strict(line) == {"a": None, "b": None, "c": [1.5, None], "d": None, "e": [2.0, None], "f": {"g": 3},
                             "s": "ok"}


def test_metrics_of_a_diverging_member_are_strict_json(tmp_path):
    # member 1's generator learning rate is absurd: its gradients and parameters overflow
    cfg = TrainConfig(generator="affine", optimizer="sgd", steps=20, ensemble=2, lr_g=(1e-3, 1e36), lr_d=1e-3,
                      log_every=10, device="cpu", d_hidden=(8,))
    r = train(TARGET, cfg, out=tmp_path / "run", progress=False)
    assert 1 in r.stopped
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    parsed = [_strict(line) for line in lines]  # the old file had `Infinity` here
    assert parsed == r.history
    assert any(v is None for rec in parsed for k, v in rec.items() if k.startswith("grad_norm"))


def test_each_record_is_one_write(tmp_path, monkeypatch):
    writes = []
    real = rundir._write_bytes
    monkeypatch.setattr(rundir, "_write_bytes", lambda fd, data: (writes.append(bytes(data)), real(fd, data))[1])
    train(TARGET, CFG, out=tmp_path / "run", progress=False)
    text = (tmp_path / "run" / "metrics.jsonl").read_bytes()
    record_writes = [w for w in writes if w.startswith(b'{"step"')]
    assert b"".join(record_writes) == text and all(w.count(b"\n") == 1 and w.endswith(b"\n") for w in record_writes)


@pytest.mark.parametrize("cut", [1, 17, -2, -1, 0])
def test_torn_last_line_and_later_records_are_dropped_on_resume(tmp_path, reference, cut):
    """Killed in the middle of writing the records of step 6 (checkpoint at step 4): the file ends
    with a torn line (``cut`` bytes into the last record; 0: the last record complete, the kill
    came just after it). Resume drops it and the records after step 4, and equals the
    uninterrupted run."""
    d = interrupted(tmp_path, 6)
    path = d / "metrics.jsonl"
    data = path.read_bytes()
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    path.write_bytes(data[: last + cut] if cut > 0 else data[: len(data) + cut] if cut < 0 else data)
    resumed = train(TARGET, CFG, out=d, resume=True, progress=False)
    assert_equals_reference(d, resumed, reference)


def test_metrics_that_lost_records_before_the_checkpoint_are_refused(tmp_path):
    d = interrupted(tmp_path, 6)
    path = d / "metrics.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3]))  # records of step 2 lost: the checkpoint at step 4 needs them
    with pytest.raises(RunDirectoryError, match="records were lost or changed"):
        train(TARGET, CFG, out=d, resume=True, progress=False)
    path.write_bytes(b"".join(lines).replace(b'"member": 1', b'"member": 7', 1))
    with pytest.raises(RunDirectoryError, match="other contents"):
        train(TARGET, CFG, out=d, resume=True, progress=False)


def test_checkpoint_of_another_run_is_refused(tmp_path):
    a, b = interrupted(tmp_path, 6, "a"), interrupted(tmp_path, 6, "b")
    (a / "checkpoint.pt").write_bytes((b / "checkpoint.pt").read_bytes())
    with pytest.raises(RunDirectoryError, match="belongs to another run"):
        train(TARGET, CFG, out=a, resume=True, progress=False)


# ----------------------------------------------------------------------------- a full disk
def _writes_of_a_run(tmp_path, monkeypatch):
    """What a run writes, in order: 'config', 'empty' (the new metrics file), 'record', 'checkpoint'."""
    kinds = []
    real = rundir._write_bytes

    def spy(fd, data):
        data = bytes(data)
        kinds.append("checkpoint" if data.startswith(b"PK") else "record" if data.startswith(b'{"step"')
                     else "config" if data.startswith(b"{") else "empty" if not data else "other")
        real(fd, data)

    monkeypatch.setattr(rundir, "_write_bytes", spy)
    train(TARGET, CFG, out=tmp_path / "dry", progress=False)
    monkeypatch.undo()
    return kinds


def test_full_disk_stops_cleanly_and_the_run_resumes_to_the_same_numbers(tmp_path, monkeypatch, reference):
    kinds = _writes_of_a_run(tmp_path, monkeypatch)
    assert kinds.count("checkpoint") == 3 and kinds.count("record") == 14 and kinds[0] == "config"
    assert kinds[-1] == "checkpoint"
    # fail at: the config, the first record, the first checkpoint, a record just after it, the
    # second checkpoint, the last record, the final checkpoint
    first_ck = kinds.index("checkpoint")
    second_ck = kinds.index("checkpoint", first_ck + 1)
    last_record = len(kinds) - 1 - kinds[::-1].index("record")
    at = [0, kinds.index("record"), first_ck, first_ck + 2, second_ck, last_record, len(kinds) - 1]
    real = rundir._write_bytes
    for n in at:
        d = tmp_path / f"full{n}"
        calls = [0]

        def full_disk(fd, data):
            calls[0] += 1
            if calls[0] > n:  # half of it reaches the disk, then ENOSPC
                real(fd, bytes(data)[: len(data) // 2])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real(fd, data)

        monkeypatch.setattr(rundir, "_write_bytes", full_disk)
        with pytest.raises(RunWriteError) as info:
            train(TARGET, CFG, out=d, progress=False)
        monkeypatch.undo()
        err = info.value
        assert isinstance(err, OSError) and err.errno == errno.ENOSPC and "No space left on device" in str(err)
        if kinds[n] == "config":
            assert "nothing was trained" in str(err) and "start the run again" in str(err)
            d2 = d  # the directory holds no run: start it again (a leftover .tmp does not count)
            result = train(TARGET, CFG, out=d2, progress=False)
        else:
            assert "resume=True" in str(err) and "--resume" in str(err)
            assert err.result is not None and len(err.result.history) >= 2
            # on disk: the last checkpoint, and exactly the metrics written before it
            if (d / "checkpoint.pt").exists():
                state = load_checkpoint(d / "checkpoint.pt")
                assert str(state["step"]) in str(err)
                data = (d / "metrics.jsonl").read_bytes()
                assert len(data) == state["metrics"]["bytes"]
                assert hashlib.sha256(data).hexdigest() == state["metrics"]["sha256"]
            else:
                assert (d / "metrics.jsonl").read_bytes() == b"" and "no checkpoint" in str(err)
            assert not (d / "checkpoint.pt.tmp").exists()
            result = train(TARGET, CFG, out=d, resume=True, progress=False)
        assert_equals_reference(d, result, reference)
