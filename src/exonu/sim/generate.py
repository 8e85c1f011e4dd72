"""Synthetic XMASS-I-like detector Monte Carlo: data, background MC, signal MC, variations.

XMASS-I data and Monte Carlo are not public; this module produces stand-ins with the
event-file contract of :mod:`exonu.io.root` that fail the way the real ones do:
surface events mis-reconstructed into the fiducial volume (more at low energy and
near dead PMTs), events tagged by the outer detector, after-pulses and Cherenkov
light, and backgrounds at the level XMASS-I reported. The entry point is
:func:`simulate_chunk`; the sample names are listed by :mod:`exonu.sim.samples`.

Modelling choices and their sources
-----------------------------------
* Geometry (:mod:`exonu.detector.geometry`): a sphere of 40.96 cm holding 832 kg of
  liquid xenon at 2.89 g/cm³ (XMASS-I, PLB 809 (2020) 135741, §2), 642 PMTs on a
  Fibonacci lattice, 9 of them dead (§3.3); R < 20 cm holds 96.9 kg ("97 kg", §3.2).
* Detector response (light yield with the zero-field non-linearity, Poisson
  photoelectrons, zero efficiency below 1 keV, trigger, R(PE) and R(Timing),
  mis-reconstruction near the wall and near dead PMTs, hit-timing tags):
  :mod:`exonu.detector.response`, which documents each parameter and its source.
* Energy deposits of each component (beta shapes, 2νββ, gamma lines with a
  Klein–Nishina Compton continuum, the degraded electrons from the copper, ¹²⁵I,
  ¹³¹ᵐXe at 163.9 keV, ¹³³Xe β + 81 keV): :mod:`exonu.sim.spectra`.
* Vertices: internal components uniform in the volume; surface components at an
  exponential depth below the PMT surface (``depth_cm`` of the component, or the
  attenuation length of each gamma line, or ``detector.surface_depth_cm``).
* Only decays that deposit less than ``simulation.max_deposit_kev`` (400 keV; the
  window ends at 200 keV and the resolution is ~2 % there) are simulated, like a
  low-energy data reduction: a component's simulated activity is its decay rate times
  the kept fraction (recorded as ``extra.kept_fraction``), which keeps the embedded
  data small. The PMT gamma activities are likewise scaled down to what matters in
  the fiducial volume (a few % of the background, as in XMASS-I's Fig. 2).
* Solar neutrinos: dN/dT of :func:`exonu.physics.standard_model_rate` (the physics
  settings of the analysis) times the active mass, for T between the threshold and
  ``max_kev``; the rate follows from the physics unless ``rate_per_day`` is given.
* Levels: the activities of the default (``exonu:default``) are tuned so that, after the XMASS
  cuts, the data rate at 5 keV is ~4.2×10⁻³ /(day kg keV) with a signal efficiency of
  ~20 % (XMASS-I, PLB 789 (2019) 45), dominated below 30 keV by mis-reconstructed
  ²¹⁰Pb from the copper and above by the isotopes dissolved in the xenon (PLB 809 §3.3).
* Data = ``simulation.livetime_days`` of every background component (Poisson numbers
  of events at the configured rates, times uniform in the live time) plus the event
  classes that only the data have (``simulation.data.classes``: muon events with an
  outer-detector trigger, after-pulse events), plus an optional injected signal of any
  physics model (``simulation.data.inject``; the solar-neutrino component of the data is
  then generated from SM + exotic rate, so interference terms are exact).
* Data/MC difference (PLB 809 §3.3): near dead PMTs the data's mis-reconstruction rate
  is higher than the MC's below 40 keV. ``simulation.data.dead_pmt_misreco`` multiplies
  the dead-PMT boost of the mis-reconstruction probability of the data, per region of
  visible energy (``regions_kev`` / ``boost_factor``); the background MC has factor 1.
  With the defaults the fiducial background of the data exceeds the MC by about the
  corrections XMASS-I applied, 0, 12, 14, 16 and 19 % in 2–5, 5–15, 15–20, 20–30 and
  30–40 keV (XMASS: 0 ± 10, 12 ± 14, 14 ± 19, 17 ± 28 and 46 ± 34 %, or 23 ± 20 %; the
  last region saturates near 20 % because the mis-reconstruction probability near a
  dead PMT approaches 1). About 75 % of the excess lies within 10 cm of a dead PMT in
  the distance of the reconstructed vertex projected onto the surface.
* Systematic variations (kind ``variation``): the nominal sample regenerated with
  detector parameters scaled by (1 + shift_sigma × relative), see
  :mod:`exonu.sim.samples` for the naming. Energy-scale and R(PE)-scale systematics
  are applied at selection time (:mod:`exonu.selection.kernels`), so the default
  variations are those the selection cannot apply: optical properties (the
  mis-reconstruction of wall events, R(PE) resolution) and the scintillation
  efficiency (the non-linearity); e.g. the scintillation decay time (the hit-timing
  tags) can be added. Their metadata ``extra`` carry ``variation`` (the source),
  ``nominal``, ``nominal_kind``, ``shift_sigma`` and ``changed`` (parameter: [nominal,
  varied] values).

Reproducibility and chunking
----------------------------
Random numbers are counter based (:mod:`exonu.sim.kernels`): every event of a sample
is a pure function of the sample's stream seed (derived by hashing the global seed,
the kind and the sample name, :func:`derive_seed`) and its index. A Monte-Carlo
chunk generates the index range ``[N c / n, N (c + 1) / n)`` of the sample's ``N``
events; a data chunk keeps the events whose time falls in its ``1/n`` of the live
time. The union of the chunks is therefore the same for any number of chunks, and
identical seeds give bit-identical files. Only triggered events are written;
``n_generated`` counts every simulated decay (Monte Carlo) or the events written
(data).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from exonu import __version__
from exonu.detector.response import DetectorError, DetectorResponse
from exonu.io.root import EventFileMeta, write_events
from exonu.physics import MODELS, PhysicsError, PhysicsSettings, signal_basis, standard_model_rate
from exonu.sim import kernels as K
from exonu.sim.samples import DATA, SIGNAL_MC, find_variation, nominal_kind
from exonu.sim.spectra import (
    Channel,
    ChannelArrays,
    Continuum,
    SpectrumError,
    channel_arrays,
    spectrum_channels,
    tabulated_channel_arrays,
)

SECONDS_PER_DAY = 86400.0
DAYS_PER_YEAR = 365.25  # the tonne-year of the physics rates (exonu.physics)
#: events handled per kernel call (bounds the memory of a job: 56 bytes per event)
BATCH_EVENTS = 1 << 23

#: defaults of the ``simulation`` block that the code needs when a key is absent
DATA_CLASSES_DEFAULT = {"muon": {"rate_per_day": 30.0}, "afterpulse": {"rate_per_day": 100.0}}


class SimulationError(ValueError):
    """Bad simulation configuration; the message names the key."""


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from names (sha256 of the parts joined by '/')."""
    text = "/".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


