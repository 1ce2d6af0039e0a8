"""The old import path of the trainer, kept so that code written against it still imports.

The trainer is split by job (issue 10): :mod:`.steps` (the discriminator and generator steps),
:mod:`.metrics` (per-member metrics), :mod:`.members` (public access to a member's models),
:mod:`.trainer` (the ensemble in memory), :mod:`.rundir` (the run directory's files) and
:mod:`.run` (runs, checkpoints, resume, :func:`train`). Import from those; this module only
re-exports their public names.
"""

from .device import describe_device, resolve_device, versions
from .members import Member, MemberDiscriminator, MemberGenerator, TrainResult
from .run import Trainer, train
from .rundir import (CheckpointError, RunDirectoryError, RunWriteError, load_checkpoint, read_run_meta, record_line,
                     target_fingerprint)

__all__ = ["CheckpointError", "Member", "MemberDiscriminator", "MemberGenerator", "RunDirectoryError", "RunWriteError",
           "TrainResult", "Trainer", "describe_device", "load_checkpoint", "read_run_meta", "record_line",
           "resolve_device", "target_fingerprint", "train", "versions"]
