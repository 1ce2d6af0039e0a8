"""The training loop: Algorithm 1 of Goodfellow et al. (2014) for an ensemble of toy GANs.

One :class:`Trainer` trains ``config.ensemble`` independent GANs in one batched computation
(weights with the ensemble as leading dimension; on CPU, members are processed in chunks of
``config.chunk``). Member ``i`` draws every random number (initialisation, data, latent noise)
from its own generator seeded with ``config.member_seeds[i]``, so its run does not depend on
the other members: trained alone with the same seed, it follows the same trajectory (to
rounding).

Every ``log_every`` steps each member is measured against the theory with the exact engine:
C(G) and JSD (exact when the generator's density is), ``||D - D*||_m`` and the sup of
``|D - D*|`` on the central 99% region, the minibatch estimate of V beside its quadrature
value, and the gradient norms. A member whose loss, gradients or parameters become
non-finite is stopped (its parameters keep their last finite values) with a recorded reason;
the others go on.

The run directory (``out``) and what is promised about it:

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
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import pickle
import platform
import re
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__
from .._checks import check_flag
from .._torchconv import rebuild
from ..densities import Density, DensityLike, as_density
from ..discriminator import discriminator_error, discriminator_sup_error
from ..divergences import jsd
from ..results import AccuracyError
from ..value import criterion, value_function
from .config import TrainConfig
from .ensemble import EnsembleMLP
from .generators import AffineGenerator, MLPGenerator
from .grid import LOG4, GridGenerator
from .losses import discriminator_loss, generator_loss, minibatch_value
from .optim import EnsembleAdam, EnsembleSGD
from .sampling import sampler

__all__ = ["Trainer", "TrainResult", "train", "resolve_device", "CheckpointError", "RunDirectoryError",
           "RunWriteError", "load_checkpoint", "read_run_meta", "target_fingerprint"]

_F64 = torch.float64


def resolve_device(device: str | torch.device, name: str = "device") -> torch.device:
    """The torch device for ``device``: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``,
    ``"cuda"`` or ``"cuda:N"``.

    Anything else (``"tpu"``, ``"mps"``, ``"garbage"``), or a CUDA device that this machine does
    not have, is a ``ValueError`` naming the argument (``name``: ``"--device"`` from the command
    line) and the accepted values.
    """
    from .config import DEVICE_NAMES, check_device_name

    if isinstance(device, torch.device):
        device = str(device)
    check_device_name(name, device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name}: {device!r} was asked for, but CUDA is not available on this machine; "
                             f"use 'auto' or 'cpu' (accepted values: {DEVICE_NAMES})")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"{name}: {device!r} was asked for, but this machine has {count} CUDA device(s) "
                             f"(cuda:0 to cuda:{count - 1}); use one of them (accepted values: {DEVICE_NAMES})")
    return dev


def versions() -> dict[str, str]:
    """Library versions, for reproducing a run or a report."""
    import scipy

    return {"gan_theory": __version__, "torch": torch.__version__, "numpy": np.__version__,
            "scipy": scipy.__version__, "python": platform.python_version()}


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"cpu: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


# ---------------------------------------------------------------------- the run directory
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


class _Chunk(torch.nn.Module):
    """A sub-ensemble: members ``start .. start + size - 1``, with their own modules and
    optimizers (chunking keeps CPU working sets small without slicing parameters)."""

    def __init__(self, start: int, size: int, generator: torch.nn.Module, discriminator: EnsembleMLP | None,
                 opt_g, opt_d) -> None:
        super().__init__()
        self.start, self.size = start, size
        self.generator, self.discriminator = generator, discriminator
        self.opt_g, self.opt_d = opt_g, opt_d


class MemberGenerator:
    """Member ``i``'s trained generator as a callable: latent ``z`` (n, latent_dim) to samples
    (n,) in 1-D or (n, 2) in 2-D (float64, detached), with ``density()`` giving its density."""

    def __init__(self, trainer: Trainer, i: int) -> None:
        self._trainer, self.member = trainer, i
        self._chunk, self._j = trainer._locate(i)

    @property
    def latent_dim(self) -> int:
        return self._chunk.generator.latent_dim

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        gen = self._chunk.generator
        if isinstance(gen, GridGenerator):
            raise TypeError("the grid generator is a density on a grid, not a map from a latent space")
        z = torch.as_tensor(z).to(self._trainer.device, self._trainer.dtype).reshape(-1, gen.latent_dim)
        zz = torch.zeros((self._chunk.size,) + tuple(z.shape), dtype=z.dtype, device=z.device)
        zz[self._j] = z
        with torch.no_grad():
            x = gen(zz)[self._j].to("cpu", _F64)
        return x[:, 0] if self._trainer.dim == 1 else x

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` samples, drawing the latent from ``generator``."""
        return self(torch.randn(n, self.latent_dim, generator=generator, dtype=_F64))

    def density(self):
        """The member's density (float64 torch distribution; for the MLP generator in 2-D, a
        kernel density estimate)."""
        return self._chunk.generator.member_density(self._j)


