"""Atomic models of xenon (docs/physics.md §D)."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.physics import PhysicsError, PhysicsSettings, standard_model_rate
from exonu.physics.atomic import (
    active_electrons,
    electron_targets_per_tonne,
    load_ratio_table,
    photoabsorption_cross_section_cm2,
    xenon_shells,
)
from exonu.physics.constants import XENON_ATOMS_PER_TONNE, XENON_ELECTRONS_PER_TONNE

REFERENCE_BINDING_KEV = {
    "K": 34.561,
    "L1": 5.453,
    "L2": 5.107,
    "L3": 4.786,
    "M1": 1.1487,
    "M2": 1.0021,
    "M3": 0.9406,
    "M4": 0.6890,
    "M5": 0.6764,
    "N1": 0.2132,
    "N2": 0.1467,
    "N3": 0.1455,
    "N4": 0.0695,
    "N5": 0.0675,
    "O1": 0.0233,
    "O2": 0.0134,
    "O3": 0.0121,
}


def test_shells_match_reference_table_and_sum_to_54():
    shells = xenon_shells()
    assert sum(n for _, _, n in shells) == 54
    assert {name: b for name, b, _ in shells} == pytest.approx(REFERENCE_BINDING_KEV, rel=1e-6)


@pytest.mark.parametrize(
    ("recoil_kev", "count"),
    [
        (0.3, 26),
        (0.68, 32),
        (0.8, 36),
        (0.97, 40),
        (1.1, 42),
        (2.0, 44),
        (4.9, 48),
        (5.2, 50),
        (10.0, 52),
        (34.5, 52),
        (34.6, 54),
        (250.0, 54),
    ],
)
def test_stepping_counts(recoil_kev, count):
    assert active_electrons(recoil_kev) == count


def test_targets_per_tonne():
    assert XENON_ELECTRONS_PER_TONNE == pytest.approx(2.4769e29, rel=1e-4)
    t = np.array([2.0, 50.0])
    free = electron_targets_per_tonne(t, PhysicsSettings(atomic_model="free"))
    np.testing.assert_allclose(free, XENON_ELECTRONS_PER_TONNE)
    stepping = electron_targets_per_tonne(t, PhysicsSettings())
    np.testing.assert_allclose(stepping, [44 * XENON_ATOMS_PER_TONNE, XENON_ELECTRONS_PER_TONNE])


def test_photoabsorption_at_5kev():
    assert photoabsorption_cross_section_cm2(5.0) == pytest.approx(1.38e-19, rel=5e-3)
    with pytest.raises(PhysicsError, match=r"0\.1-800 keV"):
        photoabsorption_cross_section_cm2(0.05)


def test_ratio_table(tmp_path):
    table = tmp_path / "rrpa.txt"
    table.write_text("# energy_kev ratio\n1.0 2.0\n10.0 1.5  # comment\n\n20.0 1.0\n")
    energies, _ = load_ratio_table(str(table))
    np.testing.assert_array_equal(energies, [1.0, 10.0, 20.0])
    settings = PhysicsSettings(atomic_model="rrpa_table", rrpa_table=str(table))
    t = np.array([0.5, 5.5, 15.0, 30.0])
    targets = electron_targets_per_tonne(t, settings) / XENON_ATOMS_PER_TONNE
    np.testing.assert_allclose(targets, [26, 54 * 1.75, 54 * 1.25, 52])
    stepping = PhysicsSettings(
        atomic_model="rrpa_table", rrpa_table=str(table), rrpa_reference="stepping"
    )
    assert electron_targets_per_tonne(5.5, stepping) / XENON_ATOMS_PER_TONNE == pytest.approx(
        52 * 1.75
    )
    ratio = standard_model_rate([15.0], settings) / standard_model_rate([15.0])
    assert ratio == pytest.approx(1.25 * 54 / 52)
    strict = PhysicsSettings(atomic_model="rrpa_table", rrpa_table=str(table), rrpa_outside="error")
    with pytest.raises(PhysicsError, match="outside the rrpa_table range"):
        standard_model_rate([30.0], strict)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1 2\n3\n", "line 2: expected two numbers"),
        ("1 2\n0.5 1\n", "increase strictly"),
        ("1 2\n2 -1\n", "ratio >= 0"),
        ("1 x\n", "line 1"),
        ("# empty\n1 1\n", "at least two rows"),
    ],
)
def test_ratio_table_errors(tmp_path, content, message):
    table = tmp_path / "bad.txt"
    table.write_text(content)
    with pytest.raises(PhysicsError, match=message):
        load_ratio_table(str(table))


def test_ratio_table_missing_file(tmp_path):
    settings = PhysicsSettings(atomic_model="rrpa_table", rrpa_table=str(tmp_path / "nope.txt"))
    with pytest.raises(PhysicsError, match="not found"):
        standard_model_rate([5.0], settings)
