"""Signal hypotheses of the limit scans: which (model, flavour, mediator mass) to fit.

A scan (config ``scans.<name>``) expands into an ordered list of :class:`Hypothesis`. Each
hypothesis is computed on its own: physics spectrum on the true-energy bins
(:func:`hypothesis_spectrum`) -> folded with the detector response -> one signal in the
workspace (:func:`hypothesis_workspace`) -> fit and limit (:mod:`exonu.stages.scans`).

The response file is the common interface of the two modes (:func:`load_response`): the
signal Monte Carlo's S(T, E_rec) in events mode, efficiency x resolution (``response.json``)
in the external-release mode (XMASS-I eq. 3).

A hypothesis that is a configured signal under another name and scale (:func:`same_signal`)
is not fitted again: its limit is the one of ``fits/<signal>.json`` (:func:`fitted_signals`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from exonu.detector.folding import Response, bin_average, fold_polynomial
from exonu.detector.folding import read_response as read_mc_response
from exonu.physics import MODELS, PhysicsSettings, signal_basis, standard_model_rate
from exonu.templates.signals import signal_workspace_entry

__all__ = [
    "PHYSICS_OVERRIDES",
    "Hypothesis",
    "ResponseFile",
    "ScanError",
    "auto_scale",
    "fitted_signals",
    "hypotheses",
    "hypothesis_spectrum",
    "hypothesis_spectrum_by_source",
    "hypothesis_workspace",
    "load_response",
    "load_scan_response",
    "mass_grid",
    "same_signal",
    "signal_physics",
]

#: Keys of a ``signals`` or ``scans`` entry that override the ``physics`` block for that
#: signal alone (e.g. XMASS-I: the equivalent-photon response for the millicharge, the stepping
#: approximation for μ_ν and B−L; Khan's oscillated composition for per-flavour limits).
PHYSICS_OVERRIDES = ("atomic_model", "flavour_composition")


class ScanError(ValueError):
    """Bad scan configuration or inputs; the message names the key or file."""


@dataclass(frozen=True)
class Hypothesis:
    """One signal hypothesis of a scan."""

    scan: str
    model: str
    flavour: str
    mediator_mass_mev: float | None
    treatment: str | None
    scale: float | str  # "auto": chosen from the expected signal (see :func:`auto_scale`)
    fit_window_kev: tuple[float, float]
    free_backgrounds: tuple[str, ...]
    #: per-scan overrides of the ``physics`` block (:data:`PHYSICS_OVERRIDES`); None = inherit
    atomic_model: str | None = None
    flavour_composition: str | None = None

    @property
    def name(self) -> str:
        """``<model>[_<flavour>][_m<mass>]``: the limit file name (no suffix)."""
        parts = [self.scan]
        if self.flavour != "all":
            parts.append(self.flavour)
        if self.mediator_mass_mev is not None:
            parts.append(f"m{self.mediator_mass_mev:.4g}MeV".replace("+", ""))
        return "_".join(parts)

    def spec(self) -> dict[str, Any]:
        """The config-style signal entry (as in ``signals:``)."""
        out: dict[str, Any] = {
            "name": self.name,
            "model": self.model,
            "flavour": self.flavour,
            "scale": self.scale,
            "fit_window_kev": list(self.fit_window_kev),
            "free_backgrounds": list(self.free_backgrounds),
        }
        if self.mediator_mass_mev is not None:
            out["mediator_mass_mev"] = self.mediator_mass_mev
        if self.treatment is not None:
            out["treatment"] = self.treatment
        for key in PHYSICS_OVERRIDES:
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


def mass_grid(spec: Mapping[str, Any] | Sequence[float] | None) -> list[float | None]:
    """Mediator masses (MeV) from a list or ``{log10_min, log10_max, n}``."""
    if spec is None:
        return [None]
    if isinstance(spec, Mapping):
        lo, hi, n = float(spec["log10_min"]), float(spec["log10_max"]), int(spec["n"])
        return [float(v) for v in np.logspace(lo, hi, n)]
    return [float(v) for v in spec]


def hypotheses(name: str, scan: Mapping[str, Any]) -> list[Hypothesis]:
    """Expand one ``scans.<name>`` entry (flavour-major, then mass)."""
    out = []
    for flavour in scan["flavours"]:
        for mass in mass_grid(scan.get("masses_mev")):
            out.append(
                Hypothesis(
                    scan=name,
                    model=scan["model"],
                    flavour=flavour,
                    mediator_mass_mev=mass,
                    treatment=scan.get("treatment"),
                    scale=scan.get("scale", "auto"),
                    fit_window_kev=(
                        float(scan["fit_window_kev"][0]),
                        float(scan["fit_window_kev"][1]),
                    ),
                    free_backgrounds=tuple(scan.get("free_backgrounds", ())),
                    atomic_model=scan.get("atomic_model"),
                    flavour_composition=scan.get("flavour_composition"),
                )
            )
    names = [h.name for h in out]
    if len(set(names)) != len(names):
        raise ScanError(f"config key 'scans.{name}': hypotheses with identical names {names}")
    return out


# --------------------------------------------------------------------------- physics


def signal_physics(spec: Mapping[str, Any], physics: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``physics`` block with the signal's own overrides (:data:`PHYSICS_OVERRIDES`).

    An ``atomic_model`` other than ``rrpa_table`` drops the block's ``rrpa_table`` path (it
    belongs to the block's model); ``rrpa_table`` without a path in the block is rejected by
    :class:`exonu.physics.PhysicsSettings` with a message naming the key.
    """
    out = dict(physics or {})
    for key in PHYSICS_OVERRIDES:
        if spec.get(key) is not None:
            out[key] = spec[key]
    if spec.get("atomic_model") not in (None, "rrpa_table"):
        out.pop("rrpa_table", None)
    return out


