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


def test_archive_is_byte_reproducible(tmp_path, monkeypatch):
    """Two builds from the same documents, in other directories and seconds apart, give the
    same bytes: no time stamps, owners, file order or file name of the machine in the
    archive."""
    import hashlib
    import time

    def build(where):
        where.mkdir()
        monkeypatch.chdir(where)
        sub = build_submission(
            analysis="synthetic",
            spectra=[spectrum_doc()],
            summary_rows=summary_rows({}, [millicharge_scan_doc(), dark_photon_scan_doc()]),
            exclusion_scans=[dark_photon_scan_doc()],
            curves=[curves_doc()],
            contours=[contour_doc()],
        )
        archive = where / "out" / "submission.tar.gz"
        write_submission(sub, archive)
        assert [p.name for p in archive.parent.iterdir()] == ["submission.tar.gz"]
        return archive

    first = build(tmp_path / "one")
    time.sleep(1.1)  # a time stamp in the archive would now differ
    second = build(tmp_path / "two")
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (first, second)]
    assert digests[0] == digests[1]
    raw = second.read_bytes()
    assert raw[:3] == b"\x1f\x8b\x08" and raw[4:8] == b"\0\0\0\0"  # gzip, mtime 0
    assert not raw[3] & 0x08  # no file name in the gzip header
    with tarfile.open(second) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        assert "submission.yaml" in tar.getnames()
        for m in members:
            assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "", "")
            assert m.mode == 0o644
