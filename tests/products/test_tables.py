"""Summary table of limits and best fits (exonu.products.tables)."""

from __future__ import annotations

import csv
import io

import pytest

from exonu.products.tables import (
    SUMMARY_COLUMNS,
    summary_csv,
    summary_latex,
    summary_markdown,
    summary_rows,
)

from .docs import dark_photon_scan_doc, millicharge_scan_doc


@pytest.fixture()
def rows():
    fits = {
        "magnetic_moment": {
            **millicharge_scan_doc()["results"][0],
            "model": "magnetic_moment",
            "parameter": "mu_nu",
            "unit": "mu_B",
            "best_fit": 1.3e-10,
            "upper_limit": 1.8e-10,
        }
    }
    charge_radius = {
        "scan": "charge_radius",
        "config": {"model": "charge_radius", "flavours": ["e"]},
        "results": [
            {
                **millicharge_scan_doc()["results"][1],
                "hypothesis": "charge_radius_e",
                "model": "charge_radius",
                "parameter": "r2",
                "unit": "cm2",
                "lower_limit": -9e-31,
                "upper_limit": 4e-32,
                "best_fit": -2e-31,
            }
        ],
    }
    return summary_rows(fits, [millicharge_scan_doc(), dark_photon_scan_doc(), charge_radius])


def test_rows_skip_log_mass_grids_and_add_xmass_values(rows):
    names = [r["hypothesis"] for r in rows]
    assert names == [
        "magnetic_moment",
        "millicharge",
        "millicharge_e",
        "millicharge_mu",
        "millicharge_tau",
        "charge_radius_e",
    ]
    by = {r["hypothesis"]: r for r in rows}
    assert by["magnetic_moment"]["source"] == "fit"
    assert by["millicharge_e"]["source"] == "scan millicharge"
    # XMASS-I §4 numbers next to ours (docs/physics.md §G.1)
    assert by["magnetic_moment"]["xmass_upper_limit"] == 1.8e-10
    assert by["magnetic_moment"]["xmass_best_fit"] == 1.3e-10
    assert by["millicharge_mu"]["xmass_upper_limit"] == 1.1e-11
    assert by["charge_radius_e"]["xmass_upper_limit"] is None


def test_csv_round_trip(rows):
    parsed = list(csv.DictReader(io.StringIO(summary_csv(rows))))
    assert list(parsed[0]) == list(SUMMARY_COLUMNS)
    assert len(parsed) == len(rows)
    assert float(parsed[0]["upper_limit"]) == rows[0]["upper_limit"]
    assert parsed[5]["lower_limit"] == repr(-9e-31)
    assert parsed[1]["mediator_mass_mev"] == ""


def test_markdown_and_latex(rows):
    md = summary_markdown(rows, 0.9)
    lines = [ln for ln in md.splitlines() if ln.startswith("|")]
    assert len(lines) == 2 + len(rows)
    assert "90 % CL limit" in lines[0]
    assert "| 85.3/98 | 88.2/98 | < 1.8e-10 | 1.8e-10 |" in md
    assert "[-9e-31, 4e-32]" in md
    tex = summary_latex(rows, "caption")
    assert tex.count(r"\\") == len(rows) + 1
    assert r"$<$ $1.80\times10^{-10}$" in tex
    assert r"charge\_radius\_e" in tex
    assert r"\begin{tabular}{lrrrrr}" in tex
