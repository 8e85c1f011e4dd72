"""Reading a release: tabulations, exposure, and one-line errors naming the file."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.external import ReleaseError, ReleaseSettings, Tabulation, read_release
from exonu.external.checks import check_external_config

from .conftest import LIVETIME_DAYS, MASS_KG, release_block


def settings(directory, **over):
    return ReleaseSettings.from_config(release_block(**over), str(directory))


def test_reads_a_synthetic_release(make_release):
    d = make_release()
    rel = read_release(settings(d))
    assert rel.events_kev is not None and rel.n_events > 100
    assert np.all(np.diff(rel.events_kev) >= 0)
    assert rel.exposure_tonne_year == pytest.approx(MASS_KG / 1000 * LIVETIME_DAYS / 365.25)
    assert rel.observed([1.0, 10.0, 30.0]).sum() == rel.n_events
    assert set(rel.backgrounds) == {"b0"}


def test_histogram_and_linear_integrals_are_exact():
    h = Tabulation(np.array([0.05, 0.15, 0.25]), np.array([1.0, 2.0, 4.0]), mode="histogram")
    assert h.range_kev == pytest.approx((0.0, 0.3))
    assert h.integrate([0.0, 0.1, 0.3]) == pytest.approx([0.1, 0.6])
    assert h.integrate([0.05, 0.15]) == pytest.approx([0.15])
    lin = Tabulation(np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 0.0]), outside="edge")
    fine = np.linspace(0.0, 3.0, 30001)
    ref = np.trapezoid(np.interp(fine, [0, 1, 3], [0, 2, 0]), fine)
    assert lin.integrate([0.0, 3.0])[0] == pytest.approx(ref, rel=1e-6)
    assert lin.integrate([0.5, 1.5]) == pytest.approx([0.75 + 0.875])  # ∫2x + ∫(3 - x)
    # outside policies
    assert lin.integrate([3.0, 4.0]) == pytest.approx([0.0])
    edge = Tabulation(np.array([1.0, 2.0]), np.array([0.5, 0.8]), outside="edge")
    assert edge.integrate([2.0, 3.0]) == pytest.approx([0.8])
    assert edge(np.array([0.0, 5.0])) == pytest.approx([0.5, 0.8])
    zero = Tabulation(np.array([1.0, 2.0]), np.array([0.5, 0.8]), outside="zero")
    assert zero(np.array([0.0, 1.5])) == pytest.approx([0.0, 0.65])
    strict = Tabulation(np.array([1.0, 2.0]), np.array([0.5, 0.8]), source="f (key)")
    with pytest.raises(ReleaseError, match=r"f \(key\): needed from 0.5 to 2 keV"):
        strict.integrate([0.5, 2.0])


def _break(path, text):
    path.write_text(text)


@pytest.mark.parametrize(
    ("file", "text", "match"),
    [
        ("bkg_model.txt", "0.05\n0.15\n", r"model.txt' \(release.backgrounds\[0\]\): line 1 has 1"),
        ("bkg_model.txt", "0.05 1\n0.15 x\n", r"line 2, column 1: 'x' is not a number"),
        (
            "bkg_model.txt",
            "0.05 1\n0.25 1\n0.15 1\n",
            r"0.15 keV after 0.25 keV, expected strictly",
        ),
        ("bkg_model.txt", "0.05 1\n0.15 -1\n", r"background rate -1 outside"),
        ("bkg_model.txt", "0.05 1 2\n0.15 1\n", r"line 2 has 2 columns, earlier lines have 3"),
        ("bkg_model.txt", "# only a comment\n", r"no data lines"),
        (
            "efficiency.txt",
            "0.1 0.5\n1.0 1.2\n",
            r"y.txt' \(release.efficiency.file\).*efficiency 1.2",
        ),
        ("data_unbinned_1to30kev.txt", "2.0\nnan\n", r"column 0: nan is not finite"),
    ],
)
def test_bad_files_give_one_line_errors(make_release, file, text, match):
    d = make_release()
    _break(d / file, text)
    with pytest.raises(ReleaseError, match=match) as err:
        read_release(settings(d))
    assert "\n" not in str(err.value)


def test_missing_file_and_directory(make_release, tmp_path):
    d = make_release()
    (d / "efficiency.txt").unlink()
    with pytest.raises(ReleaseError, match=r"efficiency.txt' \(release.efficiency.file\): not fo"):
        read_release(settings(d))
    with pytest.raises(ReleaseError, match=r"'release_dir': .* is not a directory"):
        read_release(settings(tmp_path / "nowhere"))


def test_background_model_must_cover_the_binning(make_release):
    d = make_release()
    rel = read_release(settings(d))
    with pytest.raises(ReleaseError, match=r"bkg_model.txt.*needed from 1 to 40 keV"):
        rel.backgrounds["b0"].integrate([1.0, 40.0])


def test_binned_data_and_rebinning(make_release):
    d = make_release()
    (d / "binned.txt").write_text("1 2 3\n2 4 5\n4 6 0\n")
    s = settings(d, data={"file": "binned.txt", "format": "binned"})
    rel = read_release(s)
    assert rel.observed([1, 2, 4, 6]).tolist() == [3, 5, 0]
    assert rel.observed([1, 4, 6]).tolist() == [8, 0]
    with pytest.raises(ReleaseError, match=r"cannot be rebinned at 3 keV"):
        rel.observed([1, 3, 6])
    (d / "binned.txt").write_text("1 2 3\n2.5 4 5\n")
    with pytest.raises(ReleaseError, match=r"bin starts at 2.5 keV, previous ends at 2 keV"):
        read_release(s)
    (d / "binned.txt").write_text("1 2 3.5\n")
    with pytest.raises(ReleaseError, match=r"count 3.5, expected a non-negative integer"):
        read_release(s)


def test_config_errors_name_the_key(make_release):
    d = make_release()
    with pytest.raises(ReleaseError, match=r"'release.exposure': required"):
        ReleaseSettings.from_config({}, str(d))
    with pytest.raises(ReleaseError, match=r"'release_dir': required"):
        ReleaseSettings.from_config(release_block(), None)
    with pytest.raises(ReleaseError, match=r"duplicate component 'b0'"):
        settings(d, backgrounds=[{"name": "b0", "file": "bkg_model.txt"}] * 2)
    with pytest.raises(ReleaseError, match=r"solar_nu.component': 'x' is not one"):
        settings(d, solar_nu={"replace": True, "component": "x"})


def test_check_external_config(make_release):
    from exonu.config import validate_config

    d = make_release()
    cfg = {
        "mode": "external",
        "release_dir": str(d),
        "release": release_block(),
        "binning": {
            "energy_kev": {"start": 1, "stop": 30, "width": 1},
            "true_energy_kev": {"start": 0, "stop": 40, "width": 0.5},
        },
        "signals": [
            {
                "name": "mm",
                "model": "magnetic_moment",
                "fit_window_kev": [1, 30],
                "free_backgrounds": ["nope"],
            }
        ],
    }
    with pytest.raises(ReleaseError, match=r"signals\[0\].free_backgrounds': 'nope'"):
        check_external_config(validate_config(cfg))
    cfg["signals"][0]["free_backgrounds"] = ["b0"]
    cfg["binning"]["true_energy_kev"] = {"start": 0, "stop": 20, "width": 0.5}
    with pytest.raises(ReleaseError, match=r"true_energy_kev': \[0, 20\] keV must cover"):
        check_external_config(validate_config(cfg))
    cfg["binning"]["true_energy_kev"] = {"start": 0, "stop": 40, "width": 0.5}
    rel = check_external_config(validate_config(cfg))
    assert rel.n_events > 0
