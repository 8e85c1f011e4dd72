"""The generalised ``release`` block: CSV columns by name, binned counts with an explicit rounding
policy, backgrounds given as expected counts per bin, component normalisations (constrained,
free, fixed, off) and efficiency column selection. Every release here is synthetic, written by
the test into tmp_path (no numbers of a real release)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from exonu.external import ReleaseError, ReleaseSettings, read_release
from exonu.external.workspace import background_components, response_for, standard_model_true

from .conftest import PHYSICS, TRUE_BINS

MASS_KG, DAYS = 2000.0, 182.625  # 1 t*yr
EDGES = np.arange(1.0, 11.0, 1.0)  # 9 bins of 1 keV


def _write_binned(
    d: Path, *, counts: list[float] | None = None, crlf_eff: bool = True, gap: bool = False
) -> Path:
    """A CSV release: data + two background templates in one file, a 6-column efficiency."""
    d.mkdir(parents=True, exist_ok=True)
    lo, hi = EDGES[:-1].copy(), EDGES[1:].copy()
    if gap:
        lo[4] += 0.5
    obs = counts if counts is not None else [20, 31, 28, 25, 24, 22, 21, 20, 19]
    b0 = [18.5, 29.0, 27.2, 24.1, 23.3, 21.9, 20.4, 19.8, 18.7]
    h3 = [2.0, 3.1, 2.9, 2.5, 2.0, 1.6, 1.1, 0.7, 0.3]
    rows = ["# synthetic binned release for exonu tests", "E_low,E_high,obs,b0,h3"]
    rows += [
        f"{a:g},{b:g},{o:g},{x:g},{y:g}" for a, b, o, x, y in zip(lo, hi, obs, b0, h3, strict=True)
    ]
    (d / "binned.csv").write_text("\n".join(rows) + "\n")
    e = np.linspace(0.0, 40.0, 81)
    eff = 0.9 * (1 - np.exp(-((e / 1.2) ** 2)))
    lines = ["# Energy [keV], Det, Sel, Total Eff, Up, Down", ""]
    lines += [
        f"{x:g},{min(1.0, v + 0.05):g},0.95,{v:g},0.01,0.01" for x, v in zip(e, eff, strict=True)
    ]
    nl = "\r\n" if crlf_eff else "\n"
    (d / "eff6.txt").write_text(nl.join(lines) + nl)
    return d


def _block(**over: Any) -> dict[str, Any]:
    block: dict[str, Any] = {
        "data": {
            "file": "binned.csv",
            "format": "binned",
            "columns": {"low": "E_low", "high": "E_high", "counts": "obs"},
        },
        "backgrounds": [
            {
                "name": "b0",
                "file": "binned.csv",
                "kind": "counts",
                "low_column": "E_low",
                "high_column": "E_high",
                "counts_column": "b0",
                "relative_uncertainty": 0.03,
            },
            {
                "name": "tritium",
                "file": "binned.csv",
                "kind": "counts",
                "low_column": 0,
                "high_column": 1,
                "counts_column": "h3",
                "relative_uncertainty": None,
            },
        ],
        "efficiency": {"file": "eff6.txt", "energy_column": 0, "value_column": 3},
        "exposure": {"fiducial_mass_kg": MASS_KG, "livetime_days": DAYS},
        "resolution": {"form": "linear_sum", "a_sqrt_kev": 0.31, "b": 0.0037},
    }
    block.update(over)
    return block


def _read(d: Path, **over: Any):
    return read_release(ReleaseSettings.from_config(_block(**over), str(d)))


def test_named_columns_and_counts_backgrounds(tmp_path):
    rel = _read(_write_binned(tmp_path / "r"))
    assert rel.n_events == 210 and rel.rounded_bins == 0
    assert rel.observed(EDGES).tolist() == [20, 31, 28, 25, 24, 22, 21, 20, 19]
    # expected counts per bin come back exactly (the exposure cancels)
    comps = background_components(rel, EDGES)
    assert comps.names == ("b0", "tritium")
    assert comps.expected[0][:3] == pytest.approx([18.5, 29.0, 27.2], rel=1e-12)
    assert comps.relative_uncertainty == (0.03, None)
    # merged bins keep the totals
    merged = background_components(rel, EDGES[::2])
    assert merged.expected[1].sum() == pytest.approx(2.0 + 3.1 + 2.9 + 2.5 + 2.0 + 1.6 + 1.1 + 0.7)


def test_scale_of_a_counts_template(tmp_path):
    d = _write_binned(tmp_path / "r")
    block = _block()
    block["backgrounds"][1]["scale"] = 2.0
    rel = read_release(ReleaseSettings.from_config(block, str(d)))
    assert background_components(rel, EDGES).expected[1][0] == pytest.approx(4.0)


def test_efficiency_column_of_a_six_column_crlf_file(tmp_path):
    rel = _read(_write_binned(tmp_path / "r", crlf_eff=True))
    assert rel.efficiency(np.array([40.0]))[0] == pytest.approx(0.9, rel=1e-3)
    # column 1 ("Det") is a different curve: the selection is honoured
    rel1 = _read(
        tmp_path / "r", efficiency={"file": "eff6.txt", "energy_column": 0, "value_column": 1}
    )
    assert rel1.efficiency(np.array([40.0]))[0] == pytest.approx(0.95, rel=1e-3)


def test_non_integer_counts_need_an_explicit_rounding(tmp_path):
    d = _write_binned(tmp_path / "r", counts=[20.1, 30.96, 28, 25, 24, 22, 21, 20, 19])
    with pytest.raises(ReleaseError) as err:
        _read(d)
    msg = str(err.value)
    assert "binned.csv" in msg and "(release.data.file)" in msg and "line 3, column obs" in msg
    assert "non_integer_counts: round" in msg and "\n" not in msg
    data = {**_block()["data"], "non_integer_counts": "round"}
    rel = _read(d, data=data)
    assert rel.rounded_bins == 2
    assert rel.rounding_shift == pytest.approx(-0.1 + 0.04)
    assert rel.observed(EDGES)[:2].tolist() == [20, 31]


def test_normalisation_modes(tmp_path):
    d = _write_binned(tmp_path / "r")
    s = ReleaseSettings.from_config(_block(normalisation={"tritium": "off"}), str(d))
    assert [b.name for b in s.backgrounds] == ["b0"] and s.dropped == ("tritium",)
    s = ReleaseSettings.from_config(
        _block(normalisation={"b0": "free", "tritium": "fixed"}), str(d)
    )
    assert [b.relative_uncertainty for b in s.backgrounds] == [None, 0.0]
    s = ReleaseSettings.from_config(_block(normalisation={"b0": "constrained"}), str(d))
    assert s.backgrounds[0].relative_uncertainty == 0.03
    # messages name the key
    for norm, text in [
        ({"tritium": "constrained"}, "release.backgrounds[1].relative_uncertainty"),
        ({"krypton": "free"}, "'release.normalisation.krypton'"),
        ({"b0": "loose"}, "expected one of constrained, free, fixed, off"),
        ({"b0": "off", "tritium": "off"}, "every background component is 'off'"),
        ({"solar_nu_sm": "free"}, "not a release background"),
    ]:
        with pytest.raises(ReleaseError, match=text.replace("[", r"\[").replace("]", r"\]")):
            ReleaseSettings.from_config(_block(normalisation=norm), str(d))


def test_solar_nu_replacement_of_a_counts_total(tmp_path):
    """The published total stays the background-only model (subtract: exonu)."""
    d = _write_binned(tmp_path / "r")
    block = _block(
        normalisation={"tritium": "off", "solar_nu_sm": "fixed"},
        solar_nu={"replace": True, "component": "b0", "subtract": "exonu"},
    )
    rel = read_release(ReleaseSettings.from_config(block, str(d)))
    from exonu.selection.run import edges_from_spec

    t = edges_from_spec(TRUE_BINS, "t")
    resp = response_for(rel, t, EDGES)
    comps = background_components(rel, EDGES, resp, standard_model_true(PHYSICS, t))
    assert comps.names == ("b0", "solar_nu_sm")
    assert comps.relative_uncertainty == (0.03, 0.0)
    total = comps.expected.sum(axis=0)
    published = [18.5, 29.0, 27.2, 24.1, 23.3, 21.9, 20.4, 19.8, 18.7]
    assert total == pytest.approx(published, rel=1e-9)
    assert np.all(comps.expected[1] > 0)


def test_off_component_cannot_hold_the_solar_nu(tmp_path):
    d = _write_binned(tmp_path / "r")
    block = _block(normalisation={"b0": "off"}, solar_nu={"replace": True, "component": "b0"})
    with pytest.raises(ReleaseError, match=r"release\.normalisation\.b0"):
        ReleaseSettings.from_config(block, str(d))


@pytest.mark.parametrize(
    ("mutate", "expect"),
    [
        (
            lambda b: b["data"]["columns"].update(counts="observed"),
            "no column named 'observed' in the header, expected one of",
        ),
        (
            lambda b: b["efficiency"].update(value_column="Total Eff"),
            "is given by name but the file has no header line",
        ),
        (
            lambda b: b["backgrounds"][0].update(counts_column=7),
            "expected at least 8",
        ),
        (
            lambda b: b["data"]["columns"].update(stride=3),
            "config key 'release.data.columns.stride' is unknown",
        ),
        (
            lambda b: b["backgrounds"][0].update(kind="density"),
            "config key 'release.backgrounds[0].kind'",
        ),
    ],
)
def test_column_errors_are_one_line(tmp_path, mutate, expect):
    d = _write_binned(tmp_path / "r")
    block = _block()
    mutate(block)
    with pytest.raises(ReleaseError) as err:
        read_release(ReleaseSettings.from_config(block, str(d)))
    assert expect in str(err.value) and "\n" not in str(err.value)


def test_gapped_count_bins_and_header_width(tmp_path):
    d = _write_binned(tmp_path / "r", gap=True)
    with pytest.raises(ReleaseError, match=r"binned.csv' \(release.data.file\): line 7, column"):
        _read(d)
    d2 = _write_binned(tmp_path / "r2")
    text = (d2 / "binned.csv").read_text().replace("E_low,E_high,obs,b0,h3", "E_low,E_high,obs")
    (d2 / "binned.csv").write_text(text)
    with pytest.raises(ReleaseError, match="the header \\(line 2\\) names 3"):
        _read(d2)


def test_schema_accepts_the_new_keys(tmp_path):
    from exonu.config import validate_config

    cfg = {
        "mode": "external",
        "release_dir": str(tmp_path),
        "release": _block(normalisation={"tritium": "off"}),
        "binning": {
            "energy_kev": {"start": 1.0, "stop": 10.0, "width": 1.0},
            "true_energy_kev": TRUE_BINS,
        },
        "signals": [
            {"name": "mu", "model": "magnetic_moment", "scale": 1e-11, "fit_window_kev": [1, 10]}
        ],
    }
    out = validate_config(cfg)
    assert out["release"]["data"]["non_integer_counts"] == "error"
    assert out["release"]["backgrounds"][0]["kind"] == "counts"
    cfg["release"]["normalisation"] = {"tritium": "gone"}
    with pytest.raises(Exception, match="normalisation"):
        validate_config(cfg)