# --------------------------------------------------------------------------- components


@dataclass
class Component:
    """One source of events: its channels, vertex model, flags and rate."""

    name: str
    arrays: ChannelArrays
    rate_per_day: float
    wall: bool
    cherenkov_probability: float = 0.0
    od_probability: float | None = None
    afterpulse_probability: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def params(self, det: DetectorResponse, data_boost: bool) -> np.ndarray:
        c = np.zeros(K.N_COMP_PARAMS)
        c[K.C_VERTEX] = 1.0 if self.wall else 0.0
        od = self.od_probability
        ap = self.afterpulse_probability
        c[K.C_OD_PROB] = det.config["od_accidental_probability"] if od is None else od
        c[K.C_AP_PROB] = det.config["afterpulse_accidental_probability"] if ap is None else ap
        c[K.C_CK_PROB] = self.cherenkov_probability
        c[K.C_REGION_BOOST] = 1.0 if data_boost else 0.0
        return c


def _physics_settings(physics: Mapping[str, Any] | None, key: str):
    try:
        return PhysicsSettings.from_mapping(dict(physics or {}))
    except PhysicsError as err:
        raise SimulationError(f"physics (needed by {key}): {err}") from None


def _solar_pdf(
    physics: Mapping[str, Any] | None,
    key: str,
    inject: Mapping[str, Any] | None,
    lo: float,
    hi: float,
) -> Callable[[np.ndarray], np.ndarray]:
    """dN/dT [events/(t yr keV)] of the SM solar-neutrino recoils (+ an injected signal).

    The physics is evaluated once on 3001 energies between ``lo`` and ``hi`` (denser at
    low energy) and interpolated linearly; the rates are smooth on that scale except at
    atomic binding energies, where the stepping of the physics module is kept to 0.1 keV.
    """
    settings = _physics_settings(physics, key)
    grid = np.unique(np.concatenate([lo + (hi - lo) * np.linspace(0.0, 1.0, 3001) ** 2, [lo, hi]]))
    e = np.maximum(grid, 1e-3)
    try:
        rate = np.asarray(standard_model_rate(e, settings), dtype=np.float64)
        if inject:
            rate = rate + _injected_excess(inject, e, settings, signal_basis)
    except PhysicsError as err:
        raise SimulationError(f"{key}: {err}") from None
    rate = np.clip(rate, 0.0, None)

    def pdf(x: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(x, dtype=np.float64), grid, rate, left=0.0, right=0.0)

    return pdf


