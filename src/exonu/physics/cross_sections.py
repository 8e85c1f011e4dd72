"""Differential ν–e cross sections dσ/dT on a free electron at rest.

Every function takes the recoil energy ``recoil_kev`` (T, keV) and the neutrino energy
``neutrino_mev`` (E, MeV), broadcasts them, and returns dσ/dT in **cm² per keV** per electron
(zero where T exceeds the kinematic maximum). Couplings follow docs/physics.md §C: the
Z-exchange amplitude √2 G_F [ν̄γ^μP_Lν][ēγ_μ(g_V − g_Aγ₅)e], in which every vector-like new
physics (photon exchange, B−L and generic vector bosons) is a shift of g_V and an
axial-vector boson a shift of g_A, inserted in the general form (C1).
"""

from __future__ import annotations

import math

import numpy as np

from exonu.physics.constants import ALPHA, G_F_MEV2, HBARC2_MEV2_CM2, M_E_MEV, PHOTON_GV_SCALE_MEV2

__all__ = [
    "ANAPOLE_CONVENTIONS",
    "bks_kappa",
    "bks_loop_function",
    "epa_millicharge_cross_section",
    "magnetic_moment_cross_section",
    "maximum_recoil_kev",
    "mediator_coupling_shift",
    "millicharge_pure_cross_section",
    "minimum_neutrino_energy_mev",
    "photon_gv_shift",
    "pseudoscalar_cross_section",
    "scalar_cross_section",
    "standard_model_couplings",
    "weak_cross_section",
]

#: Natural units (MeV⁻³) → cm² per keV of recoil.
_TO_CM2_PER_KEV = HBARC2_MEV2_CM2 * 1e-3

#: Anapole normalisations (docs/physics.md §C.3): δg_V = −k · a · √2πα/G_F with
#: k = 2 ("giunti_studenikin": ⟨r²⟩ → ⟨r²⟩ − 6a, a ≡ −⟨r²⟩_eff/6, the default) or
#: k = 1/18 (as printed in Khan-1T eq. 4, which docs/physics.md §C.3 finds inconsistent).
ANAPOLE_CONVENTIONS: dict[str, float] = {"giunti_studenikin": 2.0, "khan_printed": 1.0 / 18.0}


def maximum_recoil_kev(neutrino_mev: np.ndarray | float) -> np.ndarray:
    """Maximum recoil energy T_max = 2E²/(m_e + 2E) [keV] (XMASS eq. 3; Khan-1T below eq. 9).

    Parameters
    ----------
    neutrino_mev : array_like
        Neutrino energy E [MeV].
    """
    energy = np.asarray(neutrino_mev, dtype=float)
    return 2.0 * energy * energy / (M_E_MEV + 2.0 * energy) * 1e3


def minimum_neutrino_energy_mev(recoil_kev: np.ndarray | float) -> np.ndarray:
    """Minimum neutrino energy E_min = [T + √(T² + 2m_eT)]/2 [MeV] to give recoil T.

    Parameters
    ----------
    recoil_kev : array_like
        Recoil energy T [keV].
    """
    t = np.asarray(recoil_kev, dtype=float) * 1e-3
    return 0.5 * (t + np.sqrt(t * t + 2.0 * M_E_MEV * t))


def _kinematic(recoil_kev: np.ndarray, neutrino_mev: np.ndarray, value: np.ndarray) -> np.ndarray:
    t = np.asarray(recoil_kev, dtype=float) * 1e-3
    e = np.asarray(neutrino_mev, dtype=float)
    allowed = (t > 0.0) & (t * (M_E_MEV + 2.0 * e) <= 2.0 * e * e)
    return np.where(allowed, value, 0.0)


