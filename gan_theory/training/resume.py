"""What is checked before a run is continued (``resume=True``), and what of it is kept.

A resume (:meth:`gan_theory.training.run.Trainer.run`) continues a run only when its files
belong together and to this call: ``config.json`` holds the same configuration and the same
target (by the fingerprint of its log-density); the checkpoint, if there is one, has the run id
of ``config.json`` and the configuration it was written with; and ``metrics.jsonl`` begins with
exactly the bytes (length and SHA-256) that the checkpoint recorded. Records after the
checkpoint, and a torn last line, are dropped (the resumed run writes them again). Each check
refuses with a :class:`~gan_theory.training.rundir.RunDirectoryError` that says what differs
and what to do; the formats are :mod:`gan_theory.training.rundir`'s.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..densities import DensityLike
from . import rundir
from .rundir import CONFIG_FILE, METRICS_FILE, RunDirectoryError, RunWriteError, read_run_meta, target_fingerprint

__all__ = ["check_checkpoint_pairing", "check_run_meta", "metrics_before_checkpoint"]


def check_run_meta(out: Path, config: dict[str, Any], p_data: DensityLike) -> dict[str, Any]:
    """``out/config.json``, checked to record ``config`` (as ``TrainConfig.to_dict``) and a
    target with ``p_data``'s log-density fingerprint; returns its contents."""
    meta = read_run_meta(out)
    saved = meta["config"]
    mine = config
    if saved != mine:
        diff = [k for k in sorted(set(saved) | set(mine)) if saved.get(k) != mine.get(k)]
        shown = "; ".join(f"{k}: {saved.get(k)!r} in the run, {mine.get(k)!r} asked" for k in diff[:5])
        raise RunDirectoryError(f"resume: the checkpoint was written with a different configuration "
                                f"({out / CONFIG_FILE}: {shown}); resume with the run's own configuration (train(p_data, out=..., "
                                f"resume=True) without a config reads it), or start a new run elsewhere")
    fp, fp_mine = meta["target_fingerprint"], target_fingerprint(p_data)
    if fp.get("log_prob_sha256") != fp_mine["log_prob_sha256"]:
        raise RunDirectoryError(f"resume: the run in {out} was trained on another target: {out / CONFIG_FILE} "
                                f"records {fp.get('repr')!r}"
                                f"{' (toy ' + repr(meta['target']) + ')' if meta.get('target') else ''}, this "
                                f"call passes {fp_mine['repr']!r} (their log-densities differ: fingerprints "
                                f"{str(fp.get('log_prob_sha256'))[:12]} and {fp_mine['log_prob_sha256'][:12]}); "
                                f"resume with the same target, or start a new run elsewhere")
    return meta


def check_checkpoint_pairing(out: Path, state: dict[str, Any], run_id: str, saved: dict[str, Any]) -> None:
    """The checkpoint ``state`` belongs to the run of ``config.json`` (run id ``run_id``,
    configuration ``saved``): same run id, same configuration (config.json not edited since)."""
    ckpt = out / rundir.CHECKPOINT_FILE
    if state["run_id"] != run_id:
        raise RunDirectoryError(f"resume: {ckpt} belongs to another run than {out / CONFIG_FILE} (run ids "
                                f"{state['run_id'][:12]} and {run_id[:12]}); the directory mixes two "
                                f"runs: start again with overwrite=True (--overwrite)")
    if state["config"] != saved:  # config.json edited after the checkpoint was written
        diff = [k for k in sorted(set(saved) | set(state["config"]))
                if saved.get(k) != state["config"].get(k)]
        shown = "; ".join(f"{k}: {state['config'].get(k)!r} in the checkpoint, {saved.get(k)!r} in "
                          f"{CONFIG_FILE}" for k in diff[:5])
        raise RunDirectoryError(f"resume: {out / CONFIG_FILE} was changed after {ckpt} was written ({shown}); "
                                f"restore it, or start a new run with the new configuration elsewhere")


def metrics_before_checkpoint(out: Path, written: int, n_records: int, digest: str,
                              step: int) -> tuple[list[dict[str, Any]], bytes]:
    """The records of ``out/metrics.jsonl`` written before the checkpoint at ``step`` (its first
    ``written`` bytes, whose SHA-256 must be ``digest``, holding ``n_records`` lines), and those
    bytes. A file with more is cut back to them (atomically)."""
    metrics = out / METRICS_FILE
    try:
        data = metrics.read_bytes()
    except FileNotFoundError:
        data = b""
    except OSError as exc:
        raise RunDirectoryError(f"resume: {metrics} cannot be read ({exc})") from exc
    kept = data[:written]
    if len(data) < written or hashlib.sha256(kept).hexdigest() != digest:
        raise RunDirectoryError(f"resume: {metrics} does not hold the {n_records} record(s) ({written} bytes) "
                                f"written before the checkpoint at step {step} ({len(data)} bytes, "
                                f"{'too short' if len(data) < written else 'other contents'}): records were "
                                f"lost or changed, so the run cannot be continued as it was; start it again "
                                f"with overwrite=True (--overwrite)")
    # records after the checkpoint (and a torn last line, from a kill or a full disk in
    # the middle of a write) are dropped: the resumed run writes them again
    history = [json.loads(line) for line in kept.decode("utf-8").splitlines()]
    if len(history) != n_records:
        raise RunDirectoryError(f"resume: {metrics} holds {len(history)} records before the checkpoint, the "
                                f"checkpoint counts {n_records}")
    if len(data) != written:
        try:
            rundir._write_atomically(metrics, kept)
        except OSError as exc:
            raise RunWriteError(exc.errno, f"resume: {metrics} could not be rewritten ({exc.strerror or exc}); "
                                           f"it is unchanged") from exc
    return history, kept
