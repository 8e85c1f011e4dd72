"""Synthetic XMASS-like detector Monte Carlo (walking-skeleton version).

This module produces stand-ins for XMASS-I data and Monte Carlo with the event
file contract of :mod:`exonu.io.root`. It is deliberately simple and is the
stage the detector Monte-Carlo issue deepens; the entry point
:func:`simulate_chunk` and the configuration keys stay.

Model (each choice is a simplification of XMASS-I, PLB 809 (2020) 135741, §2–3,
and the detector paper NIM A 716 (2013) 78):

* Geometry: a sphere of ``radius_cm`` (~40 cm). Events of a sample start either
  uniformly in the liquid (``vertex: volume``) or on the inner surface, a small
  exponential depth inside it (``vertex: surface``).
* Energy: scintillation light yield ``pe_per_kev`` (~14.7 PE/keV), Poisson
  photoelectron statistics, no light below ``threshold_kev`` (1 keV, XMASS §3.1).
* Vertex reconstruction: R(PE) is the true vertex smeared with
  sigma = ``rpe_sigma_cm_at_5kev`` * sqrt(5 keV / E); with probability
  ``misreco_probability_at_5kev`` * (5 keV / E) a surface event is reconstructed
  anywhere in the volume (the failure mode that leaks surface events into the
  fiducial volume). R(Timing) keeps the true radius with its own resolution, so
  the R(Timing) < 38 cm cut removes most mis-reconstructed wall events.
* Flags: outer-detector coincidence, after-pulse and Cherenkov tags with
  per-sample probabilities.
* Spectra: allowed beta shape (end point Q), Gaussian line, exponential
  continuum, flat, or the Standard-Model solar-neutrino recoil spectrum from
  :mod:`exonu.physics`.

Seeds are derived from (global seed, kind, sample, chunk) names, so every chunk
is reproducible and independent of how many jobs ran.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from exonu import __version__
from exonu.io.root import EventFileMeta, write_events

SECONDS_PER_DAY = 86400.0
ELECTRON_MASS_KEV = 510.99895


class SimulationError(ValueError):
    """Bad simulation configuration; the message names the key."""


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from names (sha256 of the parts joined by '/')."""
    text = "/".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


# --------------------------------------------------------------------------- spectra


def _beta_shape(energy_kev: np.ndarray, q_kev: float) -> np.ndarray:
    """Allowed beta spectrum without Fermi function: p W (Q - T)^2 (shape only)."""
    t = np.clip(energy_kev, 0.0, q_kev)
    w = t + ELECTRON_MASS_KEV
    p = np.sqrt(np.maximum(w * w - ELECTRON_MASS_KEV**2, 0.0))
    return p * w * (q_kev - t) ** 2


def _sm_solar_shape(energy_kev: np.ndarray) -> np.ndarray:
    from exonu.physics import standard_model_rate  # physics is heavy; import lazily

    return np.clip(standard_model_rate(energy_kev), 0.0, None)


