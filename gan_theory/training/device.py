"""Devices and versions: which torch device a run uses, and what it ran on.

:func:`resolve_device` turns a device name into a ``torch.device`` (refusing a device the
machine does not have); :func:`versions` and :func:`describe_device` are what a run records
in ``config.json`` and a report in its header.
"""

from __future__ import annotations

import platform

import numpy as np
import torch

from .._version import __version__
from .config import DEVICE_NAMES, check_device_name

__all__ = ["describe_device", "resolve_device", "versions"]


def resolve_device(device: str | torch.device, name: str = "device") -> torch.device:
    """The torch device for ``device``: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``,
    ``"cuda"`` or ``"cuda:N"``.

    Anything else (``"tpu"``, ``"mps"``, ``"garbage"``), or a CUDA device that this machine does
    not have, is a ``ValueError`` naming the argument (``name``: ``"--device"`` from the command
    line) and the accepted values.
    """
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

