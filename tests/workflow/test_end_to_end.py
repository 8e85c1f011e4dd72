"""End to end: the real workflow on config/tiny.yaml, from simulation to limit and figure."""

from __future__ import annotations

import json

import pytest
from wfhelpers import run_snakemake

from exonu.io.root import inspect_file
from exonu.stats.workspace import load_workspace

pytestmark = pytest.mark.workflow


def test_products_exist_and_make_sense(tiny_run):
    res = tiny_run / "results" / "tiny"
    limit = json.loads((res / "fits" / "magnetic_moment.json").read_text())
    assert limit["parameter"] == "mu_nu" and limit["unit"] == "mu_B"
    assert limit["method"] == "bayesian" and limit["cl"] == pytest.approx(0.9)
    # a tiny exposure: the limit is positive, finite and far above nothing-observed nonsense
    assert 1e-11 < limit["upper_limit"] < 1e-8
    assert (res / "figures" / "magnetic_moment_fit.png").stat().st_size > 10_000
    ws = load_workspace(res / "workspace.json")
    assert ws.digest() == limit["workspace_digest"]
    assert ws.n_bins == 99 and int(ws.observed.sum()) > 0
    assert {b.name for b in ws.backgrounds} == {"cu_pb210", "xe_kr85", "xe_c14", "solar_nu"}
    info = inspect_file(res / "events" / "data" / "data" / "chunk_000.root", expected_kind="data")
    assert info.num_entries > 0
    cutflow = (res / "tables" / "cutflow.md").read_text()
    assert "r_pe_fiducial" in cutflow and "signal_flat" in cutflow


def test_second_run_has_nothing_to_do(tiny_run):
    proc = run_snakemake(tiny_run, "--dry-run", "--cores", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_dry_run_shows_dag(tmp_path):
    proc = run_snakemake(tmp_path, "--dry-run", "--cores", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    for rule in (
        "simulate",
        "select",
        "merge",
        "workspace",
        "fit_signal",
        "scan_shard",
        "fit_figure",
    ):
        assert rule in proc.stdout


def test_lint_is_clean(tmp_path):
    proc = run_snakemake(tmp_path, "--lint", configfile=())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Congratulations" in proc.stdout + proc.stderr


def test_bad_config_fails_before_any_job(tmp_path):
    # a misspelled key in a file layered over tiny.yaml (a second 'fit:' in the same file
    # would be refused earlier, as a duplicate key)
    bad = tmp_path / "bad.yaml"
    bad.write_text("fit: {methd: profile}\n")
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=["config/tiny.yaml", str(bad)])
    assert proc.returncode != 0
    assert "fit.methd" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


def test_provenance_of_a_limit_reaches_the_event_files(tiny_run):
    import subprocess
    import sys
    from pathlib import Path

    exonu = str(Path(sys.executable).with_name("exonu"))
    product = "results/tiny/limits/millicharge.json"
    proc = subprocess.run(
        [exonu, "provenance", "--json", product], cwd=tiny_run, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    chain = json.loads(proc.stdout)
    top = chain[0]["provenance"]
    for key in (
        "git",
        "exonu_version",
        "config_digest",
        "inputs",
        "seeds",
        "versions",
        "rule",
        "wildcards",
        "host",
        "time_utc",
        "sha256",
        "job",
    ):
        assert key in top, key
    assert top["rule"] == "scan_gather_millicharge" and top["seeds"]
    for pkg in ("snakemake", "uproot", "awkward", "numba", "numpy", "scipy", "iminuit", "hist"):
        assert top["versions"][pkg]
    event_files = [c for c in chain if "/events/" in c["path"] and c["provenance"]]
    assert event_files and all(c["provenance"]["rule"] == "simulate" for c in event_files)
    assert {c["path"].split("/")[3] for c in event_files} >= {"data", "signal", "background"}
    text = subprocess.run(
        [exonu, "provenance", product], cwd=tiny_run, capture_output=True, text=True
    ).stdout
    assert "rule simulate" in text and "results/tiny/workspace.json" in text
