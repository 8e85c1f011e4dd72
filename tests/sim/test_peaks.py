"""Per-component spectra: end points and peaks, in true and in reconstructed energy."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.detector.response import DetectorResponse
from exonu.sim.generate import background_component, generate, signal_component


@pytest.fixture(scope="module")
def det():
    return DetectorResponse.from_config({})


def _sample(det, decay, n=200_000, vertex="volume", e_max=np.inf):
    cfg = {"rate_per_day": 1.0, "vertex": vertex, "spectrum": {"shape": "decay", "decay": decay}}
    comp = background_component(decay, cfg, det, max_deposit_kev=e_max)
    ev = generate(comp, det, 21, 0, n)
    ev["e_rec"] = ev["npe"] / det.config["pe_per_kev"]
    return ev


@pytest.mark.parametrize(
    ("decay", "end_kev"),
    [("c14", 156.5), ("ar39", 565.0), ("kr85", 687.0), ("xe136", 2457.8), ("xe133", 427.4)],
)
def test_beta_end_points(det, decay, end_kev):
    t = _sample(det, decay)["true_energy_kev"]
    assert t.max() <= end_kev * (1 + 1e-6)
    assert t.max() > end_kev * (0.97 if decay != "xe136" else 0.85)


def test_xe133_starts_at_the_81kev_level(det):
    t = _sample(det, "xe133")["true_energy_kev"]
    assert t.min() >= 81.0 - 1e-3
    assert np.mean(t < 90.0) > 0.01  # the beta spectrum starts at 0 on top of the line


def test_xe131m_peak_near_164kev(det):
    ev = _sample(det, "xe131m", 100_000)
    np.testing.assert_allclose(ev["true_energy_kev"], 163.93, rtol=1e-6)
    e = ev["e_rec"]
    assert np.median(e) == pytest.approx(164.0, abs=1.0)
    # sigma/E ~ 4 % at 122 keV (NIM A 716 (2013) 78), a little less at 164 keV
    assert 0.03 < np.std(e) / np.mean(e) < 0.045


def test_i125_lines(det):
    ev = _sample(det, "i125", 100_000)
    lines, counts = np.unique(np.round(ev["true_energy_kev"], 2), return_counts=True)
    assert list(lines) == [36.5, 40.4, 67.3]
    assert counts[2] / counts.sum() == pytest.approx(0.801, abs=0.01)
    assert np.median(ev["e_rec"][ev["true_energy_kev"] > 60]) == pytest.approx(67.3, rel=0.02)


def test_co60_gamma_lines_and_compton_edges(det):
    ev = _sample(det, "co60_pmt", 300_000, vertex="surface")
    t = ev["true_energy_kev"]
    for line in (1173.2, 1332.5):
        assert np.sum(np.abs(t - line) < 1e-3) > 1000
    # nothing between the Compton edge of 1332.5 keV (1118.1) and the 1173.2 keV line
    assert np.sum((t > 1118.2) & (t < 1173.1)) == 0
    assert t.max() <= 1332.5 + 1e-3


def test_max_deposit_truncates(det):
    ev = _sample(det, "co60_pmt", 100_000, vertex="surface", e_max=400.0)
    assert ev["true_energy_kev"].max() < 400.0


def test_copper_pb210_continuum_ends_at_1162kev(det):
    t = _sample(det, "pb210_copper", 300_000, vertex="surface")["true_energy_kev"]
    assert t.max() <= 1162.2 * (1 + 1e-6) and t.max() > 1000.0
    # degraded electrons: a continuum falling from the threshold (per keV), no gaps
    per_kev = np.histogram(t, bins=[2, 10, 20, 30, 60, 200])[0] / np.array([8, 10, 10, 30, 140])
    assert np.all(np.diff(per_kev) < 0) and per_kev[-1] > 0
    # plus the 46.5 keV gamma escaping the copper
    assert 0.03 < np.mean(np.abs(t - 46.5) < 1e-3) < 0.06


def test_surface_vertices_are_at_the_wall_and_volume_uniform(det):
    wall = _sample(det, "pb210_surface", 50_000, vertex="surface")
    r = np.sqrt(wall["true_x_cm"] ** 2 + wall["true_y_cm"] ** 2 + wall["true_z_cm"] ** 2)
    assert np.all(r <= 40.96 + 1e-4) and np.median(40.96 - r) < 0.05
    vol = _sample(det, "c14", 200_000)
    r = np.sqrt(vol["true_x_cm"] ** 2 + vol["true_y_cm"] ** 2 + vol["true_z_cm"] ** 2)
    # uniform in volume: r^3 uniform (triggered events: all of 14C is above threshold)
    assert np.mean((r / 40.96) ** 3) == pytest.approx(0.5, abs=0.005)


def test_signal_mc_is_flat_with_zero_light_below_1kev(det):
    comp = signal_component({"signal_mc": {"energy_range_kev": [0.0, 250.0]}}, det)
    ev = generate(comp, det, 4, 0, 500_000)
    t = ev["true_energy_kev"]
    assert t.min() >= 1.0  # untriggered (no light below 1 keV) are not written
    counts = np.histogram(t, bins=np.linspace(50, 250, 11))[0]
    assert counts.std() / counts.mean() < 3 / np.sqrt(counts.mean())
    # the non-linearity: 5 keV deposits give ~0.8 x 5 keV of light
    sel = np.abs(t - 5.0) < 0.1
    assert np.mean(ev["npe"][sel]) / 14.7 == pytest.approx(
        5.0 * float(det.relative_light_yield(np.array([5.0]))[0]), rel=0.03
    )
