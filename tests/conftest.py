"""Test configuration: the ``--slow`` flag, the ``gpu`` marker, and shared helpers."""

from __future__ import annotations

import pytest
import torch


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False,
                     help="also run the tests marked slow (long trainings and full proof checks)")


def pytest_collection_modifyitems(config, items):
    skip_slow = pytest.mark.skip(reason="slow: run with `pytest --slow`")
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--slow"):
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)


# Property tests are derandomized: the same examples on every run, so a CI failure reproduces.
from hypothesis import settings  # noqa: E402

settings.register_profile("gan-theory", derandomize=True, deadline=None, max_examples=25)
settings.load_profile("gan-theory")
