"""Detector response of the synthetic XMASS-I: light yield, resolution, reconstruction.

:class:`DetectorResponse` holds the ``detector`` block of the configuration (checked,
with one-line errors naming the key) and turns it into the arrays the simulation
kernel (:mod:`exonu.sim.kernels`) takes. Each parameter, its default and its source:

* Light yield ``pe_per_kev`` = 14.7 photoelectrons per keV for the 122 keV gamma rays
  of ⁵⁷Co (XMASS-I detector paper, NIM A 716 (2013) 78), Poisson photoelectron
  statistics, and a relative light-collection fluctuation ``resolution_constant`` =
  3.5 % per event, so that sigma/E ≈ 4 % at 122 keV as measured (same paper).
* Zero-field non-linearity of electron recoils (the scintillation efficiency): light
  per keV relative to 122 keV, r(E) = 1 / (1 + (E0/E)^p) normalised to r(122 keV) = 1,
  E0 = 1.87 keV, p = 1.46. It falls to ~40 % at 1.5 keV and ~0.8 at 5 keV, as measured
  at zero field with Compton electrons (Baudis et al., PRD 87 (2013) 115015, "dropping
  to nearly 40 %"; Aprile et al., PRD 86 (2012) 112004, 2.1–120 keV). nestpy 2.1.3 was
  tried and rejected: at exactly 0 V/cm its beta model returns no photons and its gamma
  model ~60 escaping electrons per keV at 1 keV, i.e. it is not meant for zero field
  (at 10 mV/cm its beta yields, 0.68 at 2 keV and 0.80 at 5 keV relative to 122 keV,
  agree with this parametrisation above 3 keV). Each deposit of an event gets its own
  r(E) (a beta plus a de-excitation gamma are not one electron).
* Zero scintillation efficiency below ``threshold_kev`` = 1 keV (XMASS-I, PLB 809 (2020)
  135741, §3.1) and an inner-detector trigger of ``trigger_min_pe`` = 4 photoelectrons
  (the "four or more hits within 200 ns" of §2); untriggered events are not written.
* R(PE), the charge-based vertex: the true vertex smeared by a 3-d Gaussian of
  ``rpe_sigma_cm_at_5kev`` = 4 cm × sqrt(5 keV / E_vis) (XMASS §3.2: "about 4 cm around
  R(PE) = 20 cm at 5 keV"; photoelectron statistics give the 1/sqrt scaling), with
  E_vis = npe / pe_per_kev; ``rpe_radial_scale`` (1) scales it (reconstruction bias,
  for systematic variations). Both vertices are kept inside the PMT sphere.
* R(Timing), the timing-based vertex: the true vertex smeared by
  ``rtiming_sigma_cm_at_5kev`` = 2.3 cm × sqrt(5 keV / E_vis), so that R(Timing) < 38 cm
  removes ~90 % of the (correctly reconstructed) events at the wall at 5 keV ("a factor
  of ten around 5 keV", XMASS §3.2, ²⁴¹Am source). Only its radius is stored, drawn
  exactly as |r + sigma n| (normal component along r, chi² with 2 d.o.f. across).
* Mis-reconstruction (the "mis-reconstructed events" of XMASS-I, PLB 789 (2019) 45):
  an event at depth d below the PMT surface is reconstructed far from its vertex with
  probability P = p5 (5 keV / E_vis)^a exp(-d / d_mis) (1 + B exp(-s² / 2 s0²)) (at most
  1), where s is the chord distance from the vertex to the nearest dead PMT; light from
  events in the gaps between PMTs and behind the copper rings is shadowed and, near a
  dead PMT, the PMT that would see most of it is missing. Defaults: p5 = 0.5, a = 0.5,
  d_mis = 0.5 cm, B = 4.5, s0 = 4 cm (about a photocathode radius). A mis-reconstructed
  R(PE) vertex keeps the direction of the true vertex (smeared by ``angular_sigma_cm`` =
  2 cm at the wall) at a radius uniform in volume; its R(Timing) has the wider resolution
  ``misreco.rtiming_sigma_cm_at_5kev`` = 8 cm at 5 keV (the shadowing confuses the hit
  times too). These are assumptions tuned to the XMASS-I background level and its fall
  with energy (see :mod:`exonu.sim.generate`).
* Hit-timing tags: the after-pulse and Cherenkov cuts of XMASS §3.2 look at the hit-time
  distribution, which for few photoelectrons also tags genuine scintillation events.
  A scintillation event is tagged with probability 1 / (1 + (npe / n_half)^k),
  ``timing_tag`` n_half = 140 PE, k = 2.15: a phenomenological stand-in tuned so that
  the signal efficiency in the fiducial volume is ~20 % at 5 keV as in XMASS-I
  (PLB 789 (2019) 45).
* Cherenkov events (β of ⁴⁰K in the PMT windows) and after-pulse events have
  exponential photoelectron spectra with means ``cherenkov_mean_pe`` = 15 and
  ``afterpulse_mean_pe`` = 20 (assumptions: a few keV equivalent, where they matter).
* Accidental coincidences: an outer-detector trigger with probability
  ``od_accidental_probability`` = 0.2 % and an after-pulse window with
  ``afterpulse_accidental_probability`` = 0.3 % per event (assumptions).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from exonu.detector import layout as K
from exonu.detector.geometry import GeometryError, dead_pmt_directions, fiducial_mass_kg

#: Defaults of the ``detector`` block (the schema repeats them).
DEFAULTS: dict[str, Any] = {
    "radius_cm": 40.96,
    "n_pmts": 642,
    "dead_pmts": [17, 83, 150, 212, 301, 377, 455, 530, 611],
    "density_g_cm3": 2.89,
    "threshold_kev": 1.0,
    "trigger_min_pe": 4,
    "pe_per_kev": 14.7,
    "nonlinearity": {"e0_kev": 1.87, "power": 1.46, "reference_kev": 122.0},
    "resolution_constant": 0.035,
    "rpe_sigma_cm_at_5kev": 4.0,
    "rpe_radial_scale": 1.0,
    "rtiming_sigma_cm_at_5kev": 2.3,
    "surface_depth_cm": 0.05,
    "misreco": {
        "probability_at_5kev": 0.5,
        "energy_power": 0.5,
        "depth_cm": 0.5,
        "dead_pmt_boost": 4.5,
        "dead_pmt_range_cm": 4.0,
        "rtiming_sigma_cm_at_5kev": 8.0,
        "angular_sigma_cm": 2.0,
    },
    "timing_tag": {"npe_half": 140.0, "power": 2.15},
    "cherenkov_mean_pe": 15.0,
    "afterpulse_mean_pe": 20.0,
    "od_accidental_probability": 0.002,
    "afterpulse_accidental_probability": 0.003,
}

#: photoelectron counts tabulated for the kernel (larger counts use the formulas, which
#: cost two libm pow calls per event): 8192 PE is ~560 keV, above the largest simulated
#: deposit (simulation.max_deposit_kev = 400); 192 kB, resident in L2
NPE_TABLE_SIZE = 8192
#: light-yield table: every LY_STEP_KEV keV up to LY_MAX_KEV
LY_STEP_KEV = 0.05
LY_MAX_KEV = 400.0


class DetectorError(ValueError):
    """Bad detector configuration; the message names the key."""


def _merge(base: dict[str, Any], over: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        name = f"{prefix}.{key}"
        if key not in base:
            raise DetectorError(f"{name}: unknown key (allowed: {', '.join(sorted(base))})")
        if isinstance(base[key], dict):
            if not isinstance(value, Mapping):
                raise DetectorError(f"{name}: expected a mapping")
            out[key] = _merge(base[key], value, name)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _positive(cfg: Mapping[str, Any], path: str, *, zero_ok: bool = False) -> float:
    node: Any = cfg
    for part in path.split("."):
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, int | float) or not np.isfinite(node):
        raise DetectorError(f"detector.{path}: expected a number, got {node!r}")
    if node < 0 or (node == 0 and not zero_ok):
        raise DetectorError(f"detector.{path}: must be {'>= 0' if zero_ok else '> 0'}, got {node}")
    return float(node)


@dataclass(frozen=True)
class DetectorResponse:
    """The checked ``detector`` configuration (``config``: every key, defaults filled)."""

    config: dict[str, Any]

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> DetectorResponse:
        """Check ``cfg`` (the ``detector`` block); raises :class:`DetectorError`."""
        full = _merge(DEFAULTS, dict(cfg or {}), "detector")
        for path in (
            "radius_cm",
            "density_g_cm3",
            "pe_per_kev",
            "nonlinearity.e0_kev",
            "nonlinearity.power",
            "nonlinearity.reference_kev",
            "rpe_sigma_cm_at_5kev",
            "rpe_radial_scale",
            "rtiming_sigma_cm_at_5kev",
            "surface_depth_cm",
            "misreco.depth_cm",
            "misreco.dead_pmt_range_cm",
            "misreco.rtiming_sigma_cm_at_5kev",
            "cherenkov_mean_pe",
            "afterpulse_mean_pe",
            "timing_tag.power",
        ):
            _positive(full, path)
        for path in (
            "threshold_kev",
            "trigger_min_pe",
            "resolution_constant",
            "misreco.probability_at_5kev",
            "misreco.energy_power",
            "misreco.dead_pmt_boost",
            "misreco.angular_sigma_cm",
            "timing_tag.npe_half",
            "od_accidental_probability",
            "afterpulse_accidental_probability",
        ):
            _positive(full, path, zero_ok=True)
        for path in ("od_accidental_probability", "afterpulse_accidental_probability"):
            if full[path] > 1:
                raise DetectorError(f"detector.{path}: a probability must be <= 1")
        n = full["n_pmts"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise DetectorError(f"detector.n_pmts: expected an integer >= 1, got {n!r}")
        try:
            dead_pmt_directions(n, full["dead_pmts"])
        except (GeometryError, TypeError, ValueError) as err:
            msg = str(err)
            if not msg.startswith("detector."):
                msg = f"detector.dead_pmts: {msg}"
            raise DetectorError(msg) from None
        return cls(full)

    def varied(self, scale: Mapping[str, float], shift_sigma: float) -> DetectorResponse:
        """A copy with ``key -> value * (1 + shift_sigma * relative)`` for dotted keys."""
        cfg = copy.deepcopy(self.config)
        for path, rel in scale.items():
            node = cfg
            parts = path.split(".")
            for part in parts[:-1]:
                if not isinstance(node.get(part), dict):
                    raise DetectorError(f"detector.{path}: no such parameter to vary")
                node = node[part]
            if parts[-1] not in node or isinstance(node[parts[-1]], dict | list | bool):
                raise DetectorError(f"detector.{path}: no such numeric parameter to vary")
            node[parts[-1]] = float(node[parts[-1]]) * (1.0 + shift_sigma * float(rel))
        return DetectorResponse.from_config(cfg)

    # ----------------------------------------------------------------- physics

    @property
    def radius_cm(self) -> float:
        return float(self.config["radius_cm"])

    @property
    def active_mass_kg(self) -> float:
        return fiducial_mass_kg(self.radius_cm, float(self.config["density_g_cm3"]))

    def relative_light_yield(self, energy_kev: np.ndarray) -> np.ndarray:
        """Light per keV relative to the reference energy (1 there), zero-field electrons."""
        nl = self.config["nonlinearity"]
        e = np.maximum(np.asarray(energy_kev, dtype=np.float64), 1e-6)

        def raw(x: np.ndarray | float) -> np.ndarray:
            return 1.0 / (1.0 + (nl["e0_kev"] / x) ** nl["power"])

        return raw(e) / raw(float(nl["reference_kev"]))

    def visible_energy_kev(self, energy_kev: np.ndarray) -> np.ndarray:
        """Mean visible energy npe / pe_per_kev of a single deposit (0 below threshold)."""
        e = np.asarray(energy_kev, dtype=np.float64)
        vis = e * self.relative_light_yield(e)
        return np.where(e >= self.config["threshold_kev"], vis, 0.0)

    # ----------------------------------------------------------------- kernel arrays

    def kernel_parameters(self) -> np.ndarray:
        """The ``det`` array of :func:`exonu.sim.kernels.generate_events`."""
        c = self.config
        nl, mis, tag = c["nonlinearity"], c["misreco"], c["timing_tag"]
        p = np.zeros(K.N_DET_PARAMS)
        p[K.P_RADIUS] = c["radius_cm"]
        p[K.P_THRESHOLD] = c["threshold_kev"]
        p[K.P_TRIGGER_PE] = c["trigger_min_pe"]
        p[K.P_PE_PER_KEV] = c["pe_per_kev"]
        p[K.P_NL_E0] = nl["e0_kev"]
        p[K.P_NL_POWER] = nl["power"]
        p[K.P_NL_NORM] = 1.0 + (nl["e0_kev"] / nl["reference_kev"]) ** nl["power"]
        p[K.P_RES_CONST] = c["resolution_constant"]
        p[K.P_RPE_SIGMA5] = c["rpe_sigma_cm_at_5kev"]
        p[K.P_RPE_SCALE] = c["rpe_radial_scale"]
        p[K.P_RT_SIGMA5] = c["rtiming_sigma_cm_at_5kev"]
        p[K.P_MIS_P5] = mis["probability_at_5kev"]
        p[K.P_MIS_POWER] = mis["energy_power"]
        p[K.P_MIS_DEPTH] = mis["depth_cm"]
        p[K.P_DEAD_BOOST] = mis["dead_pmt_boost"]
        p[K.P_DEAD_RANGE] = mis["dead_pmt_range_cm"]
        p[K.P_MIS_RT_SIGMA5] = mis["rtiming_sigma_cm_at_5kev"]
        p[K.P_MIS_ANGLE] = mis["angular_sigma_cm"]
        p[K.P_TAG_NPE] = tag["npe_half"]
        p[K.P_TAG_POWER] = tag["power"]
        p[K.P_CK_MEAN_PE] = c["cherenkov_mean_pe"]
        p[K.P_AP_MEAN_PE] = c["afterpulse_mean_pe"]
        return p

    def light_yield_table(self) -> tuple[np.ndarray, float]:
        """Relative light yield every :data:`LY_STEP_KEV` keV (``ly_tab``, ``ly_step``)."""
        e = np.arange(0.0, LY_MAX_KEV + 0.5 * LY_STEP_KEV, LY_STEP_KEV)
        return self.relative_light_yield(e), LY_STEP_KEV

    def npe_table(self) -> np.ndarray:
        """Per-photoelectron-count factors (columns ``T_*`` of :mod:`exonu.detector.layout`)."""
        c = self.config
        npe = np.arange(NPE_TABLE_SIZE, dtype=np.float64)
        e_vis = np.maximum(npe / c["pe_per_kev"], 0.5)
        # one row per count (the three factors of an event share a cache line)
        out = np.zeros((NPE_TABLE_SIZE, K.N_NPE_ROWS))
        out[:, K.T_SCALE] = np.sqrt(5.0 / e_vis)
        mis = c["misreco"]
        out[:, K.T_MIS] = mis["probability_at_5kev"] * (5.0 / e_vis) ** mis["energy_power"]
        half = c["timing_tag"]["npe_half"]
        if half > 0:
            out[:, K.T_TAG] = 1.0 / (1.0 + (npe / half) ** c["timing_tag"]["power"])
        return out

    def dead_pmt_directions(self) -> np.ndarray:
        """Unit vectors of the dead PMTs (the same as the selection uses)."""
        return np.ascontiguousarray(
            dead_pmt_directions(int(self.config["n_pmts"]), self.config["dead_pmts"])
        )
