"""Free-electron cross sections against the formulas and numbers of docs/physics.md §C–D."""

from __future__ import annotations

import math

import numpy as np
import pytest

from exonu.physics.atomic import active_electrons, photoabsorption_cross_section_cm2
from exonu.physics.constants import G_F_MEV2, HBARC2_MEV2_CM2, M_E_MEV
from exonu.physics.cross_sections import (
    bks_loop_function,
    epa_millicharge_cross_section,
    magnetic_moment_cross_section,
    mediator_coupling_shift,
    millicharge_pure_cross_section,
    photon_gv_shift,
    pseudoscalar_cross_section,
    scalar_cross_section,
    standard_model_couplings,
    weak_cross_section,
)

PER_KEV = HBARC2_MEV2_CM2 * 1e-3  # MeV⁻³ → cm²/keV


def test_composite_constants():
    # 2 G_F² m_e / π = 1.7233e-44 cm²/MeV: (C1) with g_L = 1 (g_V = g_A = 1/2 gives g_L = 1/2)
    assert weak_cross_section(1e-6, 10.0, 0.5, 0.5) * 1e3 * 4 == pytest.approx(1.7233e-44, rel=2e-4)
    # πα²/m_e² = 2.4947e-25 cm² per μ_B²
    value = magnetic_moment_cross_section(10.0, 1.0, 1.0) * 1e3
    assert value == pytest.approx(2.4947e-25 * (1 / 0.01 - 1.0), rel=2e-4)


def test_tree_level_couplings():
    g_v, g_a = standard_model_couplings("e", 1.0, sin2_theta_w=0.23857)
    assert (g_v, g_a) == pytest.approx((0.5 + 2 * 0.23857, 0.5))
    for flavour in ("mu", "tau"):
        g_v, g_a = standard_model_couplings(flavour, 1.0, sin2_theta_w=0.23857)
        assert (g_v, g_a) == pytest.approx((-0.5 + 2 * 0.23857, -0.5))


def test_bks_couplings_at_low_recoil():
    g_v, g_a = standard_model_couplings("e", 0.01, radiative_corrections=True)
    assert (g_v + g_a) / 2 == pytest.approx(0.7234, abs=1e-4)
    assert (g_v - g_a) / 2 == pytest.approx(0.2297, abs=1e-4)


def test_bks_loop_function_series_matches_closed_form():
    # 2.0 and 2.5 keV use the series (x > 20), where the closed form is still precise to ~1e-9
    t = np.array([2.0, 2.5, 2.6, 3.0, 50.0, 500.0])
    x = np.sqrt(1 + 2 * M_E_MEV / (t * 1e-3))
    closed = (1 / 3 + (3 - x**2) * (x / 2 * np.log((x + 1) / (x - 1)) - 1)) / 6
    np.testing.assert_allclose(bks_loop_function(t), closed, rtol=1e-8)
    assert bks_loop_function(1e-4) == pytest.approx(0.8 / 6 * (1e-7 / (2 * M_E_MEV)), rel=1e-3)


def test_photon_shifts():
    assert photon_gv_shift(5.0, r2_cm2=1e-32) == pytest.approx(0.0238, rel=3e-3)
    assert photon_gv_shift(1.0, q_nu=1e-12) == pytest.approx(-5.44, rel=3e-3)
    assert photon_gv_shift(2.0, q_nu=1e-12) == pytest.approx(-2.72, rel=3e-3)
    gs = photon_gv_shift(5.0, anapole_cm2=1e-32)
    assert gs == pytest.approx(-6 * 0.0238, rel=3e-3)  # ⟨r²⟩ → ⟨r²⟩ − 6a
    khan = photon_gv_shift(5.0, anapole_cm2=1e-32, anapole_convention="khan_printed")
    assert gs / khan == pytest.approx(36.0)


def test_pure_millicharge_is_the_quadratic_part_of_c1_and_has_the_ext_limit():
    t = np.array([1.0, 3.0, 10.0])
    e = 0.4
    delta = photon_gv_shift(t, q_nu=1e-12)
    np.testing.assert_allclose(
        weak_cross_section(t, e, delta, 0.0),
        millicharge_pure_cross_section(t, e, 1e-12),
        rtol=1e-12,
    )
    limit = 2 * math.pi * (1 / 137.035999084) ** 2 * 1e-24 / (M_E_MEV * (t * 1e-3) ** 2) * PER_KEV
    np.testing.assert_allclose(millicharge_pure_cross_section(t, 1e4, 1e-12), limit, rtol=1e-5)


