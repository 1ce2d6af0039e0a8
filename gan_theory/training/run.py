"""A training run: the run directory, checkpoints, resume, progress, and :func:`train`.

:class:`Trainer` is the in-memory :class:`~gan_theory.training.trainer.EnsembleTrainer` with a
run directory (``out``): it writes ``config.json``, ``metrics.jsonl`` and ``checkpoint.pt``
with the guarantees of :mod:`gan_theory.training.rundir` (atomic writes, strict JSON, safe
checkpoints, a protected run directory, a resume equal to an uninterrupted run bit for bit
apart from ``wall_time`` and ``train_time``), shows a tqdm progress bar, and :meth:`Trainer.run`
trains to ``config.steps``. :func:`train` is the one-call entry point.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..checks import check_flag
from ..densities import DensityLike
from . import resume, rundir
from .config import TrainConfig
from .device import describe_device, versions
from .grid import LOG4
from .members import TrainResult
from .rundir import (_RUN_FILES, _RUN_FORMAT, _TMP_FILES, CHECKPOINT_FILE, CONFIG_FILE, METRICS_FILE, CheckpointError,
                     RunDirectoryError, RunWriteError, _first_line, _json_value, load_checkpoint, read_run_meta,
                     record_line, target_fingerprint)
from .trainer import EnsembleTrainer

__all__ = ["Trainer", "train"]


class Trainer(EnsembleTrainer):
    """Trains ``config.ensemble`` toy GANs on ``p_data`` in one batched computation, with a run
    directory.

    Parameters
    ----------
    p_data : density
        Any density the engine accepts, or a toy name.
    config : TrainConfig
    out : path, optional
        Run directory: ``config.json``, ``metrics.jsonl``, ``checkpoint.pt`` (formats and
        guarantees: :mod:`gan_theory.training.rundir`; :meth:`run` says when a directory is
        refused).
    target : dict, optional
        How ``p_data`` was named (``{"name": "ring", "params": {...}}``), stored in
        ``config.json`` so that ``--resume`` can rebuild it.
    """

    def __init__(self, p_data: DensityLike, config: TrainConfig, *, out: str | Path | None = None,
                 target: dict | None = None) -> None:
        super().__init__(p_data, config, target=target)
        self.out = Path(out) if out is not None else None
        self.run_id: str | None = None
        self._metrics_fd: int | None = None
        self._metrics_sha = hashlib.sha256()
        self._metrics_bytes = 0
        self._checkpoint_metrics_bytes = 0
        self._checkpoint_step: int | None = None

    def state_dict(self) -> dict[str, Any]:
        """The run's state (see :meth:`EnsembleTrainer.state_dict`) with the run's id and the
        length and SHA-256 of the metrics written so far."""
        state = super().state_dict()
        head = {"format": state.pop("format"), "version": state.pop("version"), "run_id": self.run_id or ""}
        return {**head, **state, "metrics": {"bytes": self._metrics_bytes, "records": len(self.history),
                                             "sha256": self._metrics_sha.hexdigest()}}

    def save_checkpoint(self) -> None:
        """Write ``checkpoint.pt`` atomically, after the metrics written so far are on disk.

        The state is serialised in memory and written to ``checkpoint.pt.tmp``, which is
        fsynced and renamed over the old checkpoint: at every moment ``checkpoint.pt`` is a
        complete checkpoint (the new one or the old one).

        Raises
        ------
        RunWriteError
            If writing fails (see :meth:`run`); the old checkpoint is kept.
        """
        if self.out is None:
            return
        path = self.out / CHECKPOINT_FILE
        try:
            if self._metrics_fd is not None:
                os.fsync(self._metrics_fd)
            buf = io.BytesIO()
            torch.save(self.state_dict(), buf)
            rundir._write_atomically(path, buf.getvalue())
        except OSError as exc:
            self._write_failed(path, exc)
        self._checkpoint_step = self.step_count
        self._checkpoint_metrics_bytes = self._metrics_bytes

    def _write_failed(self, path: Path, exc: OSError) -> None:
        """Stop the run on a failed write: cut metrics.jsonl back to the last checkpoint and
        raise :class:`RunWriteError` with the in-memory result."""
        cut = False
        if self._metrics_fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._metrics_fd, self._checkpoint_metrics_bytes)
                os.fsync(self._metrics_fd)
                cut = True
        if self._checkpoint_step is None:
            kept = (f"no checkpoint had been written yet{'' if not cut else ' and metrics.jsonl was emptied'}; "
                    f"resuming starts the run again from step 0")
        else:
            kept = (f"{self.out / CHECKPOINT_FILE} holds step {self._checkpoint_step}"
                    f"{' and metrics.jsonl was cut back to the records written before it' if cut else ''}")
        reason = exc.strerror or str(exc) or type(exc).__name__
        err = RunWriteError(exc.errno, f"{path} could not be written at step {self.step_count} ({reason}); the run "
                                       f"stopped: {kept}. Fix the cause (free disk space) and resume: "
                                       f"train(..., out={str(self.out)!r}, resume=True) or gan-theory train "
                                       f"--resume {self.out}. The result so far is this error's .result")
        err.filename = str(path)
        err.result = TrainResult(self)
        raise err from exc

    def _meta(self) -> dict[str, Any]:
        return {"format": _RUN_FORMAT, "run_id": self.run_id, "config": self.config.to_dict(), "target": self.target,
                "target_fingerprint": target_fingerprint(self.p_data), "p_data": repr(self.p_data.source),
                "versions": versions(), "device": describe_device(self.device)}

    def _write_config(self) -> None:
        data = json.dumps(_json_value(self._meta()), indent=2, allow_nan=False).encode("utf-8")
        rundir._write_atomically(self.out / CONFIG_FILE, data)

    def _start_fresh(self, overwrite: bool) -> None:
        """Prepare ``out`` for a new run: refuse a non-empty directory unless ``overwrite``;
        then remove the old run files (checkpoint first), write config.json and an empty
        metrics.jsonl."""
        out = self.out
        if out.exists() and not out.is_dir():
            raise RunDirectoryError(f"out: {out} exists and is not a directory; expected a run directory")
        present = sorted(e.name for e in out.iterdir() if e.name not in _TMP_FILES) if out.exists() else []
        if present and not overwrite:
            shown = ", ".join(present[:6]) + (", ..." if len(present) > 6 else "")
            raise RunDirectoryError(f"out: the run directory {out} is not empty (it holds {shown}); pass resume=True "
                                    f"(gan-theory train --resume {out}) to continue the run in it, overwrite=True "
                                    f"(--overwrite) to replace it, or choose another directory")
        try:
            out.mkdir(parents=True, exist_ok=True)
            # the checkpoint goes first: killed at any point here, no old checkpoint is left
            # beside new metrics (a run directory without a checkpoint resumes from step 0)
            for name in _RUN_FILES + _TMP_FILES:
                with contextlib.suppress(FileNotFoundError):
                    (out / name).unlink()
            rundir._fsync_dir(out)
            self.run_id = uuid.uuid4().hex
            self._write_config()
            rundir._write_atomically(out / METRICS_FILE, b"")
        except OSError as exc:
            raise RunWriteError(exc.errno, f"out: the run directory {out} could not be prepared "
                                           f"({exc.strerror or exc}); nothing was trained: fix the cause (free disk "
                                           f"space) and start the run again") from exc

    def _resume_from_disk(self) -> None:
        """Load the run in ``out``: check config.json, load the checkpoint (if any) and keep the
        metrics written before it (the checks: :mod:`gan_theory.training.resume`)."""
        out = self.out
        meta = resume.check_run_meta(out, self.config.to_dict(), self.p_data)
        self.run_id = meta["run_id"]
        if self.target is None and meta.get("target"):
            self.target = meta["target"]
        for name in _TMP_FILES:  # left by a kill in the middle of a write: never valid
            with contextlib.suppress(OSError):
                (out / name).unlink()
        ckpt = out / CHECKPOINT_FILE
        if ckpt.exists():
            state = load_checkpoint(ckpt)
            resume.check_checkpoint_pairing(out, state, self.run_id, meta["config"])
            try:
                self.load_state_dict(state)
            except (KeyError, IndexError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
                raise CheckpointError(f"{ckpt} is not a valid gan-theory checkpoint of this run: its state does "
                                      f"not fit the run's models ({_first_line(exc)})") from None
            written, n_records, digest = (state["metrics"]["bytes"], state["metrics"]["records"],
                                          state["metrics"]["sha256"])
            self._checkpoint_step = self.step_count
        else:
            written, n_records, digest = 0, 0, hashlib.sha256(b"").hexdigest()
        self.history, kept = resume.metrics_before_checkpoint(out, written, n_records, digest, self.step_count)
        self._metrics_sha = hashlib.sha256(kept)
        self._metrics_bytes = self._checkpoint_metrics_bytes = written

    # ------------------------------------------------------------------ the run
    def run(self, *, resume: bool = False, overwrite: bool = False, progress: bool | None = None,
            callback: Callable[[list[dict[str, Any]]], bool | None] | None = None) -> TrainResult:
        """Train to ``config.steps``; returns a :class:`TrainResult`.

        Parameters
        ----------
        resume : bool
            Continue the run in ``out`` (see the module docstring for what is checked and
            kept). Without a checkpoint yet (stopped before its first), the run starts again
            from step 0. The result equals that of an uninterrupted run.
        overwrite : bool
            Start a new run in a non-empty ``out``: the old run files are removed, the
            checkpoint first. Without it (and without ``resume``) a non-empty ``out`` is
            refused.
        progress : bool, optional
        callback : callable, optional
            ``callback(records)`` is called after each logging step; returning ``False`` stops
            the run there (the state is checkpointed, so that it can be resumed).

        Raises
        ------
        RunDirectoryError
            ``out`` is not empty (neither ``resume`` nor ``overwrite``); or, on resume, no run
            is there, or it has another configuration or target, or its files do not belong
            together.
        CheckpointError
            On resume, ``checkpoint.pt`` is not a valid, safe checkpoint of this run.
        RunWriteError
            A write failed (a full disk): the last checkpoint and the metrics written before it
            are kept, ``.result`` holds the result so far.
        """
        cfg = self.config
        resume = check_flag("resume", resume)
        overwrite = check_flag("overwrite", overwrite)
        progress = check_flag("progress", progress, none_ok=True)
        if callback is not None and not callable(callback):
            raise TypeError(f"callback: expected a callable taking the list of records, or None, "
                            f"got {type(callback).__name__} {callback!r}")
        if resume and overwrite:
            raise ValueError("resume, overwrite: choose one (resume continues the run in out, overwrite replaces it)")
        if self.out is not None:
            if resume:
                if not self.out.is_dir():
                    raise RunDirectoryError(f"resume: {self.out} is not a directory holding a run to resume")
                self._resume_from_disk()
            else:
                self._start_fresh(overwrite)
            try:
                self._metrics_fd = os.open(self.out / METRICS_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except OSError as exc:
                raise RunWriteError(exc.errno, f"{self.out / METRICS_FILE} cannot be opened for writing "
                                               f"({exc.strerror or exc})") from exc
        elif resume:
            raise ValueError("resume: a run directory `out` is needed to resume")
        from tqdm.auto import tqdm

        disable = (not sys.stderr.isatty()) if progress is None else (not progress)
        bar = tqdm(total=cfg.steps, initial=self.step_count, disable=disable, desc=f"{cfg.generator}/{cfg.discriminator}",
                   unit="step", dynamic_ncols=True)
        start = time.perf_counter() - (self.history[-1]["wall_time"] if self.history else 0.0)
        try:
            if self.step_count == 0 and not self.history:
                self._log(self.measure(0.0), bar)
            while self.step_count < cfg.steps and bool(self.active.any()):
                t0 = time.perf_counter()
                self.step()
                self.train_time += time.perf_counter() - t0
                bar.update(1)
                last = self.step_count == cfg.steps
                if self.step_count % cfg.log_every == 0 or last or not bool(self.active.any()):
                    records = self._log(self.measure(time.perf_counter() - start), bar)
                    if callback is not None and callback(records) is False:
                        self.save_checkpoint()
                        break
                if cfg.checkpoint_every and self.step_count % cfg.checkpoint_every == 0:
                    self.save_checkpoint()
            else:
                if self._checkpoint_step != self.step_count:  # not already written at this step
                    self.save_checkpoint()
        finally:
            bar.close()
            if self._metrics_fd is not None:
                os.close(self._metrics_fd)
                self._metrics_fd = None
        return TrainResult(self)

    def _log(self, records: list[dict[str, Any]], bar) -> list[dict[str, Any]]:
        """Add ``records`` to the history and to metrics.jsonl (one write call per record);
        returns them as stored (strict-JSON values: non-finite numbers are ``None``)."""
        lines = [record_line(r) for r in records]
        stored = [json.loads(line) for line in lines]
        self.history.extend(stored)
        if self._metrics_fd is not None:
            for line in lines:
                try:
                    rundir._write_bytes(self._metrics_fd, line)
                except OSError as exc:
                    self._write_failed(self.out / METRICS_FILE, exc)
                self._metrics_sha.update(line)
                self._metrics_bytes += len(line)
        gaps = [r["criterion"] + LOG4 for r in stored if isinstance(r.get("criterion"), float)]
        if gaps:
            bar.set_postfix({"median C+log4": f"{float(np.median(gaps)):.2e}"})
        return stored


def train(p_data: DensityLike, config: TrainConfig | None = None, *, out: str | Path | None = None,
          resume: bool = False, overwrite: bool = False, progress: bool | None = None,
          callback: Callable[[list[dict[str, Any]]], bool | None] | None = None, **overrides: Any) -> TrainResult:
    """Train toy GANs on ``p_data`` (Algorithm 1) and track them against the exact theory.

    Parameters
    ----------
    p_data : density
        Any density the engine accepts (torch distribution, scipy.stats frozen distribution)
        or a toy name (``"ring"``).
    config : TrainConfig, optional
        The run's configuration; keyword ``overrides`` replace its fields (or build one).
        With ``resume=True`` and neither, the configuration is read from ``out/config.json``.
    out : path, optional
        Run directory for ``config.json``, ``metrics.jsonl`` and ``checkpoint.pt`` (see
        :mod:`gan_theory.training.rundir` for their formats and guarantees). A new run needs
        an empty or new directory.
    resume : bool
        Continue the run in ``out`` from its checkpoint. The configuration and the target
        must be those recorded in ``config.json``; the result equals that of an
        uninterrupted run (every record but ``wall_time`` and ``train_time``, bit for bit).
    overwrite : bool
        Replace the run in a non-empty ``out`` (its run files are removed first).
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    callback : callable, optional
        Called with each step's records; returning ``False`` stops the run.

    Returns
    -------
    TrainResult

    Raises
    ------
    RunDirectoryError
        A new run into a non-empty ``out`` without ``overwrite``; a resume with another
        configuration or target, or from files that do not belong together.
    CheckpointError
        On resume, a checkpoint that is not a valid, safe gan-theory checkpoint of the run
        (nothing in it is run).
    RunWriteError
        A write to ``out`` failed (a full disk): the run stopped, keeping its last checkpoint
        and the metrics written before it; resume once the cause is fixed.

    Examples
    --------
    >>> import gan_theory as gt
    >>> r = gt.train("gaussian", steps=10, log_every=5)          # doctest: +SKIP
    >>> r.final[0]["criterion"] + gt.LOG4                          # doctest: +SKIP
    """
    resume, overwrite = check_flag("resume", resume), check_flag("overwrite", overwrite)
    if resume and out is None:
        raise ValueError("resume: a run directory `out` is needed to resume")
    if config is None and resume and not overrides:
        config = TrainConfig.from_dict(read_run_meta(out)["config"])
    elif config is None:
        config = TrainConfig(**overrides)
    elif overrides:
        config = config.replace(**overrides)
    trainer = Trainer(p_data, config, out=out)
    return trainer.run(resume=resume, overwrite=overwrite, progress=progress, callback=callback)