def hypothesis_spectrum(
    spec: Mapping[str, Any], physics: Mapping[str, Any], true_edges: np.ndarray
) -> dict[str, Any]:
    """Coefficient spectra of a signal hypothesis, bin-averaged on ``true_edges``.

    Rates in events/(tonne*year*keV) per unit parameter**power (exonu.physics). The signal's
    ``atomic_model``/``flavour_composition`` override the ``physics`` block
    (:func:`signal_physics`); the recorded ``atomic_model`` is the one used.
    """
    settings = PhysicsSettings.from_mapping(signal_physics(spec, physics))
    kwargs: dict[str, Any] = {"flavour": spec.get("flavour", "all")}
    if spec.get("mediator_mass_mev") is not None:
        kwargs["mediator_mass_mev"] = float(spec["mediator_mass_mev"])
    if spec.get("treatment") is not None:
        kwargs["treatment"] = spec["treatment"]
    # rates vanish below the lowest binding energy; keep T > 0 for the bin averages
    floor = 1e-3

    def coefficients(t: np.ndarray) -> np.ndarray:
        return signal_basis(spec["model"], np.maximum(t, floor), settings, **kwargs).coefficients

    def sm(t: np.ndarray) -> np.ndarray:
        return standard_model_rate(np.maximum(t, floor), settings)

    probe = signal_basis(spec["model"], np.array([10.0]), settings, **kwargs)
    return {
        "name": spec["name"],
        "model": spec["model"],
        "parameter": probe.parameter,
        "unit": probe.unit,
        "flavour": probe.flavour,
        "mediator_mass_mev": probe.mediator_mass_mev,
        "treatment": probe.treatment,
        "atomic_model": settings.atomic_model,
        "flavour_composition": settings.flavour_composition,
        "sign_matters": bool(MODELS[spec["model"]].sign_matters(probe.treatment)),
        "powers": list(probe.powers),
        "true_edges_kev": np.asarray(true_edges).tolist(),
        "coefficients": bin_average(coefficients, np.asarray(true_edges)).tolist(),
        "standard_model": bin_average(sm, np.asarray(true_edges)).tolist(),
        "units": "events/(tonne*year*keV) per unit parameter**power",
    }