def bks_loop_function(recoil_kev: np.ndarray | float) -> np.ndarray:
    """Loop function I(T) of the Bahcall–Kamionkowski–Sirlin κ(T) (PRD 51 (1995) 6146, App. A).

    I(T) = (1/6)[1/3 + (3 − x²)(x·artanh(1/x) − 1)], x = √(1 + 2m_e/T); I → 0 for T ≪ m_e.
    A series in 1/x² is used for x > 20 to avoid cancellation.
    """
    t = np.asarray(recoil_kev, dtype=float) * 1e-3
    x2 = 1.0 + 2.0 * M_E_MEV / t
    x = np.sqrt(x2)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = 1.0 / 3.0 + (3.0 - x2) * (x * np.arctanh(1.0 / x) - 1.0)
    # With x·artanh(1/x) − 1 = Σ_{n≥1} u^n/(2n+1), u = 1/x², the bracket is
    # Σ_{n≥1} u^n [3/(2n+1) − 1/(2n+3)] (the 1/3 cancels analytically).
    u = 1.0 / x2
    series = sum(u**n * (3.0 / (2 * n + 1) - 1.0 / (2 * n + 3)) for n in range(1, 12))
    return np.where(x > 20.0, series, exact) / 6.0


def bks_kappa(recoil_kev: np.ndarray | float, flavour: str) -> np.ndarray:
    """κ(T) of BKS App. A: κ_e = 0.9791 + 0.0097 I(T), κ_μ,τ = 0.9970 − 0.00037 I(T)."""
    loop = bks_loop_function(recoil_kev)
    if flavour == "e":
        return 0.9791 + 0.0097 * loop
    return 0.9970 - 0.00037 * loop


def standard_model_couplings(
    flavour: str,
    recoil_kev: np.ndarray | float,
    sin2_theta_w: float = 0.23857,
    radiative_corrections: bool = False,
    rho: float = 1.0126,
    bks_sin2_theta_w: float = 0.2317,
) -> tuple[np.ndarray, np.ndarray]:
    """Standard-Model (g_V, g_A) of ν_α–e scattering (docs/physics.md §C.1).

    Tree level: ν_μ,τ (NC): g_L = −½ + s², g_R = s²; ν_e (NC + CC after Fierz): g_L = ½ + s²,
    g_R = s²; g_V = g_L + g_R, g_A = g_L − g_R. With ``radiative_corrections`` the
    Bahcall–Kamionkowski–Sirlin couplings (PRD 51 (1995) 6146, App. A) are used:
    ν_e: g_L = 1 − ρ(½ − κ_e s²), g_R = ρκ_e s²; ν_μ,τ: g_L = −ρ(½ − κ_μ s²), g_R = ρκ_μ s².
    (Khan-1T eq. 2 has typos here; docs/physics.md §C.1 explains why (C1) is implemented.)

    Parameters
    ----------
    flavour : {"e", "mu", "tau"}
        Neutrino flavour.
    recoil_kev : array_like
        Recoil energies T [keV] (κ depends on T).
    sin2_theta_w : float
        Tree-level weak mixing angle.
    radiative_corrections : bool
        Use the BKS ρ, κ(T) couplings with ``rho`` and ``bks_sin2_theta_w``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        g_V and g_A, broadcast to the shape of ``recoil_kev``.
    """
    t = np.asarray(recoil_kev, dtype=float)
    if radiative_corrections:
        s2 = bks_sin2_theta_w
        kappa = bks_kappa(t, flavour)
        g_l = -rho * (0.5 - kappa * s2) + (1.0 if flavour == "e" else 0.0)
        g_r = rho * kappa * s2
    else:
        g_l = np.full(t.shape, (0.5 if flavour == "e" else -0.5) + sin2_theta_w)
        g_r = np.full(t.shape, sin2_theta_w)
    return g_l + g_r, g_l - g_r


def weak_cross_section(
    recoil_kev: np.ndarray | float,
    neutrino_mev: np.ndarray | float,
    g_v: np.ndarray | float,
    g_a: np.ndarray | float,
) -> np.ndarray:
    """Weak (V−A-like) cross section with effective couplings, docs/physics.md eq. (C1).

    dσ/dT = (G_F² m_e/2π)[(g_V+g_A)² + (g_V−g_A)²(1−T/E)² − (g_V²−g_A²) m_e T/E²]
    (Vogel & Engel PRD 39 (1989) 3378; Khan-1T eq. 2 with its typos corrected).

    Parameters
    ----------
    recoil_kev : array_like
        Recoil energy T [keV].
    neutrino_mev : array_like
        Neutrino energy E [MeV].
    g_v, g_a : array_like
        Vector and axial couplings (SM values plus any shift), broadcastable with T.

    Returns
    -------
    numpy.ndarray
        dσ/dT [cm²/keV].
    """
    t = np.asarray(recoil_kev, dtype=float) * 1e-3
    e = np.asarray(neutrino_mev, dtype=float)
    left = np.asarray(g_v) + np.asarray(g_a)
    right = np.asarray(g_v) - np.asarray(g_a)
    y = 1.0 - t / e
    bracket = left * left + right * right * y * y - left * right * M_E_MEV * t / (e * e)
    value = G_F_MEV2**2 * M_E_MEV / (2.0 * math.pi) * bracket * _TO_CM2_PER_KEV
    return _kinematic(recoil_kev, neutrino_mev, value)


