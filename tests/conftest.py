"""Shared fixtures.

Tests that need the benchmark/training images use the ``data_dir`` fixture:
``$SUPERRES_DATA`` or ``../shared/data``.  They skip when the data is absent,
except under CI (``CI`` set), where a missing data folder is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent.parent


def _data_dir() -> Path | None:
    env = os.environ.get("SUPERRES_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")
    for path in candidates:
        if (path / "benchmark").is_dir():
            return path
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = _data_dir()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but the data folder (../shared/data or $SUPERRES_DATA) is missing")
        pytest.skip("data folder ../shared/data not present")
    return path


@pytest.fixture(autouse=True)
def _deterministic_seed():
    torch.manual_seed(0)
    yield
