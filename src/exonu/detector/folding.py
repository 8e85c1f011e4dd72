"""The detector response S(T, E_rec) of the signal and the folding of rates through it.

Notation of XMASS-I (PLB 809 (2020) 135741, eqs. 3 and 6): S(T, E_rec) is the
probability that an event of true deposited energy T (flat signal Monte Carlo) passes
all cuts with reconstructed energy E_rec, with its Poisson statistical variance, plus
the shifted responses of every systematic source (:class:`Response`; built from the
selected signal Monte Carlo by :func:`exonu.templates.signals.response_from_signal_mc`).

A physics rate dN/dT in events/(tonne*year*keV), times active mass and live time,
folded with the response gives the expected counts per reconstructed bin. For a rate
that is a polynomial in the coupling each coefficient spectrum is folded separately,
and the MC variance of the folded template is itself a polynomial (sum over T of
var(S) c_p c_q) -- exact for every model (:func:`fold_polynomial`).

The response is stored as ROOT TH2D histograms with a JSON sidecar
(:func:`write_response`, :func:`read_response`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hist
import numpy as np
import uproot

from exonu.errors import TemplateError
from exonu.physics.constants import SECONDS_PER_YEAR

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


def _prob_hist(true_edges: np.ndarray, energy_edges: np.ndarray, value, variance) -> hist.Hist:
    h = hist.Hist(
        hist.axis.Variable(true_edges, name="true_energy", label="true energy [keV]"),
        hist.axis.Variable(energy_edges, name="energy", label="reconstructed energy [keV]"),
        storage=hist.storage.Weight(),
    )
    h.view().value[...] = value
    h.view().variance[...] = variance
    return h


def write_response(
    response: Response,
    root_path: str | os.PathLike[str],
    sidecar: str | os.PathLike[str] | None = None,
) -> None:
    """Write the response as ROOT TH2D (value = probability, sumw2 = variance) + JSON.

    Objects ``response`` and ``response__<source>__<k>`` (k-th shifted response of a
    systematic source); the sidecar (``sidecar``, default ``<root>.json``, where
    :func:`read_response` looks for it) lists the sources and shifts. Both files are written
    in place (the workflow stage gives temporary paths, :mod:`exonu.stages.runtime`).
    """
    root_path = Path(root_path)
    side = root_path.with_suffix(".json") if sidecar is None else Path(sidecar)
    root_path.parent.mkdir(parents=True, exist_ok=True)
    t, e = response.true_edges, response.energy_edges
    with uproot.recreate(root_path) as fout:
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
    side.write_text(json.dumps(doc, indent=1, sort_keys=True))


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


# --------------------------------------------------------------------------- folding


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
    counts = true_counts(response, coefficients, active_mass_kg, livetime_s)
    terms = counts @ response.matrix
    variance: dict[tuple[int, int], np.ndarray] = {}
    for a in range(len(counts)):
        for b in range(a, len(counts)):
            v = (counts[a] * counts[b]) @ response.variance
            variance[(a, b)] = v if a == b else 2.0 * v
    return terms, variance


def true_counts(
    response: Response, coefficients: np.ndarray, active_mass_kg: float, livetime_s: float
) -> np.ndarray:
    """Expected events per true bin of each coefficient spectrum, shape (n_terms, n_true)."""
    coefficients = np.atleast_2d(np.asarray(coefficients, dtype=np.float64))
    if coefficients.shape[1] != response.matrix.shape[0]:
        raise TemplateError(
            f"coefficient spectra have {coefficients.shape[1]} true bins, response has "
            f"{response.matrix.shape[0]}"
        )
    return coefficients * exposure_factor(response.true_edges, active_mass_kg, livetime_s)


__all__ = [
    "Response",
    "ResponseSystematic",
    "bin_average",
    "exposure_factor",
    "fold_polynomial",
    "one_sigma_shift",
    "read_response",
    "true_counts",
    "write_response",
]
