"""Implausible but well-formed releases through the real workflow (exonu.stats.plausibility).

A release whose energies are in eV instead of keV must not give a plausible-looking limit in
silence: the workspace, the fit and unbinned-limit JSONs, the tables and the figures carry the
warnings, and ``strict: true`` stops the run with one line. An all-zero background model or
efficiency stops the run before any job, with one line naming the file.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from wfhelpers import run_snakemake

from .conftest import LIVETIME_DAYS, MASS_KG, PHYSICS, write_release

pytestmark = pytest.mark.workflow

ANALYSIS = "implausible"
EV_TEXT = "are the energies in eV instead of keV?"
#: the products the assertions read (the rest of `all` is not needed)
TARGETS = [
    f"results/{ANALYSIS}/{p}"
    for p in (
        "fits/magnetic_moment.json",
        "limits_unbinned/magnetic_moment.json",
        "tables/summary.md",
        "tables/summary.csv",
        "tables/summary.tex",
        "tables/em.md",
        "tables/em.csv",
        "figures/magnetic_moment_fit.png",
        "figures/em.png",
    )
]


def small_config(release_dir: Path, **over: object) -> dict:
    """One signal, a one-entry table, no comparison: a run of well under a minute."""
    cfg = {
        "analysis": ANALYSIS,
        "mode": "external",
        "release_dir": str(release_dir),
        "release": {
            "backgrounds": [{"name": "b0", "file": "bkg_model.txt", "tabulation": "histogram"}],
            "exposure": {"fiducial_mass_kg": MASS_KG, "livetime_days": LIVETIME_DAYS},
            "tables": {"em": {"flavours": ["all"], "models": [{"model": "magnetic_moment"}]}},
            "comparison": {"signals": []},
        },
        "binning": {
            "energy_kev": {"start": 1.0, "stop": 20.0, "width": 1.0},
            "true_energy_kev": {"start": 0.0, "stop": 30.0, "width": 0.5},
        },
        "physics": dict(PHYSICS),
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
    cfg.update(over)
    return cfg


def ev_release(directory: Path) -> Path:
    """A synthetic release whose data energies were written in eV (x 1000)."""
    release = write_release(directory, seed=3)
    data = release / "data_unbinned_1to30kev.txt"
    np.savetxt(data, np.loadtxt(data) * 1000.0)
    return release


def write_config(path: Path, cfg: dict) -> Path:
    path.write_text(yaml.safe_dump(cfg))
    return path


def error_lines(proc, pattern: str) -> list[str]:
    return [ln for ln in (proc.stdout + proc.stderr).splitlines() if re.search(pattern, ln)]


@pytest.fixture(scope="module")
def ev_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("ev_wf")
    release = ev_release(root / "release")
    cfg = write_config(root / "config.yaml", small_config(release))
    work = root / "work"
    work.mkdir()
    proc = run_snakemake(work, "--cores", "2", *TARGETS, configfile=str(cfg))
    if proc.returncode != 0:
        pytest.fail(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return root, work / "results" / ANALYSIS


def test_ev_energies_warn_in_every_product(ev_run):
    _, res = ev_run
    ws = json.loads((res / "workspace.json").read_text())
    assert any(EV_TEXT in w for w in ws["warnings"]), ws["warnings"]
    outside = r"(\d+) of \1 events \(100 %\) are outside the binning \[1, 20\] keV"
    assert any(re.search(outside, w) for w in ws["warnings"]), ws["warnings"]
    assert any(
        w.startswith("no observed event in the fit window [1, 20] keV") for w in ws["warnings"]
    )
    assert sum(ws["observed"]) == 0
    for path in (res / "fits/magnetic_moment.json", res / "limits_unbinned/magnetic_moment.json"):
        doc = json.loads(path.read_text())
        assert any(EV_TEXT in w for w in doc["warnings"]), (path, doc["warnings"])
        assert any(w.startswith("no observed event") for w in doc["warnings"]), path
        assert all("\n" not in w for w in doc["warnings"])
    fit = json.loads((res / "fits/magnetic_moment.json").read_text())
    # with no events the free background scale runs to 0: a nuisance at its bound
    assert any("best fit at a parameter bound: p_b0" in w for w in fit["warnings"])

    summary = (res / "tables/summary.md").read_text()
    assert re.search(r"\| magnetic_moment( \(fit not valid\))? †1 \|", summary), summary
    assert EV_TEXT in summary
    rows = list(csv.DictReader((res / "tables/summary.csv").read_text().splitlines()))
    assert int(rows[0]["warnings"]) == len(fit["warnings"]) >= 3
    assert EV_TEXT in rows[0]["warning_messages"]
    assert r"$^{\dagger1}$" in (res / "tables/summary.tex").read_text()

    table = (res / "tables/em.md").read_text()
    assert "†1" in table and EV_TEXT in table
    (row,) = csv.DictReader((res / "tables/em.csv").read_text().splitlines())
    assert int(row["warnings"]) >= 3 and EV_TEXT in row["warning_messages"]
    table_doc = json.loads((res / "tables/em.json").read_text())
    assert any(EV_TEXT in w for w in table_doc["rows"][0]["warnings"])
    for fig in ("magnetic_moment_fit.png", "em.png"):
        assert (res / "figures" / fig).stat().st_size > 5000


def test_strict_stops_with_one_line(ev_run, tmp_path):
    root, _ = ev_run
    cfg = write_config(tmp_path / "strict.yaml", small_config(root / "release", strict=True))
    proc = run_snakemake(
        tmp_path, "--cores", "2", f"results/{ANALYSIS}/workspace.json", configfile=str(cfg)
    )
    assert proc.returncode != 0
    lines = error_lines(proc, r"strict: ")
    assert lines, proc.stderr[-3000:]
    assert len(lines) == 1, lines
    assert re.match(
        r"exonu: invalid configuration: strict: release data .*eV instead of keV\? "
        r"\(and 1 more\)$",
        lines[0],
    ), lines[0]
    # the data warnings are known when the workflow is parsed: no job ran
    assert not (tmp_path / "results").exists()


def test_strict_stops_the_job_with_one_line(tmp_path):
    """A warning that needs the workspace (no event in a fit window) stops its job."""
    release = write_release(tmp_path / "release", seed=3)
    data = release / "data_unbinned_1to30kev.txt"
    e = np.loadtxt(data)
    np.savetxt(data, e[(e < 16.0) | (e >= 20.0)])  # a hole where the signal is fitted
    cfg = small_config(release, strict=True)
    cfg["signals"][0]["fit_window_kev"] = [16.0, 20.0]
    path = write_config(tmp_path / "strict.yaml", cfg)
    workspace = f"results/{ANALYSIS}/workspace.json"
    proc = run_snakemake(tmp_path, "--cores", "2", workspace, configfile=str(path))
    assert proc.returncode != 0
    pattern = r"strict: no observed event in the fit window \[16, 20\] keV \(4 bins\)"
    lines = error_lines(proc, pattern)
    assert lines, (proc.stdout + proc.stderr)[-3000:]
    assert all(ln.count("strict: ") == 1 for ln in lines)
    assert not (tmp_path / workspace).exists()
    assert not list((tmp_path / "results").rglob("*.tmp"))


@pytest.mark.parametrize(
    ("file", "pattern"),
    [
        (
            "bkg_model.txt",
            r"bkg_model.txt' \(release.backgrounds\[0\]\): the background rate is 0 everywhere "
            r"in the fit window",
        ),
        (
            "efficiency.txt",
            r"efficiency.txt' \(release.efficiency.file\): the efficiency \(column 1\) is 0 on "
            r"every line",
        ),
    ],
)
def test_all_zero_file_stops_before_any_job(tmp_path, file, pattern):
    release = write_release(tmp_path / "release", seed=3)
    table = np.loadtxt(release / file)
    table[:, 1] = 0.0
    np.savetxt(release / file, table)
    cfg = write_config(tmp_path / "config.yaml", small_config(release))
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=str(cfg))
    assert proc.returncode != 0
    lines = error_lines(proc, pattern)
    assert len(lines) == 1, (proc.stdout + proc.stderr)[-3000:]
    assert lines[0].startswith("exonu: invalid configuration: release file ")
    assert not (tmp_path / "results").exists()
