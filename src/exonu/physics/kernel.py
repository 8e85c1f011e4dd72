"""Flux-weighted neutrino-energy quadrature shared by every rate in :mod:`exonu.physics`.

For a grid of recoil energies T the rate needs Σ_src Φ_src ∫_{E_lo(T)} dE λ_src(E) P_α(E)
dσ_α/dT(E, T). A :class:`NeutrinoQuadrature` holds, for every T, the neutrino-energy nodes
E_j(T) (Gauss–Legendre on [E_lo(T), end point] for each continuum source, the lines above
E_lo(T)) and the weights w_αj(T) = Φ_src · λ(E_j) · (quadrature weight) · P_α(E_j). Every cross
section in this package is a polynomial in 1/E at fixed T, so the moments
M_αk(T) = Σ_j w_αj E_j⁻ᵏ (k = 0, 1, 2) are all any model needs: they are computed once per
(settings, energy grid) and cached, after which each model — each mediator mass of a scan —
costs a few vector operations over T. The direct (non-polynomial) calculation uses the same
nodes, so both agree to rounding.

E_lo(T) is the free-electron kinematic minimum E_min(T) (XMASS eq. 3) or, for the atomic
EPA, T itself (the photon is absorbed by the whole atom).
"""

from __future__ import annotations

from functools import cached_property, lru_cache

import numpy as np

from exonu.physics.cross_sections import minimum_neutrino_energy_mev
from exonu.physics.errors import PhysicsError
from exonu.physics.fluxes import SOURCE_INFO, continuum_spectrum, source_endpoint_mev, total_fluxes
from exonu.physics.oscillation import flavour_probabilities
from exonu.physics.settings import PhysicsSettings

__all__ = ["NeutrinoQuadrature", "check_energies", "clear_cache", "neutrino_quadrature"]


def check_energies(energy_kev: object, name: str = "energy_kev") -> np.ndarray:
    """Validate recoil energies: a non-empty 1-D array of finite values > 0 keV.

    Scalars become one-element arrays. Raises :class:`PhysicsError` naming ``name``.
    """
    try:
        energies = np.atleast_1d(np.asarray(energy_kev, dtype=float))
    except (TypeError, ValueError):
        raise PhysicsError(f"{name}: expected numbers in keV, got {energy_kev!r}") from None
    if energies.ndim != 1 or energies.size == 0:
        raise PhysicsError(f"{name}: expected a non-empty 1-D array of keV values")
    if not np.all(np.isfinite(energies)) or np.any(energies <= 0.0):
        raise PhysicsError(f"{name}: expected finite recoil energies > 0 keV")
    return energies


class NeutrinoQuadrature:
    """Nodes and flavour weights of the neutrino-energy integral for a grid of recoil energies.

    Parameters
    ----------
    energy_kev : numpy.ndarray
        Recoil energies T [keV], shape (n,).
    settings : PhysicsSettings
        Flux set, sources, flavour composition, pp end point, quadrature order.
    lower : {"electron", "atom"}
        Lower limit E_min(T) (free electron) or T (whole atom, EPA).

    Attributes
    ----------
    nodes_mev : numpy.ndarray
        Neutrino energies E_j(T) [MeV], shape (n, m).
    weights : numpy.ndarray
        Flux × spectrum × quadrature weight × P_α [cm⁻² s⁻¹], shape (3, n, m), flavours
        (e, mu, tau).
    """

    def __init__(self, energy_kev: np.ndarray, settings: PhysicsSettings, lower: str) -> None:
        self.energy_kev = energy_kev
        self.settings = settings
        if lower == "electron":
            e_lo = minimum_neutrino_energy_mev(energy_kev)
        elif lower == "atom":
            e_lo = energy_kev * 1e-3
        else:
            raise PhysicsError(f"lower: expected 'electron' or 'atom', got {lower!r}")
        fluxes = total_fluxes(settings.flux_set)
        gl_x, gl_w = np.polynomial.legendre.leggauss(settings.quadrature_nodes)
        node_blocks: list[np.ndarray] = []
        weight_blocks: list[np.ndarray] = []
        for source in settings.source_names:
            info = SOURCE_INFO[source]
            flux = fluxes[source]
            if info.kind == "lines":
                for line_mev, branching in info.lines:
                    nodes = np.full((energy_kev.size, 1), line_mev)
                    weight = np.where(e_lo >= line_mev, 0.0, flux * branching)[:, None]
                    node_blocks.append(nodes)
                    weight_blocks.append(weight * flavour_probabilities(nodes, source, settings))
                continue
            e_hi = source_endpoint_mev(source, settings.pp_endpoint_kev)
            open_interval = e_lo < e_hi
            lo = np.where(open_interval, e_lo, e_hi)[:, None]
            half = 0.5 * (e_hi - lo)
            nodes = lo + half * (gl_x[None, :] + 1.0)
            spectrum = continuum_spectrum(source, nodes, settings.pp_endpoint_kev)
            weight = flux * half * gl_w[None, :] * spectrum
            node_blocks.append(nodes)
            weight_blocks.append(weight * flavour_probabilities(nodes, source, settings))
        self.nodes_mev = np.concatenate(node_blocks, axis=1)
        self.weights = np.concatenate(weight_blocks, axis=2)

    @cached_property
    def moments(self) -> np.ndarray:
        """M_αk(T) = Σ_j w_αj E_j⁻ᵏ for k = 0, 1, 2 [cm⁻² s⁻¹ MeV⁻ᵏ], shape (3, 3, n)."""
        inverse = 1.0 / self.nodes_mev
        return np.stack(
            [
                self.weights.sum(axis=2),
                (self.weights * inverse).sum(axis=2),
                (self.weights * inverse * inverse).sum(axis=2),
            ],
            axis=1,
        )

    def integrate(self, flavour_index: int, integrand: np.ndarray) -> np.ndarray:
        """Σ_j w_αj f(E_j, T) for an integrand evaluated on :attr:`nodes_mev` (shape (n, m))."""
        return np.sum(self.weights[flavour_index] * integrand, axis=1)


@lru_cache(maxsize=4)
def _cached(key: bytes, size: int, settings: PhysicsSettings, lower: str) -> NeutrinoQuadrature:
    energy_kev = np.frombuffer(key, dtype=float, count=size).copy()
    return NeutrinoQuadrature(energy_kev, settings, lower)


def neutrino_quadrature(
    energy_kev: np.ndarray, settings: PhysicsSettings, lower: str = "electron"
) -> NeutrinoQuadrature:
    """Cached :class:`NeutrinoQuadrature` for validated energies (see :func:`check_energies`)."""
    energies = np.ascontiguousarray(energy_kev, dtype=float)
    return _cached(energies.tobytes(), energies.size, settings, lower)


def clear_cache() -> None:
    """Forget every cached quadrature (e.g. before timing a cold start)."""
    _cached.cache_clear()
