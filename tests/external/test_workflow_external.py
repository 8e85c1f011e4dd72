"""The real workflow in mode external on a tiny synthetic release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from wfhelpers import run_snakemake

from exonu.stats.workspace import load_workspace

from .conftest import LIVETIME_DAYS, MASS_KG, write_release

pytestmark = pytest.mark.workflow


def tiny_config(release_dir: Path) -> dict:
    return {
        "analysis": "tiny_external",
        "mode": "external",
        "release_dir": str(release_dir),
        "release": {
            "backgrounds": [{"name": "b0", "file": "bkg_model.txt", "tabulation": "histogram"}],
            "exposure": {"fiducial_mass_kg": MASS_KG, "livetime_days": LIVETIME_DAYS},
            "solar_nu": {"replace": True},
            "tables": {
                "khan": {"flavours": ["e", "all"], "models": [{"model": "magnetic_moment"}]}
            },
            "comparison": {
                "signals": ["magnetic_moment"],
                "binnings": [{"name": "w2", "energy_kev": {"start": 2, "stop": 20, "width": 2}}],
                "methods": ["profile"],
            },
        },
        "binning": {
            "energy_kev": {"start": 1.0, "stop": 20.0, "width": 1.0},
            "true_energy_kev": {"start": 0.0, "stop": 30.0, "width": 0.25},
        },
        "physics": {"flux_set": "xmass", "flavour_composition": "xmass"},
        "signals": [
            {
                "name": "magnetic_moment",
                "model": "magnetic_moment",
                "scale": 1e-11,
                "fit_window_kev": [1.0, 20.0],
            }
        ],
        "fit": {"likelihood": "poisson", "method": "profile"},
        "plots": {"formats": ["png"]},
    }


@pytest.fixture(scope="module")
def external_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("external_wf")
    release = write_release(root / "release", seed=3)
    cfg = root / "config.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config(release)))
    work = root / "work"
    work.mkdir()
    proc = run_snakemake(work, "--cores", "2", configfile=str(cfg))
    if proc.returncode != 0:
        pytest.fail(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return work, cfg


def test_products_of_an_external_run(external_run):
    work, _ = external_run
    res = work / "results" / "tiny_external"
    ws = load_workspace(res / "workspace.json")
    assert ws.background_names == ("b0", "solar_nu_sm")
    assert ws.n_bins == 19 and ws.metadata["mode"] == "external"
    resp = json.loads((res / "response.json").read_text())
    assert len(resp["matrix"]) == 120 and len(resp["matrix"][0]) == 19
    assert resp["target_mass_kg"] == MASS_KG
    fits = list((res / "fits").glob("magnetic_moment.json")) or list(
        (res / "limits").glob("magnetic_moment.json")
    )
    assert fits, "the shared limit rule produced nothing"
    binned = json.loads(fits[0].read_text())
    unbinned = json.loads((res / "limits_unbinned" / "magnetic_moment.json").read_text())
    assert unbinned["likelihood"] == "unbinned"
    assert unbinned["upper_limit"] == pytest.approx(binned["upper_limit"], rel=0.2)
    table = (res / "tables" / "khan.md").read_text()
    assert "ν_e" in table and "μ_ν" in table
    for name in ("khan.csv", "khan.tex", "comparison.md", "comparison.csv"):
        assert (res / "tables" / name).stat().st_size > 100
    for fig in ("khan.png", "comparison.png", "release_overview.png", "magnetic_moment_fit.png"):
        assert (res / "figures" / fig).stat().st_size > 5000


def test_second_run_has_nothing_to_do(external_run):
    work, cfg = external_run
    proc = run_snakemake(work, "--dry-run", "--cores", "1", configfile=str(cfg))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_bad_release_fails_before_any_job(tmp_path):
    release = write_release(tmp_path / "release", seed=3)
    (release / "efficiency.txt").write_text("1.0 0.5\n0.5 0.6\n")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config(release)))
    proc = run_snakemake(tmp_path, "--dry-run", "--cores", "1", configfile=str(cfg))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "efficiency.txt' (release.efficiency.file)" in out and "strictly increasing" in out
    assert not (tmp_path / "results").exists()


def test_lint_is_clean(tmp_path):
    release = write_release(tmp_path / "release", seed=3)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config(release)))
    proc = run_snakemake(tmp_path, "--lint", configfile=str(cfg))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Congratulations" in proc.stdout + proc.stderr
