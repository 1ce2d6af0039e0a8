"""The run directory's files: formats, atomic writes, target fingerprints, safe checkpoint loading.

What is promised about a run directory (``out``):

* ``config.json``: the configuration as JSON, the run's id, and what identifies the target
  (its toy name and parameters when it has one, and always a fingerprint of its density: its
  ``repr`` and a SHA-256 of its log-density, to 12 significant digits, at fixed points and at
  points placed by its quadrature hints). Written atomically.
* ``metrics.jsonl``: one strict-JSON record per line, written as it is made
  (``json.dumps(..., allow_nan=False)``; NaN and infinities are written as ``null``, and are
  ``None`` in ``TrainResult.history`` too, so that the history in memory and on disk are the
  same). Each record is written with one write call; the file is flushed to disk before each
  checkpoint.
* ``checkpoint.pt``: tensors, numbers, strings, lists and dicts only, loaded with
  ``torch.load(..., weights_only=True)``: a crafted file can make loading fail
  (:class:`CheckpointError`) but cannot run code. Written atomically (temporary file, fsync,
  rename). It records how many bytes of ``metrics.jsonl`` (and their SHA-256) were written
  before it.

A run is started only in an empty (or new) directory, unless ``overwrite=True`` (the old run
files are then removed first, the checkpoint before the others, so that no old checkpoint can
be paired with new metrics). ``resume=True`` checks that config.json holds the same
configuration and the same target, loads the checkpoint (or starts again from step 0 if the
run stopped before its first one), keeps exactly the metrics written before that checkpoint
(dropping later records and a torn last line) and continues: the records, the metrics file and
the final state equal those of an uninterrupted run bit for bit (apart from ``wall_time`` and
``train_time``), wherever the run was killed (``kill -9`` included). A failed write (a full
disk) stops the run with :class:`RunWriteError`, leaving the last checkpoint and the metrics
written before it, from which the run can be resumed.

This module holds the file formats and the low-level operations; :mod:`.run` decides when
they happen (a new run, a resume, a checkpoint, a failed write).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import pickle
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..densities import Density, DensityLike, as_density
from ..results import AccuracyError

if TYPE_CHECKING:
    from .members import TrainResult

__all__ = ["CHECKPOINT_FILE", "CONFIG_FILE", "METRICS_FILE", "CheckpointError", "RunDirectoryError", "RunWriteError",
           "load_checkpoint", "read_run_meta", "record_line", "target_fingerprint"]

CONFIG_FILE, METRICS_FILE, CHECKPOINT_FILE = "config.json", "metrics.jsonl", "checkpoint.pt"
_RUN_FILES = (CHECKPOINT_FILE, METRICS_FILE, CONFIG_FILE)  # in the order they are removed on overwrite
_TMP_FILES = tuple(name + ".tmp" for name in _RUN_FILES)
_RUN_FORMAT = "gan-theory run"
_CHECKPOINT_FORMAT = "gan-theory checkpoint"
_CHECKPOINT_VERSION = 2
_CHECKPOINT_KEYS = ("format", "version", "run_id", "step", "chunks", "opt_g", "opt_d", "rngs", "active", "stopped",
                    "train_time", "last", "config", "metrics")


class CheckpointError(ValueError):
    """A ``checkpoint.pt`` that is not a valid gan-theory checkpoint of the run being resumed:
    unreadable, empty, truncated, random bytes, a foreign torch file, or one holding objects
    other than tensors, numbers, strings, lists and dicts (nothing in such a file is run). The
    message names the file and what is wrong with it."""


class RunDirectoryError(ValueError):
    """A run directory that cannot be used as asked: a new run into a non-empty directory
    (without ``overwrite``), a resume with another configuration or target, or run files
    that do not belong together. The message says what to do instead."""


class RunWriteError(OSError):
    """Writing the run directory failed (a full disk, a lost mount): the run stopped.

    ``errno`` is that of the failed write. The last checkpoint is kept, ``metrics.jsonl`` is
    cut back to the records written before it, and the run can be resumed from there once
    the cause is fixed. ``result`` is the :class:`TrainResult` of the run as it was in memory
    when it stopped (``None`` if nothing had been trained yet).
    """

    result: TrainResult | None = None


def _write_bytes(fd: int, data: bytes) -> None:
    """Write all of ``data`` to the file descriptor ``fd`` (every byte the run writes goes here)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (where the platform allows it)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically: a temporary file, written and fsynced, renamed
    over it. On failure the temporary file is removed and ``path`` is as it was."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_bytes(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _json_value(v: Any) -> Any:
    """``v`` as strict JSON data: non-finite floats become ``None``, tensors and NumPy scalars
    numbers or lists, tuples lists, other objects their ``str``."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (np.bool_, np.integer, np.floating)):
        return _json_value(v.item())
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, torch.Tensor):
        return _json_value(v.tolist())
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    return str(v)


def record_line(record: dict[str, Any]) -> bytes:
    """One metrics record as a line of strict JSON (UTF-8, ending in a newline); NaN and
    infinities are written as ``null``."""
    return (json.dumps(_json_value(record), allow_nan=False) + "\n").encode("utf-8")


_PROBES_1D = np.array([0.0, 0.37, -0.81, 1.3, -2.2, 3.9, -6.1, 11.0, -27.0, 95.0, -310.0, 2.4e3, -1.7e4, 3.1e6])


def _probe_points(p: Density) -> np.ndarray:
    """Fixed points, and points at the target's hint centres +- 0.5 and 2 scales."""
    hints = p.hints
    centers, scales = np.asarray(hints.centers, dtype=np.float64)[:16], np.asarray(hints.scales, dtype=np.float64)[:16]
    moved = [centers] + [centers + f * scales for f in (0.5, -0.5, 2.0, -2.0)]
    near = np.concatenate(moved, axis=0)
    if p.dim == 1:
        return np.concatenate([_PROBES_1D, near[:, 0]])
    fixed = np.stack([_PROBES_1D, np.roll(_PROBES_1D, 3)], axis=1)
    return np.concatenate([fixed, near], axis=0)


