"""From selected histograms to the binned model: templates, response, workspace.

* Background templates (XMASS-I, PLB 809 (2020) 135741, eq. 5): expected events
  per bin of component j = activity x data live time x selected / generated,
  with the Monte-Carlo statistical variance expected^2 / selected per bin.
* Signal response (XMASS eq. 3): S(T, E_rec) = probability that an event of
  true deposited energy T (uniform signal MC) passes all cuts with reconstructed
  energy E_rec; with its binomial-free (Poisson) statistical variance.
* Signal templates: the response folded with a physics rate dN/dT in
  events/(tonne*year*keV), times active mass and live time. For a rate that is
  a polynomial in the coupling, each coefficient spectrum is folded separately,
  and the MC variance of the folded template is itself a polynomial
  (sum over T of var(S) c_p c_q) -- exact for every model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from exonu.selection.run import SelectionResult

SECONDS_PER_YEAR = 365.25 * 86400.0  # the "t*yr" convention of XENON (REFERENCE.md §0)


class TemplateError(ValueError):
    """Inconsistent inputs for a template; the message names the sample."""


@dataclass(frozen=True)
class BackgroundTemplate:
    name: str
    expected: np.ndarray
    mc_variance: np.ndarray
    n_selected: int
    n_generated: int


def background_template(result: SelectionResult, data_livetime_s: float) -> BackgroundTemplate:
    """Expected counts per bin and MC variance of one background component."""
    if result.kind != "background":
        raise TemplateError(f"sample {result.sample!r} is {result.kind}, expected background")
    if result.n_generated <= 0:
        raise TemplateError(f"sample {result.sample!r}: n_generated is {result.n_generated}")
    weight = result.activity_bq * data_livetime_s / result.n_generated
    counts = result.energy.astype(np.float64)
    return BackgroundTemplate(
        name=result.sample,
        expected=weight * counts,
        mc_variance=weight**2 * counts,
        n_selected=int(counts.sum()),
        n_generated=result.n_generated,
    )


@dataclass(frozen=True)
class Response:
    """Detector response S(T, E_rec) from the flat signal Monte Carlo."""

    true_edges: np.ndarray
    energy_edges: np.ndarray
    matrix: np.ndarray  # (n_true, n_energy): P(selected with E_rec in bin | T in bin)
    variance: np.ndarray  # (n_true, n_energy)

    @property
    def efficiency(self) -> np.ndarray:
        """Selection efficiency versus true energy (summed over E_rec)."""
        return self.matrix.sum(axis=1)


def response_from_signal_mc(result: SelectionResult) -> Response:
    """Build :class:`Response` from the merged selection of the signal MC.

    The generated events per true bin follow from the flat generated spectrum
    (``extra['energy_range_kev']``) and ``n_generated``, so events that never
    triggered need not be in the files.
    """
    if result.kind != "signal":
        raise TemplateError(f"sample {result.sample!r} is {result.kind}, expected signal")
    lo, hi = result.extra.get("energy_range_kev", (None, None))
    if lo is None:
        raise TemplateError(f"sample {result.sample!r}: metadata lacks extra.energy_range_kev")
    t = result.true_edges
    overlap = np.clip(np.minimum(t[1:], hi) - np.maximum(t[:-1], lo), 0.0, None)
    generated = result.n_generated * overlap / (hi - lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(generated > 0, 1.0 / generated, 0.0)
    counts = result.response.astype(np.float64)
    return Response(
        true_edges=t,
        energy_edges=result.energy_edges,
        matrix=counts * inv[:, None],
        variance=counts * (inv**2)[:, None],
    )


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
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Fold coefficient spectra through the response.

    Parameters
    ----------
    coefficients : (n_terms, n_true) bin-averaged rates per unit coupling^power,
        events/(tonne*year*keV).

    Returns
    -------
    terms : (n_terms, n_energy) expected counts per reconstructed bin.
    variance : {power_index_sum: (n_energy,)} MC variance polynomial in the
        term indices, i.e. key (a + b) for terms a, b; the caller maps indices to
        powers.
    """
    coefficients = np.atleast_2d(np.asarray(coefficients, dtype=np.float64))
    if coefficients.shape[1] != response.matrix.shape[0]:
        raise TemplateError(
            f"coefficient spectra have {coefficients.shape[1]} true bins, response has "
            f"{response.matrix.shape[0]}"
        )
    counts = coefficients * exposure_factor(response.true_edges, active_mass_kg, livetime_s)
    terms = counts @ response.matrix
    variance: dict[tuple[int, int], np.ndarray] = {}
    for a in range(len(counts)):
        for b in range(a, len(counts)):
            v = (counts[a] * counts[b]) @ response.variance
            variance[(a, b)] = v if a == b else 2.0 * v
    return terms, variance  # type: ignore[return-value]


def signal_workspace_entry(
    spec: Mapping[str, Any],
    spectrum: Mapping[str, Any],
    response: Response,
    active_mass_kg: float,
    livetime_s: float,
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
        "systematics": [],
        "fit_window_kev": [float(v) for v in spec["fit_window_kev"]],
        "free_backgrounds": list(spec["free_backgrounds"]),
    }


def assemble_workspace(
    analysis: str,
    data: SelectionResult,
    backgrounds: Sequence[BackgroundTemplate],
    relative_uncertainty: Mapping[str, float | None],
    signals: Sequence[Mapping[str, Any]],
    fiducial_mass_kg: float,
) -> dict[str, Any]:
    """The workspace document (validated by :mod:`exonu.stats.workspace`)."""
    if data.kind != "data":
        raise TemplateError(f"sample {data.sample!r} is {data.kind}, expected data")
    return {
        "schema": "exonu-workspace",
        "version": "1.0.0",
        "analysis": analysis,
        "binning": {"edges_kev": data.energy_edges.tolist()},
        "observed": data.energy.astype(int).tolist(),
        "exposure": {"livetime_s": data.livetime_s, "fiducial_mass_kg": fiducial_mass_kg},
        "backgrounds": [
            {
                "name": b.name,
                "expected": b.expected.tolist(),
                "mc_variance": b.mc_variance.tolist(),
                "relative_uncertainty": relative_uncertainty.get(b.name),
            }
            for b in backgrounds
        ],
        "background_systematics": [],
        "signals": list(signals),
    }
