"""Small simulation configurations shared by the tests of exonu.sim."""

from __future__ import annotations

import copy

import pytest

from exonu.config import DEFAULT_CONFIG, load_config

PHYSICS = {"flux_set": "xmass", "flavour_composition": "xmass", "atomic_model": "stepping"}

SMALL_SIM = {
    "seed": 11,
    "livetime_days": 20.0,
    "n_chunks": 1,
    "max_deposit_kev": 400.0,
    "signal_mc": {"n_events": 30000, "energy_range_kev": [0.0, 250.0]},
    "backgrounds": {
        "cu_pb210": {
            "rate_per_day": 400.0,
            "n_mc": 40000,
            "vertex": "surface",
            "depth_cm": 0.05,
            "spectrum": {"shape": "decay", "decay": "pb210_copper"},
        },
        "pmt_k40": {
            "rate_per_day": 100.0,
            "n_mc": 20000,
            "vertex": "surface",
            "spectrum": {"shape": "decay", "decay": "k40_pmt"},
        },
        "xe_c14": {
            "rate_per_day": 50.0,
            "n_mc": 20000,
            "vertex": "volume",
            "spectrum": {"shape": "decay", "decay": "c14"},
        },
        "solar_nu": {
            "n_mc": 5000,
            "vertex": "volume",
            "spectrum": {"shape": "solar_nu_sm", "max_kev": 300},
        },
    },
    "data": {
        "classes": {"muon": {"rate_per_day": 20}, "afterpulse": {"rate_per_day": 50}},
        "dead_pmt_misreco": {
            "regions_kev": [2, 5, 15, 20, 30, 40],
            "boost_factor": [1, 3, 3, 4, 20],
        },
        "inject": None,
    },
    "variations": {
        "optical": {
            "samples": ["signal_flat", "cu_pb210"],
            "scale": {"misreco.probability_at_5kev": 0.25, "rpe_sigma_cm_at_5kev": 0.1},
            "fraction": 0.5,
        }
    },
}


@pytest.fixture
def small_sim():
    return copy.deepcopy(SMALL_SIM)


@pytest.fixture(scope="session")
def default_config(repo):
    """The embedded default configuration (validated, defaults filled in)."""
    return load_config(DEFAULT_CONFIG)
