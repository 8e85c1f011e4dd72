"""Synthetic event blocks with known properties, for tests, benchmarks and closure tests.

Independent of the detector simulation (:mod:`exonu.sim`): a few lines of NumPy
produce canonical branches (:data:`exonu.io.root.REQUIRED_BRANCHES` plus truth)
whose distributions are simple enough that the effect of every cut is known, and
into which effects can be injected:

* :func:`make_events` -- volume or surface events in a sphere, Poisson
  photoelectrons, Gaussian vertex smearing, surface events mis-reconstructed
  into the volume with an energy-dependent probability (the XMASS-I failure mode,
  PLB 809 (2020) 135741 §3.2), tag flags with given probabilities;
* :func:`near_pmt_events` -- events reconstructed inside the fiducial volume,
  with the projection of the vertex onto the surface within a given distance of
  a set of PMTs: the extra mis-reconstructions near dead PMTs of §3.3.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

import numpy as np

EnergySampler = Callable[[int, np.random.Generator], np.ndarray]


def exponential_spectrum(slope_kev: float, hi_kev: float = 300.0) -> EnergySampler:
    """Sampler of an exponential spectrum exp(-E / slope) on [0, hi_kev]."""

    def draw(n: int, rng: np.random.Generator) -> np.ndarray:
        u = rng.uniform(size=n)
        return -slope_kev * np.log(1.0 - u * (1.0 - np.exp(-hi_kev / slope_kev)))

    return draw


def flat_spectrum(lo_kev: float, hi_kev: float) -> EnergySampler:
    """Sampler of a flat spectrum on [lo_kev, hi_kev]."""

    def draw(n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(lo_kev, hi_kev, n)

    return draw


def _directions(n: int, rng: np.random.Generator) -> np.ndarray:
    d = rng.normal(size=(n, 3))
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def _finish(
    energy: np.ndarray,
    true_xyz: np.ndarray,
    reco_xyz: np.ndarray,
    r_timing: np.ndarray,
    rng: np.random.Generator,
    pe_per_kev: float,
    flags: Mapping[str, float],
) -> dict[str, np.ndarray]:
    n = len(energy)
    out = {
        "npe": rng.poisson(pe_per_kev * np.clip(energy, 0.0, None)).astype(np.float32),
        "r_timing_cm": r_timing.astype(np.float32),
        "r_pe_cm": np.linalg.norm(reco_xyz, axis=1).astype(np.float32),
        "x_pe_cm": reco_xyz[:, 0].astype(np.float32),
        "y_pe_cm": reco_xyz[:, 1].astype(np.float32),
        "z_pe_cm": reco_xyz[:, 2].astype(np.float32),
        "true_energy_kev": energy.astype(np.float32),
        "true_x_cm": true_xyz[:, 0].astype(np.float32),
        "true_y_cm": true_xyz[:, 1].astype(np.float32),
        "true_z_cm": true_xyz[:, 2].astype(np.float32),
    }
    for name in ("od_trigger", "afterpulse", "cherenkov"):
        out[name] = rng.uniform(size=n) < float(flags.get(name, 0.0))
    return out


def make_events(
    n: int,
    rng: np.random.Generator,
    spectrum: EnergySampler,
    *,
    surface: bool = False,
    radius_cm: float = 40.96,
    pe_per_kev: float = 14.7,
    sigma_cm_at_5kev: float = 4.0,
    misreco_at_5kev: float = 0.3,
    flags: Mapping[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """Canonical branches of ``n`` events (see module docstring).

    Volume events are uniform in the sphere; surface events 0.3 cm deep. The
    reconstructed vertex is the true one smeared by sigma = ``sigma_cm_at_5kev``
    sqrt(5 keV / E); a surface event is instead reconstructed uniformly in the
    volume with probability ``misreco_at_5kev`` x 5 keV / E. R(Timing) keeps the
    true radius with the same resolution. Vertices stay inside the sphere.
    """
    energy = spectrum(n, rng)
    dirs = _directions(n, rng)
    if surface:
        r_true = radius_cm - rng.exponential(0.3, n)
    else:
        r_true = radius_cm * rng.uniform(size=n) ** (1.0 / 3.0)
    true_xyz = dirs * np.clip(r_true, 0.0, radius_cm)[:, None]
    e_ref = np.maximum(energy, 0.5)
    sigma = sigma_cm_at_5kev * np.sqrt(5.0 / e_ref)
    reco = true_xyz + rng.normal(size=(n, 3)) * sigma[:, None]
    if surface:
        mis = rng.uniform(size=n) < np.clip(misreco_at_5kev * 5.0 / e_ref, 0.0, 1.0)
        k = int(mis.sum())
        reco[mis] = _directions(k, rng) * (radius_cm * rng.uniform(size=k) ** (1 / 3))[:, None]
    r = np.linalg.norm(reco, axis=1)
    outside = r > radius_cm
    reco[outside] *= (radius_cm / r[outside])[:, None]
    r_timing = np.clip(
        np.abs(np.linalg.norm(true_xyz, axis=1) + rng.normal(size=n) * sigma), 0, radius_cm
    )
    return _finish(energy, true_xyz, reco, r_timing, rng, pe_per_kev, flags or {})


def near_pmt_events(
    n: int,
    rng: np.random.Generator,
    spectrum: EnergySampler,
    pmt_dirs: np.ndarray,
    *,
    max_distance_cm: float,
    r_max_cm: float,
    radius_cm: float = 40.96,
    pe_per_kev: float = 14.7,
) -> dict[str, np.ndarray]:
    """Events reconstructed inside R(PE) < ``r_max_cm`` near one of ``pmt_dirs``.

    The projection of the vertex onto the surface (radius ``radius_cm``) lies
    within ``max_distance_cm`` (arc length) of a randomly chosen PMT, uniformly
    over the spherical cap; R(Timing) is small, so the events pass every cut but
    the energy window.
    """
    energy = spectrum(n, rng)
    axis = np.asarray(pmt_dirs, float)[rng.integers(0, len(pmt_dirs), n)]
    cos_max = np.cos(max_distance_cm / radius_cm)
    cos_t = 1.0 - rng.uniform(size=n) * (1.0 - cos_max)
    sin_t = np.sqrt(1.0 - cos_t**2)
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    # orthonormal basis around each axis
    helper = np.where(np.abs(axis[:, 2:3]) < 0.9, [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]])
    u = np.cross(axis, helper)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    v = np.cross(axis, u)
    dirs = cos_t[:, None] * axis + sin_t[:, None] * (
        np.cos(phi)[:, None] * u + np.sin(phi)[:, None] * v
    )
    r = 0.98 * r_max_cm * rng.uniform(size=n) ** (1.0 / 3.0)
    reco = dirs * r[:, None]
    true_xyz = dirs * (radius_cm - 0.3)
    r_timing = np.full(n, 0.5 * r_max_cm)
    return _finish(energy, true_xyz, reco, r_timing, rng, pe_per_kev, {})


def concat(blocks: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate event blocks branch by branch."""
    return {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}