def target_fingerprint(p_data: DensityLike) -> dict[str, Any]:
    """What identifies a target density in ``config.json``.

    Returns
    -------
    dict
        ``type`` and ``repr`` of the density (for messages), ``dim``, and ``log_prob_sha256``:
        the SHA-256 of the probe points and of the log-density there, each written to 12
        significant digits (so that rounding in the last bits, on another machine, does not
        change it). The probe points are fixed points from 0 to 3e6 and the density's hint
        centres +- 0.5 and 2 hint scales, so that densities that differ only far from the
        origin differ too. Two runs are taken to have the same target when these hashes agree.
    """
    p = as_density(p_data, "p_data")
    pts = _probe_points(p)
    try:
        with np.errstate(all="ignore"):
            lp = np.asarray(p.log_prob(pts), dtype=np.float64)
        values = ";".join(f"{v:.12g}" for v in np.concatenate([pts.ravel(), lp.ravel()]))
    except (ValueError, AccuracyError) as exc:  # a density that cannot be evaluated there
        values = ";".join(f"{v:.12g}" for v in pts.ravel()) + f"|{type(exc).__name__}: {exc}"
    digest = hashlib.sha256(f"{p.dim}|{values}".encode()).hexdigest()
    src = p.source
    if hasattr(src, "dist") and hasattr(src, "args") and hasattr(src, "kwds"):  # a scipy.stats frozen distribution
        args = [repr(a) for a in src.args] + [f"{k}={v!r}" for k, v in sorted(src.kwds.items())]
        text = f"scipy.stats.{getattr(src.dist, 'name', type(src.dist).__name__)}({', '.join(args)})"
    else:
        text = " ".join(repr(src).split())
    return {"type": type(p.source).__name__, "repr": text if len(text) <= 300 else text[:297] + "...",
            "dim": p.dim, "log_prob_sha256": digest}


