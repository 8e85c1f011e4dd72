"""Shared fixtures and an independent (scipy.integrate.quad) rate for tests/physics."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from exonu.physics import PhysicsSettings
from exonu.physics.atomic import electron_targets_per_tonne
from exonu.physics.constants import SECONDS_PER_YEAR
from exonu.physics.cross_sections import minimum_neutrino_energy_mev
from exonu.physics.fluxes import SOURCE_INFO, continuum_spectrum, source_endpoint_mev, total_fluxes
from exonu.physics.oscillation import flavour_probabilities


def quad_rate(recoil_kev: float, settings: PhysicsSettings, cross_section) -> float:
    """Rate [events/(t·yr·keV)] by adaptive quadrature, independent of exonu.physics.kernel.

    ``cross_section(flavour_index, E_mev)`` returns dσ/dT [cm²/keV] at the recoil energy.
    """
    e_min = float(minimum_neutrino_energy_mev(recoil_kev))
    fluxes = total_fluxes(settings.flux_set)
    total = 0.0
    for source in settings.source_names:
        info = SOURCE_INFO[source]

        def weighted(energy, source=source):
            probabilities = flavour_probabilities(energy, source, settings)
            return sum(probabilities[i] * cross_section(i, energy) for i in range(3))

        if info.kind == "lines":
            for line, branching in info.lines:
                if line > e_min:
                    total += fluxes[source] * branching * float(weighted(line))
            continue
        end = source_endpoint_mev(source, settings.pp_endpoint_kev)
        if e_min >= end:
            continue
        value, _ = quad(
            lambda e, source=source: float(
                continuum_spectrum(source, e, settings.pp_endpoint_kev) * weighted(e)
            ),
            e_min,
            end,
            epsabs=0.0,
            epsrel=1e-10,
            limit=200,
        )
        total += fluxes[source] * value
    return total * float(electron_targets_per_tonne(recoil_kev, settings)) * SECONDS_PER_YEAR


@pytest.fixture(scope="session")
def independent_rate():
    """:func:`quad_rate`, the scipy.integrate.quad reference rate."""
    return quad_rate


@pytest.fixture(scope="session")
def xmass_settings() -> PhysicsSettings:
    return PhysicsSettings()


@pytest.fixture(scope="session")
def grid_kev() -> np.ndarray:
    return np.concatenate([np.geomspace(0.5, 30.0, 25), np.linspace(35.0, 700.0, 40)])