def _injected_excess(inject, e, settings, signal_basis) -> np.ndarray:
    kwargs: dict[str, Any] = {"flavour": inject.get("flavour", "all")}
    for opt in ("mediator_mass_mev", "treatment"):
        if inject.get(opt) is not None:
            kwargs[opt] = inject[opt]
    basis = signal_basis(inject["model"], e, settings, **kwargs)
    return np.asarray(basis.excess(float(inject["value"])), dtype=np.float64)


def _rate_per_day(pdf: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, mass_kg: float):
    """Events per day in ``mass_kg`` for a rate density in events/(t yr keV) on [lo, hi]."""
    e = lo + (hi - lo) * np.linspace(0.0, 1.0, 20001) ** 2
    r = pdf(e)
    return float(np.sum(0.5 * (r[1:] + r[:-1]) * np.diff(e))) * mass_kg / 1000.0 / DAYS_PER_YEAR


def background_component(
    name: str,
    cfg: Mapping[str, Any],
    det: DetectorResponse,
    physics: Mapping[str, Any] | None = None,
    inject: Mapping[str, Any] | None = None,
    max_deposit_kev: float = np.inf,
) -> Component:
    """Build the :class:`Component` of ``simulation.backgrounds.<name>``.

    Only decays depositing less than ``max_deposit_kev`` are simulated; the
    component's ``rate_per_day`` is then the configured decay rate times the kept
    fraction (``info['kept_fraction']``).
    """
    key = f"simulation.backgrounds.{name}"
    if not isinstance(cfg, Mapping):
        raise SimulationError(f"{key}: expected a mapping")
    spec = cfg.get("spectrum")
    if not isinstance(spec, Mapping):
        raise SimulationError(f"{key}.spectrum: required (a mapping with a 'shape')")
    vertex = cfg.get("vertex", "volume")
    if vertex not in ("volume", "surface"):
        raise SimulationError(f"{key}.vertex: {vertex!r} unknown (volume, surface)")
    depth = float(cfg.get("depth_cm", det.config["surface_depth_cm"]))
    if not depth > 0:
        raise SimulationError(f"{key}.depth_cm: must be > 0")
    rho = float(det.config["density_g_cm3"])
    rate = cfg.get("rate_per_day")
    info: dict[str, Any] = {}
    try:
        if spec.get("shape") == "solar_nu_sm":
            lo = max(float(det.config["threshold_kev"]), 0.1)
            hi = float(spec.get("max_kev", 300.0))
            pdf = _solar_pdf(physics, key, inject, lo, hi)
            arrays = tabulated_channel_arrays(pdf, lo, hi, depth)
            info["energy_range_kev"] = [lo, hi]
            computed = _rate_per_day(pdf, lo, hi, det.active_mass_kg)
            info["rate_per_day_physics"] = computed
            if rate is None or inject:
                rate = computed
        else:
            chans = spectrum_channels(spec, f"{key}.spectrum", rho)
            arrays = channel_arrays(chans, depth, max_deposit_kev)
    except SpectrumError as err:
        raise SimulationError(str(err)) from None
    if rate is None:
        raise SimulationError(f"{key}.rate_per_day: required (decays per live day)")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate < 0:
        raise SimulationError(f"{key}.rate_per_day: must be a number >= 0, got {rate!r}")
    kept = float(arrays.extra.get("kept_fraction", 1.0))
    info["decay_rate_per_day"] = float(rate)
    info["kept_fraction"] = kept
    return Component(
        name=name,
        arrays=arrays,
        rate_per_day=float(rate) * kept,
        wall=vertex == "surface",
        cherenkov_probability=float(cfg.get("cherenkov_probability", 0.0)),
        od_probability=cfg.get("od_probability"),
        afterpulse_probability=cfg.get("afterpulse_probability"),
        info=info,
    )


