"""Shared fixtures of the statistics tests."""

from __future__ import annotations

from typing import Any

import pytest

from exonu.stats.synthetic import make_synthetic_workspace
from exonu.stats.workspace import Workspace


@pytest.fixture(scope="session")
def medium_ws() -> Workspace:
    """30 bins, 5 backgrounds (2 free in the mm/B−L fits), 4 systematics, all signals."""
    return make_synthetic_workspace(n_bins=30, n_backgrounds=5, n_systematics=4, seed=11)


@pytest.fixture(scope="session")
def small_ws() -> Workspace:
    """The small model of the coverage tests: 6 bins, 2 constrained backgrounds, 1 systematic."""
    return make_synthetic_workspace(
        n_bins=6,
        n_backgrounds=2,
        n_systematics=1,
        seed=5,
        signals=("magnetic_moment", "dark_photon"),
        n_free=0,
        signal_systematics=0,
        counts_per_bin=50,
    )


def one_bin_doc(
    observed: int, background: float, bkg_variance: float, term: float, power: int, scale: float
) -> dict[str, Any]:
    """A one-bin workspace whose χ² is exactly parabolic in the strength α = x**power.

    The background is fixed (relative_uncertainty 0), the signal has no MC variance and no
    systematics, so χ²(α) = (D − B − α T)² / (D + V_B).
    """
    return {
        "schema": "exonu-workspace",
        "version": "1.0.0",
        "analysis": "parabola",
        "binning": {"edges_kev": [2.0, 4.0]},
        "observed": [observed],
        "exposure": {"livetime_s": 1.0, "fiducial_mass_kg": 1.0},
        "backgrounds": [
            {
                "name": "flat",
                "expected": [background],
                "mc_variance": [bkg_variance],
                "relative_uncertainty": 0.0,
            }
        ],
        "background_systematics": [],
        "signals": [
            {
                "name": "sig",
                "model": "test",
                "flavour": "all",
                "parameter": "theta",
                "unit": "1",
                "mediator_mass_mev": None,
                "treatment": None,
                "atomic_model": None,
                "scale": scale,
                "x_bounds": [0.0, None],
                "terms": [{"power": power, "expected": [term]}],
                "variance_terms": [],
                "systematics": [],
                "fit_window_kev": [2.0, 4.0],
                "free_backgrounds": [],
            }
        ],
    }
