"""The comparison with the published XMASS-I numbers (exonu.products.comparison)."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.products.comparison import (
    comparison_csv,
    comparison_document,
    comparison_markdown,
    load_published,
    median_interval,
)


def test_published_numbers_and_citation():
    pub = load_published()
    assert pub["citation"]["doi"] == "10.1016/j.physletb.2020.135741"
    got = {h["key"]: h["published"] for h in pub["headlines"]}
    # XMASS-I abstract (seed 000_...): 1.8e-10 mu_B, 5.4e-12 e, 1.3e-6, 8.8e-5
    assert got == {
        "magnetic_moment": 1.8e-10,
        "millicharge": 5.4e-12,
        "dark_photon_1kev": 1.3e-6,
        "dark_photon_10mev": 8.8e-5,
    }
    atomic = {h["key"]: h["atomic_model"] for h in pub["headlines"]}
    assert atomic["millicharge"] == "epa" and atomic["magnetic_moment"] == "stepping"
    dead = pub["dead_pmt_correction"]
    assert dead["percent"] == [0, 12, 14, 17, 46]
    assert dead["uncertainty_percent"] == [10, 14, 19, 28, 34]


def test_median_interval_covers_the_true_median_68_percent():
    rng = np.random.default_rng(1)
    n, trials = 40, 600
    hits = 0
    for _ in range(trials):
        x = rng.lognormal(0.0, 0.2, n)  # true median 1
        lo, hi = median_interval(x)
        hits += lo <= 1.0 <= hi
    assert 0.62 < hits / trials < 0.80  # order statistics: at least 68 %, discrete ranks


def _fit(atomic, upper, median, model="millicharge", mass=None, treatment="pure"):
    return {
        "model": model,
        "flavour": "all",
        "mediator_mass_mev": mass,
        "treatment": treatment,
        "atomic_model": atomic,
        "upper_limit": upper,
        "best_fit": 0.0,
        "expected": {
            "median": median,
            "minus1": 0.8 * median,
            "plus1": 1.2 * median,
            "minus2": 0.7 * median,
            "plus2": 1.5 * median,
            "n_toys": 100,
        },
    }


def test_like_with_like_is_chosen_and_flagged():
    fits = {
        "mc_fea": _fit("stepping", 2.7e-11, 2.2e-11),
        "mc_epa": _fit("epa", 8.8e-12, 6.0e-12),
        "mm": _fit("stepping", 2.0e-10, 1.9e-10, model="magnetic_moment", treatment=None),
    }
    toys = {"mc_epa": [{"limits": list(np.linspace(5.0e-12, 7.0e-12, 101))}]}
    config = {"signals": [], "scans": {}, "physics": {"flavour_composition": "xmass"}}
    doc = comparison_document(fits, toys, [], config)
    rows = {r["key"]: r for r in doc["headlines"]}
    mc = rows["millicharge"]
    assert mc["exonu_result"] == "fits/mc_epa.json" and mc["like_with_like"]
    assert mc["ratio_expected"] == pytest.approx(6.0e-12 / 5.4e-12)
    assert mc["within_goal"]
    assert mc["expected"]["median_rel_precision"] == pytest.approx(0.1e-12 / 6e-12, rel=0.2)
    assert rows["magnetic_moment"]["ratio_observed"] == pytest.approx(2.0 / 1.8)
    assert rows["dark_photon_1kev"]["observed"] is None  # not configured: no number invented
    # only the free-electron millicharge: reported, but not like with like
    doc2 = comparison_document({"mc_fea": fits["mc_fea"]}, {}, [], config)
    assert not doc2["headlines"][1]["like_with_like"]
    # an oscillated composition is not XMASS's
    config3 = {**config, "signals": [{"name": "mc_epa", "flavour_composition": "msw"}]}
    doc3 = comparison_document({"mc_epa": fits["mc_epa"]}, {}, [], config3)
    assert not doc3["headlines"][1]["like_with_like"]
    md, csv = comparison_markdown(doc), comparison_csv(doc)
    assert (
        "5.4e-12" in md and csv.count("\n") == 1 + 4 + 3 + 2
    )  # header, headlines, flavours, points


def test_dead_pmt_and_dark_photon_sections():
    scan = {
        "scan": "dark_photon_bl",
        "config": {},
        "results": [
            {"model": "dark_photon_bl", "flavour": "all", "mediator_mass_mev": m, "upper_limit": g}
            for m, g in ((1e-4, 1.0e-6), (1e-2, 2.0e-6), (1.0, 1.0e-5), (100.0, 1.0e-3))
        ],
    }
    dead = {"factor": [1.03, 1.15, 1.13, 1.12, 1.16], "stat": [0.04] * 5, "masking": [0.03] * 5}
    doc = comparison_document({}, {}, [scan], {"physics": {}}, dead_pmt=dead)
    p = {x["mass_mev"]: x for x in doc["dark_photon"]["published_points"]}
    # log-log interpolation between 1e-4 and 1e-2 MeV at 1e-3 MeV: geometric mean
    assert p[1e-3]["observed"] == pytest.approx(np.sqrt(2.0) * 1e-6)
    d = doc["dead_pmt"]
    assert d["exonu_percent"][1] == pytest.approx(15.0)
    assert d["exonu_uncertainty_percent"][0] == pytest.approx(5.0)
    assert d["published_percent"][4] == 46


def test_khan_flavours_only_from_oscillated_scans():
    res = [
        {
            "model": "magnetic_moment",
            "flavour": f,
            "unit": "mu_B",
            "upper_limit": v,
            "hypothesis": f"mm_{f}",
        }
        for f, v in (("mu", 3.0e-10), ("tau", 2.8e-10))
    ]
    scans = [
        {"scan": "mm_khan", "config": {}, "results": res},
        {"scan": "mm", "config": {}, "results": res},
    ]
    config = {
        "physics": {"flavour_composition": "xmass", "sin2_theta23": 0.546},
        "scans": {"mm_khan": {"flavour_composition": "msw"}, "mm": {}},
    }
    doc = comparison_document({}, {}, scans, config)
    got = {(r["scan"], r["flavour"]) for r in doc["khan_flavours"]["limits"]}
    assert got == {("mm_khan", "mu"), ("mm_khan", "tau")}
    assert "sin²θ₂₃ = 0.546" in comparison_markdown(doc)