def sample_energies(spec: Mapping[str, Any], n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` true deposited energies (keV) from a spectrum description."""
    shape = spec.get("shape")
    if shape == "line":
        return rng.normal(spec["energy_kev"], spec.get("sigma_kev", 0.5), n)
    if shape == "flat":
        lo, hi = spec["range_kev"]
        return rng.uniform(lo, hi, n)
    if shape == "exponential":
        lo, hi = spec.get("range_kev", (0.0, 300.0))
        u = rng.uniform(0.0, 1.0, n)
        s = float(spec["slope_kev"])
        a, b = np.exp(-lo / s), np.exp(-hi / s)
        return -s * np.log(a - u * (a - b))
    if shape in ("beta", "solar_nu_sm"):
        hi = float(spec["q_kev"]) if shape == "beta" else float(spec.get("max_kev", 300.0))
        grid = np.linspace(0.0, hi, 4001)
        pdf = _beta_shape(grid, hi) if shape == "beta" else _sm_solar_shape(grid + 1e-3)
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]))])
        cdf /= cdf[-1]
        return np.interp(rng.uniform(0.0, 1.0, n), cdf, grid)
    raise SimulationError(f"spectrum shape {shape!r} unknown (line, flat, exponential, beta)")


# --------------------------------------------------------------------------- detector


def _vertices(kind: str, n: int, radius: float, depth: float, rng: np.random.Generator):
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    if kind == "volume":
        r = radius * rng.uniform(0.0, 1.0, n) ** (1.0 / 3.0)
    elif kind == "surface":
        r = radius - rng.exponential(depth, n)
    else:
        raise SimulationError(f"vertex {kind!r} unknown (volume, surface)")
    return direction * np.clip(r, 0.0, radius)[:, None]


def detector_response(
    true_energy_kev: np.ndarray,
    true_xyz_cm: np.ndarray,
    surface: bool,
    flags: Mapping[str, float],
    det: Mapping[str, Any],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Photoelectrons, reconstructed vertices and tags for true deposits."""
    n = len(true_energy_kev)
    e = np.clip(true_energy_kev, 0.0, None)
    visible = np.where(e >= det["threshold_kev"], e, 0.0)
    npe = rng.poisson(det["pe_per_kev"] * visible).astype(np.float32)
    e_ref = np.maximum(e, 0.5)
    sigma_pe = det["rpe_sigma_cm_at_5kev"] * np.sqrt(5.0 / e_ref)
    xyz = true_xyz_cm + rng.normal(size=(n, 3)) * sigma_pe[:, None]
    if surface:
        p_mis = np.clip(det["misreco_probability_at_5kev"] * 5.0 / e_ref, 0.0, 1.0)
        mis = rng.uniform(size=n) < p_mis
        k = int(mis.sum())
        xyz[mis] = _vertices("volume", k, det["radius_cm"], 1.0, rng)
    radius = det["radius_cm"]
    r_pe = np.linalg.norm(xyz, axis=1)
    # reconstructions return vertices inside the PMT sphere
    outside = r_pe > radius
    xyz[outside] *= (radius / r_pe[outside])[:, None]
    r_pe = np.minimum(r_pe, radius)
    r_true = np.linalg.norm(true_xyz_cm, axis=1)
    sigma_t = det["rtiming_sigma_cm_at_5kev"] * np.sqrt(5.0 / e_ref)
    r_timing = np.clip(np.abs(r_true + rng.normal(size=n) * sigma_t), 0.0, radius)
    return {
        "npe": npe,
        "r_timing_cm": r_timing,
        "r_pe_cm": r_pe,
        "x_pe_cm": xyz[:, 0],
        "y_pe_cm": xyz[:, 1],
        "z_pe_cm": xyz[:, 2],
        "od_trigger": rng.uniform(size=n) < flags.get("od_probability", 0.0),
        "afterpulse": rng.uniform(size=n) < flags.get("afterpulse_probability", 0.0),
        "cherenkov": rng.uniform(size=n) < flags.get("cherenkov_probability", 0.0),
        "true_energy_kev": true_energy_kev,
        "true_x_cm": true_xyz_cm[:, 0],
        "true_y_cm": true_xyz_cm[:, 1],
        "true_z_cm": true_xyz_cm[:, 2],
    }


def _component_events(comp: Mapping[str, Any], n: int, det, rng) -> dict[str, np.ndarray]:
    energy = sample_energies(comp["spectrum"], n, rng)
    xyz = _vertices(comp["vertex"], n, det["radius_cm"], det["surface_depth_cm"], rng)
    return detector_response(energy, xyz, comp["vertex"] == "surface", comp, det, rng)


def _concat(blocks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    keys = blocks[0].keys()
    return {k: np.concatenate([b[k] for b in blocks]) for k in keys}


def _chunk_share(total: int, chunk: int, n_chunks: int) -> int:
    """Events of chunk ``chunk`` when ``total`` are split as evenly as possible."""
    return total // n_chunks + (1 if chunk < total % n_chunks else 0)


# --------------------------------------------------------------------------- entry point


def simulate_chunk(
    sim: Mapping[str, Any],
    detector: Mapping[str, Any],
    kind: str,
    sample: str,
    chunk: int,
    output: str | Path,
) -> EventFileMeta:
    """Generate one chunk of one sample and write it as an event file.

    Parameters
    ----------
    sim : the ``simulation`` block of the config.
    detector : the ``detector`` block of the config.
    kind : ``data``, ``background`` or ``signal``.
    sample : component name (``data`` for data, ``signal_flat`` for signal MC).
    chunk : chunk index, 0 <= chunk < ``sim['n_chunks']``.
    output : event file to write.
    """
    n_chunks = int(sim["n_chunks"])
    if not 0 <= chunk < n_chunks:
        raise SimulationError(f"chunk {chunk} outside 0..{n_chunks - 1} (simulation.n_chunks)")
    seed = derive_seed(sim["seed"], kind, sample, chunk)
    rng = np.random.default_rng(seed)
    comps = sim["backgrounds"]
    extra: dict[str, Any] = {}
    if kind == "data":
        livetime_s = float(sim["livetime_days"]) * SECONDS_PER_DAY / n_chunks
        blocks = []
        for name in sorted(comps):
            comp = comps[name]
            mean = comp["rate_per_day"] * sim["livetime_days"] / n_chunks
            crng = np.random.default_rng(derive_seed(seed, name))
            blocks.append(_component_events(comp, int(crng.poisson(mean)), detector, crng))
        events = _concat(blocks)
        order = np.random.default_rng(derive_seed(seed, "shuffle")).permutation(len(events["npe"]))
        events = {k: v[order] for k, v in events.items()}
        n_generated, activity = len(events["npe"]), 0.0
        extra["components"] = sorted(comps)
    elif kind == "background":
        if sample not in comps:
            raise SimulationError(f"simulation.backgrounds has no sample {sample!r}")
        comp = comps[sample]
        n_generated = _chunk_share(int(comp["n_mc"]), chunk, n_chunks)
        events = _component_events(comp, n_generated, detector, rng)
        activity = comp["rate_per_day"] / SECONDS_PER_DAY
        livetime_s = n_generated / activity if activity > 0 else 0.0
    elif kind == "signal":
        sig = sim["signal_mc"]
        n_generated = _chunk_share(int(sig["n_events"]), chunk, n_chunks)
        spec = {"shape": "flat", "range_kev": sig["energy_range_kev"]}
        comp = {"spectrum": spec, "vertex": "volume", **sig.get("flags", {})}
        events = _component_events(comp, n_generated, detector, rng)
        activity, livetime_s = 0.0, 0.0
        extra["energy_range_kev"] = list(sig["energy_range_kev"])
    else:
        raise SimulationError(f"kind {kind!r} unknown (data, background, signal)")
    meta = EventFileMeta(
        kind=kind,
        sample=sample,
        n_generated=int(n_generated),
        livetime_s=float(livetime_s),
        activity_bq=float(activity),
        seed=int(seed),
        chunk=int(chunk),
        n_chunks=n_chunks,
        generator="exonu.sim.generate",
        version=__version__,
        extra=extra,
    )
    write_events(output, events, meta)
    return meta
