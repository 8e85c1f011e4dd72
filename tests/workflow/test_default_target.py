"""The default target holds every product the README lists: a deleted one is made again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from wfhelpers import run_snakemake

pytestmark = pytest.mark.workflow


@pytest.mark.parametrize(
    "product",
    [
        "results/tiny/workspace.json",
        "results/tiny/signals/magnetic_moment.json",
        "results/tiny/events/data/data/chunk_000.root",
        "results/tiny/hists/xe_kr85.json",
    ],
)
def test_deleted_product_is_made_again(tiny_run: Path, tmp_path: Path, product: str) -> None:
    work = tmp_path / "w"
    shutil.copytree(tiny_run, work, symlinks=True)
    proc = run_snakemake(work, "--dry-run", "--cores", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Nothing to be done" in proc.stdout + proc.stderr, "the copy is not up to date"
    (work / product).unlink()
    proc = run_snakemake(work, "--dry-run", "--cores", "1")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-2000:]
    assert "Nothing to be done" not in out, f"deleting {product} is not noticed"
    assert product in out
