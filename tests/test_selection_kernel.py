"""The fused Numba selection kernel against a plain NumPy reference on random events."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.selection.kernels import N_CUTS, reference_selection, select_and_fill


def _random_events(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    ev = {
        "npe": rng.uniform(-50, 3500, n).astype(np.float32),
        "r_timing_cm": rng.uniform(0, 42, n).astype(np.float32),
        "r_pe_cm": rng.uniform(0, 42, n).astype(np.float32),
        "od_trigger": rng.uniform(size=n) < 0.05,
        "afterpulse": rng.uniform(size=n) < 0.05,
        "cherenkov": rng.uniform(size=n) < 0.05,
    }
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    xyz = (direction * ev["r_pe_cm"][:, None]).astype(np.float32)
    ev["x_pe_cm"], ev["y_pe_cm"], ev["z_pe_cm"] = xyz.T
    for name in ("npe", "r_timing_cm", "r_pe_cm", "x_pe_cm"):
        bad = rng.choice(n, 20, replace=False)
        ev[name][bad[:10]] = np.nan
        ev[name][bad[10:]] = np.inf
    return ev


@pytest.mark.parametrize(
    "edges",
    [np.linspace(2.0, 200.0, 100), np.array([2.0, 3.0, 5.0, 10.0, 15.0, 40.0, 100.0, 200.0])],
    ids=["uniform", "variable"],
)
@pytest.mark.parametrize("vetoes", [(1.0, 1.0), (0.0, 1.0), (1.0, 0.0)])
def test_kernel_matches_numpy(edges, vetoes):
    rng = np.random.default_rng(12345)
    ev = _random_events(200_000, rng)
    params = np.array([14.7, 38.0, 20.0, 2.0, 200.0, 40.96, *vetoes])
    energy = np.zeros(len(edges) - 1, np.int64)
    cutflow = np.zeros(N_CUTS, np.int64)
    select_and_fill(
        ev["npe"],
        ev["r_timing_cm"],
        ev["r_pe_cm"],
        ev["x_pe_cm"],
        ev["y_pe_cm"],
        ev["z_pe_cm"],
        ev["od_trigger"],
        ev["afterpulse"],
        ev["cherenkov"],
        np.zeros(0, np.float32),
        params,
        edges,
        edges,
        np.zeros((0, 3)),
        np.array([1.0, -1.0]),
        np.array([2.0, 40.0]),
        energy,
        np.zeros((len(edges) - 1, len(edges) - 1), np.int64),
        np.zeros((1, 1), np.int64),
        cutflow,
    )
    ref_hist, ref_cutflow = reference_selection(ev, params, edges)
    np.testing.assert_array_equal(cutflow, ref_cutflow)
    np.testing.assert_array_equal(energy, ref_hist)
    assert cutflow[0] > cutflow[1] > cutflow[-1] > 1000  # every cut does something
