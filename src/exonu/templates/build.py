"""From selected histograms to the binned model: background templates, systematics, workspace.

Notation of XMASS-I (PLB 809 (2020) 135741, eqs. 3-7): B_ij expected events of
background component j in bin i, sigma(Bsys)_ijk its systematic shift k,
S(T, E_rec) the signal response, sigma(Ssys)_il the signal systematic shift l.

* Background templates (eq. 5): B_ij = activity_j x data live time x
  selected_ij / generated_j, with the Monte-Carlo statistical variance
  B_ij^2 / selected_ij = w_j^2 selected_ij per bin (w_j = activity x live time /
  generated). The dead-PMT correction (:mod:`exonu.templates.dead_pmt`)
  multiplies B_ij below 40 keV.
* Background systematics sigma(Bsys)_ijk (eq. 5), absolute 1-sigma shifts of B_ij:
  from the selection-time variants of the same events (energy scale, fiducial
  volume; per bin, :func:`exonu.detector.folding.one_sigma_shift`) and from variation
  samples (optical, decay time, ...; independent Monte Carlo, so the ratio to the
  nominal sample is taken in coarse energy regions to keep its statistical noise out,
  :func:`exonu.templates.systematics.regional_relative_shift`).
* Signal response (eq. 3) and its folding with a physics rate:
  :mod:`exonu.detector.folding`; the response from the signal Monte Carlo, signal
  systematics (eq. 6) and the workspace entry of a signal: :mod:`exonu.templates.signals`.
* The workspace document (:func:`assemble_workspace`) joins the data, the background
  model and the signal entries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from exonu.detector.folding import one_sigma_shift
from exonu.errors import TemplateError
from exonu.selection.run import SelectionResult
from exonu.templates.dead_pmt import DeadPmtCorrection
from exonu.templates.systematics import (
    SELECTION_SYSTEMATICS,
    bin_regions,
    group_variations,
    regional_relative_shift,
)

# --------------------------------------------------------------------------- backgrounds


@dataclass(frozen=True)
class BackgroundTemplate:
    """Expected counts of one background component (XMASS eq. 5, B_ij at p_j = 1)."""

    name: str
    expected: np.ndarray
    mc_variance: np.ndarray
    n_selected: int
    n_generated: int
    weight: float = 0.0


def _weight(result: SelectionResult, data_livetime_s: float) -> float:
    if result.n_generated <= 0:
        raise TemplateError(f"sample {result.sample!r}: n_generated is {result.n_generated}")
    return result.activity_bq * data_livetime_s / result.n_generated


def background_template(result: SelectionResult, data_livetime_s: float) -> BackgroundTemplate:
    """Expected counts per bin and MC variance of one background component."""
    if result.kind != "background":
        raise TemplateError(f"sample {result.sample!r} is {result.kind}, expected background")
    weight = _weight(result, data_livetime_s)
    counts = result.energy.astype(np.float64)
    return BackgroundTemplate(
        name=result.sample,
        expected=weight * counts,
        mc_variance=weight**2 * counts,
        n_selected=int(counts.sum()),
        n_generated=result.n_generated,
        weight=weight,
    )


def selection_systematic_shifts(result: SelectionResult, weight: float) -> dict[str, np.ndarray]:
    """sigma(Bsys)_ij of the selection-time variants present in ``result`` (per bin)."""
    out = {}
    nominal = weight * result.energy.astype(float)
    for name, (up, down) in SELECTION_SYSTEMATICS.items():
        if up in result.variant_names and down in result.variant_names:
            out[name] = one_sigma_shift(
                nominal,
                [
                    (1.0, weight * result.variant_energy(up).astype(float)),
                    (-1.0, weight * result.variant_energy(down).astype(float)),
                ],
            )
    return out


def variation_shifts(
    nominal: SelectionResult,
    variations: Mapping[str, Sequence[SelectionResult]],
    data_livetime_s: float,
    regions: np.ndarray,
) -> dict[str, np.ndarray]:
    """sigma(Bsys)_ij of one component from its variation samples, per source."""
    w_nom = _weight(nominal, data_livetime_s)
    expected = w_nom * nominal.energy.astype(float)
    out = {}
    for source, samples in variations.items():
        shifted = []
        for v in samples:
            if not np.array_equal(v.energy_edges, nominal.energy_edges):
                raise TemplateError(
                    f"variation {v.sample!r}: binning differs from {nominal.sample!r}"
                )
            if v.n_generated <= 0:
                raise TemplateError(f"variation {v.sample!r}: n_generated is {v.n_generated}")
            w = (v.activity_bq or nominal.activity_bq) * data_livetime_s / v.n_generated
            shifted.append((float(v.extra["shift_sigma"]), w * v.energy.astype(float)))
        out[source] = expected * regional_relative_shift(expected, shifted, regions)
    return out


def build_background_model(
    data: SelectionResult,
    backgrounds: Sequence[SelectionResult],
    variations: Sequence[SelectionResult],
    relative_uncertainty: Mapping[str, float | None],
    systematic_regions_kev: Sequence[float],
    dead_pmt: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The background model: corrected templates, constraints and systematic shifts.

    Parameters
    ----------
    data : merged data selection (live time, binning).
    backgrounds : merged selections of every background component.
    variations : merged selections of variation samples; those whose nominal
        sample is not a background here are ignored (signal variations).
    relative_uncertainty : sigma(B_RI)_j per component (XMASS eq. 7), None = free.
    systematic_regions_kev : coarse regions for variation-sample ratios.
    dead_pmt : the dead-PMT correction document
        (:meth:`exonu.templates.dead_pmt.DeadPmtCorrection.to_dict`) or None.

    Returns
    -------
    JSON-ready document: ``edges_kev``, ``livetime_s``, ``components`` (name,
    expected, mc_variance, relative_uncertainty, expected_uncorrected, weight,
    n_selected, n_generated), ``systematics`` ([{name, shifts: {component: ...}}])
    and ``dead_pmt_correction``.
    """
    if data.kind != "data":
        raise TemplateError(f"sample {data.sample!r} is {data.kind}, expected data")
    edges = data.energy_edges
    regions = bin_regions(
        edges, np.asarray(systematic_regions_kev), "binning.systematic_regions_kev"
    )
    names = [b.sample for b in backgrounds]
    if len(set(names)) != len(names):
        raise TemplateError(f"background samples are not unique: {names}")
    missing = [n for n in names if n not in relative_uncertainty]
    if missing:
        raise TemplateError(f"backgrounds.relative_uncertainty: no entry for {missing[0]!r}")
    by_nominal = group_variations(variations)
    factor = np.ones(len(edges) - 1)
    corr = None
    if dead_pmt is not None:
        corr = DeadPmtCorrection.from_dict(dead_pmt)
        factor = corr.factor_per_bin(edges)
    components = []
    shifts: dict[str, dict[str, np.ndarray]] = {}
    for res in backgrounds:
        if not np.array_equal(res.energy_edges, edges):
            raise TemplateError(f"sample {res.sample!r}: energy binning differs from the data")
        t = background_template(res, data.livetime_s)
        comp_shifts = selection_systematic_shifts(res, t.weight)
        comp_shifts.update(
            variation_shifts(res, by_nominal.get(res.sample, {}), data.livetime_s, regions)
        )
        for source, s in comp_shifts.items():
            shifts.setdefault(source, {})[res.sample] = s * factor
        if corr is not None:
            for source, s in corr.systematic_shifts(edges, t.expected).items():
                shifts.setdefault(source, {})[res.sample] = s
        components.append(
            {
                "name": res.sample,
                "expected": (t.expected * factor).tolist(),
                "mc_variance": (t.mc_variance * factor**2).tolist(),
                "expected_uncorrected": t.expected.tolist(),
                "relative_uncertainty": relative_uncertainty[res.sample],
                "weight": t.weight,
                "n_selected": t.n_selected,
                "n_generated": t.n_generated,
            }
        )
    return {
        "edges_kev": edges.tolist(),
        "livetime_s": data.livetime_s,
        "components": components,
        "systematics": [
            {"name": name, "shifts": {c: v.tolist() for c, v in shifts[name].items()}}
            for name in _systematics_order(shifts, corr)
        ],
        "dead_pmt_correction": None if corr is None else corr.to_dict(),
        "systematic_regions_kev": [float(v) for v in systematic_regions_kev],
    }


