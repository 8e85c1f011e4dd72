"""Fixtures of the product tests: small synthetic workspaces, a response, scan documents."""

from __future__ import annotations

import numpy as np
import pytest

#: physics block of the synthetic tests (those of the embedded default, exonu:default)
PHYSICS = {"flux_set": "xmass", "flavour_composition": "xmass", "atomic_model": "stepping"}


def synthetic_response(energy_edges: np.ndarray):
    """A Gaussian-smearing response from 0-50 keV true energy onto ``energy_edges``.

    Efficiency 0.9 with 10 % relative resolution (floor 0.5 keV); MC variance of a
    10⁵-event flat signal Monte Carlo.
    """
    from scipy import stats

    from exonu.detector.folding import Response
    from exonu.templates.hypotheses import ResponseFile

    true_edges = np.arange(0.0, 52.0, 2.0)
    t = 0.5 * (true_edges[1:] + true_edges[:-1])
    sigma = np.maximum(0.1 * t, 0.5)
    cdf = stats.norm.cdf((energy_edges[None, :] - t[:, None]) / sigma[:, None])
    matrix = 0.9 * np.diff(cdf, axis=1)
    n_per_bin = 1e5 / t.size
    variance = matrix * (1 - matrix) / n_per_bin
    response = Response(true_edges, np.asarray(energy_edges, float), matrix, variance)
    return ResponseFile(response, target_mass_kg=97.0, livetime_s=6.14e7, source="synthetic")


@pytest.fixture(scope="session")
def small_workspace():
    """20 bins of 2 keV from 2 keV, 5 backgrounds, 3 systematics; millicharge-like signal."""
    from exonu.stats import make_synthetic_workspace

    return make_synthetic_workspace(
        n_bins=20,
        n_backgrounds=5,
        n_systematics=3,
        seed=11,
        signals=("magnetic_moment", "millicharge", "dark_photon"),
        counts_per_bin=300.0,
        inject={"magnetic_moment": 0.8},
    )


@pytest.fixture(scope="session")
def response(small_workspace):
    return synthetic_response(np.asarray(small_workspace.edges_kev))


@pytest.fixture(scope="session")
def physics():
    return dict(PHYSICS)
