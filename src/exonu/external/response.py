"""Analytic detector response of a published release: efficiency × Gaussian smearing.

The response matrix has the meaning of the Monte-Carlo response of the events mode
(:class:`exonu.detector.folding.Response`, XMASS-I PLB 809 (2020) 135741 eq. 3; Khan
arXiv:2006.12887 eq. 8): the probability that an event of true deposited energy T in true
bin t is detected with reconstructed energy in bin e,

.. math::

   S_{te} = \\Big\\langle \\int_{E_e}^{E_{e+1}} \\epsilon(E)\\,
            G\\big(E; T, \\sigma(T)\\big)\\,dE \\Big\\rangle_{T \\in t}
   \\quad\\text{(efficiency at the reconstructed energy)},

   S_{te} = \\Big\\langle \\epsilon(T) \\int_{E_e}^{E_{e+1}}
            G\\big(E; T, \\sigma(T)\\big)\\,dE \\Big\\rangle_{T \\in t}
   \\quad\\text{(efficiency at the true energy)},

with G the Gaussian of :mod:`exonu.external.resolution` and ⟨⟩ the average over the true bin
(8 midpoints, the sampling of the bin-averaged physics spectra). The reconstructed-energy
integral is done exactly per 0.01-keV slice (Gaussian CDF differences times the exact mean of
the efficiency over the slice), so a vanishing resolution is handled exactly. Expected signal
counts per reconstructed bin are then (:func:`exonu.detector.folding.fold_polynomial`)

.. math:: s_e = \\sum_t R_t\\,\\Delta T_t\\,\\frac{M}{1000\\,\\mathrm{kg}}\\,
          \\frac{t_{live}}{\\mathrm{yr}}\\,S_{te},

R in events/(tonne·year·keV), yr = 365.25 d. An analytic response has no Monte-Carlo variance.

:func:`response_density` gives the same response per keV at given reconstructed energies,
for the unbinned likelihood.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import special

from exonu.detector.folding import Response
from exonu.external.errors import ReleaseError
from exonu.external.resolution import Resolution
from exonu.external.tabulation import Tabulation

__all__ = [
    "RESPONSE_KEYS",
    "build_response",
    "response_density",
    "response_from_dict",
    "response_to_dict",
    "true_samples",
]

FloatArray = npt.NDArray[np.float64]
AppliesTo = Literal["reconstructed", "deposited"]

#: Keys of the response document (``results/<analysis>/response.json``).
RESPONSE_KEYS = (
    "true_edges_kev",
    "energy_edges_kev",
    "matrix",
    "variance",
    "target_mass_kg",
    "livetime_s",
    "source",
)
#: Samples per true bin (midpoint rule), as :func:`exonu.detector.folding.bin_average`.
N_TRUE_SAMPLES = 8
#: Width of the reconstructed-energy slices of the efficiency integral [keV].
SLICE_KEV = 0.01
_CHUNK = 256  # true-energy samples per vectorised block


def true_samples(true_edges: FloatArray, n_sub: int = N_TRUE_SAMPLES) -> FloatArray:
    """Midpoints of ``n_sub`` equal slices of every true bin, shape (n_true, n_sub)."""
    frac = (np.arange(n_sub) + 0.5) / n_sub
    return np.asarray(true_edges[:-1, None] + np.diff(true_edges)[:, None] * frac[None, :])


def _cdf(x: FloatArray, t: FloatArray, sigma: FloatArray) -> FloatArray:
    """Gaussian CDF Φ((x − t)/σ) with a step function where σ = 0; shapes (n, 1) vs (m,)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x[None, :] - t[:, None]) / sigma[:, None]
    step = (x[None, :] >= t[:, None]).astype(np.float64)
    return np.asarray(np.where(sigma[:, None] > 0, special.ndtr(z), step))


