"""HEPData submission built with hepdata_lib and validated (exonu.products.hepdata)."""

from __future__ import annotations

import tarfile

import yaml

from exonu.products.hepdata import build_submission, write_submission
from exonu.products.tables import summary_rows

from .docs import contour_doc, curves_doc, dark_photon_scan_doc, millicharge_scan_doc, spectrum_doc


def test_submission_validates_and_holds_every_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # hepdata_lib must not write into the working directory
    rows = summary_rows({}, [millicharge_scan_doc(), dark_photon_scan_doc()])
    sub = build_submission(
        analysis="synthetic",
        spectra=[spectrum_doc()],
        summary_rows=rows,
        exclusion_scans=[dark_photon_scan_doc()],
        curves=[curves_doc()],
        contours=[contour_doc()],
    )
    archive = tmp_path / "out" / "submission.tar.gz"
    record = write_submission(sub, archive)
    assert record["valid"] is True
    assert list(tmp_path.iterdir()) == [tmp_path / "out"]
    assert record["tables"] == [
        "Spectrum magnetic_moment",
        "Limits",
        "Exclusion dark_photon_bl",
        "Delta chi2 millicharge_e",
        "Delta chi2 millicharge_mu",
        "Delta chi2 millicharge_tau",
        "Contour millicharge_e_mu",
        "Contour millicharge_e_mu CL90",
        "Contour millicharge_e_mu CL99",
    ]
    with tarfile.open(archive) as tar:
        assert "submission.yaml" in tar.getnames()
        spectrum = yaml.safe_load(tar.extractfile("spectrum_magnetic_moment.yaml"))
        exclusion = yaml.safe_load(tar.extractfile("exclusion_dark_photon_bl.yaml"))
    indep = spectrum["independent_variables"][0]
    assert indep["header"] == {"name": "reconstructed energy", "units": "keV"}
    assert indep["values"][0] == {"low": 2.0, "high": 6.0}
    deps = {d["header"]["name"]: d for d in spectrum["dependent_variables"]}
    assert set(deps) == {
        "data",
        "best-fit background",
        "best-fit signal + background",
        "signal at 90% CL limit",
    }
    assert deps["data"]["values"][0]["errors"][0]["label"] == "stat"
    names = [d["header"]["name"] for d in exclusion["dependent_variables"]]
    assert names[0] == "upper limit on g_bl"
    assert "expected median" in names and "expected +2 sigma" in names
