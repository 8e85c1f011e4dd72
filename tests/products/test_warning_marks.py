"""Entries with plausibility warnings are marked in every table and figure that shows them."""

from __future__ import annotations

import csv
import io

from exonu.products.external_tables import (
    comparison_markdown,
    rows_csv,
    table_latex,
    table_markdown,
)
from exonu.products.style import pyplot, warning_note
from exonu.products.tables import scan_csv as table_csv
from exonu.products.tables import (
    scan_latex,
    scan_markdown,
    summary_csv,
    summary_latex,
    summary_markdown,
    summary_rows,
)
from exonu.products.tables import scan_rows as table_rows

from .docs import millicharge_scan_doc

EV = "release data: median energy 1.5e+04 keV is 500 times ...: are the energies in eV?"
ZERO = "no observed event in the fit window [1, 30] keV (29 bins)"


def scan_doc():
    doc = millicharge_scan_doc()
    doc["results"][1]["warnings"] = [EV, ZERO]
    return doc


def test_summary_table_marks_entries_with_warnings():
    rows = summary_rows({}, [scan_doc()])
    assert [r["warnings"] for r in rows] == [0, 2, 0, 0]
    md = summary_markdown(rows, 0.9)
    flagged = rows[1]["hypothesis"]
    assert f"| {flagged} †1 |" in md
    assert f"- †1 {flagged}: {EV}; {ZERO}" in md
    assert md.count("†") == 2  # the mark and its note, nothing else
    parsed = list(csv.DictReader(io.StringIO(summary_csv(rows))))
    assert parsed[1]["warnings"] == "2" and parsed[0]["warnings"] == "0"
    assert parsed[1]["warning_messages"] == f"{EV} | {ZERO}"
    tex = summary_latex(rows, "cap")
    assert r"$^{\dagger1}$" in tex and r"\par\footnotesize $^{\dagger1}$" in tex
    clean = summary_markdown(summary_rows({}, [millicharge_scan_doc()]))
    assert "†" not in clean and "Warnings" not in clean


def test_scan_tables_mark_entries_with_warnings():
    rows = table_rows(scan_doc()["results"])
    md = scan_markdown(rows)
    name = rows[1]["hypothesis"]
    assert f"| {name} †1 |" in md and f"- †1 {name}: {EV}; {ZERO}" in md
    parsed = list(csv.DictReader(io.StringIO(table_csv(rows))))
    assert parsed[1]["warnings"] == "2" and parsed[1]["warning_messages"] == f"{EV} | {ZERO}"
    assert parsed[0]["warnings"] == "0" and parsed[0]["warning_messages"] == ""
    assert r"$^{\dagger1}$" in scan_latex(rows, "cap")


def _table_doc():
    base = {
        "model": "magnetic_moment",
        "parameter": "mu_nu",
        "unit": "mu_B",
        "treatment": None,
        "lower_limit": None,
        "best_fit": 0.0,
        "delta_chi2_zero": 0.0,
        "chi2_best": 3.0,
        "valid": True,
        "fit_window_kev": [1.0, 30.0],
        "likelihood": "poisson",
        "method": "profile",
        "cl": 0.9,
    }
    rows = [
        {**base, "signal": "magnetic_moment_e", "flavour": "e", "upper_limit": 3e-12},
        {
            **base,
            "signal": "magnetic_moment_all",
            "flavour": "all",
            "upper_limit": 2e-12,
            "warnings": [EV],
        },
    ]
    return {
        "table": "em",
        "caption": "",
        "method": "profile",
        "likelihood": "poisson",
        "cl": 0.9,
        "fit_window_kev": [1.0, 30.0],
        "rows": rows,
    }


def test_release_tables_mark_entries_with_warnings():
    doc = _table_doc()
    md = table_markdown(doc)
    assert "< 2 †1" in md and f"- †1 magnetic_moment_all: {EV}" in md
    assert md.count("†") == 2
    tex = table_latex(doc)
    assert r"$<$ 2$^{\dagger1}$" in tex and r"\par\footnotesize $^{\dagger1}$" in tex
    parsed = list(csv.DictReader(io.StringIO(rows_csv(doc["rows"]))))
    assert [p["warnings"] for p in parsed] == ["0", "1"]
    assert parsed[1]["warning_messages"] == EV
    comp = {"cl": 0.9, "rows": [dict(r, binning="nominal", bin_width_kev=1.0) for r in doc["rows"]]}
    cmd = comparison_markdown(comp)
    assert "†1" in cmd and f"- †1 magnetic_moment_all (1 keV Poisson, profile): {EV}" in cmd


def test_figure_note_is_drawn_above_the_axes():
    plt = pyplot("ATLAS")
    fig, ax = plt.subplots(figsize=(6, 4))
    warning_note(fig, [])
    assert not fig.texts and fig.get_figheight() == 4
    top = ax.get_position().y1
    warning_note(fig, [EV, ZERO])
    (note,) = fig.texts
    assert note.get_text().startswith("WARNING: 2 plausibility warning(s)")
    assert "eV" in note.get_text() and "no observed event" in note.get_text()
    assert fig.get_figheight() > 4
    # the axes keep their size and move below the note
    assert ax.get_position().y1 < top
    assert abs(ax.get_position().height * fig.get_figheight() - 4 * (top - 0.11)) < 0.5
    plt.close(fig)
