"""The fused Numba kernel against the NumPy reference, and the meaning of its variants."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.selection.dead_pmt import distance_cos_edges
from exonu.selection.kernels import (
    INVALID_REASONS,
    N_CUTS,
    N_INVALID,
    fill_selection,
    reference_fill,
    select_and_fill,
)

BRANCHES = ("npe", "r_timing_cm", "r_pe_cm", "x_pe_cm", "y_pe_cm", "z_pe_cm")
FLAGS = ("od_trigger", "afterpulse", "cherenkov")
R_DET = 40.96


def random_events(n: int, rng: np.random.Generator, bad: int = 30) -> dict[str, np.ndarray]:
    """Uniform random events with NaN, +-inf and negative values in every float branch."""
    ev = {
        "npe": rng.uniform(-50, 3500, n).astype(np.float32),
        "r_timing_cm": rng.uniform(-1, 42, n).astype(np.float32),
        "r_pe_cm": rng.uniform(-1, 42, n).astype(np.float32),
        "true_energy_kev": rng.uniform(-5, 260, n).astype(np.float32),
        **{f: rng.uniform(size=n) < 0.05 for f in FLAGS},
    }
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    xyz = (d * np.abs(ev["r_pe_cm"])[:, None]).astype(np.float32)
    ev["x_pe_cm"], ev["y_pe_cm"], ev["z_pe_cm"] = (np.ascontiguousarray(a) for a in xyz.T)
    for name in (*BRANCHES, "true_energy_kev"):
        idx = rng.choice(n, 3 * bad, replace=False)
        ev[name][idx[:bad]] = np.nan
        ev[name][idx[bad : 2 * bad]] = np.inf
        ev[name][idx[2 * bad :]] = -np.inf
    return ev


def run_kernel(ev, params, edges, *, truth=True, variants=None, sets=None, t_edges=None):
    """Kernel outputs as a dict like :func:`reference_fill`'s."""
    sign, rscale, knots, sigma = variants or (np.zeros(1), np.ones(1), [0.0, 1.0], [0.0, 0.0])
    t_edges = np.linspace(0, 250, 126) if t_edges is None else t_edges
    sets = np.zeros((1, 0, 3)) if sets is None else sets
    dist = np.array([0, 5, 10, 15, 20, 30, 40, 60, 130.0])
    regions = np.array([2, 5, 15, 20, 30, 40.0])
    n_var = len(sign)
    out = {
        "energy": np.zeros((n_var, len(edges) - 1), np.int64),
        "response": np.zeros((n_var, len(t_edges) - 1 if truth else 0, len(edges) - 1), np.int64),
        "dead_pmt": np.zeros((len(sets), len(regions) - 1, len(dist) - 1), np.int64),
        "cutflow": np.zeros(N_CUTS, np.int64),
        "invalid": np.zeros(N_INVALID, np.int64),
    }
    fill_selection(
        *(ev[k] for k in BRANCHES),
        *(ev[k] for k in FLAGS),
        ev["true_energy_kev"] if truth else np.zeros(0, np.float32),
        params,
        edges,
        t_edges,
        np.asarray(sign, float),
        np.asarray(rscale, float),
        np.asarray(knots, float),
        np.asarray(sigma, float),
        np.ascontiguousarray(sets, dtype=float),
        distance_cos_edges(dist, R_DET),
        regions,
        out["energy"],
        out["response"],
        out["dead_pmt"],
        out["cutflow"],
        out["invalid"],
    )
    ref = reference_fill(
        ev if truth else {k: v for k, v in ev.items() if k != "true_energy_kev"},
        params,
        edges,
        true_edges=t_edges,
        variant_sign=sign,
        variant_radius_scale=rscale,
        scale_knots_kev=knots,
        scale_sigma=sigma,
        pmt_sets=sets,
        cos_edges=distance_cos_edges(dist, R_DET),
        region_edges=regions,
    )
    return out, ref


def _unit(rng, shape):
    v = rng.normal(size=(*shape, 3))
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@pytest.mark.parametrize(
    "edges",
    [np.linspace(2.0, 200.0, 199), np.array([2.0, 3.0, 5.0, 10.0, 15.0, 40.0, 100.0, 200.0])],
    ids=["uniform", "variable"],
)
@pytest.mark.parametrize("vetoes", [(1.0, 1.0), (0.0, 1.0), (1.0, 0.0)], ids=["both", "ap", "od"])
@pytest.mark.parametrize("truth", [True, False], ids=["mc", "data"])
def test_kernel_matches_numpy_reference(edges, vetoes, truth):
    rng = np.random.default_rng(12345)
    ev = random_events(200_000, rng)
    # masked sets leave out events within 15 cm of a dead PMT
    params = np.array([14.7, 38.0, 20.0, 2.0, 200.0, R_DET, *vetoes, np.cos(15.0 / R_DET)])
    variants = (
        [0.0, 1.0, -1.0, 0.0, 0.0],
        [1.0, 1.0, 1.0, 0.98, 1.02],
        [1.0, 1.65, 5.9, 30.0, 200.0],
        [0.055, 0.04, 0.02, 0.01, 0.01],
    )
    sets = _unit(rng, (4, 9))
    out, ref = run_kernel(ev, params, edges, truth=truth, variants=variants, sets=sets)
    for key in ("energy", "dead_pmt", "cutflow", "invalid"):
        np.testing.assert_array_equal(out[key], ref[key], err_msg=key)
    if truth:
        np.testing.assert_array_equal(out["response"], ref["response"])
    cut = out["cutflow"]
    assert np.all(np.diff(cut) <= 0) and cut[-1] > 1000  # every cut does something
    assert cut[0] - cut[1] == out["invalid"].sum()  # invalid events are counted, not lost
    reasons = dict(zip(INVALID_REASONS, out["invalid"], strict=True))
    assert reasons["npe_not_finite"] == 90 and reasons["radius_outside_detector"] > 1000
    assert (reasons["true_energy_not_finite"] > 0) == truth
    assert out["dead_pmt"][0].sum() > 0


