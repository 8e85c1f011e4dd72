"""Run the real Snakemake workflow on the tiny configuration, once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def run_snakemake(
    workdir: Path, *args: str, configfile: str = "config/tiny.yaml", timeout: int = 900
) -> subprocess.CompletedProcess[str]:
    """``snakemake`` on the repository's Snakefile with outputs under ``workdir``."""
    cmd = [
        SNAKEMAKE,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(REPO / configfile),
        *args,
    ]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """Work directory holding a complete run of config/tiny.yaml."""
    workdir = tmp_path_factory.mktemp("tiny")
    proc = run_snakemake(workdir, "--cores", "2")
    if proc.returncode != 0:
        pytest.fail(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return workdir
