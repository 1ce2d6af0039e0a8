"""What every suite shares: the environment record, the timing rules, strict JSON, plots.

Timing rules (issue 12): warm up first; on CUDA synchronise before reading a clock (CUDA
events time the device); report the median over repeats; quote ratios measured in the same
run, never absolute times from different runs.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["environment", "json_ready", "median_time", "plot_figure", "write_json"]


def _git_commit(root: Path) -> str | None:
    """The commit of the checkout holding ``root`` (None outside a git checkout, or without git)."""
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.strip()
    if out.returncode != 0 or len(text) != 40:
        return None
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=10, check=False)
    return text + ("+dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def environment(device: torch.device) -> dict[str, Any]:
    """Device name, library versions, thread count, date and git commit (None when unknown)."""
    import scipy

    from .._version import __version__

    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = f"cpu: {platform.processor() or platform.machine()}"
    return {
        "device": str(device), "device_name": name, "torch": torch.__version__, "cuda": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(), "scipy": scipy.__version__, "numpy": np.__version__,
        "python": platform.python_version(), "gan_theory": __version__, "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(), "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": _git_commit(Path(__file__).resolve().parent),
    }


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_time(fn: Callable[[], Any], device: torch.device, *, repeats: int = 5, number: int = 1,
                warmup: int = 1) -> dict[str, float]:
    """Median (and min, max) over ``repeats`` of the time per call of ``fn``, each repeat
    ``number`` calls, after ``warmup`` calls. On CUDA the device is timed with CUDA events
    after a synchronisation; on CPU with ``time.perf_counter``."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(number):
                fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3 / number)
        else:
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            times.append((time.perf_counter() - t0) / number)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "repeats": repeats,
            "number": number}


def json_ready(value: Any) -> Any:
    """``value`` with non-finite floats as ``None`` and NumPy/torch scalars as Python numbers
    (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, torch.Tensor):
        return json_ready(value.tolist())
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    return value


def write_json(path: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` as strict JSON (``allow_nan=False``), atomically."""
    text = json.dumps(json_ready(payload), indent=1, allow_nan=False) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def plot_figure(path: Path, draw: Callable[[Any], None], *, ncols: int = 1, width: float = 5.0) -> Path:
    """Draw a figure (``draw(axes)``, a row of ``ncols`` axes) with matplotlib's Agg backend
    (imported here only) and save it as PNG."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, 3.6), squeeze=False)
    try:
        draw(axes[0])
        fig.tight_layout()
        fig.savefig(path, dpi=80)
    finally:
        plt.close(fig)
    return path