def magnetic_moment_cross_section(
    recoil_kev: np.ndarray | float, neutrino_mev: np.ndarray | float, mu_nu: float
) -> np.ndarray:
    """Magnetic-moment scattering, dσ/dT = (πα²μ_ν²/m_e²)(1/T − 1/E) [cm²/keV].

    Khan-1T eq. (3); Vogel & Engel PRD 39 (1989) 3378. Helicity flipping, so it adds
    incoherently to the weak term. ``mu_nu`` in Bohr magnetons μ_B.
    """
    t = np.asarray(recoil_kev, dtype=float) * 1e-3
    e = np.asarray(neutrino_mev, dtype=float)
    value = math.pi * ALPHA**2 * mu_nu**2 / M_E_MEV**2 * (1.0 / t - 1.0 / e) * _TO_CM2_PER_KEV
    return _kinematic(recoil_kev, neutrino_mev, value)


def photon_gv_shift(
    recoil_kev: np.ndarray | float,
    q_nu: float = 0.0,
    r2_cm2: float = 0.0,
    anapole_cm2: float = 0.0,
    anapole_convention: str = "giunti_studenikin",
) -> np.ndarray:
    """Shift of g_V by photon exchange: millicharge, charge radius, anapole.

    δg_V = (√2πα/G_F)[⟨r²⟩/3 − q_ν/(m_e T) − k·a] (Khan-1T eq. 4; sign derivation and
    anapole normalisation k in docs/physics.md §C.3). q_ν in units of e (proton = +1), ⟨r²⟩ and
    a in cm². ``anapole_convention`` selects k (:data:`ANAPOLE_CONVENTIONS`).
    """
    t = np.asarray(recoil_kev, dtype=float) * 1e-3
    k = ANAPOLE_CONVENTIONS[anapole_convention]
    to_mev2 = 1.0 / HBARC2_MEV2_CM2
    return PHOTON_GV_SCALE_MEV2 * (
        r2_cm2 * to_mev2 / 3.0 - q_nu / (M_E_MEV * t) - k * anapole_cm2 * to_mev2
    )


def millicharge_pure_cross_section(
    recoil_kev: np.ndarray | float, neutrino_mev: np.ndarray | float, q_nu: float
) -> np.ndarray:
    """Pure millicharge term (no weak amplitude) on a free electron [cm²/keV].

    dσ/dT = (2πα²q²/(m_e T²))[1 − T/E + T²/(2E²) − m_eT/(2E²)] → 2πα²q²/(m_e T²) for E ≫ T
    (docs/physics.md §C.3; the δg_V² part of (C1)). ``q_nu`` in units of e.
    """
    t = np.asarray(recoil_kev, dtype=float) * 1e-3
    e = np.asarray(neutrino_mev, dtype=float)
    bracket = 1.0 - t / e + t * t / (2.0 * e * e) - M_E_MEV * t / (2.0 * e * e)
    value = 2.0 * math.pi * ALPHA**2 * q_nu**2 / (M_E_MEV * t * t) * bracket * _TO_CM2_PER_KEV
    return _kinematic(recoil_kev, neutrino_mev, value)