def test_compat_interface_equals_nominal_variant():
    rng = np.random.default_rng(7)
    ev = random_events(50_000, rng)
    params = np.array([14.7, 38.0, 20.0, 2.0, 200.0, R_DET, 1.0, 1.0])
    edges = np.linspace(2.0, 200.0, 100)
    dead = _unit(rng, (9,))
    out, _ = run_kernel(ev, params, edges, sets=dead[None], truth=False)
    energy = np.zeros(len(edges) - 1, np.int64)
    dead_hist = np.zeros((5, 8), np.int64)
    cutflow = np.zeros(N_CUTS, np.int64)
    select_and_fill(
        *(ev[k] for k in BRANCHES),
        *(ev[k] for k in FLAGS),
        np.zeros(0, np.float32),
        params,
        edges,
        edges,
        dead,
        distance_cos_edges(np.array([0, 5, 10, 15, 20, 30, 40, 60, 130.0]), R_DET),
        np.array([2, 5, 15, 20, 30, 40.0]),
        energy,
        np.zeros((len(edges) - 1, len(edges) - 1), np.int64),
        dead_hist,
        cutflow,
    )
    np.testing.assert_array_equal(energy, out["energy"][0])
    np.testing.assert_array_equal(dead_hist, out["dead_pmt"][0])
    np.testing.assert_array_equal(cutflow, out["cutflow"])


def test_energy_scale_variant_is_a_recalibration():
    """Variant E(1 + s) with constant s selects like a calibration pe_per_kev / (1 + s)."""
    rng = np.random.default_rng(3)
    ev = random_events(100_000, rng, bad=0)
    edges = np.linspace(2.0, 200.0, 100)
    s = 0.03
    variants = ([0.0, 1.0, -1.0], [1.0, 1.0, 1.0], [0.0, 300.0], [s, s])
    base = [38.0, 20.0, 2.0, 200.0, R_DET, 1.0, 1.0]
    out, _ = run_kernel(ev, np.array([14.7, *base]), edges, variants=variants)
    for k, factor in ((1, 1 + s), (2, 1 - s)):
        shifted, _ = run_kernel(ev, np.array([14.7 / factor, *base]), edges)
        # identical up to events on bin edges (rounding of two different products)
        assert np.abs(out["energy"][k] - shifted["energy"][0]).sum() <= 2
    below_10kev = out["energy"][:, :8].sum(axis=1)  # a higher scale moves events up
    assert below_10kev[1] < below_10kev[0] < below_10kev[2]


def test_fiducial_variant_is_a_radius_cut():
    rng = np.random.default_rng(4)
    ev = random_events(100_000, rng, bad=0)
    edges = np.linspace(2.0, 200.0, 100)
    variants = ([0.0, 0.0], [1.0, 0.9], [0.0, 1.0], [0.0, 0.0])
    params = np.array([14.7, 38.0, 20.0, 2.0, 200.0, R_DET, 1.0, 1.0])
    out, _ = run_kernel(ev, params, edges, variants=variants)
    wider = params.copy()
    wider[2] = 20.0 / 0.9
    ref, _ = run_kernel(ev, wider, edges)
    np.testing.assert_array_equal(out["energy"][1], ref["energy"][0])
    np.testing.assert_array_equal(out["cutflow"], run_kernel(ev, params, edges)[0]["cutflow"])


def test_dead_pmt_distance_of_known_vertices():
    """A vertex at angle a from the only PMT is at distance R a on the surface."""
    dead = np.array([[0.0, 0.0, 1.0]])
    dist_cm = np.array([2.5, 7.5, 12.5, 17.5, 25.0, 35.0, 50.0, 100.0])
    ang = dist_cm / R_DET
    n = len(ang)
    r = 10.0
    ev = {
        "npe": np.full(n, 14.7 * 10, np.float32),  # 10 keV: region 5-15
        "r_timing_cm": np.full(n, 10.0, np.float32),
        "r_pe_cm": np.full(n, r, np.float32),
        "x_pe_cm": (r * np.sin(ang)).astype(np.float32),
        "y_pe_cm": np.zeros(n, np.float32),
        "z_pe_cm": (r * np.cos(ang)).astype(np.float32),
        "true_energy_kev": np.full(n, 10.0, np.float32),
        **{f: np.zeros(n, bool) for f in FLAGS},
    }
    params = np.array([14.7, 38.0, 20.0, 2.0, 200.0, R_DET, 1.0, 1.0])
    out, ref = run_kernel(ev, params, np.linspace(2, 200, 100), sets=dead[None])
    np.testing.assert_array_equal(out["dead_pmt"][0, 1], np.ones(8, np.int64))
    np.testing.assert_array_equal(out["dead_pmt"], ref["dead_pmt"])
