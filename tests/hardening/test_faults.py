"""Faults: a killed run resumes with --rerun-incomplete, a transient failure recovers with
--retries, and the products are bit-identical to an undisturbed run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from wfhelpers import REPO, SNAKEMAKE, run_snakemake

pytestmark = pytest.mark.workflow


def _final_products(workdir: Path) -> dict[str, bytes]:
    res = workdir / "results" / "tiny"
    files = [res / "workspace.json", *sorted((res / "limits").glob("*.json"))]
    files += sorted((res / "fits").glob("*.json")) + sorted((res / "tables").glob("*.csv"))
    # provenance sidecars record host and time: not part of the result
    return {
        str(p.relative_to(res)): p.read_bytes() for p in files if not p.name.endswith(".prov.json")
    }


def test_sigkill_then_rerun_incomplete_is_bit_identical(tiny_run, tmp_path):
    cmd = [
        SNAKEMAKE,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--configfile",
        str(REPO / "config" / "tiny.yaml"),
        "--cores",
        "2",
    ]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # kill the whole process group while selection jobs are writing
    deadline = time.monotonic() + 300
    selection = tmp_path / "results" / "tiny" / "selection"
    while time.monotonic() < deadline and proc.poll() is None:
        if selection.exists() and any(selection.rglob("*.root")):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not (tmp_path / "results" / "tiny" / "workspace.json").exists()

    unlock = run_snakemake(tmp_path, "--unlock", "--cores", "1")
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    rerun = run_snakemake(tmp_path, "--rerun-incomplete", "--cores", "2")
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert _final_products(tmp_path) == _final_products(tiny_run)
    leftovers = [p for p in (tmp_path / "results").rglob("*.tmp")]
    assert leftovers == []


def test_transient_failure_recovers_with_retries(tiny_run, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(tiny_run, work, symlinks=True)
    shutil.rmtree(work / "results" / "tiny" / "fits")
    markers = tmp_path / "markers"
    env = {**os.environ, "EXONU_FAIL_ONCE": f"fit_signal:{markers}"}

    failing = run_snakemake(work, "--cores", "1", env=env)
    assert failing.returncode != 0
    assert "injected transient failure of rule fit_signal" in failing.stdout + failing.stderr
    assert not (work / "results" / "tiny" / "fits" / "magnetic_moment.json").exists()

    shutil.rmtree(markers)
    retried = run_snakemake(work, "--cores", "1", "--retries", "1", env=env)
    assert retried.returncode == 0, retried.stderr[-3000:]
    assert list(markers.iterdir()), "the fault was not injected"
    assert _final_products(work) == _final_products(tiny_run)