def signal_component(sim: Mapping[str, Any], det: DetectorResponse) -> Component:
    """The flat signal Monte Carlo (uniform in the volume)."""
    sig = sim.get("signal_mc") or {}
    lo, hi = _window(sig.get("energy_range_kev", (0.0, 250.0)), "simulation.signal_mc")
    arrays = channel_arrays([Channel(1.0, 0.0, Continuum("flat", (lo, hi)))], 1.0)
    return Component(SIGNAL_MC, arrays, 0.0, wall=False, info={"energy_range_kev": [lo, hi]})


def data_class_component(name: str, cfg: Mapping[str, Any]) -> Component:
    """Muon (outer-detector) or after-pulse events that only the data contain."""
    key = f"simulation.data.classes.{name}"
    rate = cfg.get("rate_per_day") if isinstance(cfg, Mapping) else None
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate < 0:
        raise SimulationError(f"{key}.rate_per_day: must be a number >= 0")
    if name == "muon":
        # a muon crossing up to 80 cm of xenon deposits 5-200 MeV
        chans = [Channel(1.0, 0.0, Continuum("flat", (5.0e3, 2.0e5)), kind=K.K_MUON)]
    elif name == "afterpulse":
        chans = [Channel(1.0, 0.0, None, kind=K.K_AFTERPULSE)]
    else:
        raise SimulationError(f"{key}: unknown event class (muon, afterpulse)")
    return Component(f"class_{name}", channel_arrays(chans, 1.0), float(rate), wall=False)


def max_deposit_kev(sim: Mapping[str, Any]) -> float:
    """``simulation.max_deposit_kev``: decays depositing more are not simulated."""
    v = sim.get("max_deposit_kev", 400.0)
    if v is None:
        return float("inf")
    if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
        raise SimulationError(f"simulation.max_deposit_kev: must be a number > 0, got {v!r}")
    return float(v)


def _window(win: Any, key: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in win)
    except (TypeError, ValueError):
        raise SimulationError(f"{key}.energy_range_kev: expected [lower, upper]") from None
    if not (hi > lo >= 0):
        raise SimulationError(f"{key}.energy_range_kev: need 0 <= lower < upper, got {win}")
    return lo, hi


# --------------------------------------------------------------------------- generation


