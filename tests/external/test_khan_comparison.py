"""Khan's XENON1T Tables I and II next to exonu's release tables (exonu.products.khan).

The published numbers are checked against Khan's printed tables (arXiv:2006.12887); the
comparison is built from small hand-made table documents with known entries, so the matching,
the anapole conversion and the ratio column are checked against numbers computed here.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from exonu.products.khan import (
    anapole_factor,
    khan_csv,
    khan_document,
    khan_markdown,
    load_published,
)


def _row(model, flavour, lo, up, treatment=None, mass=None, **extra):
    return {
        "signal": f"{model}_{treatment or ''}_{flavour}",
        "model": model,
        "flavour": flavour,
        "treatment": treatment,
        "mediator_mass_mev": mass,
        "lower_limit": lo,
        "upper_limit": up,
        "best_fit": 0.0 if lo is None else 0.5 * (lo + up),
        "delta_chi2_zero": 1.0,
        "valid": True,
        "warnings": [],
        **extra,
    }


def _tables():
    em = [
        _row("magnetic_moment", "e", 2.8e-11, 5.8e-11),  # exactly 2 x Khan's [1.4, 2.9]
        _row("magnetic_moment", "mu", 2.26e-11, 4.7e-11),
        _row("charge_radius", "tau", -22e-32, 27e-32),  # half of Khan's [-44, 54]
        # the pure term must not be taken for Khan's millicharge (he shifts g_V: full)
        _row("millicharge", "e", None, 9.9e-12, treatment="pure"),
        _row("millicharge", "e", -2.8e-12, -2.2e-12, treatment="full"),
        _row("anapole", "e", -0.32e-30 / 36, 1.2e-30 / 36, treatment="giunti_studenikin"),
        _row("anapole", "e", -0.64e-30, 2.4e-30, treatment="khan_printed"),
    ]
    med = [
        _row("vector", "all", 2.0e-7, 7.0e-7, mass=0.01),
        _row("vector", "all", None, 1.0, mass=1.0),  # another mass: never matched
        _row("pseudoscalar", "all", None, 1.0e-6, mass=0.01, warnings=["a warning"]),
    ]
    return {
        "electromagnetic": {"method": "profile", "likelihood": "poisson", "rows": em},
        "mediators": {"method": "profile", "likelihood": "poisson", "rows": med},
    }


def _by(doc, quantity, flavour, convention=None):
    return next(
        r
        for r in doc["rows"]
        if r["quantity"] == quantity
        and r["flavour"] == flavour
        and r.get("convention") == convention
    )


def test_published_numbers_are_khans_tables():
    pub = load_published()
    assert pub["citation"]["arxiv"] == "2006.12887"
    got = {(e["quantity"], e["flavour"]): e["interval"] for e in pub["table_1"]}
    # Table I of arXiv:2006.12887, rows "nu_alpha (XENON1T)", 90 % CL
    want = {
        ("magnetic_moment", "e"): [1.4e-11, 2.9e-11],
        ("magnetic_moment", "mu"): [2.26e-11, 4.7e-11],
        ("magnetic_moment", "tau"): [2.1e-11, 4.3e-11],
        ("charge_radius", "e"): [-91e-32, 4.1e-32],
        ("charge_radius", "mu"): [-50e-32, 59e-32],
        ("charge_radius", "tau"): [-44e-32, 54e-32],
        ("millicharge", "e"): [2.2e-12, 2.8e-12],
        ("millicharge", "mu"): [-3.5e-12, 3.3e-12],
        ("millicharge", "tau"): [-3.2e-12, 3.0e-12],
        ("anapole", "e"): [-0.32e-30, 1.2e-30],
        ("anapole", "mu"): [-1.0e-30, 1.0e-30],
        ("anapole", "tau"): [-0.98e-30, 0.91e-30],
    }
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-12), k
    t2 = pub["table_2"]
    assert t2["mediator_mass_mev"] == 0.01
    assert {e["model"]: e["upper"] for e in t2["entries"]} == pytest.approx(
        {"vector": 3.5e-7, "axial_vector": 3.5e-7, "scalar": 0.9e-6, "pseudoscalar": 2.0e-6}
    )
    for e in [*pub["table_1"], *t2["entries"]]:
        assert set(e["reasons"]) <= set(pub["reasons"]), e


def test_anapole_factor_is_one_over_36():
    assert anapole_factor("giunti_studenikin") == pytest.approx(1.0 / 36.0)
    assert anapole_factor("khan_printed") == 1.0


def test_ratios_and_matching():
    doc = khan_document(_tables())
    mm = _by(doc, "magnetic_moment", "e")
    assert (mm["ratio_lower"], mm["ratio_upper"]) == pytest.approx((2.0, 2.0))
    assert "tuned_to_effective" in mm["why"]
    assert _by(doc, "magnetic_moment", "mu")["ratio_upper"] == pytest.approx(1.0)
    cr = _by(doc, "charge_radius", "tau")
    assert (cr["ratio_lower"], cr["ratio_upper"]) == pytest.approx((0.5, 0.5))
    # the full-treatment row, with the opposite sign of Khan's (ratio -1.27, -0.79)
    q = _by(doc, "millicharge", "e")
    assert q["exonu_entry"].endswith("millicharge_full_e")
    assert (q["ratio_lower"], q["ratio_upper"]) == pytest.approx((-2.8 / 2.2, -2.2 / 2.8))
    assert "millicharge_sign" in q["why"]
    # anapole: printed against khan_printed (x2), divided by 36 against Giunti-Studenikin (x1)
    ak = _by(doc, "anapole", "e", "khan_printed")
    assert (ak["ratio_lower"], ak["ratio_upper"]) == pytest.approx((2.0, 2.0))
    ag = _by(doc, "anapole", "e", "giunti_studenikin")
    assert ag["khan_upper"] == pytest.approx(1.2e-30 / 36)
    assert (ag["ratio_lower"], ag["ratio_upper"]) == pytest.approx((1.0, 1.0))
    assert "anapole_converted" in ag["why"] and "anapole_normalisation" not in ag["why"]
    # Table II: upper ends only, at 10 keV
    v = _by(doc, "vector", "all")
    assert v["ratio_lower"] is None and v["ratio_upper"] == pytest.approx(2.0)
    assert _by(doc, "pseudoscalar", "all")["ratio_upper"] == pytest.approx(0.5)
    # entries exonu did not compute stay empty
    missing = _by(doc, "scalar", "all")
    assert missing["exonu_entry"] is None and missing["ratio_upper"] is None
    assert len(doc["rows"]) == 12 + 3 + 4  # Table I (anapole twice) + Table II


def test_formats():
    doc = khan_document(_tables())
    rows = list(csv.DictReader(io.StringIO(khan_csv(doc))))
    assert len(rows) == len(doc["rows"])
    mm = next(r for r in rows if r["quantity"] == "magnetic_moment" and r["flavour"] == "e")
    assert float(mm["ratio_upper"]) == pytest.approx(2.0)
    assert float(mm["khan_lower"]) == pytest.approx(1.4e-11)
    assert "ad-hoc factors a, b_i, c_i" in mm["why_text"]
    md = khan_markdown(doc)
    # Khan's numbers in his printed columns, exonu's on the same power of ten, the ratios
    assert (
        "| I | magnetic_moment | ν_e | ×10^-11 μ_B | [1.4, 2.9] | [2.8, 5.8] | 2.00, 2.00 |" in md
    )
    assert "[2.26, 4.7]" in md and "[-91, 4.1]" in md
    assert "| II | pseudoscalar | all | ×10^-6 | < 2 | < 1 † | 0.50 |" in md
    assert "not in release.tables" in md
    assert "a = 0.38" in md and "factor 36" in md


def test_stage_writes_the_products(tmp_path):
    from exonu.stages import external

    paths = {}
    for name, doc in _tables().items():
        paths[name] = str(tmp_path / f"{name}.json")
        (tmp_path / f"{name}.json").write_text(json.dumps(doc))
    out = {ext: str(tmp_path / f"khan_comparison.{ext}") for ext in ("json", "csv", "md")}
    external.khan_comparison({"analysis": "test"}, paths, out)
    doc = json.loads((tmp_path / "khan_comparison.json").read_text())
    assert doc["analysis"] == "test"
    assert _by(doc, "magnetic_moment", "e")["ratio_upper"] == pytest.approx(2.0)
    assert (tmp_path / "khan_comparison.md").read_text().startswith("**khan_comparison**")
    assert (tmp_path / "khan_comparison.csv").read_text().startswith("khan_table,")