def mediator_coupling_shift(
    recoil_kev: np.ndarray | float, coupling: float, mediator_mass_mev: float
) -> np.ndarray:
    """Coupling shift of a light vector boson, δ = g²/[√2 G_F (2m_eT + M²)].

    U(1)B−L (Bilmis et al. PRD 92 (2015) 033009; docs/physics.md §C.4, shift of g_V with
    Q_νQ_e = +1) and generic vector / axial-vector mediators (Khan-1T eq. 5; shift of g_V or
    g_A). Dimensionless; coupling g dimensionless, mass M [MeV].
    """
    t = np.asarray(recoil_kev, dtype=float) * 1e-3
    return coupling**2 / (math.sqrt(2.0) * G_F_MEV2 * (2.0 * M_E_MEV * t + mediator_mass_mev**2))


def scalar_cross_section(
    recoil_kev: np.ndarray | float,
    neutrino_mev: np.ndarray | float,
    coupling: float,
    mediator_mass_mev: float,
) -> np.ndarray:
    """Scalar mediator, incoherent with the SM: dσ/dT = g⁴ m_e² T/[4π(2m_eT + m²)² E²] [cm²/keV].

    Khan-1T eq. (6); Cerdeño et al. JHEP 05 (2016) 118. g = √(g_ν g_e), m [MeV].
    """
    t = np.asarray(recoil_kev, dtype=float) * 1e-3
    e = np.asarray(neutrino_mev, dtype=float)
    k = 2.0 * M_E_MEV * t + mediator_mass_mev**2
    value = coupling**4 * M_E_MEV**2 * t / (4.0 * math.pi * k * k * e * e) * _TO_CM2_PER_KEV
    return _kinematic(recoil_kev, neutrino_mev, value)


def pseudoscalar_cross_section(
    recoil_kev: np.ndarray | float,
    neutrino_mev: np.ndarray | float,
    coupling: float,
    mediator_mass_mev: float,
) -> np.ndarray:
    """Pseudoscalar mediator, incoherent: dσ/dT = g⁴ m_e T²/[8π(2m_eT + m²)² E²] [cm²/keV].

    Khan-1T eq. (7); Cerdeño et al. JHEP 05 (2016) 118. g = √(g_ν g_e), m [MeV].
    """
    t = np.asarray(recoil_kev, dtype=float) * 1e-3
    e = np.asarray(neutrino_mev, dtype=float)
    k = 2.0 * M_E_MEV * t + mediator_mass_mev**2
    value = coupling**4 * M_E_MEV * t * t / (8.0 * math.pi * k * k * e * e) * _TO_CM2_PER_KEV
    return _kinematic(recoil_kev, neutrino_mev, value)


def epa_millicharge_cross_section(
    recoil_kev: np.ndarray | float,
    neutrino_mev: np.ndarray | float,
    q_nu: float,
    photoabsorption_cm2: np.ndarray | float,
    neutrino_mass_ev: float = 0.01,
) -> np.ndarray:
    """Millicharge ionisation in the equivalent-photon approximation, per atom [cm²/keV].

    dσ/dT = (2αq²/π)(σ_γ(T)/T)(1 − y + y²/2) ln(E√(1−y)/m_ν), y = T/E (docs/physics.md §D.3:
    Weizsäcker–Williams flux of a spin-½ projectile of charge q e, collinear logarithm cut by
    the neutrino mass, Q_max ~ T). Valid only at small T (≲ 10–20 keV); needs E > T.

    Parameters
    ----------
    recoil_kev, neutrino_mev : array_like
        Deposited energy T [keV] and neutrino energy E [MeV].
    q_nu : float
        Millicharge [e].
    photoabsorption_cm2 : array_like
        Real-photon absorption cross section of one xenon atom at energy T [cm²].
    neutrino_mass_ev : float
        Neutrino mass [eV] cutting off the collinear logarithm.
    """
    t = np.asarray(recoil_kev, dtype=float) * 1e-3
    e = np.asarray(neutrino_mev, dtype=float)
    allowed = (t > 0.0) & (t < e)
    y = np.where(allowed, t / e, 0.5)
    log = np.log(e * np.sqrt(1.0 - y) / (neutrino_mass_ev * 1e-6))
    value = (
        2.0
        * ALPHA
        * q_nu**2
        / math.pi
        * np.asarray(photoabsorption_cm2)
        / t
        * (1.0 - y + 0.5 * y * y)
        * np.maximum(log, 0.0)
        * 1e-3
    )
    return np.where(allowed, value, 0.0)