def _empty(mc: bool) -> dict[str, np.ndarray]:
    out = {k: np.zeros(0, np.float32) for k in ("npe", "r_timing_cm", "r_pe_cm")}
    out.update({k: np.zeros(0, np.float32) for k in ("x_pe_cm", "y_pe_cm", "z_pe_cm")})
    out.update({k: np.zeros(0, np.bool_) for k in ("od_trigger", "afterpulse", "cherenkov")})
    if mc:
        out.update({k: np.zeros(0, np.float32) for k in _TRUTH})
    out["_time"] = np.zeros(0, np.float32)
    return out


_TRUTH = ("true_energy_kev", "true_x_cm", "true_y_cm", "true_z_cm")
_FLOAT_ROWS = {
    "npe": K.F_NPE,
    "r_timing_cm": K.F_RT,
    "r_pe_cm": K.F_RPE,
    "x_pe_cm": K.F_X,
    "y_pe_cm": K.F_Y,
    "z_pe_cm": K.F_Z,
    "true_energy_kev": K.F_TE,
    "true_x_cm": K.F_TX,
    "true_y_cm": K.F_TY,
    "true_z_cm": K.F_TZ,
    "_time": K.F_TIME,
}
_BOOL_ROWS = {"od_trigger": K.B_OD, "afterpulse": K.B_AP, "cherenkov": K.B_CK}


def generate(
    comp: Component,
    det: DetectorResponse,
    stream_seed: int,
    first: int,
    n: int,
    *,
    time_window: tuple[float, float] | None = None,
    data_boost: tuple[np.ndarray, np.ndarray] | None = None,
    mc: bool = True,
) -> dict[str, np.ndarray]:
    """Events ``first .. first + n - 1`` of a component (triggered ones), as branch arrays.

    ``time_window`` keeps only events whose time fraction lies in it (data);
    ``data_boost`` = (region edges, factors) of the data's dead-PMT excess.
    """
    det_p = det.kernel_parameters()
    ly_tab, ly_step = det.light_yield_table()
    npe_tab = det.npe_table()
    dead = det.dead_pmt_directions()
    edges, factors = data_boost if data_boost is not None else (np.zeros(1), np.zeros(0))
    cp = comp.params(det, data_boost is not None)
    a = comp.arrays
    t_lo, t_hi = time_window if time_window is not None else (-1.0, 1.0)
    parts: list[dict[str, np.ndarray]] = []
    batch = int(min(max(n, 1), BATCH_EVENTS))
    out_f = np.empty((K.N_FLOAT_OUT, batch), np.float32)
    out_b = np.empty((K.N_BOOL_OUT, batch), np.bool_)
    for start in range(first, first + n, batch):
        size = min(batch, first + n - start)
        m = K.generate_events(
            np.uint64(stream_seed),
            start,
            size,
            float(t_lo),
            float(t_hi),
            cp,
            a.cum,
            a.line,
            a.table,
            a.depth,
            a.kind,
            a.tables,
            det_p,
            ly_tab,
            float(ly_step),
            npe_tab,
            dead,
            np.asarray(edges, np.float64),
            np.asarray(factors, np.float64),
            K.NORMAL_TABLE,
            K.AZIMUTH_TABLE,
            K.FAST_TABLE,
            out_f,
            out_b,
        )
        # one batch: views of the output rows (no copy); several: copies (buffers reused)
        part = {k: out_f[row, :m] for k, row in _FLOAT_ROWS.items()}
        part.update({k: out_b[row, :m] for k, row in _BOOL_ROWS.items()})
        parts.append(part if n <= batch else {k: v.copy() for k, v in part.items()})
    if not parts:
        return _empty(mc)
    if len(parts) == 1:
        out = parts[0]
    else:
        out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    if not mc:
        for k in _TRUTH:
            out.pop(k)
    return out


