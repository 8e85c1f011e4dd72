"""Flavour composition of solar neutrinos at Earth (docs/physics.md §B).

Two options (:attr:`PhysicsSettings.flavour_composition`): XMASS's energy-independent
ν_e : ν_μ : ν_τ = 0.54 : 0.23 : 0.23 (XMASS §4.2), user-fixed fractions, or the adiabatic
LMA-MSW survival probability of Khan-1T eq. (9) evaluated with the production-zone-averaged
electron density of each source (B16-GS98; docs/physics.md §B.1), with 1 − P_ee shared as
cos²θ₂₃ (ν_μ) : sin²θ₂₃ (ν_τ) (Khan-1T eq. 8). Earth regeneration (< 0.1 %) is neglected.
"""

from __future__ import annotations

import math

import numpy as np

from exonu.physics.constants import AVOGADRO, G_F_MEV2, HBARC_EV_CM
from exonu.physics.errors import PhysicsError
from exonu.physics.settings import PhysicsSettings

__all__ = [
    "FLAVOURS",
    "PRODUCTION_ELECTRON_DENSITY",
    "flavour_probabilities",
    "matter_potential_ev",
    "survival_probability",
]

#: Neutrino flavours in the order used by every (3, …) array in exonu.physics.
FLAVOURS = ("e", "mu", "tau")

#: Production-zone-averaged electron density n_e/N_A [cm⁻³] per source, B16-GS98
#: (docs/physics.md §B.1); the solar centre has 101.
PRODUCTION_ELECTRON_DENSITY: dict[str, float] = {
    "pp": 60.6,
    "pep": 66.5,
    "be7": 79.6,
    "n13": 73.8,
    "o15": 86.2,
    "f17": 87.1,
    "b8": 87.9,
    "hep": 51.4,
}

_G_F_EV2 = G_F_MEV2 * 1e-12


def matter_potential_ev(electron_density_na_cm3: float) -> float:
    """Charged-current matter potential √2 G_F n_e [eV].

    Parameters
    ----------
    electron_density_na_cm3 : float
        Electron density in units of N_A cm⁻³ (7.63×10⁻¹⁴ eV per unit, docs/physics.md §0).
    """
    n_e_ev3 = electron_density_na_cm3 * AVOGADRO * HBARC_EV_CM**3
    return math.sqrt(2.0) * _G_F_EV2 * n_e_ev3


def survival_probability(
    energy_mev: np.ndarray | float,
    electron_density_na_cm3: float,
    sin2_theta12: float = 0.307,
    sin2_theta13: float = 0.0220,
    dm2_21_ev2: float = 7.53e-5,
) -> np.ndarray:
    """Adiabatic LMA-MSW ν_e survival probability P_ee (Khan-1T eq. 9).

    P_ee = s₁₃⁴ + ½ c₁₃⁴ (1 + cos2θ₁₂^m cos2θ₁₂),
    cos2θ₁₂^m = (cos2θ₁₂ − β)/√((cos2θ₁₂ − β)² + sin²2θ₁₂), β = 2√2 G_F c₁₃² n_e E/Δm²₂₁.

    Parameters
    ----------
    energy_mev : array_like
        Neutrino energy E [MeV].
    electron_density_na_cm3 : float
        Electron density at production [N_A cm⁻³].
    sin2_theta12, sin2_theta13 : float
        Mixing angles.
    dm2_21_ev2 : float
        Δm²₂₁ [eV²].

    Returns
    -------
    numpy.ndarray
        P_ee(E).
    """
    energy_ev = np.asarray(energy_mev, dtype=float) * 1e6
    c13_2 = 1.0 - sin2_theta13
    cos2t12 = 1.0 - 2.0 * sin2_theta12
    sin2_2t12 = 4.0 * sin2_theta12 * (1.0 - sin2_theta12)
    beta = 2.0 * c13_2 * matter_potential_ev(electron_density_na_cm3) * energy_ev / dm2_21_ev2
    cos2t12_m = (cos2t12 - beta) / np.sqrt((cos2t12 - beta) ** 2 + sin2_2t12)
    return sin2_theta13**2 + 0.5 * c13_2**2 * (1.0 + cos2t12_m * cos2t12)


def flavour_probabilities(
    energy_mev: np.ndarray | float, source: str, settings: PhysicsSettings
) -> np.ndarray:
    """Fractions (P_e, P_μ, P_τ) of a solar ν_e flux arriving in each flavour.

    Parameters
    ----------
    energy_mev : array_like
        Neutrino energies [MeV].
    source : str
        Solar source (selects the production electron density for ``"msw"``).
    settings : PhysicsSettings
        Uses ``flavour_composition``, ``flavour_fractions`` and the oscillation parameters.

    Returns
    -------
    numpy.ndarray
        Shape ``(3,) + energy.shape``; the three rows sum to 1.
    """
    energy = np.asarray(energy_mev, dtype=float)
    composition = settings.flavour_composition
    if composition in ("xmass", "fixed"):
        fractions = (0.54, 0.23, 0.23) if composition == "xmass" else settings.flavour_fractions
        return np.stack([np.full(energy.shape, f) for f in fractions])
    try:
        density = PRODUCTION_ELECTRON_DENSITY[source]
    except KeyError:
        raise PhysicsError(f"source: no production electron density for {source!r}") from None
    p_ee = survival_probability(
        energy, density, settings.sin2_theta12, settings.sin2_theta13, settings.dm2_21_ev2
    )
    rest = 1.0 - p_ee
    return np.stack([p_ee, rest * (1.0 - settings.sin2_theta23), rest * settings.sin2_theta23])