def _systematics_order(shifts: Mapping[str, Any], corr: Any) -> list[str]:
    """Selection-time sources, then variation sources (sorted), then dead-PMT regions."""
    dead = list(corr.region_names) if corr is not None else []
    first = [n for n in SELECTION_SYSTEMATICS if n in shifts]
    rest = sorted(n for n in shifts if n not in first and n not in dead)
    return [*first, *rest, *[n for n in dead if n in shifts]]


# --------------------------------------------------------------------------- workspace


def assemble_workspace(
    analysis: str,
    data: SelectionResult,
    backgrounds: Sequence[BackgroundTemplate] | Mapping[str, Any],
    relative_uncertainty: Mapping[str, float | None] | None,
    signals: Sequence[Mapping[str, Any]],
    fiducial_mass_kg: float,
    background_systematics: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The workspace document (validated by :mod:`exonu.stats.workspace`).

    ``backgrounds`` is either the background-model document of
    :func:`build_background_model` (which carries constraints and systematics;
    ``relative_uncertainty`` is then ignored) or a list of templates.
    """
    if data.kind != "data":
        raise TemplateError(f"sample {data.sample!r} is {data.kind}, expected data")
    if isinstance(backgrounds, Mapping):
        if not np.allclose(backgrounds["edges_kev"], data.energy_edges):
            raise TemplateError("background model and data have different energy binning")
        comps = [
            {k: c[k] for k in ("name", "expected", "mc_variance", "relative_uncertainty")}
            for c in backgrounds["components"]
        ]
        systs = [dict(s) for s in backgrounds["systematics"]]
        meta = {"dead_pmt_correction": backgrounds.get("dead_pmt_correction")}
    else:
        rel = relative_uncertainty or {}
        comps = [
            {
                "name": b.name,
                "expected": b.expected.tolist(),
                "mc_variance": b.mc_variance.tolist(),
                "relative_uncertainty": rel.get(b.name),
            }
            for b in backgrounds
        ]
        systs = [dict(s) for s in background_systematics]
        meta = {}
    doc = {
        "schema": "exonu-workspace",
        "version": "1.0.0",
        "analysis": analysis,
        "binning": {"edges_kev": data.energy_edges.tolist()},
        "observed": data.energy.astype(int).tolist(),
        "exposure": {"livetime_s": data.livetime_s, "fiducial_mass_kg": fiducial_mass_kg},
        "backgrounds": comps,
        "background_systematics": systs,
        "signals": list(signals),
    }
    if meta.get("dead_pmt_correction"):
        doc["metadata"] = meta
    return doc


__all__ = [
    "BackgroundTemplate",
    "assemble_workspace",
    "background_template",
    "build_background_model",
    "selection_systematic_shifts",
    "variation_shifts",
]
