"""Results do not depend on core count or read step size (shards: tests/workflow/test_scans.py,
executor: tests/farm/test_slurm.py)."""

from __future__ import annotations

import pytest
import yaml
from wfhelpers import REPO, run_snakemake

from .test_faults import _final_products

pytestmark = pytest.mark.workflow


def test_one_core_and_small_read_steps_give_identical_products(tiny_run, tmp_path):
    cfg = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    cfg.setdefault("selection", {})["step_size"] = 1000  # vs 1 000 000 in tiny_run
    path = tmp_path / "steps.yaml"
    path.write_text(yaml.safe_dump(cfg))
    work = tmp_path / "work"
    work.mkdir()
    proc = run_snakemake(work, "--cores", "1", configfile=str(path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _final_products(work) == _final_products(tiny_run)