def hypothesis_spectrum_by_source(
    spec: Mapping[str, Any], physics: Mapping[str, Any], true_edges: np.ndarray
) -> dict[str, dict[str, Any]]:
    """:func:`hypothesis_spectrum` of each solar source alone, ``{source: spectrum}``.

    The sources are those of the effective physics settings (``sources``, or every source
    of the ``flux_set``). Rates are linear in each flux, so the coefficient and
    ``standard_model`` spectra of the sources add up to those of :func:`hypothesis_spectrum`;
    folded with the response they give the per-source fractions of the flux nuisances
    (:func:`exonu.stats.combined.source_fractions`).
    """
    effective = signal_physics(spec, physics)
    settings = PhysicsSettings.from_mapping(effective)
    return {
        source: hypothesis_spectrum(spec, {**effective, "sources": [source]}, true_edges)
        for source in settings.source_names
    }


# --------------------------------------------------------------------------- same signal


def _treatment(model: str, treatment: str | None) -> str | None:
    """The effective treatment (the model's default for None); an unknown one as given."""
    try:
        return MODELS[model].resolve_treatment(treatment)
    except (KeyError, ValueError):
        return treatment


def _signature(spec: Mapping[str, Any], physics: Mapping[str, Any] | None) -> tuple[Any, ...]:
    """What the limit of a signal entry depends on besides the workspace, the response and the
    ``fit`` block: everything but its name and its parameter unit ``scale``."""
    mass = spec.get("mediator_mass_mev")
    effective = signal_physics(spec, physics)
    return (
        spec["model"],
        spec.get("flavour", "all"),
        None if mass is None else float(mass),
        _treatment(spec["model"], spec.get("treatment")),
        tuple(effective.get(key) for key in PHYSICS_OVERRIDES),
        tuple(float(v) for v in spec["fit_window_kev"]),
        frozenset(spec.get("free_backgrounds", ())),
    )


def same_signal(
    hyp: Hypothesis, signal: Mapping[str, Any], physics: Mapping[str, Any] | None
) -> bool:
    """Whether a scan hypothesis is the configured ``signal`` (a ``signals`` entry): the same
    model, flavour, mediator mass, treatment, atomic model and flavour composition (after the
    ``physics`` block's defaults), fit window and free backgrounds. The name and the parameter
    unit ``scale`` may differ: the limit is quoted in the parameter's own unit."""
    return _signature(hyp.spec(), physics) == _signature(signal, physics)


def fitted_signals(
    name: str,
    scan: Mapping[str, Any],
    signals: Sequence[Mapping[str, Any]],
    physics: Mapping[str, Any] | None,
) -> dict[str, str]:
    """``{hypothesis name: signal name}`` of the hypotheses of scan ``name`` that are a
    configured signal (:func:`same_signal`; the first such signal): the scan takes their limit
    from ``fits/<signal>.json`` instead of fitting them again."""
    out = {}
    for hyp in hypotheses(name, scan):
        match = next((s["name"] for s in signals if same_signal(hyp, s, physics)), None)
        if match is not None:
            out[hyp.name] = match
    return out


# --------------------------------------------------------------------------- response


@dataclass(frozen=True)
class ResponseFile:
    """A response with the exposure it applies to (``response.json``)."""

    response: Response
    target_mass_kg: float
    livetime_s: float
    source: str


