"""Partial reruns: after a config change, `snakemake -n` schedules exactly the dependent jobs.

Every rule's ``params`` carry the config subtree it depends on (Snakemake's ``params``
rerun trigger), so these dry runs on a finished tiny run must list only the rules
downstream of the changed key (issue 7: plots -> plots only; a scan's mass grid -> that scan
and its products; a cut -> selection and after; the seed -> everything event-based).
"""

from __future__ import annotations

import re

import pytest
import yaml
from wfhelpers import REPO, run_snakemake

pytestmark = pytest.mark.workflow

#: Rules that only turn events into the binned model (upstream of every statistics rule).
EVENT_RULES = {"select", "merge", "cutflow", "workspace", "background_model", "response"}
#: Rules that depend on physics only (never rerun by detector, cut or fit changes).
PHYSICS_RULES = {"signal_spectrum", "model_spectra"}
#: Products that summarise every scan and fit (rerun whenever any of them changes).
SUMMARY_RULES = {"summary_table", "hepdata"}


def scheduled_jobs(output: str) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a dry run (no 'all'/'total')."""
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    jobs = {m[0]: int(m[1]) for m in re.findall(r"^(\w+)\s+(\d+)\s*$", table, flags=re.M)}
    jobs.pop("all", None)
    jobs.pop("total", None)
    return jobs


def dry_run_with(workdir, tmp_path, edit) -> set[str]:
    return set(dry_run_jobs(workdir, tmp_path, edit))


def dry_run_jobs(workdir, tmp_path, edit) -> dict[str, int]:
    cfg = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    edit(cfg)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(cfg))  # sorts keys: params must not depend on key order
    proc = run_snakemake(workdir, "--dry-run", "--cores", "1", configfile=str(path))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return scheduled_jobs(proc.stdout + proc.stderr)


def test_nothing_changed_runs_nothing(tiny_run, tmp_path):
    assert dry_run_jobs(tiny_run, tmp_path, lambda c: None) == {}


def test_plot_style_reruns_only_plots(tiny_run, tmp_path):
    rules = dry_run_with(
        tiny_run, tmp_path, lambda c: c.setdefault("plots", {}).update(style="CMS")
    )
    assert "fit_figure" in rules and "background_figure" in rules
    assert all(r.endswith("_figure") for r in rules), rules


def test_fiducial_cut_reruns_selection_and_after(tiny_run, tmp_path):
    rules = dry_run_with(
        tiny_run, tmp_path, lambda c: c.setdefault("selection", {}).update(r_pe_max_cm=18.0)
    )
    assert EVENT_RULES | {"fit_signal", "scan_shard", "fit_figure"} <= rules
    assert not rules & ({"simulate", "warm_numba", "warm_simulation"} | PHYSICS_RULES)


def test_fit_method_reruns_only_statistics_and_products(tiny_run, tmp_path):
    rules = dry_run_with(
        tiny_run, tmp_path, lambda c: c.setdefault("fit", {}).update(method="profile")
    )
    assert {"fit_signal", "scan_shard", "fit_figure"} <= rules
    assert not rules & (EVENT_RULES | PHYSICS_RULES | {"simulate"})


def test_simulation_seed_reruns_everything_event_based(tiny_run, tmp_path):
    rules = dry_run_with(tiny_run, tmp_path, lambda c: c["simulation"].update(seed=8))
    assert {"simulate"} | EVENT_RULES | {"fit_signal", "scan_shard", "fit_figure"} <= rules
    assert not rules & PHYSICS_RULES


def test_mass_grid_change_reruns_only_that_scan_and_its_products(tiny_run, tmp_path):
    def edit(cfg):
        cfg["scans"]["dark_photon_bl"]["masses_mev"] = {"log10_min": -3, "log10_max": 3, "n": 7}

    jobs = dry_run_jobs(tiny_run, tmp_path, edit)
    assert jobs["scan_shard"] == 2  # the two shards of dark_photon_bl, no millicharge shard
    assert "scan_gather_dark_photon_bl" in jobs
    assert not any(r.startswith("scan_gather_") and "dark_photon" not in r for r in jobs)
    assert not set(jobs) & (EVENT_RULES | PHYSICS_RULES | {"simulate", "fit_signal"})