#: stored precision (powers of two, so that float32 mantissas end in zeros and ZSTD
#: compresses files ~25 % better): lengths 1/128 cm, true energies 1/1024 keV
LENGTH_STEP_CM = 2.0**-7
ENERGY_STEP_KEV = 2.0**-10


def quantize(events: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Round stored values to :data:`LENGTH_STEP_CM` / :data:`ENERGY_STEP_KEV` (radii down,
    so that they stay inside the detector); far below every resolution."""
    out = dict(events)
    for key in ("r_timing_cm", "r_pe_cm"):
        out[key] = (np.floor(events[key] / LENGTH_STEP_CM) * LENGTH_STEP_CM).astype(np.float32)
    for key in ("x_pe_cm", "y_pe_cm", "z_pe_cm", "true_x_cm", "true_y_cm", "true_z_cm"):
        if key in events:
            out[key] = (np.round(events[key] / LENGTH_STEP_CM) * LENGTH_STEP_CM).astype(np.float32)
    if "true_energy_kev" in events:
        e = events["true_energy_kev"]
        out["true_energy_kev"] = (np.round(e / ENERGY_STEP_KEV) * ENERGY_STEP_KEV).astype(
            np.float32
        )
    return out


def _chunk_range(total: int, chunk: int, n_chunks: int) -> tuple[int, int]:
    """Event index range of a Monte-Carlo chunk (independent of how others are split)."""
    return total * chunk // n_chunks, total * (chunk + 1) // n_chunks


def _int_key(cfg: Mapping[str, Any], key: str, name: str, minimum: int = 1) -> int:
    v = cfg.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise SimulationError(f"{name}.{key}: must be an integer >= {minimum}, got {v!r}")
    return v


def _detector(detector: Mapping[str, Any] | DetectorResponse) -> DetectorResponse:
    if isinstance(detector, DetectorResponse):
        return detector
    try:
        return DetectorResponse.from_config(detector)
    except DetectorError as err:
        raise SimulationError(str(err)) from None


def _data_boost(sim: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    cfg = (sim.get("data") or {}).get("dead_pmt_misreco") or {}
    edges = np.asarray(cfg.get("regions_kev", [2.0, 40.0]), dtype=np.float64)
    factors = np.asarray(cfg.get("boost_factor", [1.0] * (len(edges) - 1)), dtype=np.float64)
    key = "simulation.data.dead_pmt_misreco"
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise SimulationError(f"{key}.regions_kev: need a strictly increasing list of >= 2")
    if factors.shape != (len(edges) - 1,) or np.any(factors < 0):
        raise SimulationError(
            f"{key}.boost_factor: need {len(edges) - 1} numbers >= 0 (one per region)"
        )
    return edges, factors


def _check_inject(inject: Any) -> dict[str, Any] | None:
    if inject is None:
        return None
    key = "simulation.data.inject"
    if not isinstance(inject, Mapping):
        raise SimulationError(f"{key}: expected a mapping or null")
    for need in ("model", "value"):
        if need not in inject:
            raise SimulationError(f"{key}.{need}: required")

    if inject["model"] not in MODELS:
        raise SimulationError(f"{key}.model: unknown model {inject['model']!r}")
    return dict(inject)


def _variation_detector(
    sim: Mapping[str, Any], det: DetectorResponse, source: str, shift: float
) -> tuple[DetectorResponse, dict[str, Any]]:
    entry = sim["variations"][source]
    scale = entry.get("scale") or {}
    if not isinstance(scale, Mapping) or not scale:
        raise SimulationError(f"simulation.variations.{source}.scale: need parameter: relative")
    try:
        varied = det.varied(scale, shift)
    except DetectorError as err:
        raise SimulationError(f"simulation.variations.{source}.scale: {err}") from None

    def get(cfg: Mapping[str, Any], path: str) -> float:
        node: Any = cfg
        for part in path.split("."):
            node = node[part]
        return float(node)

    changed = {p: [get(det.config, p), get(varied.config, p)] for p in scale}
    return varied, changed


def simulate_chunk(
    sim: Mapping[str, Any],
    detector: Mapping[str, Any],
    kind: str,
    sample: str,
    chunk: int,
    output: str | Path,
    physics: Mapping[str, Any] | None = None,
    timing: dict[str, float] | None = None,
) -> EventFileMeta:
    """Generate one chunk of one sample and write it as an event file.

    Parameters
    ----------
    sim : the ``simulation`` block of the config (for a background only its entry is
        needed in ``backgrounds``; for a variation its nominal sample's entry and the
        ``variations`` entry).
    detector : the ``detector`` block of the config.
    kind : ``data``, ``background``, ``signal`` or ``variation``.
    sample : ``data``, a background name, ``signal_flat`` or a variation sample name
        (:mod:`exonu.sim.samples`).
    chunk : chunk index, 0 <= chunk < ``sim['n_chunks']``.
    output : event file to write.
    physics : the ``physics`` block (solar neutrinos and injected signals).
    timing : if given, filled with the CPU seconds of this call spent generating
        (``generate_cpu_s``, including set-up of the spectra) and writing
        (``write_cpu_s``: quantization, compression, ROOT serialization).

    Returns
    -------
    EventFileMeta : the metadata written to the file.
    """
    cpu0 = time.process_time()
    n_chunks = _int_key(sim, "n_chunks", "simulation")
    if not 0 <= chunk < n_chunks:
        raise SimulationError(f"chunk {chunk} outside 0..{n_chunks - 1} (simulation.n_chunks)")
    seed = sim.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SimulationError(f"simulation.seed: must be an integer >= 0, got {seed!r}")
    det = _detector(detector)
    file_seed = derive_seed(seed, kind, sample, chunk)
    extra: dict[str, Any] = {"stream_seeds": {}}
    if kind == "data":
        if sample != DATA:
            raise SimulationError(f"kind data has one sample, {DATA!r}; got {sample!r}")
        events, n_generated, livetime_s, activity = _simulate_data(
            sim, det, seed, chunk, n_chunks, physics, extra
        )
    elif kind in ("background", "signal", "variation"):
        det_used = det
        nominal, nkind, n_frac = sample, kind, 1.0
        if kind == "variation":
            var = find_variation(sim, sample)
            if var is None:
                raise SimulationError(
                    f"no variation sample {sample!r} in simulation.variations "
                    "(names: <nominal>__<source>_up|down)"
                )
            nominal, nkind = var.nominal, var.nominal_kind
            det_used, changed = _variation_detector(sim, det, var.source, var.shift_sigma)
            n_frac = float(sim["variations"][var.source].get("fraction", 1.0))
            if not 0 < n_frac <= 1:
                raise SimulationError(f"simulation.variations.{var.source}.fraction: in (0, 1]")
            extra.update(
                variation=var.source,
                nominal=nominal,
                nominal_kind=nkind,
                shift_sigma=var.shift_sigma,
                changed=changed,
            )
        elif nominal_kind(sim, sample) != kind:
            where = "simulation.backgrounds" if kind == "background" else "signal MC"
            raise SimulationError(f"{where} has no sample {sample!r}")
        if nkind == "signal":
            comp = signal_component(sim, det_used)
            total = _int_key(sim.get("signal_mc") or {}, "n_events", "simulation.signal_mc")
        else:
            bcfg = sim["backgrounds"][nominal]
            comp = background_component(
                nominal, bcfg, det_used, physics, max_deposit_kev=max_deposit_kev(sim)
            )
            total = _int_key(bcfg, "n_mc", f"simulation.backgrounds.{nominal}")
        total = max(1, math.floor(total * n_frac))
        stream = derive_seed(seed, nkind, nominal)
        lo, hi = _chunk_range(total, chunk, n_chunks)
        events = generate(comp, det_used, stream, lo, hi - lo)
        events.pop("_time")
        n_generated = hi - lo
        extra["stream_seeds"][nominal] = stream
        extra["event_range"] = [lo, hi]
        extra["n_total"] = total
        extra.update(comp.info)
        if nkind == "signal":
            activity, livetime_s = 0.0, 0.0
        else:
            activity = comp.rate_per_day / SECONDS_PER_DAY
            livetime_s = n_generated / activity if activity > 0 else 0.0
            extra["rate_per_day"] = comp.rate_per_day
    else:
        raise SimulationError(f"kind {kind!r} unknown (data, background, signal, variation)")
    meta = EventFileMeta(
        kind=kind,
        sample=sample,
        n_generated=int(n_generated),
        livetime_s=float(livetime_s),
        activity_bq=float(activity),
        seed=int(file_seed),
        chunk=int(chunk),
        n_chunks=n_chunks,
        generator="exonu.sim",
        version=__version__,
        extra=extra,
    )
    cpu1 = time.process_time()
    write_events(output, quantize(events), meta)
    if timing is not None:
        timing["generate_cpu_s"] = cpu1 - cpu0
        timing["write_cpu_s"] = time.process_time() - cpu1
    return meta


def _simulate_data(sim, det, seed, chunk, n_chunks, physics, extra):
    """All components of the data in this chunk's share of the live time."""
    days = sim.get("livetime_days")
    if isinstance(days, bool) or not isinstance(days, int | float) or not days > 0:
        raise SimulationError(f"simulation.livetime_days: must be a number > 0, got {days!r}")
    data_cfg = sim.get("data") or {}
    inject = _check_inject(data_cfg.get("inject"))
    boost = _data_boost(sim)
    backgrounds = sim.get("backgrounds") or {}
    if not backgrounds:
        raise SimulationError("simulation.backgrounds: at least one component is needed")
    comps: list[Component] = []
    has_solar = False
    e_max = max_deposit_kev(sim)
    for name in sorted(backgrounds):
        is_solar = (backgrounds[name].get("spectrum") or {}).get("shape") == "solar_nu_sm"
        has_solar |= is_solar
        comps.append(
            background_component(
                name, backgrounds[name], det, physics, inject if is_solar else None, e_max
            )
        )
    if inject and not has_solar:
        raise SimulationError(
            "simulation.data.inject: needs a background with spectrum shape solar_nu_sm "
            "(the signal is injected as SM + exotic rate of the solar neutrinos)"
        )
    classes = data_cfg.get("classes", DATA_CLASSES_DEFAULT) or {}
    comps.extend(data_class_component(name, classes[name]) for name in sorted(classes))
    window = (chunk / n_chunks, (chunk + 1) / n_chunks)
    parts = []
    summary = {}
    for comp in comps:
        expected = comp.rate_per_day * float(days)
        count_rng = np.random.default_rng(derive_seed(seed, "data", comp.name, "count"))
        total = int(count_rng.poisson(expected))
        stream = derive_seed(seed, "data", comp.name)
        ev = generate(comp, det, stream, 0, total, time_window=window, data_boost=boost, mc=False)
        parts.append(ev)
        summary[comp.name] = {
            "rate_per_day": comp.rate_per_day,
            "expected": expected,
            "generated": total,
            "written_in_chunk": len(ev["npe"]),
            **comp.info,
        }
        extra["stream_seeds"][comp.name] = stream
    events = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.argsort(events.pop("_time"), kind="stable")
    events = {k: v[order] for k, v in events.items()}
    extra["components"] = summary
    extra["dead_pmt_misreco"] = {
        "regions_kev": boost[0].tolist(),
        "boost_factor": boost[1].tolist(),
    }
    extra["injected_signal"] = inject
    extra["livetime_days_total"] = float(days)
    livetime_s = float(days) * SECONDS_PER_DAY / n_chunks
    return events, len(events["npe"]), livetime_s, 0.0
