"""The binned public releases read through their configs (each skipped where it is absent):
XENON1T SR1, LZ WS2022 and WS2024, PandaX-4T Run1. The files are read in place, never copied.

XENON1T is analysed as XENON1T did it (B0 only, no tritium): the 90 % CL interval of μ_ν must
reproduce the collaboration's (1.4, 2.9)×10⁻¹¹ μ_B within 15 % at each end (PRD 102 (2020)
072004), and the local significance of the excess must drop once a free tritium component is
added. The significance is Z = √(χ²(μ_ν = 0) − χ²_min) of the profile likelihood (the POI x =
μ_ν/10⁻¹¹ μ_B enters the rate as x², so x = 0 is an interior point of the parameter and Δχ² is
one-degree-of-freedom χ²-distributed under the background-only hypothesis).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from .conftest import real_release

RELEASES = {
    # config -> (release folder, marker file, observed total, background totals by component
    # before the solar-nu split, exposure [t*yr])
    "xenon1t": ("xenon1t-sr1-er", "bkg_binned_gambit.csv", 1261, 1244.04, 0.6473),
    "lz_ws2022": ("lz-ws2022-er", "binned_0to20kev.csv", 471, 463.38, 0.90),
    "lz_ws2024": ("lz-ws2024-er", "binned_0to20kev.csv", 1787, 1765.58, 3.30),
    "pandax4t": ("pandax4t-run1-er", "binned_0to30kev.csv", 1431, 1439.08, 0.995),
}


def _config(name: str, folder: Path, release_over: dict[str, Any] | None = None) -> dict:
    import yaml
    from wfhelpers import REPO

    from exonu.config import validate_config

    cfg = yaml.safe_load((REPO / "config" / f"{name}.yaml").read_text())
    cfg["release_dir"] = str(folder)
    cfg["release"].update(release_over or {})
    return validate_config(cfg)


def _workspace(cfg: dict):
    from exonu.external.checks import check_external_config
    from exonu.external.workspace import (
        external_workspace,
        response_for,
        spectrum_document,
        standard_model_true,
    )
    from exonu.selection.run import edges_from_spec
    from exonu.stats.workspace import Workspace

    rel = check_external_config(cfg)
    edges = edges_from_spec(cfg["binning"]["energy_kev"], "e")
    t = edges_from_spec(cfg["binning"]["true_energy_kev"], "t")
    resp = response_for(rel, t, edges)
    sm = standard_model_true(cfg["physics"], t) if cfg["release"]["solar_nu"]["replace"] else None
    spec = next(s for s in cfg["signals"] if s["name"] == "magnetic_moment")
    spectrum = spectrum_document(spec, cfg["physics"], cfg["binning"]["true_energy_kev"])
    doc = external_workspace(cfg["analysis"], rel, edges, resp, [(spec, spectrum)], sm)
    return rel, Workspace.from_dict(doc), doc


def _mu_interval(ws) -> tuple[float | None, float, float]:
    """(lower, upper, Z) of μ_ν [μ_B] with the binned Poisson profile likelihood."""
    from exonu.stats.limits import upper_limit

    res = upper_limit(ws, "magnetic_moment", method="profile", likelihood="poisson", cl=0.9)
    assert res.valid
    d = res.to_dict()
    z = math.sqrt(max(d["chi2_zero"] - d["chi2_best"], 0.0))
    return res.lower_limit, res.upper_limit, z


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_release_config_builds_and_limits(name):
    folder_name, marker, n_obs, bkg_total, exposure = RELEASES[name]
    folder = real_release(folder_name, marker)
    cfg = _config(name, folder)
    rel, ws, doc = _workspace(cfg)
    # sanity.txt numbers: all observed events of the file, and the published background sums
    assert rel.n_events == n_obs
    assert rel.exposure_tonne_year == pytest.approx(exposure, rel=0.01)
    s = rel.settings
    full = np.asarray(rel.data_edges_kev)
    published = sum(float(np.sum(rel.backgrounds[b.name].integrate(full))) for b in s.backgrounds)
    assert published * rel.exposure_tonne_year == pytest.approx(bkg_total, abs=0.05)
    # the workspace keeps the published background-only model (subtract: exonu)
    edges = np.asarray(ws.edges_kev)
    window = rel.backgrounds[s.backgrounds[0].name].integrate(edges) * rel.exposure_tonne_year
    total = sum(np.asarray(b.expected) for b in ws.backgrounds)
    assert total == pytest.approx(window, rel=1e-6, abs=1e-9)
    assert doc["metadata"]["headline_likelihood"].startswith("binned")
    _, up, _ = _mu_interval(ws)
    assert math.isfinite(up) and 3e-12 < up < 5e-11


def test_pandax_rounding_is_reported():
    folder = real_release("pandax4t-run1-er", "binned_0to30kev.csv")
    _, _, doc = _workspace(_config("pandax4t", folder))
    # 29 of 30 digitised counts are not integers (the first bin is exactly 0)
    assert doc["metadata"]["data_rounded_bins"] == 29
    assert doc["metadata"]["data_rounding_shift"] == pytest.approx(1431 - 1429.83, abs=0.01)


def test_xenon1t_reproduces_the_published_interval_and_excess():
    folder = real_release("xenon1t-sr1-er", "bkg_binned_gambit.csv")
    cfg = _config("xenon1t", folder)
    _, ws, doc = _workspace(cfg)
    assert doc["metadata"]["backgrounds_off"] == ["tritium"]
    b0 = next(b for b in ws.backgrounds if b.name == "b0")
    sm = next(b for b in ws.backgrounds if b.name == "solar_nu_sm")
    # B0 1-7 keV (paper: 232 +- 15) = B0 remainder + exonu's solar-nu SM
    assert float(np.sum(b0.expected[:6]) + np.sum(sm.expected[:6])) == pytest.approx(231.58, 0.01)
    assert int(np.sum(ws.observed[:6])) == 285
    lo, up, z_b0 = _mu_interval(ws)
    # XENON1T: mu_nu in (1.4, 2.9) x 1e-11 mu_B at 90 % CL (PRD 102 (2020) 072004)
    assert lo is not None
    assert lo == pytest.approx(1.4e-11, rel=0.15)
    assert up == pytest.approx(2.9e-11, rel=0.15)
    # XENON1T quotes 3.2 sigma for the mu_nu hypothesis against B0
    assert 2.5 < z_b0 < 3.8
    # a free tritium component absorbs most of the excess
    _, ws_h3, _ = _workspace(_config("xenon1t", folder, {"normalisation": {"tritium": "free"}}))
    _, up_h3, z_h3 = _mu_interval(ws_h3)
    assert z_h3 < z_b0 and z_h3 < 2.0
    assert math.isfinite(up_h3)