def build_response(
    true_edges_kev: npt.ArrayLike,
    energy_edges_kev: npt.ArrayLike,
    efficiency: Tabulation,
    resolution: Resolution,
    applies_to: AppliesTo = "reconstructed",
) -> Response:
    """Response matrix S(T, E) of efficiency × smearing (module docstring).

    Parameters
    ----------
    true_edges_kev, energy_edges_kev : array_like
        True and reconstructed bin edges [keV].
    efficiency : Tabulation
        Total efficiency per energy.
    resolution : Resolution
        σ(T).
    applies_to : {"reconstructed", "deposited"}
        Energy at which the efficiency is evaluated.

    Returns
    -------
    Response
        ``matrix`` (n_true, n_energy), ``variance`` zeros.
    """
    t_edges = np.asarray(true_edges_kev, dtype=np.float64)
    e_edges = np.asarray(energy_edges_kev, dtype=np.float64)
    for name, ed in (("true", t_edges), ("reconstructed", e_edges)):
        if ed.ndim != 1 or ed.size < 2 or np.any(np.diff(ed) <= 0):
            raise ReleaseError(f"{name} energy edges must be >= 2 strictly increasing numbers")
    if applies_to not in ("reconstructed", "deposited"):
        raise ReleaseError(
            f"config key 'release.efficiency.applies_to': {applies_to!r}, expected "
            "reconstructed or deposited"
        )
    samples = true_samples(t_edges)
    n_true, n_sub = samples.shape
    flat_t = samples.ravel()
    sigma = resolution.sigma_kev(flat_t)
    if applies_to == "reconstructed":
        # slices of each reconstructed bin, and the exact mean efficiency over each slice
        pieces = [
            np.linspace(lo, hi, max(1, math.ceil((hi - lo) / SLICE_KEV - 1e-9)) + 1)[:-1]
            for lo, hi in itertools.pairwise(e_edges)
        ]
        starts = np.cumsum([0] + [len(p) for p in pieces[:-1]])
        fine = np.concatenate([*pieces, e_edges[-1:]])
        weight = efficiency.integrate(fine) / np.diff(fine)
    else:
        fine = e_edges
        starts = np.arange(e_edges.size - 1)
        weight = np.ones(e_edges.size - 1)
    eff_true = efficiency(flat_t) if applies_to == "deposited" else np.ones_like(flat_t)
    out = np.empty((flat_t.size, e_edges.size - 1))
    for a in range(0, flat_t.size, _CHUNK):
        b = min(a + _CHUNK, flat_t.size)
        prob = np.diff(_cdf(fine, flat_t[a:b], sigma[a:b]), axis=1) * weight[None, :]
        out[a:b] = np.add.reduceat(prob, starts, axis=1) * eff_true[a:b, None]
    matrix = out.reshape(n_true, n_sub, -1).mean(axis=1)
    return Response(
        true_edges=t_edges,
        energy_edges=e_edges,
        matrix=matrix,
        variance=np.zeros_like(matrix),
    )


def response_density(
    true_edges_kev: npt.ArrayLike,
    energies_kev: npt.ArrayLike,
    efficiency: Tabulation,
    resolution: Resolution,
    applies_to: AppliesTo = "reconstructed",
) -> FloatArray:
    """The response per keV of reconstructed energy at ``energies_kev``, shape (n_true, n).

    ``density[t, i]`` = ⟨ε · G(E_i; T, σ(T))⟩ over true bin t (module docstring); integrating
    it over a reconstructed bin gives :func:`build_response`'s matrix element.

    Raises
    ------
    ReleaseError
        If the resolution vanishes somewhere (no density without smearing).
    """
    t_edges = np.asarray(true_edges_kev, dtype=np.float64)
    e = np.asarray(energies_kev, dtype=np.float64)
    samples = true_samples(t_edges)
    n_true, n_sub = samples.shape
    flat_t = samples.ravel()
    sigma = resolution.sigma_kev(flat_t)
    if np.any(sigma <= 0):
        raise ReleaseError(
            "config key 'release.resolution': an unbinned fit needs sigma(E) > 0 at every true "
            f"energy (sigma({flat_t[np.argmin(sigma)]:g} keV) = {sigma.min():g})"
        )
    eff_e = efficiency(e) if applies_to == "reconstructed" else np.ones_like(e)
    eff_t = efficiency(flat_t) if applies_to == "deposited" else np.ones_like(flat_t)
    out = np.empty((flat_t.size, e.size))
    for a in range(0, flat_t.size, _CHUNK):
        b = min(a + _CHUNK, flat_t.size)
        z = (e[None, :] - flat_t[a:b, None]) / sigma[a:b, None]
        g = np.exp(-0.5 * z * z) / (math.sqrt(2.0 * math.pi) * sigma[a:b, None])
        out[a:b] = g * eff_e[None, :] * eff_t[a:b, None]
    return np.asarray(out.reshape(n_true, n_sub, -1).mean(axis=1))


def response_to_dict(
    response: Response, target_mass_kg: float, livetime_s: float, source: str
) -> dict[str, Any]:
    """The ``response.json`` document (keys :data:`RESPONSE_KEYS`)."""
    return {
        "true_edges_kev": response.true_edges.tolist(),
        "energy_edges_kev": response.energy_edges.tolist(),
        "matrix": response.matrix.tolist(),
        "variance": response.variance.tolist(),
        "target_mass_kg": float(target_mass_kg),
        "livetime_s": float(livetime_s),
        "source": source,
    }


def response_from_dict(doc: Mapping[str, Any], source: str = "<response>") -> Response:
    """Inverse of :func:`response_to_dict` (the exposure keys are read by the caller)."""
    missing = [k for k in RESPONSE_KEYS if k not in doc]
    if missing:
        raise ReleaseError(f"response {source!r}: missing key {missing[0]!r}")
    t = np.asarray(doc["true_edges_kev"], dtype=np.float64)
    e = np.asarray(doc["energy_edges_kev"], dtype=np.float64)
    m = np.asarray(doc["matrix"], dtype=np.float64)
    v = np.asarray(doc["variance"], dtype=np.float64)
    shape = (t.size - 1, e.size - 1)
    if m.shape != shape or v.shape != shape:
        raise ReleaseError(
            f"response {source!r}: matrix {m.shape} / variance {v.shape}, expected {shape}"
        )
    return Response(true_edges=t, energy_edges=e, matrix=m, variance=v)