@pytest.mark.parametrize("flavour", ["e", "mu"])
@pytest.mark.parametrize("mass_mev", [1e-3, 10.0])
def test_bl_pure_and_interference_match_reference_formulas(flavour, mass_mev):
    """docs/physics.md §C.4: explicit g⁴ and g² terms equal the expansion of (C1)."""
    t_kev = np.array([1.0, 20.0, 150.0])
    t, e, g = t_kev * 1e-3, 0.6, 3e-5
    g_v, g_a = standard_model_couplings(flavour, t_kev)
    g_l, g_r = (g_v + g_a) / 2, (g_v - g_a) / 2
    k = 2 * M_E_MEV * t + mass_mev**2
    pure = (
        g**4 * M_E_MEV / (4 * math.pi * k**2 * e**2) * (2 * e**2 - 2 * e * t + t**2 - M_E_MEV * t)
    )
    interference = (
        math.sqrt(2)
        * G_F_MEV2
        * g**2
        * M_E_MEV
        / (math.pi * k * e**2)
        * (g_l * e**2 + g_r * (e - t) ** 2 - 0.5 * (g_l + g_r) * M_E_MEV * t)
    )
    shifted = weak_cross_section(t_kev, e, g_v + mediator_coupling_shift(t_kev, g, mass_mev), g_a)
    np.testing.assert_allclose(
        shifted - weak_cross_section(t_kev, e, g_v, g_a), (pure + interference) * PER_KEV, rtol=1e-9
    )
    assert np.all(np.sign(interference) == (1 if flavour == "e" else -1))


def test_mediator_shift_numbers():
    # docs/physics.md §C.4: δ ≈ 59.3 (g/1e-6)²/(T/keV) for M = 1 keV; 6.06 (g/1e-4)² for 10 MeV
    assert mediator_coupling_shift(10.0, 1e-6, 1e-3) * 10.0 == pytest.approx(59.3, rel=2e-3)
    assert mediator_coupling_shift(10.0, 1e-4, 10.0) == pytest.approx(6.06, rel=2e-3)


def test_scalar_and_pseudoscalar_formulas():
    t, e, g, m = 10.0, 0.3, 1e-6, 0.01
    tt, k = t * 1e-3, 2 * M_E_MEV * t * 1e-3 + m * m
    assert scalar_cross_section(t, e, g, m) == pytest.approx(
        g**4 * M_E_MEV**2 * tt / (4 * math.pi * k**2 * e**2) * PER_KEV
    )
    assert pseudoscalar_cross_section(t, e, g, m) == pytest.approx(
        g**4 * M_E_MEV * tt**2 / (8 * math.pi * k**2 * e**2) * PER_KEV
    )
    assert np.isfinite(scalar_cross_section(t, e, g, 0.0))


def test_kinematic_cut():
    assert weak_cross_section(300.0, 0.4, 1.0, 0.5) == 0.0
    assert magnetic_moment_cross_section(300.0, 0.4, 1e-10) == 0.0
    assert millicharge_pure_cross_section(200.0, 0.4, 1e-12) > 0.0


@pytest.mark.parametrize(
    ("recoil_kev", "low", "high"),
    [(1.0, 13.0, 15.3), (2.0, 5.6, 6.55), (5.0, 3.95, 4.65), (10.0, 1.94, 2.3), (20.0, 0.6, 0.71)],
)
def test_epa_over_stepping_fea_ratio(recoil_kev, low, high):
    """docs/physics.md §D.3 (E = 300 keV, m_ν = 0.01–0.1 eV); XMASS: ≈ 5 at 5 keV."""
    sigma = photoabsorption_cross_section_cm2(recoil_kev)
    fea = millicharge_pure_cross_section(recoil_kev, 0.3, 1e-12) * active_electrons(recoil_kev)
    for mass_ev in (0.01, 0.1):
        ratio = epa_millicharge_cross_section(recoil_kev, 0.3, 1e-12, sigma, mass_ev) / fea
        assert low <= ratio <= high
