"""Implausible release files: one-line errors naming the file (line, column) and what was
expected; and the warnings of a release whose energies are in eV (exonu.stats.plausibility)."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.config import validate_config
from exonu.external import ReleaseError, ReleaseSettings, read_release
from exonu.external.checks import check_external_config, release_warnings
from exonu.external.unbinned import checked_unbinned_limit
from exonu.external.workspace import spectrum_document

from .conftest import MU_SPEC, PHYSICS, TRUE_BINS, build_workspace, release_block

EDGES = np.arange(1.0, 21.0, 1.0)


def config(directory, **over):
    return validate_config(
        {
            "mode": "external",
            "release_dir": str(directory),
            "release": release_block(**over),
            "binning": {
                "energy_kev": {"start": 1, "stop": 20, "width": 1},
                "true_energy_kev": {"start": 0, "stop": 30, "width": 0.5},
            },
            "signals": [dict(MU_SPEC, fit_window_kev=[2.0, 20.0])],
        }
    )


def scale_column(path, column, factor, rows=slice(None)):
    table = np.loadtxt(path)
    table[rows, column] *= factor
    np.savetxt(path, table)


@pytest.mark.parametrize(
    ("file", "edit", "match"),
    [
        (
            "efficiency.txt",
            lambda p: scale_column(p, 1, 0.0),
            r"efficiency.txt' \(release.efficiency.file\): the efficiency \(column 1\) is 0 on "
            r"every line, expected a detection efficiency > 0",
        ),
        (
            "efficiency.txt",
            lambda p: scale_column(p, 1, 100.0),
            r"efficiency.txt' \(release.efficiency.file\): line \d+, column 1: efficiency "
            r"[\d.]+ outside \[0, 1\]: looks like a percentage \(maximum 80\), expected a fraction",
        ),
        (
            "efficiency.txt",
            lambda p: scale_column(p, 1, 1000.0),
            r"line \d+, column 1: efficiency [\d.]+ outside \[0, 1\], expected values between "
            r"0 and 1",
        ),
        (
            "bkg_model.txt",
            lambda p: scale_column(p, 1, 0.0),
            r"bkg_model.txt' \(release.backgrounds\[0\]\): the background rate is 0 everywhere "
            r"in the fit window\(s\) \[2, 20\] keV",
        ),
        (
            "bkg_model.txt",
            lambda p: scale_column(p, 1, -1.0, slice(4, 5)),
            r"bkg_model.txt' \(release.backgrounds\[0\]\): line 5, column 1: background rate "
            r"-[\d.]+ outside \[0, inf\], expected a non-negative background rate",
        ),
        (
            "bkg_model.txt",
            lambda p: p.write_text("# model\n0.05 1 1\n0.15 2 nan\n"),
            r"bkg_model.txt' \(release.backgrounds\[0\]\): line 3, column 2: nan is not finite",
        ),
        (
            "data_unbinned_1to30kev.txt",
            lambda p: p.write_text("2.0\n-inf\n"),
            r"data_unbinned_1to30kev.txt' \(release.data.file\): line 2, column 0: -inf is not "
            r"finite",
        ),
        (
            "data_unbinned_1to30kev.txt",
            lambda p: p.write_text("2.0\n3.0\n-1.0\n"),
            r"line 3, column 0: negative energy -1 keV, expected energies >= 0 keV",
        ),
    ],
)
def test_implausible_files_stop_with_one_line(make_release, file, edit, match):
    d = make_release()
    edit(d / file)
    with pytest.raises(ReleaseError, match=match) as err:
        check_external_config(config(d))
    assert "\n" not in str(err.value)


def test_background_zero_only_outside_the_window_is_fine(make_release):
    d = make_release()
    scale_column(d / "bkg_model.txt", 1, 0.0, slice(0, 15))  # zero below 1.5 keV
    check_external_config(config(d))


def test_efficiency_zero_in_the_whole_binning(make_release):
    d = make_release()
    table = np.loadtxt(d / "efficiency.txt")
    table[table[:, 0] < 25.0, 1] = 0.0  # detects only above the binning (1-20 keV)
    np.savetxt(d / "efficiency.txt", table)
    with pytest.raises(ReleaseError, match=r"the efficiency is 0 everywhere in the binning"):
        check_external_config(config(d))


def test_binned_negative_count(make_release):
    d = make_release()
    (d / "binned.txt").write_text("1 2 3\n2 4 -5\n")
    s = ReleaseSettings.from_config(
        release_block(data={"file": "binned.txt", "format": "binned"}), str(d)
    )
    with pytest.raises(ReleaseError, match=r"line 2, column 2: count -5, expected a non-negative"):
        read_release(s)


@pytest.mark.parametrize(
    ("exposure", "key"),
    [
        ({"fiducial_mass_kg": float("inf"), "livetime_days": 10.0}, "fiducial_mass_kg"),
        ({"fiducial_mass_kg": 1000.0, "livetime_days": float("nan")}, "livetime_days"),
        ({"fiducial_mass_kg": 1000.0, "livetime_days": 0.0}, "livetime_days"),
    ],
)
def test_exposure_names_the_key(make_release, exposure, key):
    with pytest.raises(ReleaseError, match=rf"config key 'release.exposure.{key}': .*expected a "):
        ReleaseSettings.from_config(release_block(exposure=exposure), str(make_release()))


def test_release_in_ev_warns_in_workspace_and_unbinned_limit(make_release):
    d = make_release()
    data = d / "data_unbinned_1to30kev.txt"
    np.savetxt(data, np.loadtxt(data) * 1000.0)
    rel, _ws, sigs, _ = build_workspace(d, EDGES, [dict(MU_SPEC, fit_window_kev=[1.0, 20.0])])
    warnings = release_warnings(rel, EDGES)
    assert len(warnings) == 2
    assert warnings[0].endswith("are the energies in eV instead of keV?")
    assert "(100 %) are outside the binning [1, 20] keV" in warnings[1]
    spec, spectrum = sigs[0]
    res = checked_unbinned_limit(
        rel, spec, spectrum, (1.0, 20.0), "profile", 0.9, edges_kev=EDGES, window_check=False
    )
    assert res.warnings[:2] == tuple(warnings)
    assert (
        "no observed event in the fit window [1, 20] keV (unbinned): the data do not "
        + ("overlap the fitted energies")
        in res.warnings
    )
    assert any(w.startswith("best fit at a parameter bound: p_b0") for w in res.warnings)


def test_plausible_release_has_no_warnings(make_release):
    d = make_release()
    spec = dict(MU_SPEC, fit_window_kev=[1.0, 20.0])
    rel, _ws, _sigs, _ = build_workspace(d, EDGES, [spec])
    assert release_warnings(rel, EDGES) == []
    spectrum = spectrum_document(spec, PHYSICS, TRUE_BINS)
    res = checked_unbinned_limit(
        rel, spec, spectrum, (1.0, 20.0), "profile", 0.9, edges_kev=EDGES, window_check=True
    )
    assert res.warnings == (), res.warnings
