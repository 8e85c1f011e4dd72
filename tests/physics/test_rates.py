"""Rates: SM normalisation, polynomial = direct, limits, signs (docs/physics.md §C, §E, §G)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.integrate import trapezoid

from exonu.physics import (
    MODELS,
    PhysicsError,
    PhysicsSettings,
    differential_rate,
    signal_basis,
    standard_model_rate,
    standard_model_rate_by_source,
)
from exonu.physics.constants import G_F_MEV2
from exonu.physics.cross_sections import (
    magnetic_moment_cross_section,
    pseudoscalar_cross_section,
    scalar_cross_section,
    standard_model_couplings,
    weak_cross_section,
)
from exonu.physics.oscillation import FLAVOURS

XENON1T_T_KEV = np.array([0.95, 2.0, 4.9, 10.0, 20.1, 30.0, 49.9, 100.0, 150.0, 200.0])
XENON1T_RATE = np.array([2.29, 2.61, 2.80, 3.00, 2.88, 2.76, 2.61, 1.95, 1.28, 0.66])
MSW_B16 = PhysicsSettings(flux_set="b16_gs98", flavour_composition="msw")


def test_sm_matches_xenon1t_reference_2_to_100_kev(xmass_settings):
    """docs/physics.md §G.8: within 5 % from 2 to 100 keV, same shape to ≈ 1 %."""
    window = (XENON1T_T_KEV >= 2.0) & (XENON1T_T_KEV <= 100.0)
    ratio = standard_model_rate(XENON1T_T_KEV[window], xmass_settings) / XENON1T_RATE[window]
    assert np.all(np.abs(ratio - 1.0) < 0.05)
    assert ratio.max() - ratio.min() < 0.012


def test_sm_integrals(xmass_settings):
    """docs/physics.md §E.1: 39 per t·yr in 2–15 keV and 394 in 2–200 keV (XMASS inputs, FEA)."""
    low = np.linspace(2.0, 15.0, 1301)
    wide = np.linspace(2.0, 200.0, 3961)
    assert trapezoid(standard_model_rate(low, xmass_settings), low) == pytest.approx(39.0, rel=0.01)
    assert trapezoid(standard_model_rate(wide, xmass_settings), wide) == pytest.approx(
        394, rel=0.01
    )


@pytest.mark.parametrize("recoil_kev", [0.7, 10.0, 120.0, 262.0, 600.0])
def test_sm_matches_independent_quadrature(recoil_kev, independent_rate):
    def cross(index, energy):
        g_v, g_a = standard_model_couplings(FLAVOURS[index], recoil_kev)
        return weak_cross_section(recoil_kev, energy, g_v, g_a)

    expected = independent_rate(recoil_kev, MSW_B16, cross)
    assert standard_model_rate(recoil_kev, MSW_B16)[0] == pytest.approx(expected, rel=2e-6)


def test_rate_vanishes_beyond_end_points(xmass_settings):
    pp_only = replace(xmass_settings, sources=("pp",))
    t_max_pp = 2 * 0.42341**2 / (0.51099895 + 2 * 0.42341) * 1e3
    below, above = standard_model_rate([t_max_pp - 0.5, t_max_pp + 0.01], pp_only)
    assert below > 0.0 and above == 0.0
    assert standard_model_rate([665.0], xmass_settings)[0] == 0.0


def test_source_decomposition():
    """docs/physics.md §A.2 (B16-GS98, MSW, stepping): pp 91–92 % below 30 keV, ⁷Be 7.4–8.2 %."""
    t = np.array([1.0, 10.0, 30.0, 200.0])
    parts = standard_model_rate_by_source(t, MSW_B16)
    total = standard_model_rate(t, MSW_B16)
    np.testing.assert_allclose(sum(parts.values()), total, rtol=1e-13)
    assert np.all((parts["pp"][:3] / total[:3] > 0.89) & (parts["pp"][:3] / total[:3] < 0.925))
    assert parts["be7"][3] / total[3] == pytest.approx(0.30, abs=0.02)
    cno_pep = sum(parts[s] for s in ("pep", "n13", "o15", "f17"))
    assert cno_pep[3] / total[3] == pytest.approx(0.037, abs=0.004)
    assert parts["b8"][0] == pytest.approx(2e-4, rel=0.2)


def test_radiative_corrections_and_composition_effects(xmass_settings):
    t = np.array([1.0, 10.0, 100.0])
    tree = standard_model_rate(t, xmass_settings)
    bks = standard_model_rate(t, replace(xmass_settings, radiative_corrections=True))
    assert np.all((1 - bks / tree > 0.022) & (1 - bks / tree < 0.034))
    msw = standard_model_rate(t, replace(xmass_settings, flavour_composition="msw"))
    assert np.all(np.abs(msw / tree - 1) < 0.005)


def test_flavour_shares_add_up(xmass_settings, grid_kev):
    total = standard_model_rate(grid_kev, xmass_settings)
    shares = sum(standard_model_rate(grid_kev, xmass_settings, flavour=f) for f in FLAVOURS)
    np.testing.assert_allclose(shares, total, rtol=1e-13)


def _cases():
    for model, info in MODELS.items():
        if info.parameter is None:
            continue
        treatments = info.treatments or (None,)
        masses = (0.0, 1e-3, 0.05, 10.0, 1e3) if info.needs_mass else (None,)
        for treatment in treatments:
            for mass in masses:
                yield model, treatment, mass


def _scale(model, mass):
    """A coupling for which the excess is comparable to the SM somewhere below 250 keV."""
    if mass is None:
        return MODELS[model].reference_value
    return (
        1e-6 * max(1.0, mass / 0.1) ** 0.5 * (3.0 if model in ("scalar", "pseudoscalar") else 1.0)
    )


@pytest.mark.parametrize("settings_kind", ["xmass", "b16_msw_rc"])
def test_polynomial_equals_direct_calculation(settings_kind):
    """signal_basis(...).excess(v) = differential_rate(..., v) − SM to 1e-10 at random couplings."""
    settings = (
        PhysicsSettings()
        if settings_kind == "xmass"
        else replace(MSW_B16, radiative_corrections=True, sin2_theta23=0.6)
    )
    rng = np.random.default_rng(20240611)
    t = np.concatenate([np.geomspace(1.0, 250.0, 30), [400.0, 700.0]])
    sm = standard_model_rate(t, settings)
    for model, treatment, mass in _cases():
        for flavour in ("all", "e", "mu", "tau"):
            basis = signal_basis(
                model, t, settings, flavour=flavour, mediator_mass_mev=mass, treatment=treatment
            )
            value = _scale(model, mass) * rng.uniform(-3.0, 3.0)
            direct = differential_rate(
                model,
                t,
                {basis.parameter: value},
                settings,
                flavour,
                mediator_mass_mev=mass,
                treatment=treatment,
            )
            excess = basis.excess(value)
            scale = np.maximum(np.abs(excess), 1e-6 * sm)
            assert np.all(np.abs(excess - (direct - sm)) <= 1e-10 * scale + 1e-14 * sm), (
                model,
                treatment,
                mass,
                flavour,
            )


def test_zero_coupling_gives_the_sm_exactly(xmass_settings, grid_kev):
    sm_direct = differential_rate("standard_model", grid_kev, {}, xmass_settings)
    np.testing.assert_allclose(sm_direct, standard_model_rate(grid_kev, xmass_settings), rtol=1e-13)
    for model, treatment, mass in _cases():
        basis = signal_basis(
            model, grid_kev, xmass_settings, mediator_mass_mev=mass, treatment=treatment
        )
        assert np.all(basis.excess(0.0) == 0.0)
        direct = differential_rate(
            model,
            grid_kev,
            {basis.parameter: 0.0},
            xmass_settings,
            mediator_mass_mev=mass,
            treatment=treatment,
        )
        np.testing.assert_array_equal(direct, sm_direct)


def test_universal_equals_sum_over_flavours(grid_kev):
    for model, treatment, mass in _cases():
        universal = signal_basis(
            model, grid_kev, MSW_B16, mediator_mass_mev=mass, treatment=treatment
        )
        parts = sum(
            signal_basis(
                model, grid_kev, MSW_B16, flavour=f, mediator_mass_mev=mass, treatment=treatment
            ).coefficients
            for f in FLAVOURS
        )
        np.testing.assert_allclose(universal.coefficients, parts, rtol=1e-12, atol=0.0)


def test_pure_millicharge_flavour_limits_scale_with_fraction(xmass_settings):
    """XMASS per-flavour limits = universal/√f_α (docs/physics.md §C.3)."""
    t = np.linspace(2.0, 15.0, 14)
    universal = signal_basis("millicharge", t, xmass_settings, treatment="pure").coefficients
    for flavour, fraction in zip(FLAVOURS, (0.54, 0.23, 0.23), strict=True):
        per_flavour = signal_basis(
            "millicharge", t, xmass_settings, flavour=flavour, treatment="pure"
        ).coefficients
        np.testing.assert_allclose(per_flavour, fraction * universal, rtol=1e-12)


def test_pure_millicharge_rate_approaches_the_contact_formula(xmass_settings):
    """For E ≫ T the rate is 2πα²q²/(m_eT²) × targets × total flux."""
    t = np.array([0.5, 1.0])
    basis = signal_basis(
        "millicharge", t, replace(xmass_settings, atomic_model="free"), treatment="pure"
    )
    alpha, m_e = 1 / 137.035999084, 0.51099895
    sigma = 2 * np.pi * alpha**2 / (m_e * (t * 1e-3) ** 2) * 3.8937937e-22 * 1e-3
    expected = sigma * 2.4769e29 * 3.15576e7 * (5.98e10 + 5.00e9)
    np.testing.assert_allclose(basis.coefficients[0], expected, rtol=0.02)


def test_millicharge_interference_is_destructive_for_positive_charge(xmass_settings):
    """docs/physics.md §C.3: net excess < 0 above ≈ 3 keV (ν_e only) / ≈ 6 keV (universal)."""
    t = np.linspace(1.0, 10.0, 91)
    for flavour, low, high in (("e", 2.0, 4.0), ("all", 4.0, 7.0)):
        excess = signal_basis("millicharge", t, xmass_settings, flavour=flavour).excess(1e-12)
        first_negative = t[np.argmax(excess < 0)]
        assert low < first_negative < high
        assert np.all(excess[t > high] < 0)
        assert np.all(signal_basis("millicharge", t, flavour=flavour).excess(-1e-12) > 0)


def test_bl_interference_sign_by_flavour(xmass_settings, grid_kev):
    """Constructive for ν_e, destructive for ν_μ,τ (docs/physics.md §C.4)."""
    live = standard_model_rate(grid_kev, xmass_settings) > 0
    for mass in (1e-3, 10.0):
        for flavour, sign in (("e", 1), ("mu", -1), ("tau", -1)):
            basis = signal_basis(
                "dark_photon_bl", grid_kev, xmass_settings, flavour=flavour, mediator_mass_mev=mass
            )
            assert np.all(np.sign(basis.coefficients[0][live]) == sign)
            assert np.all(basis.coefficients[1][live] > 0)


def test_bl_heavy_mediator_is_a_contact_gv_shift(independent_rate):
    """At M = 1 TeV... here 1 GeV: δ = g²/(√2 G_F M²), checked by independent quadrature."""
    settings = replace(MSW_B16, sources=("pp", "be7", "o15"))
    g, mass = 3e-3, 1e3
    shift = g**2 / (np.sqrt(2) * G_F_MEV2 * mass**2)
    for recoil in (2.0, 150.0):
        sm = standard_model_rate(recoil, settings)[0]

        def cross(index, energy, recoil=recoil):
            g_v, g_a = standard_model_couplings(FLAVOURS[index], recoil)
            return weak_cross_section(recoil, energy, g_v + shift, g_a)

        contact = independent_rate(recoil, settings, cross) - sm
        basis = signal_basis("dark_photon_bl", [recoil], settings, mediator_mass_mev=mass)
        assert basis.excess(g)[0] == pytest.approx(contact, rel=1e-5)
        assert abs(contact) > 0.05 * sm


@pytest.mark.parametrize("model", ["magnetic_moment", "axial_vector", "scalar", "pseudoscalar"])
def test_basis_against_independent_quadrature(model, independent_rate):
    settings = replace(MSW_B16, sources=("pp", "be7", "n13", "b8"))
    info = MODELS[model]
    mass = 0.02 if info.needs_mass else None
    value = 2e-6 if info.needs_mass else 1e-10
    for recoil in (3.0, 90.0):
        sm_parts = [standard_model_couplings(f, recoil) for f in FLAVOURS]

        def cross(index, energy, recoil=recoil, sm_parts=sm_parts):
            g_v, g_a = sm_parts[index]
            if model == "magnetic_moment":
                return weak_cross_section(recoil, energy, g_v, g_a) + magnetic_moment_cross_section(
                    recoil, energy, value
                )
            if model == "axial_vector":
                shift = value**2 / (
                    np.sqrt(2) * G_F_MEV2 * (2 * 0.51099895 * recoil * 1e-3 + mass**2)
                )
                return weak_cross_section(recoil, energy, g_v, g_a + shift)
            extra = scalar_cross_section if model == "scalar" else pseudoscalar_cross_section
            return weak_cross_section(recoil, energy, g_v, g_a) + extra(recoil, energy, value, mass)

        sm = standard_model_rate(recoil, settings)[0]
        expected = independent_rate(recoil, settings, cross) - sm
        basis = signal_basis(model, [recoil], settings, mediator_mass_mev=mass)
        assert basis.excess(value)[0] == pytest.approx(expected, rel=1e-5)


def test_magnetic_term_exceeds_weak_term_below_290_kev(xmass_settings):
    """docs/physics.md §C.2: 1e-10 μ_B wins below ≈ 290 keV, 1e-11 μ_B below ≈ 4 keV."""
    t = np.linspace(1.0, 400.0, 800)
    sm = standard_model_rate(t, xmass_settings)
    basis = signal_basis("magnetic_moment", t, xmass_settings)
    for mu, low, high in ((1e-10, 275.0, 300.0), (1e-11, 3.5, 4.5)):
        crossing = t[np.argmax(basis.excess(mu) < sm)]
        assert low < crossing < high
    assert basis.powers == (2,) and basis.unit == "mu_B" and basis.parameter == "mu_nu"


def test_epa_enhances_the_millicharge_at_low_energy(xmass_settings):
    t = np.array([1.0, 5.0, 10.0, 25.0, 100.0])
    epa = replace(xmass_settings, atomic_model="epa")
    ratio = (
        signal_basis("millicharge", t, epa, treatment="pure").coefficients[0]
        / signal_basis("millicharge", t, xmass_settings, treatment="pure").coefficients[0]
    )
    assert 4.0 < ratio[1] < 5.0
    assert ratio[0] > ratio[1] > ratio[2] > 1.0
    np.testing.assert_array_equal(ratio[3:], 1.0)
    full_epa = signal_basis("millicharge", t, epa)
    full = signal_basis("millicharge", t, xmass_settings)
    np.testing.assert_array_equal(full_epa.coefficients[0], full.coefficients[0])
    np.testing.assert_array_equal(
        standard_model_rate(t, epa), standard_model_rate(t, xmass_settings)
    )
    with pytest.raises(PhysicsError, match="epa"):
        signal_basis("magnetic_moment", t, epa)
    below_data = signal_basis("millicharge", [0.05], epa, treatment="pure").coefficients
    np.testing.assert_array_equal(
        below_data, signal_basis("millicharge", [0.05], treatment="pure").coefficients
    )


def test_basis_shapes_and_vectorised_excess(xmass_settings):
    t = np.linspace(1.0, 250.0, 50)
    basis = signal_basis("dark_photon_bl", t, xmass_settings, mediator_mass_mev=1.0)
    assert basis.powers == (2, 4) and basis.coefficients.shape == (2, 50)
    values = np.array([0.0, 1e-6, 2e-6])
    table = basis.excess(values)
    assert table.shape == (3, 50)
    np.testing.assert_allclose(table[2], basis.excess(2e-6), rtol=1e-15)
    sm_basis = signal_basis("standard_model", t, xmass_settings)
    assert sm_basis.powers == () and sm_basis.coefficients.shape == (0, 50)
    assert np.all(sm_basis.excess(1.0) == 0.0)
    assert basis.to_dict()["powers"] == [2, 4]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "axion"}, "model: expected one of"),
        ({"model": "vector"}, "needs a mediator mass"),
        ({"model": "vector", "mediator_mass_mev": -1.0}, "finite mass >= 0"),
        ({"model": "magnetic_moment", "mediator_mass_mev": 1.0}, "has no mediator"),
        ({"model": "magnetic_moment", "flavour": "sterile"}, "flavour"),
        ({"model": "millicharge", "treatment": "rrpa"}, "treatment"),
        ({"model": "magnetic_moment", "energy_kev": [1.0, -2.0]}, "energy_kev"),
        ({"model": "magnetic_moment", "energy_kev": []}, "energy_kev"),
        ({"model": "magnetic_moment", "settings": {"flux_set": "xmass"}}, "PhysicsSettings"),
    ],
)
def test_bad_input_raises_physics_error(kwargs, message):
    arguments = {"energy_kev": [1.0, 2.0], **kwargs}
    model = arguments.pop("model")
    energies = arguments.pop("energy_kev")
    settings = arguments.pop("settings", PhysicsSettings())
    with pytest.raises(PhysicsError, match=message):
        signal_basis(model, energies, settings, **arguments)


def test_bad_params_raise(xmass_settings):
    with pytest.raises(PhysicsError, match="takes mu_nu"):
        differential_rate("magnetic_moment", [1.0], {"mu": 1e-10}, xmass_settings)
    with pytest.raises(PhysicsError, match="takes mu_nu"):
        differential_rate("magnetic_moment", [1.0], {}, xmass_settings)
    with pytest.raises(PhysicsError, match="finite"):
        differential_rate("magnetic_moment", [1.0], {"mu_nu": float("nan")}, xmass_settings)
