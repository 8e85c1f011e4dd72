"""From selected histograms to the binned model: templates, systematics, response, workspace.

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
  volume; per bin, :func:`one_sigma_shift`) and from variation samples (optical,
  decay time, ...; independent Monte Carlo, so the ratio to the nominal sample
  is taken in coarse energy regions to keep its statistical noise out,
  :func:`regional_relative_shift`).
* Signal response (eq. 3): S(T, E_rec) = probability that an event of true
  deposited energy T (flat signal MC) passes all cuts with reconstructed energy
  E_rec, with its Poisson statistical variance; plus the shifted responses of
  every systematic source.
* Signal templates: the response folded with a physics rate dN/dT in
  events/(tonne*year*keV), times active mass and live time. For a rate that is
  a polynomial in the coupling each coefficient spectrum is folded separately,
  and the MC variance of the folded template is itself a polynomial (sum over T
  of var(S) c_p c_q) -- exact for every model. Signal systematics (eq. 6) are
  relative shifts delta_il = sigma(Ssys)_il / S_i of the folded spectrum.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hist
import numpy as np
import uproot

from exonu.selection.run import NOMINAL, SelectionResult

SECONDS_PER_YEAR = 365.25 * 86400.0  # the "t*yr" convention of XENON (REFERENCE.md §0)

#: Selection-time variants that form a systematic: name -> (up variant, down variant).
SELECTION_SYSTEMATICS = {
    "energy_scale": ("energy_scale_up", "energy_scale_down"),
    "fiducial_volume": ("fiducial_volume_up", "fiducial_volume_down"),
}


class TemplateError(ValueError):
    """Inconsistent inputs for a template; the message names the sample or key."""


# --------------------------------------------------------------------------- shifts


def one_sigma_shift(nominal: np.ndarray, shifted: Sequence[tuple[float, np.ndarray]]) -> np.ndarray:
    """Absolute 1-sigma shift from histograms shifted by ``s`` standard deviations.

    With shifts on both sides, the symmetrised slope between the largest up and
    the largest down shift, (h(s+) - h(s-)) / (s+ - s-); with one side only,
    (h(s) - nominal) / s. The sign follows the up direction.
    """
    if not shifted:
        raise TemplateError("no shifted histograms")
    ups = [(s, h) for s, h in shifted if s > 0]
    downs = [(s, h) for s, h in shifted if s < 0]
    if ups and downs:
        su, hu = max(ups, key=lambda p: p[0])
        sd, hd = min(downs, key=lambda p: p[0])
        return (np.asarray(hu, float) - np.asarray(hd, float)) / (su - sd)
    s, h = (ups or downs)[0]
    return (np.asarray(h, float) - np.asarray(nominal, float)) / s


def bin_regions(edges: np.ndarray, region_edges: np.ndarray, key: str) -> np.ndarray:
    """Index of the region holding each bin centre; the regions must cover the bins."""
    edges = np.asarray(edges, float)
    regions = np.asarray(region_edges, float)
    if len(regions) < 2 or np.any(np.diff(regions) <= 0):
        raise TemplateError(f"{key}: need a strictly increasing list of >= 2 edges")
    if regions[0] > edges[0] + 1e-9 or regions[-1] < edges[-1] - 1e-9:
        raise TemplateError(
            f"{key}: regions [{regions[0]:g}, {regions[-1]:g}] keV must cover the energy "
            f"binning [{edges[0]:g}, {edges[-1]:g}] keV"
        )
    centres = 0.5 * (edges[1:] + edges[:-1])
    return np.clip(np.searchsorted(regions, centres, side="right") - 1, 0, len(regions) - 2)


def regional_relative_shift(
    nominal: np.ndarray,
    shifted: Sequence[tuple[float, np.ndarray]],
    regions: np.ndarray,
) -> np.ndarray:
    """Relative 1-sigma shift per bin from ratios of sums over coarse regions.

    For variation samples simulated independently of the nominal sample: the
    ratio shifted / nominal is taken per region (``regions`` maps bins to region
    indices), turned into a 1-sigma slope by :func:`one_sigma_shift` and assigned
    to every bin of the region. Regions without nominal events get no shift.
    """
    n_reg = int(regions.max()) + 1 if len(regions) else 0
    nom = np.bincount(regions, weights=np.asarray(nominal, float), minlength=n_reg)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = [
            (s, np.where(nom > 0, np.bincount(regions, weights=h, minlength=n_reg) / nom, 1.0))
            for s, h in shifted
        ]
    rel = one_sigma_shift(np.ones(n_reg), ratios)
    return np.where(nom > 0, rel, 0.0)[regions]


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


def group_variations(
    variations: Sequence[SelectionResult],
) -> dict[str, dict[str, list[SelectionResult]]]:
    """Variation samples as {nominal sample: {source: [results]}} (metadata ``extra``)."""
    out: dict[str, dict[str, list[SelectionResult]]] = {}
    for v in variations:
        if v.kind != "variation":
            raise TemplateError(f"sample {v.sample!r} is {v.kind}, expected variation")
        try:
            source, nominal = str(v.extra["variation"]), str(v.extra["nominal"])
            float(v.extra["shift_sigma"])
        except (KeyError, TypeError, ValueError):
            raise TemplateError(
                f"variation sample {v.sample!r}: metadata extra lacks variation/nominal/shift_sigma"
            ) from None
        out.setdefault(nominal, {}).setdefault(source, []).append(v)
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
    from exonu.templates.dead_pmt import DeadPmtCorrection

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


# --------------------------------------------------------------------------- response


@dataclass(frozen=True)
class ResponseSystematic:
    """Shifted responses of one systematic source.

    ``per_region``: the shifted responses come from independent Monte Carlo, so
    relative shifts of folded spectra are taken in coarse regions.
    """

    name: str
    shifts: tuple[float, ...]
    matrices: tuple[np.ndarray, ...]
    per_region: bool


@dataclass(frozen=True)
class Response:
    """Detector response S(T, E_rec) from the flat signal Monte Carlo (XMASS eq. 3)."""

    true_edges: np.ndarray
    energy_edges: np.ndarray
    matrix: np.ndarray  # (n_true, n_energy): P(selected with E_rec in bin | T in bin)
    variance: np.ndarray  # (n_true, n_energy)
    systematics: tuple[ResponseSystematic, ...] = field(default=())

    @property
    def efficiency(self) -> np.ndarray:
        """Selection efficiency versus true energy (summed over E_rec)."""
        return self.matrix.sum(axis=1)

    def window_efficiency(
        self, window_kev: Sequence[float]
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Efficiency vs true energy for E_rec in ``window_kev`` (whole bins).

        Returns efficiency, its statistical variance, and the 1-sigma shift of the
        efficiency per systematic source.
        """
        e = self.energy_edges
        lo, hi = (float(v) for v in window_kev)
        cols = (e[:-1] >= lo - 1e-9) & (e[1:] <= hi + 1e-9)
        eff = self.matrix[:, cols].sum(axis=1)
        var = self.variance[:, cols].sum(axis=1)
        sys = {
            s.name: one_sigma_shift(
                eff,
                [(sh, m[:, cols].sum(axis=1)) for sh, m in zip(s.shifts, s.matrices, strict=True)],
            )
            for s in self.systematics
        }
        return eff, var, sys


