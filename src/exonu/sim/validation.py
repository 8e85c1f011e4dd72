"""Checks of the synthetic data against the XMASS-I targets, from selected histograms.

* :func:`fiducial_rate` -- the data rate after all cuts in events/(day·kg·keV) over a
  window of reconstructed energy (XMASS-I, PLB 789 (2019) 45: (4.2 ± 0.2)×10⁻³ at 5 keV);
* :func:`signal_efficiency` -- selected signal-MC events per keV of reconstructed energy
  over the events generated per keV of true energy in the fiducial mass (for the flat
  signal MC), the "signal efficiency" of XMASS-I (20 % at 5 keV).

The "5 keV" numbers use the window [4, 6) keV centred on 5 keV.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SECONDS_PER_DAY = 86400.0
#: window of reconstructed energy for the "at 5 keV" numbers
WINDOW_5KEV = (4.0, 6.0)


def _window_mask(edges: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    lo, hi = window
    mask = (edges[:-1] >= lo - 1e-9) & (edges[1:] <= hi + 1e-9)
    if not mask.any():
        raise ValueError(f"window {window} contains no whole bin of {edges[0]}..{edges[-1]}")
    return mask


def fiducial_rate(
    result: Any, fiducial_mass_kg: float, window: tuple[float, float] = WINDOW_5KEV
) -> tuple[float, float]:
    """(rate, Poisson error) in events/(day kg keV) of a selected data result."""
    mask = _window_mask(result.energy_edges, window)
    counts = float(result.energy[mask].sum())
    width = float(np.diff(result.energy_edges)[mask].sum())
    days = result.livetime_s / SECONDS_PER_DAY
    scale = 1.0 / (days * fiducial_mass_kg * width)
    return counts * scale, np.sqrt(counts) * scale


def signal_efficiency(
    result: Any, fiducial_fraction: float, window: tuple[float, float] = WINDOW_5KEV
) -> tuple[float, float]:
    """(efficiency, binomial error) of the flat signal MC in a reconstructed-energy window.

    ``fiducial_fraction``: fiducial mass / active mass (the MC is uniform in the volume).
    """
    lo, hi = result.extra["energy_range_kev"]
    mask = _window_mask(result.energy_edges, window)
    selected = float(result.energy[mask].sum())
    width = float(np.diff(result.energy_edges)[mask].sum())
    expected = result.n_generated * width / (hi - lo) * fiducial_fraction
    eff = selected / expected
    return eff, np.sqrt(selected * max(0.0, 1.0 - selected / result.n_generated)) / expected
