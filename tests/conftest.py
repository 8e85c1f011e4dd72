"""Shared fixtures: paths of the repository and its configurations."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def schema_path(repo: Path) -> Path:
    return repo / "workflow" / "schemas" / "config.schema.yaml"