class MemberDiscriminator:
    """Member ``i``'s trained discriminator: ``x -> D(x)`` in [0, 1] (float64), ``logits(x)``,
    and, for a piecewise-linear network, ``kinks(x)``: its hidden pre-activations (n, h), whose
    sign changes are where it is not smooth (the quadrature splits cells there)."""

    def __init__(self, net: EnsembleMLP, dim: int) -> None:
        self.net, self.dim = net, dim
        self.kinks = self._kinks if net.piecewise_linear else None

    def _kinks(self, x) -> np.ndarray:
        x = torch.as_tensor(x, dtype=_F64)
        with torch.no_grad():
            return self.net.preactivations(x.reshape(1, -1, self.dim))[0].numpy()

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=_F64)
        shape = x.shape if self.dim == 1 else x.shape[:-1]
        with torch.no_grad():
            out = self.net(x.reshape(1, -1, self.dim))
        return out.reshape(shape)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))


class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    config : TrainConfig
    history : list of dict
        Every metrics record, in order (``step``, ``member``, ``criterion``, ``jsd``,
        ``d_error``, ``wall_time``, ...), exactly as in ``metrics.jsonl``: JSON values, with
        ``None`` for a NaN or infinite number (a diverged member's loss or gradient norm).
    final : list of dict
        The last record of each member.
    stopped : dict
        ``member -> reason`` for members stopped on a non-finite value.
    generators : list of MemberGenerator
    discriminators : list of MemberDiscriminator or None
        ``None`` entries when the discriminator is the exact D*.
    out : Path or None
        The run directory.
    """

    def __init__(self, trainer: Trainer) -> None:
        self.config = trainer.config
        self.history = list(trainer.history)
        last: dict[int, dict] = {}
        for rec in self.history:
            last[rec["member"]] = rec
        self.final = [last[i] for i in sorted(last)]
        self.stopped = dict(trainer.stopped)
        self.out = trainer.out
        self.device = str(trainer.device)
        self.train_time = trainer.train_time
        self.generators = [MemberGenerator(trainer, i) for i in range(trainer.n_members)]
        self.discriminators = [trainer.member_discriminator(i) for i in range(trainer.n_members)]
        self._trainer = trainer

    def __repr__(self) -> str:
        return (f"TrainResult({self.config.ensemble} member(s), {len(self.history)} records, "
                f"stopped={self.stopped}, out={str(self.out) if self.out else None!r})")


class Trainer:
    """Trains ``config.ensemble`` toy GANs on ``p_data`` in one batched computation.

    Parameters
    ----------
    p_data : density
        Any density the engine accepts, or a toy name.
    config : TrainConfig
    out : path, optional
        Run directory: ``config.json``, ``metrics.jsonl``, ``checkpoint.pt`` (formats and
        guarantees: the module docstring; :meth:`run` says when a directory is refused).
    target : dict, optional
        How ``p_data`` was named (``{"name": "ring", "params": {...}}``), stored in
        ``config.json`` so that ``--resume`` can rebuild it.
    """

    def __init__(self, p_data: DensityLike, config: TrainConfig, *, out: str | Path | None = None,
                 target: dict | None = None) -> None:
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config: expected a gan_theory.TrainConfig, got {type(config).__name__}")
        if isinstance(p_data, str):
            from .. import toys

            target = target or {"name": p_data, "params": {}}
            p_data = toys.make(p_data)
        self.p_data: Density = as_density(p_data, "p_data")
        self.dim = self.p_data.dim
        config = config.resolve(self.dim)  # generator "auto" and the recipe fields (training/recipes.py)
        self.config = config
        if config.dim is not None and config.dim != self.dim:
            raise ValueError(f"dim: the models are configured for {config.dim}-D data but the target is "
                             f"{self.dim}-D (a {config.dim}-D {config.generator} generator cannot model it)")
        if config.discriminator == "optimal" and config.generator == "mlp":
            raise ValueError("discriminator: the optimal discriminator needs an exact generator density; use "
                             "generator 'affine', 'flow' or 'grid' with it, or an 'mlp' discriminator")
        self.device = resolve_device(config.device)
        self.dtype = torch.float32 if config.dtype == "float32" else torch.float64
        self.target = target
        self.n_members = config.ensemble
        self.rngs = [torch.Generator().manual_seed(s) for s in config.member_seeds]
        self.sample_data = sampler(self.p_data)
        self.data_dist = None
        if config.discriminator == "optimal" and config.generator != "grid":
            self.data_dist = rebuild(self.p_data.dist, self.dtype, self.device)
        chunk = config.chunk if (config.chunk and self.device.type == "cpu") else self.n_members
        self.chunks = [self._build_chunk(s, min(chunk, self.n_members - s)) for s in range(0, self.n_members, chunk)]
        self.step_count = 0
        self.active = torch.ones(self.n_members, dtype=torch.bool)
        self.stopped: dict[int, str] = {}
        self.history: list[dict[str, Any]] = []
        self.train_time = 0.0
        self._last: dict[str, torch.Tensor] = {}
        self.out = Path(out) if out is not None else None
        self.run_id: str | None = None
        self._metrics_fd: int | None = None
        self._metrics_sha = hashlib.sha256()
        self._metrics_bytes = 0
        self._checkpoint_metrics_bytes = 0
        self._checkpoint_step: int | None = None

    # ------------------------------------------------------------------ construction
    def _build_chunk(self, start: int, size: int) -> _Chunk:
        cfg, dim = self.config, self.dim
        kw = {"dtype": self.dtype, "device": self.device}
        rngs = self.rngs[start:start + size]
        if cfg.generator == "affine":
            gen = AffineGenerator(size, dim, **kw)
        elif cfg.generator == "mlp":
            gen = MLPGenerator(size, dim, cfg.latent_dim or dim, cfg.g_hidden, cfg.g_activation, **kw)
        elif cfg.generator == "flow":
            from .flows import FlowGenerator

            gen = FlowGenerator(size, dim, n_bins=cfg.flow_bins, n_layers=cfg.flow_layers, **kw)
        elif cfg.generator == "mixture":
            from .mixture import MixtureGenerator

            gen = MixtureGenerator(size, dim, cfg.mixture_components or 8, **kw)
        else:
            gen = GridGenerator(size, self.p_data, cfg.grid_points, cfg.init_loc, cfg.init_scale, **kw)
        gen.reset_parameters(rngs, cfg.init_loc, cfg.init_scale)
        disc = None
        if cfg.discriminator == "mlp":
            disc = EnsembleMLP(size, (dim, *cfg.d_hidden, 1), cfg.d_activation, **kw)
            disc.reset_parameters(rngs)
        lr_g = torch.tensor(cfg.member_lr_g[start:start + size], dtype=_F64)
        lr_d = torch.tensor(cfg.member_lr_d[start:start + size], dtype=_F64)
        opt_g = self._optimizer(list(gen.parameters()), lr_g)
        opt_d = self._optimizer(list(disc.parameters()), lr_d) if disc is not None else None
        chunk = _Chunk(start, size, gen, disc, opt_g, opt_d)
        chunk.base_lr_g, chunk.base_lr_d = opt_g.lr.clone(), (opt_d.lr.clone() if opt_d is not None else None)
        return chunk

    def _optimizer(self, params, lr):
        if self.config.optimizer == "adam":
            return EnsembleAdam(params, lr, betas=self.config.betas)
        return EnsembleSGD(params, lr, momentum=self.config.momentum)

    def _locate(self, i: int) -> tuple[_Chunk, int]:
        for c in self.chunks:
            if c.start <= i < c.start + c.size:
                return c, i - c.start
        raise IndexError(f"member: expected 0 <= member < {self.n_members}, got {i}")

    def member_discriminator(self, i: int) -> MemberDiscriminator | None:
        chunk, j = self._locate(i)
        if chunk.discriminator is None:
            return None
        return MemberDiscriminator(chunk.discriminator.member(j, dtype=_F64).cpu(), self.dim)

    # ------------------------------------------------------------------ one step
    def _noise(self, chunk: _Chunk, n: int, latent: int) -> torch.Tensor:
        z = torch.stack([torch.randn(n, latent, generator=g, dtype=self.dtype)
                         for g in self.rngs[chunk.start:chunk.start + chunk.size]])
        return z.to(self.device)

    def _real(self, chunk: _Chunk, n: int) -> torch.Tensor:
        x = torch.stack([self.sample_data(n, g) for g in self.rngs[chunk.start:chunk.start + chunk.size]])
        return x.reshape(chunk.size, n, self.dim).to(self.device, self.dtype)

    def _optimal_logits(self, chunk: _Chunk, x: torch.Tensor) -> torch.Tensor:
        lp = self.data_dist.log_prob(x[..., 0] if self.dim == 1 else x)
        lq = chunk.generator.log_prob(x)
        a, b = self.config.real_label, self.config.fake_label
        if (a, b) == (1.0, 0.0):
            return lp - lq
        num = torch.logaddexp(lp + math.log(a) if a > 0 else lp - math.inf, lq + math.log(b) if b > 0 else lq - math.inf)
        den = torch.logaddexp(lp + math.log1p(-a) if a < 1 else lp - math.inf,
                              lq + math.log1p(-b) if b < 1 else lq - math.inf)
        return num - den

    def _apply(self, chunk: _Chunk, opt, params: list[torch.Tensor], loss: torch.Tensor, what: str) -> torch.Tensor:
        """Backpropagate the sum of member losses, stop members with non-finite values, step;
        returns the members' gradient norms.

        The checks cost one reduction per parameter tensor: a non-finite loss or gradient shows
        in the member's squared gradient norm. An update can only overflow with SGD, so only
        then are the parameters kept to be restored.
        """
        grads = torch.autograd.grad(loss.sum(), params, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]
        sl = slice(chunk.start, chunk.start + chunk.size)
        sq = sum(g.detach().reshape(g.shape[0], -1).square().sum(1, dtype=torch.float64) for g in grads)
        finite = (torch.isfinite(sq) & torch.isfinite(loss.detach())).cpu()
        if not bool(finite.all()):
            for j in torch.nonzero(~finite & self.active[sl]).flatten().tolist():
                self._stop(chunk.start + j, f"non-finite {what} loss or gradient ({float(loss[j].detach())})")
            grads = [torch.where(torch.isfinite(g), g, torch.zeros_like(g)) for g in grads]
        for p, g in zip(params, grads):
            p.grad = g
        active = self.active[sl]
        before = [p.detach().clone() for p in params] if isinstance(opt, EnsembleSGD) else None
        opt.step(None if bool(active.all()) else active.to(self.device))
        opt.zero_grad()
        if before is not None:
            ok = torch.isfinite(sum(p.detach().reshape(p.shape[0], -1).sum(1, dtype=torch.float64) for p in params)).cpu()
            if not bool(ok.all()):
                with torch.no_grad():
                    for p, b in zip(params, before):
                        bad = (~ok).to(self.device).reshape((-1,) + (1,) * (p.dim() - 1))
                        p.copy_(torch.where(bad, b, p))
                for j in torch.nonzero(~ok & self.active[sl]).flatten().tolist():
                    self._stop(chunk.start + j, f"non-finite {what} parameters after the update")
        return torch.sqrt(sq).cpu()

    def _stop(self, member: int, reason: str) -> None:
        self.active[member] = False
        self.stopped[member] = f"step {self.step_count + 1}, member {member}: {reason}"

    def _schedule(self) -> None:
        factor = self.config.lr_factor(self.step_count)
        for c in self.chunks:
            c.opt_g.lr = c.base_lr_g * factor
            if c.opt_d is not None:
                c.opt_d.lr = c.base_lr_d * factor

    def step(self, before_generator_step: Callable[[Trainer], None] | None = None) -> None:
        """One generator step, preceded by ``d_steps`` discriminator steps (Algorithm 1).

        ``before_generator_step(trainer)``, if given, is called after the discriminator steps
        of every member and before the generator steps (to measure D just before G moves).
        Otherwise each chunk's generator step follows its own discriminator steps.
        """
        self._schedule()
        out = {"loss_d": [], "v_minibatch": [], "grad_norm_d": [], "loss_g": [], "grad_norm_g": []}
        if before_generator_step is None:
            for chunk in self.chunks:
                self._d_chunk(chunk, out)
                self._g_chunk(chunk, out)
        else:
            for chunk in self.chunks:
                self._d_chunk(chunk, out)
            before_generator_step(self)
            for chunk in self.chunks:
                self._g_chunk(chunk, out)
        self.step_count += 1
        self._last = {k: torch.cat(v) for k, v in out.items() if v}

    def _d_chunk(self, chunk: _Chunk, out: dict[str, list]) -> None:
        """``d_steps`` discriminator steps of one chunk (nothing for the exact D*)."""
        cfg, gen, disc = self.config, chunk.generator, chunk.discriminator
        if disc is None:
            return
        b = cfg.batch_size
        for _ in range(cfg.d_steps):
            real = self._real(chunk, b)
            w = None
            with torch.no_grad():
                if hasattr(gen, "weighted_sample"):  # EXPERIMENTAL loop patch
                    fake, w = gen.weighted_sample(self._noise(chunk, b, gen.latent_dim))
                else:
                    fake = gen(self._noise(chunk, b, gen.latent_dim))
            if cfg.r1_gamma > 0:
                real.requires_grad_(True)
            lr_, lf = disc(real)[..., 0], disc(fake)[..., 0]
            if w is None:
                loss_d = discriminator_loss(lr_, lf, cfg.real_label, cfg.fake_label)
            else:
                from .losses import softplus as _sp
                real_t = cfg.real_label * _sp(-lr_) + (1.0 - cfg.real_label) * _sp(lr_)
                fake_t = cfg.fake_label * _sp(-lf) + (1.0 - cfg.fake_label) * _sp(lf)
                loss_d = real_t.mean(-1) + (w * fake_t).sum(-1)
            if cfg.r1_gamma > 0:
                (gx,) = torch.autograd.grad(lr_.sum(), real, create_graph=True)
                loss_d = loss_d + 0.5 * cfg.r1_gamma * gx.square().sum(-1).mean(-1)
            norms = self._apply(chunk, chunk.opt_d, list(disc.parameters()), loss_d, "discriminator")
        out["loss_d"].append(loss_d.detach().cpu())
        out["v_minibatch"].append(minibatch_value(lr_, lf).detach().cpu())
        out["grad_norm_d"].append(norms)

    def _g_chunk(self, chunk: _Chunk, out: dict[str, list]) -> None:
        """One generator step of one chunk (a functional-gradient step for the grid generator)."""
        gen, disc = chunk.generator, chunk.discriminator
        if isinstance(gen, GridGenerator):
            gen.logits.grad = gen.functional_gradient()
            chunk.opt_g.step(self.active[chunk.start:chunk.start + chunk.size].to(self.device))
            chunk.opt_g.zero_grad()
            return
        if hasattr(gen, "weighted_sample"):  # EXPERIMENTAL loop patch
            x, w = gen.weighted_sample(self._noise(chunk, self.config.batch_size, gen.latent_dim))
        else:
            x, w = gen(self._noise(chunk, self.config.batch_size, gen.latent_dim)), None
        logits = disc(x)[..., 0] if disc is not None else self._optimal_logits(chunk, x)
        if w is None:
            loss_g = generator_loss(logits, self.config.loss)
        else:
            from .losses import softplus as _sp
            per = _sp(-logits) if self.config.loss == "non_saturating" else -_sp(logits)
            loss_g = (w * per).sum(-1)
        out["grad_norm_g"].append(self._apply(chunk, chunk.opt_g, list(gen.parameters()), loss_g, "generator"))
        out["loss_g"].append(loss_g.detach().cpu())

    # ------------------------------------------------------------------ metrics
    def measure(self, wall_time: float) -> list[dict[str, Any]]:
        """One record per member, computed with the exact engine."""
        records = []
        atol = self.config.quadrature_atol
        for chunk in self.chunks:
            gen = chunk.generator
            if isinstance(gen, GridGenerator):
                with torch.no_grad():
                    c = gen.criterion().to("cpu", _F64)
                for j in range(chunk.size):
                    i = chunk.start + j
                    records.append(self._record(i, wall_time, {
                        "criterion": float(c[j]), "jsd": (float(c[j]) + LOG4) / 2, "d_error": 0.0,
                        "exact": True, "note": "discrete criterion on the grid; D is the exact D*"}))
                continue
            for j in range(chunk.size):
                i = chunk.start + j
                if not bool(self.active[i]) and any(r["member"] == i and r.get("status") != "ok" for r in self.history):
                    continue
                records.append(self._measure_member(chunk, j, wall_time, atol))
        return records

    def _record(self, i: int, wall_time: float, values: dict[str, Any]) -> dict[str, Any]:
        rec = {"step": self.step_count, "member": i, "seed": self.config.member_seeds[i]}
        rec.update(values)
        for key, v in self._last.items():
            rec.setdefault(key, float(v[i]) if v.numel() > i else None)
        rec["status"] = "ok" if bool(self.active[i]) else f"stopped ({self.stopped.get(i, '')})"
        rec["wall_time"] = wall_time
        rec["train_time"] = self.train_time
        return rec

    def _measure_member(self, chunk: _Chunk, j: int, wall_time: float, atol: float) -> dict[str, Any]:
        i = chunk.start + j
        cfg = self.config
        gen = chunk.generator
        values: dict[str, Any] = {}
        try:
            p_g = gen.member_density(j)
            values["exact"] = bool(gen.exact_density)
            c = criterion(self.p_data, p_g, atol=atol, rtol=0.0)
            values.update(criterion=c.value, criterion_error=c.error)
            js = jsd(self.p_data, p_g, atol=atol, rtol=0.0)
            values.update(jsd=js.value, jsd_error=js.error)
            if chunk.discriminator is not None:
                d = self.member_discriminator(i)
                natol = cfg.network_quadrature_atol
                de = discriminator_error(d, self.p_data, p_g, real_label=cfg.real_label, fake_label=cfg.fake_label,
                                         atol=natol, rtol=0.0)
                values.update(d_error=de.value, d_error_bound=de.error)
                values["d_sup_error"] = discriminator_sup_error(d, self.p_data, p_g, real_label=cfg.real_label,
                                                                fake_label=cfg.fake_label)
                v = value_function(d, self.p_data, p_g, atol=natol, rtol=0.0)
                values.update(v_quadrature=v.value, v_quadrature_error=v.error)
            else:
                values.update(d_error=0.0, v_quadrature=c.value)
            if hasattr(gen, "summary"):
                values["generator"] = gen.summary(j)
        except (AccuracyError, ValueError) as exc:
            values["metrics_error"] = f"{type(exc).__name__}: {exc}"
        return self._record(i, wall_time, values)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """The run's state: tensors, numbers, strings, lists and dicts only (what
        ``torch.load(..., weights_only=True)`` loads), with the run's id and the length and
        SHA-256 of the metrics written so far."""
        return {
            "format": _CHECKPOINT_FORMAT,
            "version": _CHECKPOINT_VERSION,
            "run_id": self.run_id or "",
            "step": self.step_count,
            "chunks": [c.state_dict() for c in self.chunks],
            "opt_g": [c.opt_g.state_dict() for c in self.chunks],
            "opt_d": [c.opt_d.state_dict() if c.opt_d is not None else None for c in self.chunks],
            "rngs": [g.get_state() for g in self.rngs],
            "active": self.active.clone(),
            "stopped": dict(self.stopped),
            "train_time": self.train_time,
            "last": dict(self._last),
            "config": self.config.to_dict(),
            "metrics": {"bytes": self._metrics_bytes, "records": len(self.history),
                        "sha256": self._metrics_sha.hexdigest()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the state saved by :meth:`state_dict` (same configuration)."""
        if TrainConfig.from_dict(state["config"]) != self.config:
            raise ValueError("resume: the checkpoint was written with a different configuration")
        if len(state["chunks"]) != len(self.chunks) or len(state["rngs"]) != len(self.rngs):
            raise ValueError(f"resume: the checkpoint holds {len(state['chunks'])} chunk(s) and {len(state['rngs'])} "
                             f"member(s), this run has {len(self.chunks)} and {len(self.rngs)}")
        self.step_count = int(state["step"])
        for c, s, og, od in zip(self.chunks, state["chunks"], state["opt_g"], state["opt_d"]):
            c.load_state_dict(s)
            c.opt_g.load_state_dict(og)
            if od is not None:
                c.opt_d.load_state_dict(od)
        for g, s in zip(self.rngs, state["rngs"]):
            g.set_state(s)
        self.active = state["active"].clone().to(torch.bool)
        self.stopped = {int(k): v for k, v in state["stopped"].items()}
        self.train_time = float(state["train_time"])
        self._last = dict(state["last"])

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
            _write_atomically(path, buf.getvalue())
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
        _write_atomically(self.out / CONFIG_FILE, data)

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
            _fsync_dir(out)
            self.run_id = uuid.uuid4().hex
            self._write_config()
            _write_atomically(out / METRICS_FILE, b"")
        except OSError as exc:
            raise RunWriteError(exc.errno, f"out: the run directory {out} could not be prepared "
                                           f"({exc.strerror or exc}); nothing was trained: fix the cause (free disk "
                                           f"space) and start the run again") from exc

    def _resume_from_disk(self) -> None:
        """Load the run in ``out``: check config.json, load the checkpoint (if any) and keep the
        metrics written before it."""
        out = self.out
        meta = read_run_meta(out)
        saved = meta["config"]
        mine = self.config.to_dict()
        if saved != mine:
            diff = [k for k in sorted(set(saved) | set(mine)) if saved.get(k) != mine.get(k)]
            shown = "; ".join(f"{k}: {saved.get(k)!r} in the run, {mine.get(k)!r} asked" for k in diff[:5])
            raise RunDirectoryError(f"resume: the checkpoint was written with a different configuration "
                                    f"({out / CONFIG_FILE}: {shown}); resume with the run's own configuration (train(p_data, out=..., "
                                    f"resume=True) without a config reads it), or start a new run elsewhere")
        fp, fp_mine = meta["target_fingerprint"], target_fingerprint(self.p_data)
        if fp.get("log_prob_sha256") != fp_mine["log_prob_sha256"]:
            raise RunDirectoryError(f"resume: the run in {out} was trained on another target: {out / CONFIG_FILE} "
                                    f"records {fp.get('repr')!r}"
                                    f"{' (toy ' + repr(meta['target']) + ')' if meta.get('target') else ''}, this "
                                    f"call passes {fp_mine['repr']!r} (their log-densities differ: fingerprints "
                                    f"{str(fp.get('log_prob_sha256'))[:12]} and {fp_mine['log_prob_sha256'][:12]}); "
                                    f"resume with the same target, or start a new run elsewhere")
        self.run_id = meta["run_id"]
        if self.target is None and meta.get("target"):
            self.target = meta["target"]
        for name in _TMP_FILES:  # left by a kill in the middle of a write: never valid
            with contextlib.suppress(OSError):
                (out / name).unlink()
        ckpt = out / CHECKPOINT_FILE
        if ckpt.exists():
            state = load_checkpoint(ckpt)
            if state["run_id"] != self.run_id:
                raise RunDirectoryError(f"resume: {ckpt} belongs to another run than {out / CONFIG_FILE} (run ids "
                                        f"{state['run_id'][:12]} and {self.run_id[:12]}); the directory mixes two "
                                        f"runs: start again with overwrite=True (--overwrite)")
            if state["config"] != saved:  # config.json edited after the checkpoint was written
                diff = [k for k in sorted(set(saved) | set(state["config"]))
                        if saved.get(k) != state["config"].get(k)]
                shown = "; ".join(f"{k}: {state['config'].get(k)!r} in the checkpoint, {saved.get(k)!r} in "
                                  f"{CONFIG_FILE}" for k in diff[:5])
                raise RunDirectoryError(f"resume: {out / CONFIG_FILE} was changed after {ckpt} was written ({shown}); "
                                        f"restore it, or start a new run with the new configuration elsewhere")
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
                                    f"written before the checkpoint at step {self.step_count} ({len(data)} bytes, "
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
                _write_atomically(metrics, kept)
            except OSError as exc:
                raise RunWriteError(exc.errno, f"resume: {metrics} could not be rewritten ({exc.strerror or exc}); "
                                               f"it is unchanged") from exc
        self.history = history
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
                    _write_bytes(self._metrics_fd, line)
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
        :mod:`gan_theory.training.loop` for their formats and guarantees). A new run needs
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
