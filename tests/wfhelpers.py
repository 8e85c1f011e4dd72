"""Helpers for tests that run the real Snakemake workflow."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def run_snakemake(
    workdir: Path,
    *args: str,
    configfile: str | Sequence[str] = "config/tiny.yaml",
    timeout: int = 900,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``snakemake`` on the repository's Snakefile with outputs under ``workdir``
    (``configfile=()``: no config file, the embedded default ``exonu:default``)."""
    files = [str(REPO / c) for c in ([configfile] if isinstance(configfile, str) else configfile)]
    cmd = [
        SNAKEMAKE,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        *(["--configfile", *files] if files else []),
        *args,
    ]
    full_env = {**(env or os.environ), "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=workdir
    )
