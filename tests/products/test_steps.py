"""The rule steps on files (exonu.stages.products): what the scripts of products.smk run."""

from __future__ import annotations

import json
import tarfile

import pytest

from exonu.stages import products as steps
from exonu.stats import dump_workspace, upper_limit

from .docs import contour_doc, curves_doc, dark_photon_scan_doc, millicharge_scan_doc


def _dump(obj, path):
    path.write_text(json.dumps(obj))
    return str(path)


def test_fit_spectrum_then_figure(small_workspace, tmp_path):
    ws_path = tmp_path / "workspace.json"
    dump_workspace(small_workspace, ws_path)
    limit = _dump(upper_limit(small_workspace, "magnetic_moment").to_dict(), tmp_path / "l.json")
    doc = tmp_path / "spectra" / "magnetic_moment.json"
    steps.fit_spectrum({"likelihood": "chi2"}, str(ws_path), limit, "magnetic_moment", str(doc))
    assert json.loads(doc.read_text())["signal"] == "magnetic_moment"
    outs = [str(tmp_path / "f.png"), str(tmp_path / "f.pdf")]
    steps.fit_figure({"plots": {"style": "LHCb2", "formats": ["png", "pdf"]}}, str(doc), outs)
    assert all((tmp_path / n).stat().st_size > 0 for n in ("f.png", "f.pdf"))


def test_summary_hepdata_and_pyhf(small_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scans = [
        _dump(millicharge_scan_doc(), tmp_path / "millicharge.json"),
        _dump(dark_photon_scan_doc(), tmp_path / "dark_photon_bl.json"),
    ]
    fits = {"x": _dump(millicharge_scan_doc()["results"][0], tmp_path / "x.json")}
    out = {k: str(tmp_path / f"summary.{k}") for k in ("csv", "md", "tex")}
    steps.summary_table(fits, scans, out["csv"], out["md"], out["tex"])
    assert "90\\% CL" in (tmp_path / "summary.tex").read_text()
    assert (tmp_path / "summary.csv").read_text().count("\n") == 1 + 1 + 4

    archive, record = tmp_path / "hep" / "submission.tar.gz", tmp_path / "hep" / "record.json"
    steps.hepdata(
        {"analysis": "synthetic"},
        spectra=[],
        fits=fits,
        scans=scans,
        exclusion_scans=scans[1:],
        curves=[_dump(curves_doc(), tmp_path / "curves.json")],
        contours=[_dump(contour_doc(), tmp_path / "contour.json")],
        archive=str(archive),
        record=str(record),
    )
    assert json.loads(record.read_text())["valid"] is True
    with tarfile.open(archive) as tar:
        assert "limits.yaml" in tar.getnames()

    ws_path = tmp_path / "workspace.json"
    dump_workspace(small_workspace, ws_path)
    spec, meta = tmp_path / "pyhf" / "mm.json", tmp_path / "pyhf" / "mm.meta.json"
    steps.pyhf_export(str(ws_path), "magnetic_moment", str(spec), str(meta))
    assert json.loads(meta.read_text())["poi"] == "mu_magnetic_moment"
    pytest.importorskip("pyhf").Workspace(json.loads(spec.read_text()))
