"""Detector geometry: a sphere of PMTs (XMASS-I: 642 PMTs at ~40 cm).

The photocathodes of XMASS-I sit on a pentakis-dodecahedron at ~40 cm from the
centre (NIM A 716 (2013) 78). Here they are placed nearly uniformly on a sphere
with a Fibonacci lattice, which has the same coverage statistics; the dead-PMT
study only needs their directions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class GeometryError(ValueError):
    """Bad detector geometry configuration."""


def pmt_directions(n_pmts: int) -> np.ndarray:
    """Unit vectors of ``n_pmts`` PMTs on a Fibonacci lattice, shape (n, 3)."""
    if n_pmts < 1:
        raise GeometryError(f"detector.n_pmts must be >= 1, got {n_pmts}")
    k = np.arange(n_pmts, dtype=np.float64) + 0.5
    cos_theta = 1.0 - 2.0 * k / n_pmts
    sin_theta = np.sqrt(1.0 - cos_theta**2)
    phi = np.pi * (1.0 + np.sqrt(5.0)) * k
    return np.column_stack([sin_theta * np.cos(phi), sin_theta * np.sin(phi), cos_theta])


def dead_pmt_directions(n_pmts: int, dead: Sequence[int]) -> np.ndarray:
    """Directions of the dead PMTs (indices into :func:`pmt_directions`)."""
    dead = list(dead)
    bad = [d for d in dead if not 0 <= int(d) < n_pmts]
    if bad:
        raise GeometryError(f"detector.dead_pmts: indices {bad} outside 0..{n_pmts - 1}")
    return pmt_directions(n_pmts)[np.asarray(dead, dtype=np.int64)].reshape(-1, 3)


def fiducial_mass_kg(r_cut_cm: float, density_g_cm3: float = 2.89) -> float:
    """Xenon mass inside a sphere of radius ``r_cut_cm`` (liquid density 2.89 g/cm^3)."""
    return 4.0 / 3.0 * np.pi * r_cut_cm**3 * density_g_cm3 / 1000.0
