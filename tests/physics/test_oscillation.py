"""MSW survival probability anchors (docs/physics.md §B.1)."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.physics import PhysicsSettings
from exonu.physics.oscillation import (
    PRODUCTION_ELECTRON_DENSITY,
    flavour_probabilities,
    matter_potential_ev,
    survival_probability,
)


def test_matter_potential():
    assert matter_potential_ev(1.0) == pytest.approx(7.63e-14, rel=1e-3)


@pytest.mark.parametrize(
    ("source", "energy_mev", "p_ee"),
    [
        ("pp", 0.267, 0.545),
        ("pp", 0.420, 0.542),
        ("be7", 0.3843, 0.540),
        ("be7", 0.8618, 0.527),
        ("pep", 1.442, 0.517),
        ("b8", 10.0, 0.326),
    ],
)
def test_survival_probability_anchors(source, energy_mev, p_ee):
    value = survival_probability(energy_mev, PRODUCTION_ELECTRON_DENSITY[source])
    assert value == pytest.approx(p_ee, abs=6e-4)


def test_vacuum_limit():
    assert survival_probability(1e-9, 60.0) == pytest.approx(0.550, abs=5e-4)


def test_flavour_probabilities_sum_to_one_and_split_by_theta23():
    e = np.linspace(0.05, 15.0, 7)
    msw = flavour_probabilities(
        e, "b8", PhysicsSettings(flavour_composition="msw", sin2_theta23=0.57)
    )
    np.testing.assert_allclose(msw.sum(axis=0), 1.0, rtol=1e-14)
    np.testing.assert_allclose(msw[2] / (msw[1] + msw[2]), 0.57, rtol=1e-12)
    fixed = flavour_probabilities(e, "pp", PhysicsSettings())
    np.testing.assert_allclose(fixed[:, 3], [0.54, 0.23, 0.23])