def spoil(
    arrays: Mapping[str, np.ndarray], rng: np.random.Generator, n_bad: int
) -> dict[str, np.ndarray]:
    """Copy of ``arrays`` with ``n_bad`` NaN, inf and negative values in float branches."""
    out = {k: np.array(v, copy=True) for k, v in arrays.items()}
    n = len(out["npe"])
    for name in (
        "npe",
        "r_timing_cm",
        "r_pe_cm",
        "x_pe_cm",
        "y_pe_cm",
        "z_pe_cm",
        "true_energy_kev",
    ):
        idx = rng.choice(n, 3 * n_bad, replace=False)
        out[name][idx[:n_bad]] = np.nan
        out[name][idx[n_bad : 2 * n_bad]] = np.inf if name != "r_pe_cm" else -np.inf
        out[name][idx[2 * n_bad :]] = -1.0
    return out


def selection_block(config: Mapping[str, object]) -> dict[str, object]:
    """The params block the ``select`` rule passes, from a validated full config.

    Mirrors ``selection_params()`` of ``workflow/rules/common.smk``.
    """
    cfg = json.loads(json.dumps(config))
    return {
        "selection": cfg["selection"],
        "binning": {k: cfg["binning"][k] for k in ("energy_kev", "true_energy_kev")},
        "calibration": cfg["calibration"],
        "detector": {k: cfg["detector"][k] for k in ("radius_cm", "n_pmts", "dead_pmts")},
    }
