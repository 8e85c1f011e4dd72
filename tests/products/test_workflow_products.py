"""The products on a real run of the tiny workflow: files, validity, report, reruns."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from wfhelpers import REPO, run_snakemake

pytestmark = pytest.mark.workflow

#: Rules whose params hold plots.style (a style change reruns exactly these)
FIGURE_RULES = {
    "model_spectra_figure",
    "fit_figure",
    "millicharge_figure",
    "exclusion_figure",
    "delta_chi2_figure",
    "contour_figure",
}


def test_products_exist(tiny_run):
    res = tiny_run / "results" / "tiny"
    record = json.loads((res / "products" / "hepdata" / "submission.json").read_text())
    assert record["valid"] is True
    assert "Spectrum magnetic_moment" in record["tables"]
    assert "Exclusion dark_photon_bl" in record["tables"]
    assert (res / "products" / "hepdata" / "submission.tar.gz.prov.json").exists()
    spec = json.loads((res / "products" / "pyhf" / "magnetic_moment.json").read_text())
    pyhf = pytest.importorskip("pyhf")
    pyhf.Workspace(spec)
    for name in (
        "model_spectra",
        "magnetic_moment_fit",
        "millicharge_limits",
        "exclusion_dark_photon_bl",
        "delta_chi2_millicharge",
        "contour_millicharge_e_mu",
    ):
        assert (res / "figures" / f"{name}.png").stat().st_size > 10_000, name
    md = (res / "tables" / "summary.md").read_text()
    assert "| magnetic_moment |" in md and "| millicharge_e |" in md


def test_report_builds(tiny_run):
    report = tiny_run / "report.html"
    proc = run_snakemake(tiny_run, "--report", str(report), timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    html = report.read_text(errors="replace")
    from exonu.products.provenance import git_state

    commit = git_state()["commit"]
    if commit:
        assert commit in html
    assert re.search(r"config digest", html)
    assert re.search(r"[0-9a-f]{64}", html)
    for category in ("Overview", "Magnetic moment", "Millicharge", "Dark photon (B-L)"):
        assert category in html


def _scheduled(workdir, tmp_path, edit) -> set[str]:
    cfg = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    edit(cfg)
    path = tmp_path / f"changed_{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = run_snakemake(workdir, "--dry-run", "--cores", "1", configfile=str(path))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    if "Job stats:" not in out:
        return set()
    table = out.split("Job stats:", 1)[1]
    return set(re.findall(r"^(\w+)\s+\d+\s*$", table, flags=re.M)) - {"all", "total"}


def test_plot_style_reruns_only_figures(tiny_run, tmp_path):
    # relative to a dry run without the change: code edited since the tiny run (other work
    # in progress) may schedule more jobs in both
    baseline = _scheduled(tiny_run, tmp_path, lambda c: None)
    rules = _scheduled(tiny_run, tmp_path, lambda c: c["plots"].update(style="CMS"))
    assert FIGURE_RULES <= rules
    # plus the figures of other stages that draw with plots.style; never a computation
    assert not (rules - baseline) & {
        "model_spectra",
        "fit_spectrum",
        "delta_chi2_curves",
        "contour",
        "summary_table",
        "hepdata",
        "pyhf_workspace",
    }
    assert all(r.endswith("_figure") for r in rules - baseline)
