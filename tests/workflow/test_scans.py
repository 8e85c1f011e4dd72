"""Sharded limit scans in the real workflow: shard-count independence, reruns, outputs."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from wfhelpers import REPO, run_snakemake

pytestmark = pytest.mark.workflow

LIMIT_KEYS = {
    "model",
    "parameter",
    "unit",
    "flavour",
    "mediator_mass_mev",
    "method",
    "cl",
    "upper_limit",
    "best_fit",
    "chi2_best",
    "chi2_zero",
    "ndof",
    "workspace_digest",
}


def test_limit_files_of_every_hypothesis(tiny_run):
    res = tiny_run / "results" / "tiny"
    names = [f"dark_photon_bl_m{m:.4g}MeV" for m in (1e-3, 0.03162, 1.0, 31.62, 1e3)]
    merged = json.loads((res / "scans" / "dark_photon_bl.json").read_text())["results"]
    assert [r["hypothesis"] for r in merged] == names
    for r in merged:
        doc = json.loads((res / "limits" / f"{r['hypothesis']}.json").read_text())
        assert LIMIT_KEYS <= set(doc)
        assert doc["model"] == "dark_photon_bl" and doc["unit"] == "1"
        assert doc["upper_limit"] > 0
    # heavier mediators are suppressed by 1/M^2 in the amplitude: weaker limits
    limits = [r["upper_limit"] for r in merged]
    assert limits[-1] > 100 * limits[0]
    for name in ("millicharge", "millicharge_e"):
        doc = json.loads((res / "limits" / f"{name}.json").read_text())
        assert doc["parameter"] == "q_nu" and doc["treatment"] == "pure"
    # the pure-charge limit of one flavour scales as 1/sqrt(fraction): 1/sqrt(0.54)
    ratio = (
        json.loads((res / "limits" / "millicharge_e.json").read_text())["upper_limit"]
        / json.loads((res / "limits" / "millicharge.json").read_text())["upper_limit"]
    )
    assert ratio == pytest.approx(1 / 0.54**0.5, rel=0.02)
    for ext, name in (
        ("csv", "dark_photon_bl"),
        ("md", "dark_photon_bl"),
        ("tex", r"dark\_photon"),
    ):
        assert name in (res / "tables" / f"dark_photon_bl.{ext}").read_text()


def test_results_do_not_depend_on_shard_count(tiny_run, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(tiny_run, work, symlinks=True)
    reference = json.loads(
        (work / "results" / "tiny" / "scans" / "dark_photon_bl.json").read_text()
    )["results"]
    for n_shards in (1, 4):
        cfg = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
        cfg["scans"]["dark_photon_bl"]["n_shards"] = n_shards
        path = tmp_path / f"shards{n_shards}.yaml"
        path.write_text(yaml.safe_dump(cfg))
        proc = run_snakemake(work, "--cores", "2", configfile=str(path))
        assert proc.returncode == 0, proc.stderr[-3000:]
        merged = json.loads(
            (work / "results" / "tiny" / "scans" / "dark_photon_bl.json").read_text()
        )
        assert merged["config"]["n_shards"] == n_shards
        assert merged["results"] == reference


def test_a_scan_hypothesis_that_is_a_signal_takes_the_fit(tiny_run, tmp_path):
    """A scan whose hypothesis is the configured signal magnetic_moment (another name for the
    same model, flavour, window and free backgrounds; scale auto instead of 1e-10): fitted once,
    by fit_signal; the scan's limit file carries the fit's numbers, its shard fits nothing."""
    work = tmp_path / "work"
    shutil.copytree(tiny_run, work, symlinks=True)
    fit_file = work / "results" / "tiny" / "fits" / "magnetic_moment.json"
    fit_before = fit_file.read_bytes()
    extra = tmp_path / "scan.yaml"
    extra.write_text(
        yaml.safe_dump(
            {
                "scans": {
                    "mu_nu": {
                        "model": "magnetic_moment",
                        "flavours": ["all", "e"],
                        "free_backgrounds": ["xe_c14"],
                    }
                }
            }
        )
    )
    proc = run_snakemake(work, "--cores", "2", configfile=["config/tiny.yaml", str(extra)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = work / "results" / "tiny"
    assert fit_file.read_bytes() == fit_before  # not fitted again
    fit = json.loads(fit_before)
    reused = json.loads((res / "limits" / "mu_nu.json").read_text())
    assert reused == {**fit, "hypothesis": "mu_nu", "scan": "mu_nu"}
    # the shard fitted only the hypothesis that is no configured signal
    shard = json.loads((res / "scans" / "mu_nu" / "shard_000.json").read_text())
    assert [r["hypothesis"] for r in shard["results"]] == ["mu_nu_e"]
    log = (res / "logs" / "scans" / "mu_nu_000.log").read_text()
    assert "mu_nu_e: upper limit" in log and "mu_nu: upper limit" not in log
    merged = json.loads((res / "scans" / "mu_nu.json").read_text())["results"]
    assert [r["hypothesis"] for r in merged] == ["mu_nu", "mu_nu_e"]
    assert merged[0]["upper_limit"] == fit["upper_limit"]
    assert f"{fit['upper_limit']:.4g}" in (res / "tables" / "mu_nu.csv").read_text()
