"""Local significance per background model (exonu.products.significance, stage
``external.significance``): synthetic releases with a hand-computed Δχ², and the real XENON1T
SR1 release (skipped when absent) against XENON1T's published interval and 3.2σ."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

from exonu.products.significance import (
    local_significance,
    significance_csv,
    significance_document,
    significance_markdown,
    variant_release_blocks,
)

from .conftest import MU_SPEC, PHYSICS, TRUE_BINS, build_workspace, real_release, release_block

EDGES_SPEC = {"start": 1.0, "stop": 30.0, "width": 1.0}


def _edges():
    from exonu.selection.run import edges_from_spec

    return edges_from_spec(EDGES_SPEC, "e")


def _poisson_chi2(n, mu):
    """Baker–Cousins χ² = 2 Σ [μ − n + n ln(n/μ)] (written out here, not exonu's)."""
    n = np.asarray(n, float)
    log_term = np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0) / mu), 0.0)
    return float(2.0 * np.sum(mu - n + log_term))


def _stage_inputs(tmp_path: Path, directory: Path, signals=(MU_SPEC,)):
    """response.json and signals/<name>.json of a synthetic release, as the workflow has them."""
    from exonu.external import ReleaseSettings, read_release
    from exonu.external.response import response_to_dict
    from exonu.external.workspace import response_for, spectrum_document
    from exonu.selection.run import edges_from_spec

    s = ReleaseSettings.from_config(release_block(), str(directory))
    rel = read_release(s)
    resp = response_for(rel, edges_from_spec(TRUE_BINS, "t"), _edges())
    rpath = tmp_path / "response.json"
    rpath.write_text(json.dumps(response_to_dict(resp, s.fiducial_mass_kg, s.livetime_s, "t")))
    spectra = []
    for spec in signals:
        p = tmp_path / f"{spec['name']}.json"
        p.write_text(json.dumps(spectrum_document(spec, PHYSICS, TRUE_BINS)))
        spectra.append(str(p))
    return str(rpath), spectra


def _run_stage(tmp_path, directory, release, signals=(MU_SPEC,), fit=None):
    from exonu.stages import external

    rpath, spectra = _stage_inputs(tmp_path, directory, signals)
    params = {
        "analysis": "test",
        "release_dir": str(directory),
        "release": release,
        "energy_kev": EDGES_SPEC,
        "signals": list(signals),
        "fit": fit or {"method": "profile", "cl": 0.9, "likelihood": "poisson"},
    }
    out = {ext: str(tmp_path / f"significance.{ext}") for ext in ("json", "csv", "md")}
    external.significance(params, rpath, spectra, out)
    return json.loads(Path(out["json"]).read_text())


def test_local_significance():
    assert local_significance(10.0, 1.0) == pytest.approx(3.0)
    assert local_significance(1.0, 1.0 + 1e-12) == 0.0


def test_variants_are_merged_and_nominal_is_reserved():
    base = {"normalisation": {"tritium": "off", "b0": "constrained"}, "exposure": {"a": 1}}
    blocks = variant_release_blocks(base, {"h3": {"normalisation": {"tritium": "free"}}})
    assert [b[0] for b in blocks] == ["nominal", "h3"]
    assert blocks[1][2]["normalisation"] == {"tritium": "free", "b0": "constrained"}
    assert blocks[0][2]["normalisation"]["tritium"] == "off"  # the base is not modified
    with pytest.raises(ValueError, match="reserved"):
        variant_release_blocks(base, {"nominal": {"normalisation": {}}})


def test_rows_published_and_formats():
    def res(chi2_zero, chi2_best):
        return {
            "signal": "magnetic_moment",
            "model": "magnetic_moment",
            "parameter": "mu_nu",
            "unit": "mu_B",
            "flavour": "all",
            "likelihood": "poisson",
            "method": "profile",
            "cl": 0.9,
            "lower_limit": 1.5e-11,
            "upper_limit": 3.0e-11,
            "best_fit": 2.2e-11,
            "chi2_best": chi2_best,
            "chi2_zero": chi2_zero,
            "valid": True,
            "message": "ok",
        }

    pub = {
        "citation": {"reference": "A. B. et al., J. 1 (2020) 2", "arxiv": "2000.00001"},
        "results": [
            {
                "key": "b0",
                "model": "magnetic_moment",
                "flavour": "all",
                "interval": [1.4e-11, 2.9e-11],
                "local_significance": 3.2,
                "normalisation": {"tritium": "off"},
                "background": "B0",
            },
            {
                "key": "h3",
                "model": "magnetic_moment",
                "flavour": "all",
                "interval": None,
                "local_significance": 0.9,
                "normalisation": {"tritium": "free"},
            },
        ],
    }
    doc = significance_document(
        "x",
        [
            ("nominal", "d", {"tritium": "off"}, [res(31.0, 22.0)]),
            ("h3", "d", {"tritium": "free"}, [res(20.25, 20.0)]),
            ("other", "d", {"tritium": "fixed"}, [res(5.0, 5.0)]),
        ],
        pub,
        "test_published.yaml",
    )
    nom, h3, other = doc["rows"]
    assert nom["z_local"] == pytest.approx(3.0) and h3["z_local"] == pytest.approx(0.5)
    assert nom["p_local"] == pytest.approx(stats.norm.sf(3.0))
    assert (nom["published_lower"], nom["published_upper"]) == (1.4e-11, 2.9e-11)
    assert nom["published_z_local"] == 3.2
    assert h3["published_z_local"] == 0.9 and h3["published_upper"] is None
    assert other["published_key"] is None and other["z_local"] == 0.0
    md = significance_markdown(doc)
    assert (
        "| magnetic_moment [10^-11 μ_B] | nominal | (1.5, 3) | 2.2 | 9.00 | 3.00σ "
        "| (1.4, 2.9) | 3.2σ |" in md
    )
    assert "arXiv:2000.00001" in md
    csv_text = significance_csv(doc)
    assert csv_text.splitlines()[1].startswith("magnetic_moment,magnetic_moment,mu_nu")
    assert "tritium=free" in csv_text


