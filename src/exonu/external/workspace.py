"""The workspace of a published release: data, background model, SM and signals in its binning.

Background model
    Every ``release.backgrounds`` component is a rate per *reconstructed* energy with the
    efficiency already applied (it was fitted to the data). Its expected counts per bin are
    its exact integral (:meth:`~exonu.external.tabulation.Tabulation.integrate`) times the
    exposure; its normalisation is one activity scale p_j with the configured relative
    uncertainty (XMASS-I, PLB 809 (2020) 135741, eq. 7; ``null`` = free).

Signals
    The shared ``signal_spectrum`` stage gives the excess over the Standard Model as an exact
    polynomial Σ_p θ^p c_p(T) on true-energy bins; it is folded with the analytic response of
    :mod:`exonu.external.response` by :func:`exonu.templates.signals.signal_workspace_entry`.

The Standard Model and interference (``release.solar_nu``)
    For μ_ν, scalar and pseudoscalar mediators the excess adds incoherently to the SM. For
    q_ν, ⟨r²⟩, the anapole and vector/axial mediators the excess contains the *interference*
    with the SM weak amplitude (odd powers, possibly negative): the total solar-ν rate is
    SM + excess = |A_SM + A_new|² ≥ 0 only if the SM in the model is the one the excess was
    computed against (same fluxes, oscillations, sin²θ_W, atomic model). A release's
    background model contains the collaboration's own SM solar-ν estimate, which differs from
    exonu's by a few per cent. Two consistent options:

    * ``replace: false`` (default) — keep the release's background model. The excess is
      referred to exonu's SM, which equals the release's within its normalisation uncertainty;
      the mismatch is second order (δSM × excess / SM) and the total stays positive because the
      other backgrounds dominate. Fine for incoherent models.
    * ``replace: true`` — split the component that holds the solar-ν part (``component``,
      default the first) into *remainder* = component − reference and add exonu's SM, folded
      with the same response as the signals, as the component ``solar_nu_sm`` with its own
      normalisation uncertainty. The reference is exonu's own folded SM (``subtract: exonu``:
      the background-only model is then exactly the published one) or the release's solar-ν
      spectrum from a file (``subtract: file``). The SM and the excess are then computed with
      identical physics settings, so at p_SM = 1 the solar term is exactly |A_SM + A_new|².
      Remainder bins that would be negative are set to 0 (reported in the metadata).

    Remaining approximation: the SM normalisation p_SM (flux and cross-section uncertainty)
    scales only the SM component, not the interference term, which physically scales with it.
    The workspace format keeps the signal independent of the background scales, so this
    correlation is dropped; its effect is of order σ(p_SM) × excess, i.e. a few per cent of the
    signal, far below the statistical uncertainty of the limits.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from exonu.detector.folding import Response, bin_average, exposure_factor
from exonu.external.errors import ReleaseError
from exonu.external.release import Release
from exonu.external.response import build_response, response_density
from exonu.physics import PhysicsSettings, standard_model_rate
from exonu.selection.run import edges_from_spec
from exonu.templates.hypotheses import hypothesis_spectrum
from exonu.templates.signals import signal_workspace_entry

__all__ = [
    "SOLAR_NU_NAME",
    "BackgroundComponents",
    "background_components",
    "background_densities",
    "external_workspace",
    "response_for",
    "spectrum_document",
    "standard_model_true",
]

log = logging.getLogger("exonu")

#: Name of the component holding exonu's SM solar-ν spectrum (``release.solar_nu.replace``).
SOLAR_NU_NAME = "solar_nu_sm"
SECONDS_PER_YEAR = 365.25 * 86400.0
FloatArray = npt.NDArray[np.float64]


def _tonne_year(release: Release) -> float:
    return release.fiducial_mass_kg / 1000.0 * release.livetime_s / SECONDS_PER_YEAR


def standard_model_true(physics: Mapping[str, Any], true_edges_kev: npt.ArrayLike) -> FloatArray:
    """SM solar-ν rate averaged over each true bin [events/(tonne·year·keV)] (all flavours).

    The same bin average as the ``signal_spectrum`` stage (8 midpoints, T ≥ 1 eV).
    """
    settings = PhysicsSettings.from_mapping(physics)
    edges = np.asarray(true_edges_kev, dtype=np.float64)
    return np.asarray(
        bin_average(lambda t: standard_model_rate(np.maximum(t, 1e-3), settings), edges)
    )


@dataclass(frozen=True, eq=False)
class BackgroundComponents:
    """Background components in one reconstructed binning.

    Attributes
    ----------
    names : tuple of str
        Component names (``solar_nu_sm`` last if replaced).
    expected : ndarray
        (J, n_bins) expected counts at p_j = 1.
    relative_uncertainty : tuple
        σ(B_RI)_j (``None`` = free).
    clipped : dict
        Remainder bins set to zero per component (``solar_nu.replace``).
    """

    names: tuple[str, ...]
    expected: FloatArray
    relative_uncertainty: tuple[float | None, ...]
    clipped: dict[str, int] = field(default_factory=dict)


def _reference_counts(release: Release, sm_counts: FloatArray, edges: FloatArray) -> FloatArray:
    ref = release.solar_nu_reference
    if ref is None:
        return sm_counts
    return ref.integrate(edges) * _tonne_year(release)


def background_components(
    release: Release,
    edges_kev: npt.ArrayLike,
    response: Response | None = None,
    sm_true_rate: FloatArray | None = None,
) -> BackgroundComponents:
    """Expected background counts per bin of ``edges_kev`` (module docstring).

    Parameters
    ----------
    release : Release
        The release.
    edges_kev : array_like
        Reconstructed bin edges.
    response : Response, optional
        Response on these edges; required with ``solar_nu.replace``.
    sm_true_rate : ndarray, optional
        SM rate on the response's true bins (:func:`standard_model_true`); required with
        ``solar_nu.replace``.
    """
    s = release.settings
    edges = np.asarray(edges_kev, dtype=np.float64)
    ty = _tonne_year(release)
    names = [b.name for b in s.backgrounds]
    expected = [release.backgrounds[n].integrate(edges) * ty for n in names]
    rel: list[float | None] = [b.relative_uncertainty for b in s.backgrounds]
    clipped: dict[str, int] = {}
    if s.solar_nu.replace:
        if response is None or sm_true_rate is None:
            raise ReleaseError("solar_nu.replace needs the response and the SM rate")
        if not np.allclose(response.energy_edges, edges):
            raise ReleaseError("the response is not on the requested reconstructed bins")
        sm = (
            sm_true_rate
            * exposure_factor(response.true_edges, release.fiducial_mass_kg, release.livetime_s)
        ) @ response.matrix
        target = s.solar_nu.component or names[0]
        j = names.index(target)
        remainder = expected[j] - _reference_counts(release, sm, edges)
        clipped[target] = int(np.sum(remainder < 0))
        if clipped[target]:
            log.warning(
                "%s minus the solar-nu reference is negative in %d bin(s): set to 0",
                target,
                clipped[target],
            )
        expected[j] = np.clip(remainder, 0.0, None)
        names.append(SOLAR_NU_NAME)
        expected.append(sm)
        rel.append(s.solar_nu.relative_uncertainty)
    return BackgroundComponents(tuple(names), np.array(expected), tuple(rel), clipped)


def background_densities(
    release: Release,
    energies_kev: npt.ArrayLike,
    true_edges_kev: npt.ArrayLike | None = None,
    sm_true_rate: FloatArray | None = None,
) -> FloatArray:
    """Background densities [events/keV] at ``energies_kev``, shape (J, n), p_j = 1.

    Same components and order as :func:`background_components` (for the unbinned fit).
    """
    s = release.settings
    e = np.asarray(energies_kev, dtype=np.float64)
    ty = _tonne_year(release)
    names = [b.name for b in s.backgrounds]
    dens = [release.backgrounds[n](e) * ty for n in names]
    if s.solar_nu.replace:
        if true_edges_kev is None or sm_true_rate is None:
            raise ReleaseError("solar_nu.replace needs the true bins and the SM rate")
        t_edges = np.asarray(true_edges_kev, dtype=np.float64)
        kernel = response_density(
            t_edges, e, release.efficiency, s.resolution, s.efficiency_applies_to
        )
        sm = (
            sm_true_rate * exposure_factor(t_edges, release.fiducial_mass_kg, release.livetime_s)
        ) @ kernel
        j = names.index(s.solar_nu.component or names[0])
        ref = sm if release.solar_nu_reference is None else release.solar_nu_reference(e) * ty
        dens[j] = np.clip(dens[j] - ref, 0.0, None)
        dens.append(sm)
    return np.array(dens)


def spectrum_document(
    signal: Mapping[str, Any], physics: Mapping[str, Any], true_energy_kev: Any
) -> dict[str, Any]:
    """The ``signals/<name>.json`` document of the shared signal stage, computed in memory.

    The same function the workflow's ``signal_spectrum`` stage uses
    (:func:`exonu.templates.hypotheses.hypothesis_spectrum`), so tables and comparisons use
    exactly the spectra of the workflow's signals.
    """
    edges = edges_from_spec(true_energy_kev, "binning.true_energy_kev")
    return dict(hypothesis_spectrum(dict(signal), dict(physics), edges))


def external_workspace(
    analysis: str,
    release: Release,
    energy_edges_kev: npt.ArrayLike,
    response: Response,
    signals: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    sm_true_rate: FloatArray | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The workspace document of a release (validated by :mod:`exonu.stats.workspace`).

    Parameters
    ----------
    analysis : str
        Analysis name.
    release : Release
        The release.
    energy_edges_kev : array_like
        Reconstructed binning (must be the response's).
    response : Response
        From :func:`exonu.external.response.build_response`.
    signals : sequence of (config entry, spectrum document)
        The signals, as in the events mode.
    sm_true_rate : ndarray, optional
        SM on the true bins, needed with ``release.solar_nu.replace``.
    metadata : mapping, optional
        Extra provenance for ``metadata``.
    """
    edges = np.asarray(energy_edges_kev, dtype=np.float64)
    if not np.allclose(response.energy_edges, edges):
        raise ReleaseError("response and workspace reconstructed bins differ")
    comps = background_components(release, edges, response, sm_true_rate)
    s = release.settings
    entries = []
    for spec, spectrum in signals:
        free = set(spec.get("free_backgrounds", ()))
        unknown = free - set(comps.names)
        if unknown:
            raise ReleaseError(
                f"config key 'signals' ({spec['name']}): free_backgrounds {sorted(unknown)} are "
                f"not release components ({', '.join(comps.names)})"
            )
        entries.append(
            signal_workspace_entry(
                spec, spectrum, response, release.fiducial_mass_kg, release.livetime_s
            )
        )
    meta = {
        "mode": "external",
        "release_dir": str(s.directory),
        "data_format": s.data_format,
        "n_events_release": release.n_events,
        "exposure_tonne_year": release.exposure_tonne_year,
        "resolution": s.resolution.describe(),
        "efficiency_applies_to": s.efficiency_applies_to,
        "solar_nu_replaced": s.solar_nu.replace,
        "clipped_bins": comps.clipped,
        # binned digitised data: bins whose non-integer count was rounded, and the net shift
        "data_rounded_bins": release.rounded_bins,
        "data_rounding_shift": release.rounding_shift,
        "background_kinds": {b.name: b.kind for b in s.backgrounds},
        "backgrounds_off": list(s.dropped),
        # the likelihood nearest to the collaboration's: extended unbinned for unbinned data
        # (limits_unbinned/), the binned likelihood of the fit block otherwise (fits/)
        "headline_likelihood": (
            "unbinned_extended"
            if s.data_format == "unbinned" and s.unbinned_fit
            else "binned (fit.likelihood)"
        ),
        **dict(metadata or {}),
    }
    return {
        "schema": "exonu-workspace",
        "version": "1.0.0",
        "analysis": analysis,
        "binning": {"edges_kev": edges.tolist()},
        "observed": [int(v) for v in release.observed(edges)],
        "exposure": {
            "livetime_s": release.livetime_s,
            "fiducial_mass_kg": release.fiducial_mass_kg,
        },
        "backgrounds": [
            {
                "name": n,
                "expected": comps.expected[j].tolist(),
                "mc_variance": [0.0] * (edges.size - 1),
                "relative_uncertainty": comps.relative_uncertainty[j],
            }
            for j, n in enumerate(comps.names)
        ],
        "background_systematics": [],
        "signals": entries,
        "metadata": meta,
    }


def response_for(release: Release, true_edges_kev: Any, energy_edges_kev: Any) -> Response:
    """:func:`~exonu.external.response.build_response` with the release's settings."""
    s = release.settings
    return build_response(
        true_edges_kev, energy_edges_kev, release.efficiency, s.resolution, s.efficiency_applies_to
    )
