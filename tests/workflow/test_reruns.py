"""Partial reruns: after a config change, `snakemake -n` schedules exactly the dependent rules.

Every rule's ``params`` carry the config subtree it depends on (Snakemake's ``params``
rerun trigger), so these dry runs on a finished tiny run must list exactly the
rules downstream of the changed key.
"""

from __future__ import annotations

import re

import pytest
import yaml
from wfhelpers import REPO, run_snakemake

pytestmark = pytest.mark.workflow

EVENT_STAGES = {"select", "merge", "cutflow", "workspace", "limit", "fit_figure"}


def scheduled_rules(output: str) -> set[str]:
    """Rule names in the 'Job stats' table of a dry run (without 'all' and 'total')."""
    if "Nothing to be done" in output:
        return set()
    table = output.split("Job stats:", 1)[1]
    rules = set(re.findall(r"^(\w+)\s+\d+\s*$", table, flags=re.M))
    return rules - {"all", "total"}


def dry_run_with(workdir, tmp_path, edit) -> set[str]:
    cfg = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    edit(cfg)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = run_snakemake(workdir, "--dry-run", "--cores", "1", configfile=str(path))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return scheduled_rules(proc.stdout + proc.stderr)


def test_nothing_changed_runs_nothing(tiny_run, tmp_path):
    assert dry_run_with(tiny_run, tmp_path, lambda c: None) == set()


def test_plot_style_reruns_only_plots(tiny_run, tmp_path):
    rules = dry_run_with(
        tiny_run, tmp_path, lambda c: c.setdefault("plots", {}).update(style="CMS")
    )
    assert rules == {"fit_figure"}


def test_fiducial_cut_reruns_selection_and_after(tiny_run, tmp_path):
    rules = dry_run_with(
        tiny_run, tmp_path, lambda c: c.setdefault("selection", {}).update(r_pe_max_cm=18.0)
    )
    assert rules == EVENT_STAGES


def test_fit_method_reruns_only_limits_and_plots(tiny_run, tmp_path):
    rules = dry_run_with(
        tiny_run, tmp_path, lambda c: c.setdefault("fit", {}).update(method="profile")
    )
    assert rules == {"limit", "fit_figure"}


def test_simulation_seed_reruns_everything(tiny_run, tmp_path):
    rules = dry_run_with(tiny_run, tmp_path, lambda c: c["simulation"].update(seed=8))
    assert rules == {"simulate"} | EVENT_STAGES