def test_z_is_the_hand_computed_delta_chi2(tmp_path, injected_release):
    """Fixed background, binned Poisson: Δχ² from a χ² written out here and minimised over x."""
    release = release_block(
        normalisation={"b0": "fixed"},
        background_variants={"b0_free": {"normalisation": {"b0": "free"}}},
        significance={"signals": ["magnetic_moment"], "published": None},
    )
    doc = _run_stage(tmp_path, injected_release, release)
    rows = {r["variant"]: r for r in doc["rows"]}
    assert set(rows) == {"nominal", "b0_free"}

    _, ws, _, _ = build_workspace(injected_release, _edges(), normalisation={"b0": "fixed"})
    sig = ws.signal("magnetic_moment")
    mask = sig.fit_mask
    n = np.asarray(ws.observed, float)[mask]
    b = sum(np.asarray(bk.expected, float) for bk in ws.backgrounds)[mask]

    def chi2(x):
        return _poisson_chi2(n, b + np.asarray(sig.expected(x), float)[mask])

    best = optimize.minimize_scalar(
        chi2, bounds=(0.0, 20.0), method="bounded", options={"xatol": 1e-9}
    )
    delta = chi2(0.0) - best.fun
    assert delta > 4.0  # the injected signal is seen
    nom = rows["nominal"]
    assert nom["delta_chi2_zero"] == pytest.approx(delta, rel=1e-3, abs=1e-3)
    assert nom["z_local"] == pytest.approx(math.sqrt(delta), rel=1e-3)
    assert abs(nom["best_fit"]) / 1e-11 == pytest.approx(best.x, rel=1e-2)
    # a free background absorbs part of the excess
    assert rows["b0_free"]["z_local"] < nom["z_local"]
    assert (tmp_path / "significance.md").read_text().startswith("**significance**")


# --------------------------------------------------------------------------- real release

PUBLISHED = (1.4e-11, 2.9e-11)  # XENON1T, PRD 102 (2020) 072004: 90 % CL, B0 only


def test_xenon1t_significance_with_and_without_tritium(tmp_path):
    import yaml

    from exonu.config import validate_config
    from exonu.external.workspace import spectrum_document
    from exonu.stages import external

    folder = real_release("xenon1t-sr1-er", "bkg_binned_gambit.csv")
    repo = Path(__file__).resolve().parents[2]
    cfg = yaml.safe_load((repo / "config" / "xenon1t.yaml").read_text())
    cfg["release_dir"] = str(folder)
    cfg = validate_config(cfg)
    rel = cfg["release"]
    assert rel["background_variants"]["tritium_free"]["normalisation"] == {"tritium": "free"}
    model_keys = (
        "data",
        "backgrounds",
        "normalisation",
        "efficiency",
        "exposure",
        "resolution",
        "solar_nu",
    )
    rpath = str(tmp_path / "response.json")
    external.response(
        {
            "release_dir": str(folder),
            "release": {k: rel[k] for k in ("efficiency", "exposure", "resolution")},
            "binning": cfg["binning"],
        },
        rpath,
    )
    spec = next(s for s in cfg["signals"] if s["name"] == "magnetic_moment")
    spath = tmp_path / "magnetic_moment.json"
    spath.write_text(
        json.dumps(spectrum_document(spec, cfg["physics"], cfg["binning"]["true_energy_kev"]))
    )
    params = {
        "analysis": cfg["analysis"],
        "release_dir": str(folder),
        "release": {k: rel[k] for k in (*model_keys, "background_variants", "significance")},
        "energy_kev": cfg["binning"]["energy_kev"],
        "signals": [spec],
        "fit": cfg["fit"],
        "physics": cfg["physics"],
    }
    out = {ext: str(tmp_path / f"significance.{ext}") for ext in ("json", "csv", "md")}
    external.significance(params, rpath, [str(spath)], out)
    rows = {r["variant"]: r for r in json.loads(Path(out["json"]).read_text())["rows"]}
    nom, h3 = rows["nominal"], rows["tritium_free"]
    assert nom["valid"] and h3["valid"]
    assert nom["lower_limit"] == pytest.approx(PUBLISHED[0], rel=0.15)
    assert nom["upper_limit"] == pytest.approx(PUBLISHED[1], rel=0.15)
    assert nom["z_local"] > 2.5
    assert h3["z_local"] < nom["z_local"]
    # XENON1T's numbers next to them (xenon1t_published.yaml)
    assert (nom["published_lower"], nom["published_upper"]) == PUBLISHED
    assert nom["published_z_local"] == 3.2 and h3["published_z_local"] == 0.9