def _response_probability(
    sample: str,
    true_edges: np.ndarray,
    n_generated: int,
    energy_range_kev: Sequence[float] | None,
    counts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Selected counts / generated events per true bin, and its Poisson variance."""
    if energy_range_kev is None:
        raise TemplateError(f"sample {sample!r}: metadata lacks extra.energy_range_kev")
    lo, hi = (float(v) for v in energy_range_kev)
    t = true_edges
    overlap = np.clip(np.minimum(t[1:], hi) - np.maximum(t[:-1], lo), 0.0, None)
    generated = n_generated * overlap / (hi - lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(generated > 0, 1.0 / generated, 0.0)
    counts = counts.astype(np.float64)
    return counts * inv[:, None], counts * (inv**2)[:, None]


def response_from_signal_mc(
    result: SelectionResult, variations: Sequence[SelectionResult] = ()
) -> Response:
    """Build :class:`Response` from the merged selection of the signal MC.

    The generated events per true bin follow from the flat generated spectrum
    (``extra['energy_range_kev']``) and ``n_generated``, so events that never
    triggered need not be in the files. Systematic sources: the selection-time
    variants of the same events (energy scale, fiducial volume) and the
    ``variations`` whose nominal sample is ``result.sample`` (optical, decay time,
    ...); a variation source named like a selection-time one replaces it.
    """
    if result.kind != "signal":
        raise TemplateError(f"sample {result.sample!r} is {result.kind}, expected signal")
    rng = result.extra.get("energy_range_kev")

    def prob(r: SelectionResult, counts: np.ndarray) -> np.ndarray:
        e_range = r.extra.get("energy_range_kev", rng)
        return _response_probability(r.sample, r.true_edges, r.n_generated, e_range, counts)[0]

    matrix, variance = _response_probability(
        result.sample, result.true_edges, result.n_generated, rng, result.response
    )
    systs: dict[str, ResponseSystematic] = {}
    for name, (up, down) in SELECTION_SYSTEMATICS.items():
        if up in result.variant_names and down in result.variant_names:
            mats = tuple(prob(result, result.variant_response(v)) for v in (up, down))
            systs[name] = ResponseSystematic(name, (1.0, -1.0), mats, per_region=False)
    for source, samples in group_variations(variations).get(result.sample, {}).items():
        mats, shifts = [], []
        for v in samples:
            if not v.has_response or not np.array_equal(v.true_edges, result.true_edges):
                raise TemplateError(f"variation {v.sample!r}: no response on the signal's bins")
            mats.append(prob(v, v.response))
            shifts.append(float(v.extra["shift_sigma"]))
        systs[source] = ResponseSystematic(source, tuple(shifts), tuple(mats), per_region=True)
    return Response(
        true_edges=result.true_edges,
        energy_edges=result.energy_edges,
        matrix=matrix,
        variance=variance,
        systematics=tuple(systs.values()),
    )


def _prob_hist(true_edges: np.ndarray, energy_edges: np.ndarray, value, variance) -> hist.Hist:
    h = hist.Hist(
        hist.axis.Variable(true_edges, name="true_energy", label="true energy [keV]"),
        hist.axis.Variable(energy_edges, name="energy", label="reconstructed energy [keV]"),
        storage=hist.storage.Weight(),
    )
    h.view().value[...] = value
    h.view().variance[...] = variance
    return h


def write_response(response: Response, root_path: str | os.PathLike[str]) -> None:
    """Write the response as ROOT TH2D (value = probability, sumw2 = variance) + JSON.

    Objects ``response`` and ``response__<source>__<k>`` (k-th shifted response of a
    systematic source); the sidecar ``<root>.json`` lists the sources and shifts.
    Written to temporary names and renamed when complete.
    """
    root_path = Path(root_path)
    root_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = root_path.with_name(root_path.name + ".tmp")
    side = root_path.with_suffix(".json")
    side_tmp = side.with_name(side.name + ".tmp")
    t, e = response.true_edges, response.energy_edges
    try:
        with uproot.recreate(tmp) as fout:
            fout["response"] = _prob_hist(t, e, response.matrix, response.variance)
            for s in response.systematics:
                for k, m in enumerate(s.matrices):
                    fout[f"response__{s.name}__{k}"] = _prob_hist(t, e, m, np.zeros_like(m))
        doc = {
            "systematics": [
                {"name": s.name, "shifts": list(s.shifts), "per_region": s.per_region}
                for s in response.systematics
            ],
            "efficiency": response.efficiency.tolist(),
        }
        side_tmp.write_text(json.dumps(doc, indent=1, sort_keys=True))
        os.replace(tmp, root_path)
        os.replace(side_tmp, side)
    finally:
        for p in (tmp, side_tmp):
            if p.exists():
                p.unlink()


def read_response(root_path: str | os.PathLike[str]) -> Response:
    """Read what :func:`write_response` wrote."""
    root_path = Path(root_path)
    try:
        doc = json.loads(root_path.with_suffix(".json").read_text())
        with uproot.open(root_path) as fin:
            nominal = fin["response"].to_hist()
            systs = []
            for s in doc["systematics"]:
                mats = tuple(
                    fin[f"response__{s['name']}__{k}"].to_hist().values()
                    for k in range(len(s["shifts"]))
                )
                systs.append(
                    ResponseSystematic(s["name"], tuple(s["shifts"]), mats, bool(s["per_region"]))
                )
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise TemplateError(f"{root_path}: cannot read response ({err})") from None
    return Response(
        true_edges=nominal.axes[0].edges,
        energy_edges=nominal.axes[1].edges,
        matrix=nominal.values(),
        variance=nominal.variances(),
        systematics=tuple(systs),
    )


# --------------------------------------------------------------------------- signals


def exposure_factor(true_edges: np.ndarray, active_mass_kg: float, livetime_s: float) -> np.ndarray:
    """Events per true bin per unit rate [events/(tonne*year*keV)] in the active volume."""
    return np.diff(true_edges) * (active_mass_kg / 1000.0) * (livetime_s / SECONDS_PER_YEAR)


def bin_average(func: Any, edges: np.ndarray, n_sub: int = 8) -> np.ndarray:
    """Average of ``func(energies) -> array (..., n)`` over each bin (midpoint rule).

    Returns shape ``(..., n_bins)``.
    """
    frac = (np.arange(n_sub) + 0.5) / n_sub
    grid = (edges[:-1, None] + np.diff(edges)[:, None] * frac[None, :]).ravel()
    values = np.asarray(func(grid))
    return values.reshape(*values.shape[:-1], len(edges) - 1, n_sub).mean(axis=-1)


def fold_polynomial(
    response: Response,
    coefficients: np.ndarray,
    active_mass_kg: float,
    livetime_s: float,
) -> tuple[np.ndarray, dict[tuple[int, int], np.ndarray]]:
    """Fold coefficient spectra through the response (XMASS eq. 3).

    Parameters
    ----------
    coefficients : (n_terms, n_true) bin-averaged rates per unit coupling^power,
        events/(tonne*year*keV).

    Returns
    -------
    terms : (n_terms, n_energy) expected counts per reconstructed bin.
    variance : {(a, b): (n_energy,)} MC variance contributions of the term pair
        (a, b), a <= b (cross terms doubled); the caller maps indices to powers.
    """
    counts = _true_counts(response, coefficients, active_mass_kg, livetime_s)
    terms = counts @ response.matrix
    variance: dict[tuple[int, int], np.ndarray] = {}
    for a in range(len(counts)):
        for b in range(a, len(counts)):
            v = (counts[a] * counts[b]) @ response.variance
            variance[(a, b)] = v if a == b else 2.0 * v
    return terms, variance


def _true_counts(
    response: Response, coefficients: np.ndarray, active_mass_kg: float, livetime_s: float
) -> np.ndarray:
    coefficients = np.atleast_2d(np.asarray(coefficients, dtype=np.float64))
    if coefficients.shape[1] != response.matrix.shape[0]:
        raise TemplateError(
            f"coefficient spectra have {coefficients.shape[1]} true bins, response has "
            f"{response.matrix.shape[0]}"
        )
    return coefficients * exposure_factor(response.true_edges, active_mass_kg, livetime_s)


def signal_systematics(
    response: Response,
    coefficients: np.ndarray,
    active_mass_kg: float,
    livetime_s: float,
    systematic_regions_kev: Sequence[float] | None = None,
) -> list[dict[str, Any]]:
    """Relative shifts delta_il = sigma(Ssys)_il / S_i of a folded signal (XMASS eq. 6).

    For a polynomial signal the shift of each term is weighted by the term's
    magnitude: delta_i = sum_p sign(T_pi) dT_pi / sum_p |T_pi| -- the exact relative
    shift when all terms have the same sign, and bounded when an interference
    term changes sign. Sources from independent Monte Carlo (``per_region``) are
    evaluated on the coarse ``systematic_regions_kev``.
    """
    counts = _true_counts(response, coefficients, active_mass_kg, livetime_s)
    nominal = counts @ response.matrix
    sign = np.sign(nominal)
    denom = np.abs(nominal).sum(axis=0)
    regions = None
    out = []
    for s in response.systematics:
        shifted = [(sh, counts @ m) for sh, m in zip(s.shifts, s.matrices, strict=True)]
        if s.per_region:
            if regions is None:
                if systematic_regions_kev is None:
                    raise TemplateError(f"signal systematic {s.name!r} needs systematic regions")
                regions = bin_regions(
                    response.energy_edges,
                    np.asarray(systematic_regions_kev),
                    "binning.systematic_regions_kev",
                )
            # per term: relative shift in regions, times the term itself
            d = np.array(
                [
                    nominal[p]
                    * regional_relative_shift(
                        nominal[p], [(sh, t[p]) for sh, t in shifted], regions
                    )
                    for p in range(len(nominal))
                ]
            )
        else:
            d = one_sigma_shift(nominal, shifted)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(denom > 0, (sign * d).sum(axis=0) / denom, 0.0)
        out.append({"name": s.name, "relative_shifts": rel.tolist()})
    return out


def signal_workspace_entry(
    spec: Mapping[str, Any],
    spectrum: Mapping[str, Any],
    response: Response,
    active_mass_kg: float,
    livetime_s: float,
    systematic_regions_kev: Sequence[float] | None = None,
) -> dict[str, Any]:
    """The workspace ``signals[]`` entry of one hypothesis.

    ``spec`` is the config entry of the signal; ``spectrum`` the output of the
    signal stage (coefficients per power on the response's true bins).
    """
    powers = [int(p) for p in spectrum["powers"]]
    coeff = np.asarray(spectrum["coefficients"], dtype=np.float64)
    if not np.allclose(spectrum["true_edges_kev"], response.true_edges):
        raise TemplateError(f"signal {spec['name']!r}: spectrum and response true bins differ")
    terms, var = fold_polynomial(response, coeff, active_mass_kg, livetime_s)
    scale = float(spec["scale"])
    variance_terms: dict[int, np.ndarray] = {}
    for (a, b), v in var.items():
        p = powers[a] + powers[b]
        variance_terms[p] = variance_terms.get(p, 0.0) + v * scale**p
    sign_matters = bool(spectrum.get("sign_matters", False))
    return {
        "name": spec["name"],
        "model": spectrum["model"],
        "flavour": spectrum["flavour"],
        "parameter": spectrum["parameter"],
        "unit": spectrum["unit"],
        "mediator_mass_mev": spectrum.get("mediator_mass_mev"),
        "treatment": spectrum.get("treatment"),
        "atomic_model": spectrum.get("atomic_model"),
        "scale": scale,
        "x_bounds": [None, None] if sign_matters else [0.0, None],
        "terms": [
            {"power": p, "expected": (terms[k] * scale**p).tolist()} for k, p in enumerate(powers)
        ],
        "variance_terms": [
            {"power": p, "values": v.tolist()} for p, v in sorted(variance_terms.items())
        ],
        "systematics": signal_systematics(
            response, coeff, active_mass_kg, livetime_s, systematic_regions_kev
        ),
        "fit_window_kev": [float(v) for v in spec["fit_window_kev"]],
        "free_backgrounds": list(spec["free_backgrounds"]),
    }


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
    "NOMINAL",
    "SECONDS_PER_YEAR",
    "BackgroundTemplate",
    "Response",
    "ResponseSystematic",
    "TemplateError",
    "assemble_workspace",
    "background_template",
    "bin_average",
    "build_background_model",
    "exposure_factor",
    "fold_polynomial",
    "one_sigma_shift",
    "read_response",
    "response_from_signal_mc",
    "signal_systematics",
    "signal_workspace_entry",
    "write_response",
]
