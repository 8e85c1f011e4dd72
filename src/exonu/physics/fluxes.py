"""Solar-neutrino fluxes and spectral shapes (docs/physics.md §A).

Sources (names used everywhere in exonu): ``pp``, ``pep``, ``hep``, ``be7`` (both lines),
``b8``, ``n13``, ``o15``, ``f17``. Continuum spectra are allowed β⁺ shapes with a
non-relativistic Fermi function, computed here from the formula (no tables shipped):

    dN/dE ∝ E² · W · p · F(Z_d, W),  W = Q + m_e − E,  p = √(W² − m_e²),
    F = 2πη / (1 − e^(−2πη)),  η = −Z_d α W / p        (docs/physics.md §A.2)

which reproduces Bahcall's pp table (PRC 56 (1997) 3391) to ≤ 0.15 % for 20–400 keV with
the solar end point 423.41 keV, and his ¹³N table to 0.24 %. ⁸B uses the same shape with an
effective end point tuned to the mean energy of Winter et al. PRC 73 (2006) 025503
(6.77 MeV); for recoils below a few hundred keV only ∫φ E⁻ᵏ dE matters for ⁸B and hep
(E ≫ T), and both are < 0.03 % of the rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from exonu.physics.constants import ALPHA, M_E_MEV
from exonu.physics.errors import PhysicsError

__all__ = [
    "FLUX_SETS",
    "SOURCES",
    "SOURCE_INFO",
    "SourceInfo",
    "beta_plus_shape",
    "continuum_spectrum",
    "flux_uncertainties",
    "source_endpoint_mev",
    "total_fluxes",
]

SOURCES = ("pp", "pep", "hep", "be7", "b8", "n13", "o15", "f17")


@dataclass(frozen=True)
class SourceInfo:
    """Spectral description of one solar-neutrino source.

    Attributes
    ----------
    name : str
        Source name.
    kind : str
        ``"continuum"`` (allowed β⁺ shape) or ``"lines"``.
    endpoint_mev : float or None
        β⁺ end point Q [MeV] of a continuum (pp: overridden by the settings).
    z_daughter : int or None
        Charge of the daughter nucleus in the Fermi function.
    lines : tuple of (float, float)
        (energy [MeV], branching fraction) of each line.
    note : str
        Where the numbers come from.
    """

    name: str
    kind: str
    endpoint_mev: float | None = None
    z_daughter: int | None = None
    lines: tuple[tuple[float, float], ...] = ()
    note: str = ""


SOURCE_INFO: dict[str, SourceInfo] = {
    "pp": SourceInfo(
        "pp", "continuum", 0.42341, 1, note="p+p→d+e⁺+ν; end point from settings.pp_endpoint_kev"
    ),
    "pep": SourceInfo("pep", "lines", lines=((1.442, 1.0),), note="line at 2M(¹H)−M(²H)"),
    "hep": SourceInfo(
        "hep", "continuum", 18.79, 2, note="³He+p→⁴He+e⁺+ν, allowed shape, mean 9.63 MeV"
    ),
    "be7": SourceInfo(
        "be7",
        "lines",
        lines=((0.8618, 0.897), (0.3843, 0.103)),
        note="electron capture: 861.8 keV (89.7 %) and 384.3 keV (10.3 %), lab energies",
    ),
    "b8": SourceInfo(
        "b8",
        "continuum",
        13.08,
        4,
        note="allowed shape, effective end point tuned to Winter et al. mean 6.77 MeV",
    ),
    "n13": SourceInfo("n13", "continuum", 1.199, 6, note="¹³N→¹³C, Q = 1.199 MeV"),
    "o15": SourceInfo("o15", "continuum", 1.732, 7, note="¹⁵O→¹⁵N, Q = 1.732 MeV"),
    "f17": SourceInfo("f17", "continuum", 1.740, 8, note="¹⁷F→¹⁷O, Q = 1.740 MeV"),
}

# Total fluxes at 1 AU [cm⁻² s⁻¹] and relative 1σ uncertainties, docs/physics.md §A.1:
# XMASS §4.2 (their ref. [6]); Serenelli, Haxton, Peña-Garay ApJ 743 (2011) 24 (GS98);
# Vinyoles et al. ApJ 835 (2017) 202 (B16-GS98 and B16-AGSS09met).
FLUX_SETS: dict[str, dict[str, tuple[float, float]]] = {
    "xmass": {"pp": (5.98e10, 0.006), "be7": (5.00e9, 0.07)},
    "shp11_gs98": {
        "pp": (5.98e10, 0.006),
        "pep": (1.44e8, 0.012),
        "hep": (8.04e3, 0.30),
        "be7": (5.00e9, 0.07),
        "b8": (5.58e6, 0.14),
        "n13": (2.96e8, 0.14),
        "o15": (2.23e8, 0.15),
        "f17": (5.52e6, 0.17),
    },
    "b16_gs98": {
        "pp": (5.98e10, 0.006),
        "pep": (1.44e8, 0.01),
        "hep": (7.98e3, 0.30),
        "be7": (4.93e9, 0.06),
        "b8": (5.46e6, 0.12),
        "n13": (2.78e8, 0.15),
        "o15": (2.05e8, 0.17),
        "f17": (5.28e6, 0.20),
    },
    "b16_agss09met": {
        "pp": (6.03e10, 0.005),
        "pep": (1.46e8, 0.009),
        "hep": (8.25e3, 0.30),
        "be7": (4.50e9, 0.06),
        "b8": (4.50e6, 0.12),
        "n13": (2.04e8, 0.14),
        "o15": (1.44e8, 0.16),
        "f17": (3.26e6, 0.18),
    },
}


def _check_flux_set(flux_set: str) -> dict[str, tuple[float, float]]:
    try:
        return FLUX_SETS[flux_set]
    except (KeyError, TypeError):
        raise PhysicsError(
            f"flux_set: expected one of {', '.join(FLUX_SETS)}, got {flux_set!r}"
        ) from None


def total_fluxes(flux_set: str) -> dict[str, float]:
    """Total flux of each source of a flux set.

    Parameters
    ----------
    flux_set : str
        Name of the flux set (docs/physics.md §A.1).

    Returns
    -------
    dict
        Source name → flux at Earth [cm⁻² s⁻¹] (annual mean, 1 AU).
    """
    return {name: value for name, (value, _) in _check_flux_set(flux_set).items()}


def flux_uncertainties(flux_set: str) -> dict[str, float]:
    """Relative 1σ normalisation uncertainty of each source of a flux set.

    These become signal systematics (e.g. XMASS §4.3: pp ±0.6 %, ⁷Be ±7 %).

    Parameters
    ----------
    flux_set : str
        Name of the flux set.

    Returns
    -------
    dict
        Source name → relative uncertainty (0.006 means ±0.6 %).
    """
    return {name: sigma for name, (_, sigma) in _check_flux_set(flux_set).items()}


def source_endpoint_mev(source: str, pp_endpoint_kev: float = 423.41) -> float:
    """Highest neutrino energy of a source [MeV] (end point, or highest line)."""
    info = _source_info(source)
    if source == "pp":
        return pp_endpoint_kev * 1e-3
    if info.kind == "lines":
        return max(energy for energy, _ in info.lines)
    assert info.endpoint_mev is not None
    return info.endpoint_mev


def _source_info(source: str) -> SourceInfo:
    try:
        return SOURCE_INFO[source]
    except (KeyError, TypeError):
        raise PhysicsError(
            f"source: expected one of {', '.join(SOURCES)}, got {source!r}"
        ) from None


def beta_plus_shape(energy_mev: np.ndarray, endpoint_mev: float, z_daughter: int) -> np.ndarray:
    """Unnormalised allowed β⁺ neutrino spectrum with the non-relativistic Fermi function.

    dN/dE ∝ E² W p F, W = Q + m_e − E, F = 2πη/(1 − e^(−2πη)), η = −Z α W/p
    (docs/physics.md §A.2; Bahcall, Neutrino Astrophysics (1989) ch. 6).

    Parameters
    ----------
    energy_mev : array_like
        Neutrino energies E [MeV].
    endpoint_mev : float
        End point Q [MeV].
    z_daughter : int
        Charge of the daughter nucleus (the positron is repelled).

    Returns
    -------
    numpy.ndarray
        Shape values, zero outside 0 < E < Q.
    """
    energy = np.asarray(energy_mev, dtype=float)
    total = endpoint_mev + M_E_MEV - energy
    inside = (energy > 0.0) & (energy < endpoint_mev)
    momentum = np.sqrt(np.where(inside, total * total - M_E_MEV * M_E_MEV, 1.0))
    # p·F = 2πZαW / (exp(2πZαW/p) − 1): stable for p → 0 (F → 0 exponentially).
    two_pi_z_alpha_w = 2.0 * np.pi * z_daughter * ALPHA * total
    with np.errstate(over="ignore"):
        p_fermi = two_pi_z_alpha_w / np.expm1(two_pi_z_alpha_w / momentum)
    return np.where(inside, energy * energy * total * p_fermi, 0.0)


@lru_cache(maxsize=64)
def _shape_norm(endpoint_mev: float, z_daughter: int) -> float:
    nodes, weights = np.polynomial.legendre.leggauss(400)
    energy = 0.5 * endpoint_mev * (nodes + 1.0)
    return float(
        0.5 * endpoint_mev * np.sum(weights * beta_plus_shape(energy, endpoint_mev, z_daughter))
    )


def continuum_spectrum(
    source: str, energy_mev: np.ndarray, pp_endpoint_kev: float = 423.41
) -> np.ndarray:
    """Normalised neutrino spectrum λ(E) of a continuum source [MeV⁻¹].

    Parameters
    ----------
    source : str
        A continuum source (``pp``, ``hep``, ``b8``, ``n13``, ``o15``, ``f17``).
    energy_mev : array_like
        Neutrino energies [MeV].
    pp_endpoint_kev : float
        pp end point [keV] (only used for ``pp``).

    Returns
    -------
    numpy.ndarray
        λ(E) with ∫λ dE = 1.
    """
    info = _source_info(source)
    if info.kind != "continuum":
        raise PhysicsError(f"source: {source!r} is a line source, not a continuum")
    assert info.z_daughter is not None
    endpoint = source_endpoint_mev(source, pp_endpoint_kev)
    shape = beta_plus_shape(energy_mev, endpoint, info.z_daughter)
    return shape / _shape_norm(endpoint, info.z_daughter)
