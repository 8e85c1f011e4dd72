"""Geometry of the synthetic XMASS-I: PMT sphere, dead PMTs, active and fiducial mass."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.detector.geometry import (
    GeometryError,
    dead_pmt_directions,
    fiducial_mass_kg,
    pmt_directions,
)
from exonu.detector.response import DetectorResponse

RADIUS_CM = 40.96
DEAD = [17, 83, 150, 212, 301, 377, 455, 530, 611]


def test_pmts_are_unit_vectors_nearly_uniform():
    d = pmt_directions(642)
    assert d.shape == (642, 3)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0, atol=1e-12)
    # nearest-neighbour spacing on a 40.96 cm sphere: 642 PMTs cover ~32.8 cm^2 each
    cos = d @ d.T
    np.fill_diagonal(cos, -1.0)
    spacing = RADIUS_CM * np.arccos(np.clip(cos.max(axis=1), -1, 1))
    assert 4.5 < spacing.min() and spacing.max() < 7.5
    np.testing.assert_allclose(d.mean(axis=0), 0.0, atol=2e-3)


def test_dead_pmt_directions_are_those_pmts():
    np.testing.assert_array_equal(dead_pmt_directions(642, DEAD), pmt_directions(642)[DEAD])
    assert dead_pmt_directions(642, []).shape == (0, 3)
    with pytest.raises(GeometryError, match=r"detector\.dead_pmts.*642"):
        dead_pmt_directions(642, [642])


def test_active_mass_is_832_kg():
    assert fiducial_mass_kg(RADIUS_CM) == pytest.approx(832.0, abs=1.0)
    assert DetectorResponse.from_config({}).active_mass_kg == pytest.approx(832.0, abs=1.0)


def test_fiducial_mass_is_97_kg():
    """R < 20 cm holds 97 +- 3 kg (XMASS-I §3.2), analytically and by sampling."""
    assert fiducial_mass_kg(20.0) == pytest.approx(97.0, abs=3.0)
    rng = np.random.default_rng(1)
    r = RADIUS_CM * rng.uniform(size=2_000_000) ** (1 / 3)
    mass = fiducial_mass_kg(RADIUS_CM) * np.mean(r < 20.0)
    # binomial error of the sampled fraction: 0.7 kg at 3 sigma
    assert mass == pytest.approx(fiducial_mass_kg(20.0), abs=0.7)
    assert mass == pytest.approx(97.0, abs=3.0)
