"""Khan-style tables and the comparison: computation and CSV/Markdown/LaTeX/figures."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from exonu.external import ReleaseSettings, read_release
from exonu.external.survey import compute_comparison, compute_table, entry_name, table_entries
from exonu.external.workspace import response_for
from exonu.products.external_tables import (
    comparison_figure,
    comparison_latex,
    comparison_markdown,
    rows_csv,
    table_figure,
    table_latex,
    table_markdown,
)

from .conftest import MU_SPEC, PHYSICS, TRUE_BINS, build_workspace, release_block

EDGES = np.arange(1.0, 30.01, 1.0)
FIT = {"method": "profile", "likelihood": "poisson", "cl": 0.9}


def test_entries_and_names():
    spec = {
        "models": [{"model": "millicharge", "treatment": "full"}, {"model": "vector"}],
        "flavours": ["e", "all"],
        "mediator_mass_mev": 0.01,
    }
    entries = table_entries(spec, [1.0, 30.0])
    assert [e["name"] for e in entries] == [
        "millicharge_full_e",
        "millicharge_full_all",
        "vector_m0.01MeV_e",
        "vector_m0.01MeV_all",
    ]
    assert entries[0]["scale"] == pytest.approx(1.5e-12)  # MODELS reference value
    assert entry_name("anapole", "mu", "giunti_studenikin", None) == "anapole_giunti_studenikin_mu"


@pytest.fixture(scope="module")
def em_table(null_release):
    _, ws, _, _ = build_workspace(null_release, EDGES, solar_nu={"replace": True})
    rel = read_release(
        ReleaseSettings.from_config(release_block(solar_nu={"replace": True}), str(null_release))
    )
    from exonu.selection.run import edges_from_spec

    resp = response_for(rel, edges_from_spec(TRUE_BINS, "t"), EDGES)
    spec = {
        "caption": "test Table I",
        "flavours": ["e", "all"],
        "models": [{"model": "magnetic_moment"}, {"model": "millicharge", "treatment": "full"}],
    }
    return compute_table("em", spec, ws.to_dict(), resp, PHYSICS, TRUE_BINS, FIT, [1.0, 30.0])


def test_table_entries_are_limits_and_intervals(em_table):
    rows = {r["signal"]: r for r in em_table["rows"]}
    assert set(rows) == {
        "magnetic_moment_e",
        "magnetic_moment_all",
        "millicharge_full_e",
        "millicharge_full_all",
    }
    assert all(r["valid"] for r in rows.values())
    mm_e, mm_all = rows["magnetic_moment_e"], rows["magnetic_moment_all"]
    assert mm_e["lower_limit"] is None and mm_all["lower_limit"] is None
    # only ν_e (≈ 54 %) carries the moment: a weaker limit than the effective one
    assert mm_e["upper_limit"] > mm_all["upper_limit"] > 0
    q = rows["millicharge_full_all"]
    assert q["lower_limit"] is not None and q["lower_limit"] < 0 < q["upper_limit"]


def test_table_formats(em_table, tmp_path):
    md = table_markdown(em_table)
    assert "| flavour | μ_ν [10^" in md and "| ν_e | < " in md and "all flavours" in md
    assert "test Table I" in md and "profile" in md
    tex = table_latex(em_table)
    assert r"\begin{tabular}{lcc}" in tex and r"$\nu_e$" in tex and r"$\mu_\nu$" in tex
    rows = list(csv.DictReader(io.StringIO(rows_csv(em_table["rows"]))))
    assert len(rows) == 4 and rows[0]["table"] == "em" and float(rows[0]["upper_limit"]) > 0
    out = tmp_path / "em.png"
    table_figure(em_table, [str(out)], {"style": "ATLAS"})
    assert out.stat().st_size > 5000


def test_comparison(null_release, tmp_path):
    rel, _, sigs, _ = build_workspace(null_release, EDGES)
    doc = compute_comparison(
        "test",
        rel,
        [("nominal", EDGES), ("two", np.arange(1.0, 29.01, 2.0))],
        sigs,
        ["chi2", "poisson", "unbinned"],
        ["profile"],
        0.9,
    )
    rows = doc["rows"]
    assert len(rows) == 5  # 2 binnings x 2 binned likelihoods + unbinned
    assert {r["binning"] for r in rows} == {"nominal", "two", "unbinned"}
    two = [r for r in rows if r["binning"] == "two"]
    assert all(r["fit_window_kev"] == [1.0, 29.0] for r in two)  # clipped to the binning
    ups = [r["upper_limit"] for r in rows]
    assert max(ups) / min(ups) < 1.5
    md = comparison_markdown(doc)
    assert "| magnetic_moment [10^" in md and "2 keV Poisson" in md and "unbinned" in md
    assert r"\begin{tabular}" in comparison_latex(doc)
    out = tmp_path / "cmp.png"
    comparison_figure(doc, [str(out)], {"style": "ATLAS"})
    assert out.stat().st_size > 5000
    assert MU_SPEC["name"] == rows[0]["signal"]