def load_response(
    path: str | Path, target_mass_kg: float | None = None, livetime_s: float | None = None
) -> ResponseFile:
    """A response for folding hypotheses, from either mode's response file.

    Events mode: the signal-MC response (``templates/response.root``, with its
    systematic variations) applies to ``target_mass_kg`` (the active mass the
    signal MC fills) and the data live time ``livetime_s``. External mode: a
    ``response.json`` that carries its own exposure (:func:`load_scan_response`).
    """
    path = Path(path)
    if path.suffix == ".root":
        if target_mass_kg is None or livetime_s is None:
            raise ScanError(f"{path}: a Monte-Carlo response needs target mass and live time")
        return ResponseFile(read_mc_response(path), target_mass_kg, livetime_s, str(path))
    return load_scan_response(path)


def load_scan_response(path: str | Path) -> ResponseFile:
    """A ``response.json`` with its exposure (the external mode's response file)."""
    try:
        doc = json.loads(Path(path).read_text())
        response = Response(
            true_edges=np.asarray(doc["true_edges_kev"], dtype=np.float64),
            energy_edges=np.asarray(doc["energy_edges_kev"], dtype=np.float64),
            matrix=np.asarray(doc["matrix"], dtype=np.float64),
            variance=np.asarray(doc["variance"], dtype=np.float64),
        )
        out = ResponseFile(
            response, float(doc["target_mass_kg"]), float(doc["livetime_s"]), str(doc["source"])
        )
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise ScanError(f"{path}: not a valid response file ({err})") from None
    shape = (len(response.true_edges) - 1, len(response.energy_edges) - 1)
    if response.matrix.shape != shape or response.variance.shape != shape:
        raise ScanError(f"{path}: matrix shape {response.matrix.shape}, expected {shape}")
    return out


# --------------------------------------------------------------------------- workspace


def hypothesis_workspace(base: Any, entry: Mapping[str, Any]) -> Any:
    """The base workspace with its signals replaced by one signal entry."""
    # lazy: the workflow imports this module to parse its rules (common.smk), and
    # exonu.stats loads scipy.stats (~2 s)
    from exonu.stats.workspace import Workspace

    doc = base.to_dict()
    doc["signals"] = [dict(entry)]
    return Workspace.from_dict(doc, source=f"{base.source}#{entry['name']}")


def auto_scale(
    spectrum: Mapping[str, Any],
    response: ResponseFile,
    window: Sequence[float],
    target_events: float = 10.0,
) -> float:
    """A round parameter unit: the highest-power term gives ~``target_events`` in the window.

    Keeps the fitted coupling x = θ/scale of order one for every hypothesis of a scan
    (couplings of the B−L scan span 10⁻⁶ … 10⁻², for instance).
    """
    terms, _var = fold_polynomial(
        response.response,
        np.asarray(spectrum["coefficients"]),
        response.target_mass_kg,
        response.livetime_s,
    )
    edges = response.response.energy_edges
    inside = (edges[:-1] >= window[0] - 1e-9) & (edges[1:] <= window[1] + 1e-9)
    power = max(spectrum["powers"])
    k = list(spectrum["powers"]).index(power)
    total = float(np.abs(terms[k][inside]).sum())
    if not total > 0:
        raise ScanError(f"{spectrum['name']}: no expected signal in the fit window {window}")
    raw = (target_events / total) ** (1.0 / power)
    return float(10.0 ** round(math.log10(raw)))


def hypothesis_entry(
    spec: Mapping[str, Any],
    response: Any,
    physics: Mapping[str, Any],
    systematic_regions_kev: Sequence[float] | None = None,
) -> dict[str, Any]:
    """The workspace signal entry of one hypothesis (config-style ``spec``).

    ``spec["scale"] == "auto"`` picks the parameter unit as the limit scans do
    (:func:`exonu.templates.hypotheses.auto_scale`).
    """
    spec = dict(spec)
    spectrum = hypothesis_spectrum(spec, physics, response.response.true_edges)
    if spec.get("scale", "auto") == "auto":
        spec["scale"] = auto_scale(spectrum, response, spec["fit_window_kev"])
    return signal_workspace_entry(
        spec,
        spectrum,
        response.response,
        response.target_mass_kg,
        response.livetime_s,
        systematic_regions_kev,
    )