def read_run_meta(out: str | Path) -> dict[str, Any]:
    """The contents of ``out/config.json``, checked to be a gan-theory run's.

    Raises
    ------
    RunDirectoryError
        If the file is missing, unreadable, not JSON, or not a run configuration of this
        version (the message names the file).
    """
    path = Path(out) / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunDirectoryError(f"resume: {path} not found: {Path(out)} holds no gan-theory run to resume; start the "
                                f"run without resume (and with overwrite if the directory is not empty)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunDirectoryError(f"resume: {path} cannot be read ({exc})") from exc
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise RunDirectoryError(f"resume: {path} is not valid JSON ({exc}); it is not a gan-theory run "
                                f"configuration") from exc
    if not isinstance(meta, dict) or meta.get("format") != _RUN_FORMAT or not isinstance(meta.get("config"), dict) \
            or not isinstance(meta.get("run_id"), str) or not isinstance(meta.get("target_fingerprint"), dict):
        raise RunDirectoryError(f"resume: {path} is not a gan-theory run configuration of this version (no "
                                f"'format': {_RUN_FORMAT!r} with 'config', 'run_id' and 'target_fingerprint'); "
                                f"a run written by an older version cannot be resumed, start it again")
    return meta


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a gan-theory checkpoint safely (``torch.load(..., weights_only=True)``, on the CPU).

    Only tensors, numbers, strings, lists, tuples and dicts are loaded: a file that holds
    anything else (a pickle with a ``__reduce__`` that would run code) is refused before any
    of it runs.

    Raises
    ------
    CheckpointError
        If the file cannot be read, is empty, is not a torch archive (random bytes, text),
        is truncated or corrupted, holds other objects, or is a torch file that is not a
        gan-theory checkpoint of this version. The message names the file and the fault.
    """
    path = Path(path)
    what = f"{path} is not a valid gan-theory checkpoint"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path} cannot be read ({exc})") from exc
    if not data:
        raise CheckpointError(f"{what}: the file is empty (0 bytes)")
    if not data.startswith(b"PK\x03\x04"):
        raise CheckpointError(f"{what}: it is not a torch archive (it starts with {data[:12]!r}, not the zip "
                              f"header a checkpoint starts with)")
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
        which = f" (it asks for {found.group(1)})" if found else ""
        raise CheckpointError(f"{path} is not a safe gan-theory checkpoint: it holds objects other than tensors, "
                              f"numbers, strings, lists and dicts{which}, which are not loaded: nothing in it was "
                              f"run; do not load it with weights_only=False") from None
    except Exception as exc:  # noqa: BLE001 - torch's zip reader raises RuntimeError, EOFError, ...
        raise CheckpointError(f"{what}: it cannot be read as a torch archive ({len(data)} bytes; truncated or "
                              f"corrupted?): {_first_line(exc)}") from None
    if not isinstance(state, dict) or state.get("format") != _CHECKPOINT_FORMAT:
        keys = sorted(map(str, state))[:8] if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(f"{what}: a torch file without the gan-theory checkpoint marker "
                              f"(format {_CHECKPOINT_FORMAT!r}); it holds {keys}")
    if state.get("version") != _CHECKPOINT_VERSION:
        raise CheckpointError(f"{what} of this version: version {state.get('version')!r}, expected "
                              f"{_CHECKPOINT_VERSION}")
    missing = [k for k in _CHECKPOINT_KEYS if k not in state]
    if missing:
        raise CheckpointError(f"{what}: entries {missing} are missing")
    metrics = state["metrics"]
    if not (isinstance(state["step"], int) and state["step"] >= 0 and isinstance(state["run_id"], str)
            and isinstance(metrics, dict) and isinstance(metrics.get("bytes"), int)
            and isinstance(metrics.get("records"), int) and isinstance(metrics.get("sha256"), str)
            and isinstance(state["config"], dict)):
        raise CheckpointError(f"{what}: its step, run id, config or metrics entries have the wrong types")
    return state
