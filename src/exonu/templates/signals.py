"""Signal templates: the response from the signal Monte Carlo, folded signals, workspace entries.

Notation of XMASS-I (PLB 809 (2020) 135741, eqs. 3 and 6). The response S(T, E_rec)
(:class:`exonu.detector.folding.Response`) is built from the merged selection of the
flat signal Monte Carlo with the shifted responses of every systematic source
(:func:`response_from_signal_mc`). Signal systematics (eq. 6) are relative shifts
delta_il = sigma(Ssys)_il / S_i of the folded spectrum (:func:`signal_systematics`);
:func:`signal_workspace_entry` makes the workspace entry of one hypothesis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from exonu.detector.folding import (
    Response,
    ResponseSystematic,
    fold_polynomial,
    one_sigma_shift,
    true_counts,
)
from exonu.errors import TemplateError
from exonu.selection.run import SelectionResult
from exonu.templates.systematics import (
    SELECTION_SYSTEMATICS,
    bin_regions,
    group_variations,
    regional_relative_shift,
)


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
    counts = true_counts(response, coefficients, active_mass_kg, livetime_s)
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


__all__ = [
    "response_from_signal_mc",
    "signal_systematics",
    "signal_workspace_entry",
]
