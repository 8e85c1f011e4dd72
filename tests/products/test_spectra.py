"""Computations behind XMASS-I Figs. 1, 3 and 5 (exonu.products.spectra)."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.products.spectra import (
    background_group,
    band_sigma,
    energy_grid,
    fit_spectrum,
    model_spectra,
)


def test_band_sigma_is_linear_propagation_plus_mc_variance():
    jac = np.array([[1.0, 0.0], [1.0, 2.0]])
    cov = np.array([[4.0, 1.0], [1.0, 1.0]])
    mc = np.array([5.0, 0.0])
    # bin 0: 4 + 5; bin 1: [1,2] C [1,2]^T = 4 + 2*2*1 + 4*1 = 12
    assert band_sigma(jac, cov, mc) == pytest.approx([3.0, np.sqrt(12.0)])


def test_background_groups_by_origin():
    assert background_group("pmt_u238").startswith("detector surface")
    assert background_group("xe_kr85") == "dissolved in xenon"
    assert background_group("solar_nu") == "solar neutrinos (SM)"
    assert background_group("bkg_00") == "other"


def test_energy_grid_rejects_bad_range():
    assert energy_grid({"min_kev": 1, "max_kev": 100, "n": 3}) == pytest.approx([1, 10, 100])
    with pytest.raises(ValueError, match="min_kev"):
        energy_grid({"min_kev": 0, "max_kev": 100, "n": 3})


def test_model_spectra_match_physics(physics):
    from exonu.physics import PhysicsSettings, signal_basis, standard_model_rate

    e = np.array([2.0, 10.0, 50.0])
    bench = [
        {"model": "magnetic_moment", "value": 1e-10},
        {"model": "dark_photon_bl", "value": 1e-4, "mediator_mass_mev": 10.0},
        {
            "model": "millicharge",
            "value": 1.5e-12,
            "treatment": "pure",
            "physics": {"atomic_model": "free"},
        },
    ]
    doc = model_spectra(physics, bench, e)
    settings = PhysicsSettings.from_mapping(physics)
    assert doc["standard_model"] == pytest.approx(standard_model_rate(e, settings))
    mm = signal_basis("magnetic_moment", e, settings).excess(1e-10)
    assert doc["benchmarks"][0]["excess"] == pytest.approx(mm)
    assert doc["benchmarks"][1]["mediator_mass_mev"] == 10.0
    assert doc["benchmarks"][1]["powers"] == [2, 4]
    # the per-benchmark physics override reaches the physics
    assert doc["benchmarks"][2]["atomic_model"] == "free"
    free = PhysicsSettings.from_mapping({**physics, "atomic_model": "free"})
    q = signal_basis("millicharge", e, free, treatment="pure").excess(1.5e-12)
    assert doc["benchmarks"][2]["excess"] == pytest.approx(q)


@pytest.fixture(scope="module")
def mm_limit(small_workspace):
    from exonu.stats import upper_limit

    return upper_limit(small_workspace, "magnetic_moment").to_dict()


def test_fit_spectrum_adds_up(small_workspace, mm_limit):
    doc = fit_spectrum(small_workspace, "magnetic_moment", mm_limit)
    total = np.asarray(doc["total_best"])
    parts = np.sum([np.asarray(v) for v in doc["backgrounds"].values()], axis=0)
    assert np.asarray(doc["background"]) == pytest.approx(parts)
    # best-fit prediction = per-component backgrounds (pulls applied) + best-fit signal
    assert total == pytest.approx(parts + np.asarray(doc["signal_best"]), rel=1e-9)
    assert len(doc["edges_kev"]) == len(doc["observed"]) + 1 == total.size + 1
    # the band holds at least the MC statistical variance of the templates
    mc = np.sum([b.mc_variance for b in small_workspace.backgrounds], axis=0)
    assert np.all(np.asarray(doc["total_sigma"]) >= 0.99 * np.sqrt(mc))
    sig = small_workspace.signal("magnetic_moment")
    at_limit = sig.expected(mm_limit["upper_limit"] / sig.scale)
    assert doc["signal_at_limit"] == pytest.approx(at_limit)
    # same best fit and chi2 as the limit computation (Profile's global fit)
    assert doc["best_fit"] == pytest.approx(mm_limit["best_fit"], rel=0.02, abs=1e-13)
    assert doc["chi2_best"] == pytest.approx(mm_limit["chi2_best"], abs=1e-3)
    assert doc["ndof"] == mm_limit["ndof"]


def test_fit_spectrum_covers_only_the_fit_window(small_workspace):
    doc = fit_spectrum(small_workspace, "millicharge", None)
    lo, hi = small_workspace.signal("millicharge").fit_window_kev
    assert doc["edges_kev"][0] == pytest.approx(lo)
    assert doc["edges_kev"][-1] == pytest.approx(hi)
    assert doc["signal_at_limit"] is None
