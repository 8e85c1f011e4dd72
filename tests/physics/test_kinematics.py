"""Kinematic limits on a free electron (docs/physics.md §0)."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.physics.cross_sections import maximum_recoil_kev, minimum_neutrino_energy_mev


@pytest.mark.parametrize(
    ("neutrino_kev", "t_max_kev"),
    [(420.2, 261.3), (423.4, 264.1), (861.8, 664.7), (384.3, 230.8), (1442.0, 1225.0)],
)
def test_maximum_recoil(neutrino_kev, t_max_kev):
    assert maximum_recoil_kev(neutrino_kev * 1e-3) == pytest.approx(t_max_kev, abs=0.6)


@pytest.mark.parametrize(
    ("recoil_kev", "e_min_kev"),
    [(1.0, 16.5), (2.0, 23.6), (10.0, 55.8), (100.0, 217.5), (200.0, 347.2)],
)
def test_minimum_neutrino_energy(recoil_kev, e_min_kev):
    assert minimum_neutrino_energy_mev(recoil_kev) * 1e3 == pytest.approx(e_min_kev, abs=0.06)


def test_emin_inverts_tmax():
    recoil = np.geomspace(0.01, 5000.0, 50)
    np.testing.assert_allclose(
        maximum_recoil_kev(minimum_neutrino_energy_mev(recoil)), recoil, rtol=1e-12
    )
