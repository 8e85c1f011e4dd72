"""Energy-deposit spectra of the simulated components: shapes, decay schemes, tables.

A component's deposits are a mixture of *channels*; each channel deposits a line
energy (a gamma ray or de-excitation absorbed in the xenon), a continuum energy (a
beta, a Compton recoil, ...), or both. The Numba kernel samples the continuum from an
inverse cumulative distribution tabulated on a uniform quantile grid.

Shapes (each a simplification, documented with its source):

* allowed beta spectrum N(T) ∝ F(Z, W) p W (Q - T)^2 with the non-relativistic Fermi
  function F = 2πη / (1 - exp(-2πη)), η = α Z W / p (Krane, *Introductory Nuclear
  Physics*, 1988, eqs. 9.25-9.27); unique first-forbidden decays (⁸⁵Kr, ³⁹Ar) carry the
  shape factor p² + q² (q the neutrino momentum; Konopinski, *The Theory of Beta
  Radioactivity*, 1966). Radiative and finite-size corrections are neglected.
* two-neutrino double-beta decay, summed electron energy (Primakoff & Rosen, Rep.
  Prog. Phys. 22 (1959) 121): dN/dK ∝ K (K0 - K)^5 (1 + 2K + 4K²/3 + K³/3 + K⁴/30),
  K in units of the electron mass.
* external gamma rays (PMTs): either fully absorbed (probability f_pe + 0.3 (1 - f_pe),
  f_pe the photoelectric fraction of the attenuation, xraydb / Elam et al., Radiat.
  Phys. Chem. 63 (2002) 121), or a single Compton scatter with the Klein–Nishina recoil
  spectrum (Klein & Nishina, Z. Phys. 52 (1929) 853) after which the photon escapes;
  the interaction depth is exponential with the total attenuation length in liquid
  xenon (Elam tables to 800 keV, scaled with the Klein–Nishina cross section above).
* electrons from ²¹⁰Pb/²¹⁰Bi inside the copper reach the xenon with a uniformly
  degraded energy E = T u (u uniform in (0, 1)), a crude stand-in for the energy lost
  in the copper; this gives the flat low-energy spectrum of XMASS-I's mis-reconstructed
  copper events (PLB 789 (2019) 45, Fig. 3).
* nuclear data (Q values, branchings, gamma intensities) are rounded ENSDF values
  (NNDC, nndc.bnl.gov); the ¹²⁵I shell branchings are those used by XENON1T
  (PRD 102 (2020) 072004). Every decay's de-excitation is assumed absorbed in the
  xenon unless a channel says otherwise; alpha decays are not simulated (they lie
  far above the 2–200 keV window).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from exonu.sim import kernels as K

ELECTRON_MASS_KEV = 510.99895
FINE_STRUCTURE = 1.0 / 137.035999
XE_Z = 54
XE_A = 131.293
AVOGADRO = 6.02214076e23
CLASSICAL_ELECTRON_RADIUS_CM = 2.8179403262e-13

#: quantile-grid size of the inverse cumulative tables (2^13 cells: 64 kB, cache friendly)
TABLE_CELLS = 8192


class SpectrumError(ValueError):
    """A spectrum description is invalid; the message names the key."""


# --------------------------------------------------------------------------- shapes


def fermi_function(z_daughter: int, total_energy: np.ndarray, momentum: np.ndarray) -> np.ndarray:
    """Non-relativistic Fermi function for beta-minus decay (W, p in electron-mass units)."""
    if z_daughter == 0:
        return np.ones_like(total_energy)
    eta = FINE_STRUCTURE * z_daughter * total_energy / np.maximum(momentum, 1e-12)
    x = 2.0 * np.pi * eta
    return x / -np.expm1(-x)


def beta_shape(
    energy_kev: np.ndarray, q_kev: float, z_daughter: int = 0, forbidden: str = "allowed"
) -> np.ndarray:
    """Beta-minus kinetic-energy spectrum (unnormalised) for end point ``q_kev``.

    ``forbidden``: ``"allowed"`` or ``"unique_first"`` (shape factor p² + q²).
    """
    t = np.clip(np.asarray(energy_kev, dtype=np.float64), 0.0, q_kev)
    w = t / ELECTRON_MASS_KEV + 1.0
    p = np.sqrt(np.maximum(w * w - 1.0, 0.0))
    q = (q_kev - t) / ELECTRON_MASS_KEV
    shape = fermi_function(z_daughter, w, p) * p * w * q * q
    if forbidden == "unique_first":
        shape = shape * (p * p + q * q)
    elif forbidden != "allowed":
        raise SpectrumError(f"forbidden must be 'allowed' or 'unique_first', got {forbidden!r}")
    return shape


def double_beta_2nu_shape(energy_kev: np.ndarray, q_kev: float) -> np.ndarray:
    """Summed-electron spectrum of 2νββ decay (Primakoff–Rosen approximation)."""
    k = np.clip(np.asarray(energy_kev, dtype=np.float64), 0.0, q_kev) / ELECTRON_MASS_KEV
    k0 = q_kev / ELECTRON_MASS_KEV
    return k * (k0 - k) ** 5 * (1 + 2 * k + 4 * k**2 / 3 + k**3 / 3 + k**4 / 30)


def compton_edge_kev(gamma_kev: float) -> float:
    """Largest electron recoil energy of a single Compton scatter."""
    eps = gamma_kev / ELECTRON_MASS_KEV
    return gamma_kev * 2.0 * eps / (1.0 + 2.0 * eps)


def klein_nishina_recoil_shape(energy_kev: np.ndarray, gamma_kev: float) -> np.ndarray:
    """dσ/dT of Compton scattering on a free electron at rest (unnormalised), 0 above the edge."""
    t = np.asarray(energy_kev, dtype=np.float64)
    eps = gamma_kev / ELECTRON_MASS_KEV
    s = np.clip(t / gamma_kev, 0.0, 1.0 - 1e-12)
    val = 2.0 + s**2 / (eps**2 * (1.0 - s) ** 2) + s / (1.0 - s) * (s - 2.0 / eps)
    return np.where((t >= 0.0) & (t <= compton_edge_kev(gamma_kev)), val, 0.0)


def klein_nishina_total_cm2(gamma_kev: float) -> float:
    """Total Klein–Nishina cross section per electron, cm²."""
    k = gamma_kev / ELECTRON_MASS_KEV
    a = (1 + k) / k**2 * (2 * (1 + k) / (1 + 2 * k) - np.log(1 + 2 * k) / k)
    b = np.log(1 + 2 * k) / (2 * k) - (1 + 3 * k) / (1 + 2 * k) ** 2
    return float(2 * np.pi * CLASSICAL_ELECTRON_RADIUS_CM**2 * (a + b))


#: Mass attenuation of xenon (cm²/g), total and photoelectric, from the Elam tables of xraydb
#: (Elam et al., Radiat. Phys. Chem. 63 (2002) 121) between the K edge (34.56 keV) and
#: 800 keV, embedded so that jobs need not import xraydb (tests/sim check it agrees).
_ATT_KEV = np.geomspace(34.6, 800.0, 36)
_ATT_TOTAL = np.array(
    [
        33.06, 26.193, 20.772, 16.477, 13.04, 10.277, 8.0811, 6.3569, 5.0044, 3.941, 3.1036,
        2.4455, 1.9301, 1.5274, 1.213, 0.96756, 0.77596, 0.62629, 0.50928, 0.41769, 0.34585,
        0.28935, 0.2448, 0.20951, 0.18141, 0.15889, 0.1407, 0.12589, 0.11372, 0.1036, 0.095103,
        0.08786, 0.081594, 0.076105, 0.07126, 0.066963,
    ]
)  # fmt: skip
_ATT_PHOTO = np.array(
    [
        32.349, 25.556, 20.201, 15.964, 12.578, 9.8613, 7.7059, 6.0178, 4.6972, 3.6618, 2.8491,
        2.2127, 1.7162, 1.3301, 1.0302, 0.79762, 0.61742, 0.47791, 0.37001, 0.28661, 0.22218,
        0.17242, 0.13401, 0.10436, 0.081468, 0.063776, 0.050085, 0.039471, 0.031227, 0.024811,
        0.019806, 0.015888, 0.01281, 0.010382, 0.0084619, 0.0069405,
    ]
)  # fmt: skip


def xenon_attenuation(gamma_kev: float) -> tuple[float, float]:
    """(total mass attenuation cm²/g, photoelectric fraction) of xenon at ``gamma_kev``.

    Elam tables between 34.6 and 800 keV (log-log interpolation of the embedded values;
    xraydb itself below); above 800 keV, the 800 keV value scaled with the Klein–Nishina
    cross section (Compton scattering dominates).
    """
    e = min(float(gamma_kev), 800.0)
    if e < _ATT_KEV[0]:
        import xraydb  # below the K edge: rare, import on demand

        total = float(xraydb.mu_elam("Xe", e * 1e3, kind="total"))
        photo = float(xraydb.mu_elam("Xe", e * 1e3, kind="photo"))
    else:
        x = np.log(e)
        total = float(np.exp(np.interp(x, np.log(_ATT_KEV), np.log(_ATT_TOTAL))))
        photo = float(np.exp(np.interp(x, np.log(_ATT_KEV), np.log(_ATT_PHOTO))))
    frac = photo / total
    if gamma_kev > 800.0:
        total *= klein_nishina_total_cm2(gamma_kev) / klein_nishina_total_cm2(800.0)
        frac *= (800.0 / gamma_kev) ** 2
    return total, frac


def attenuation_length_cm(gamma_kev: float, density_g_cm3: float) -> float:
    """Mean free path of a gamma ray in liquid xenon, cm."""
    return 1.0 / (xenon_attenuation(gamma_kev)[0] * density_g_cm3)


# --------------------------------------------------------------------------- tables


def _grid(lo: float, hi: float, n: int = 20001) -> np.ndarray:
    """A grid uniform in sqrt(E - lo): dense at low energies, where the window lies."""
    return lo + (hi - lo) * np.linspace(0.0, 1.0, n) ** 2


def _cumulative(grid: np.ndarray, dens: np.ndarray) -> np.ndarray:
    dens = np.clip(np.nan_to_num(np.asarray(dens, dtype=np.float64)), 0.0, None)
    return np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])


def _invert(grid: np.ndarray, cdf: np.ndarray, cells: int) -> np.ndarray:
    cdf = cdf / cdf[-1]
    # drop flat stretches of the cdf so that the inversion is single-valued
    keep = np.concatenate([[True], np.diff(cdf) > 0])
    return np.interp(np.linspace(0.0, 1.0, cells + 1), cdf[keep], grid[keep])


def inverse_cdf_table(
    pdf: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, cells: int = TABLE_CELLS
) -> np.ndarray:
    """Energies at the quantiles 0, 1/cells, ..., 1 of the density ``pdf`` on [lo, hi]."""
    if not hi > lo:
        raise SpectrumError(f"empty energy range [{lo}, {hi}]")
    grid = _grid(lo, hi)
    cdf = _cumulative(grid, pdf(grid))
    if not cdf[-1] > 0:
        raise SpectrumError(f"spectrum has no probability in [{lo}, {hi}] keV")
    return _invert(grid, cdf, cells)


def deposit_table(
    pdf: Callable[[np.ndarray], np.ndarray],
    lo: float,
    hi: float,
    *,
    degrade: bool = False,
    cut_kev: float = np.inf,
    cells: int = TABLE_CELLS,
) -> tuple[np.ndarray | None, float]:
    """Inverse-CDF table of a continuous deposit below ``cut_kev`` and the fraction kept.

    With ``degrade`` the deposit is E = T u (T from ``pdf``, u uniform in (0, 1)),
    whose density is g(E) = ∫_E^hi pdf(T) / T dT. Returns ``(None, 0)`` if nothing
    lies below the cut.
    """
    if not hi > lo:
        raise SpectrumError(f"empty energy range [{lo}, {hi}]")
    grid = _grid(lo, hi, 20001)
    dens = np.clip(np.nan_to_num(np.asarray(pdf(grid), dtype=np.float64)), 0.0, None)
    if degrade:
        t = np.maximum(grid, 1e-9 * max(hi, 1.0))
        upper = _cumulative(grid, dens / t)
        grid = _grid(0.0, hi, 20001)
        dens = np.interp(
            grid, np.concatenate([[0.0], t]), upper[-1] - np.concatenate([[upper[0]], upper])
        )
    cdf = _cumulative(grid, dens)
    if not cdf[-1] > 0:
        raise SpectrumError(f"spectrum has no probability in [{lo}, {hi}] keV")
    if cut_kev >= grid[-1]:
        return _invert(grid, cdf, cells), 1.0
    if cut_kev <= grid[0]:
        return None, 0.0
    keep_frac = float(np.interp(cut_kev, grid, cdf) / cdf[-1])
    if keep_frac <= 0:
        return None, 0.0
    sub = _grid(grid[0], cut_kev, 20001)
    return _invert(sub, np.interp(sub, grid, cdf), cells), keep_frac


@dataclass(frozen=True)
class Continuum:
    """A continuous deposit: ``kind`` and its parameters (see :func:`continuum_pdf`)."""

    kind: str
    params: tuple[float, ...]

    def key(self) -> tuple[Any, ...]:
        return (self.kind, *self.params)


def continuum_pdf(c: Continuum) -> tuple[Callable[[np.ndarray], np.ndarray], float, float]:
    """(density, lower, upper energy in keV) of a continuum."""
    p = c.params
    if c.kind == "beta":  # (Q, Z daughter, unique-first flag)
        forb = "unique_first" if len(p) > 2 and p[2] else "allowed"
        return (lambda e: beta_shape(e, p[0], int(p[1]), forb)), 0.0, p[0]
    if c.kind == "double_beta":
        return (lambda e: double_beta_2nu_shape(e, p[0])), 0.0, p[0]
    if c.kind == "compton":
        return (lambda e: klein_nishina_recoil_shape(e, p[0])), 0.0, compton_edge_kev(p[0])
    if c.kind == "flat":
        return (lambda e: np.ones_like(e)), p[0], p[1]
    if c.kind == "exponential":  # (slope, lo, hi)
        return (lambda e: np.exp(-(e - p[1]) / p[0])), p[1], p[2]
    if c.kind == "gauss":  # (mean, sigma)
        lo = max(0.0, p[0] - 6 * p[1])
        return (lambda e: np.exp(-0.5 * ((e - p[0]) / p[1]) ** 2)), lo, p[0] + 6 * p[1]
    raise SpectrumError(f"unknown continuum kind {c.kind!r}")


# --------------------------------------------------------------------------- channels


@dataclass(frozen=True)
class Channel:
    """One way a decay deposits energy.

    Attributes
    ----------
    weight : relative probability (normalised over the channels of a component).
    line_kev : line deposit (gamma ray / de-excitation absorbed in the xenon), keV.
    continuum : continuous deposit, or None.
    degrade : the continuum energy is multiplied by a uniform number (energy lost
        before reaching the xenon).
    depth_cm : mean depth of wall vertices below the surface (None: the component's).
    kind : event class (:data:`exonu.sim.kernels.K_SCINT` etc.).
    """

    weight: float
    line_kev: float = 0.0
    continuum: Continuum | None = None
    degrade: bool = False
    depth_cm: float | None = None
    kind: int = K.K_SCINT


def beta(weight: float, q: float, z: int, *, line: float = 0.0, unique: bool = False, **kw):
    """A beta channel (plus an absorbed de-excitation ``line``)."""
    return Channel(weight, line, Continuum("beta", (q, z, 1.0 if unique else 0.0)), **kw)


def gamma_channels(
    lines: Sequence[tuple[float, float]], density_g_cm3: float, absorbed: float = 0.3
) -> list[Channel]:
    """Channels of external gamma rays ``[(energy keV, intensity)]`` entering the xenon."""
    out = []
    for energy, intensity in lines:
        _mu, f_pe = xenon_attenuation(energy)
        p_full = f_pe + absorbed * (1.0 - f_pe)
        depth = attenuation_length_cm(energy, density_g_cm3)
        out.append(Channel(intensity * p_full, energy, None, depth_cm=depth))
        out.append(
            Channel(intensity * (1 - p_full), 0.0, Continuum("compton", (energy,)), depth_cm=depth)
        )
    return out


@dataclass(frozen=True)
class Decay:
    """A named decay scheme: its channels and where the numbers come from."""

    description: str
    channels: Callable[[float], list[Channel]]  # density_g_cm3 -> channels
    source: str = "ENSDF (NNDC), rounded"
    notes: str = ""


U238_GAMMAS = [  # 238U chain in secular equilibrium (234Th, 234mPa, 226Ra, 214Pb, 214Bi)
    (63.3, 3.7),
    (92.6, 5.6),
    (186.2, 3.6),
    (242.0, 7.3),
    (295.2, 18.4),
    (351.9, 35.6),
    (609.3, 45.5),
    (768.4, 4.9),
    (1001.0, 0.84),
    (1120.3, 14.9),
    (1238.1, 5.8),
    (1764.5, 15.3),
    (2204.2, 4.9),
]
U235_GAMMAS = [
    (143.8, 11.0),
    (163.4, 5.1),
    (185.7, 57.2),
    (205.3, 5.0),
    (236.0, 12.9),
    (269.5, 13.9),
    (271.2, 10.8),
    (401.8, 6.6),
]
TH232_GAMMAS = [  # 228Ac, 224Ra, 212Pb, 212Bi, 208Tl (x 0.359)
    (238.6, 43.6),
    (241.0, 4.1),
    (338.3, 11.3),
    (510.8, 8.1),
    (583.2, 30.5),
    (727.3, 6.7),
    (860.6, 4.5),
    (911.2, 25.8),
    (969.0, 15.8),
    (2614.5, 35.8),
]


def _pb210_copper(_rho: float) -> list[Channel]:
    return [
        beta(0.45, 1162.2, 84, degrade=True),  # 210Bi electrons leaving the copper
        beta(0.43, 63.5, 83, degrade=True),  # 210Pb betas + conversion electrons (sum)
        Channel(0.04, 46.5),  # 46.5 keV gamma escaping the copper
        Channel(0.02, 8.0),  # Cu K fluorescence x-rays
    ]


def _pb210_surface(_rho: float) -> list[Channel]:
    return [
        beta(0.34, 17.0, 83, line=46.5),  # de-excitation absorbed locally
        beta(0.08, 17.0, 83),  # 46.5 keV gamma escapes into the wall
        beta(0.08, 63.5, 83),
        beta(0.50, 1162.2, 84),  # 210Bi in equilibrium
    ]


def _rn222(_rho: float) -> list[Channel]:
    # one 214Pb and one 214Bi beta decay per 222Rn decay (alphas not simulated)
    return [
        beta(0.5 * 0.110, 1019.0, 83),
        beta(0.5 * 0.402, 724.0, 83, line=295.2),
        beta(0.5 * 0.459, 667.0, 83, line=351.9),
        beta(0.5 * 0.029, 180.0, 83, line=838.9),
        beta(0.5 * 0.191, 3270.0, 84),
        beta(0.5 * 0.809, 2661.0, 84, line=609.3),
    ]


def _k40_pmt(rho: float) -> list[Channel]:
    # 10.7 % of the decays emit the 1461 keV gamma; betas in the PMT glass make
    # Cherenkov light in about a quarter of the decays (assumption; XMASS §3.2 fn. 7)
    chans = gamma_channels([(1460.8, 10.7)], rho)
    return [*chans, Channel(0.25 * 89.3, 0.0, None, depth_cm=0.01, kind=K.K_CHERENKOV)]


DECAYS: dict[str, Decay] = {
    "pb210_copper": Decay(
        "210Pb/210Bi in the copper plates and rings: electrons degraded in the copper, "
        "46.5 keV gammas and Cu x-rays reaching the xenon",
        _pb210_copper,
        notes="channel weights are assumptions tuned to a flat low-energy spectrum",
    ),
    "pb210_surface": Decay("210Pb/210Bi plated out on the inner surface", _pb210_surface),
    "u238_pmt": Decay("238U chain gammas from the PMTs", lambda r: gamma_channels(U238_GAMMAS, r)),
    "u235_pmt": Decay("235U chain gammas from the PMTs", lambda r: gamma_channels(U235_GAMMAS, r)),
    "th232_pmt": Decay(
        "232Th chain gammas from the PMTs", lambda r: gamma_channels(TH232_GAMMAS, r)
    ),
    "k40_pmt": Decay("40K in the PMTs: 1461 keV gamma and Cherenkov events", _k40_pmt),
    "co60_pmt": Decay(
        "60Co in the PMTs (1173 and 1332 keV gammas)",
        lambda r: gamma_channels([(1173.2, 99.85), (1332.5, 99.98)], r),
    ),
    "rn222": Decay("222Rn daughters 214Pb and 214Bi dissolved in the xenon", _rn222),
    "kr85": Decay(
        "85Kr beta decay (unique first forbidden)",
        lambda r: [
            beta(0.9956, 687.0, 37, unique=True),
            beta(0.0044, 173.4, 37, line=514.0),
        ],
    ),
    "ar39": Decay(
        "39Ar beta decay (unique first forbidden)",
        lambda r: [beta(1.0, 565.0, 19, unique=True)],
    ),
    "c14": Decay("14C beta decay", lambda r: [beta(1.0, 156.5, 7)]),
    "xe136": Decay(
        "136Xe two-neutrino double-beta decay",
        lambda r: [Channel(1.0, 0.0, Continuum("double_beta", (2457.8,)))],
        source="Primakoff & Rosen (1959); Q from ENSDF",
    ),
    "i125": Decay(
        "125I electron capture: 35.5 keV gamma plus K/L/M-shell binding energy",
        lambda r: [Channel(0.801, 67.3), Channel(0.156, 40.4), Channel(0.043, 36.5)],
        source="XENON1T, PRD 102 (2020) 072004",
    ),
    "xe131m": Decay("131mXe isomeric transition (163.9 keV)", lambda r: [Channel(1.0, 163.93)]),
    "xe133": Decay(
        "133Xe beta decay to the 81.0 keV level of 133Cs",
        lambda r: [beta(1.0, 346.4, 55, line=81.0)],
    ),
}


# --------------------------------------------------------------------------- spectra


@dataclass
class ChannelArrays:
    """The channel arrays of one component as the kernel takes them."""

    cum: np.ndarray
    line: np.ndarray
    table: np.ndarray
    depth: np.ndarray
    kind: np.ndarray
    tables: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)


def channel_arrays(
    channels: Sequence[Channel], default_depth_cm: float, max_deposit_kev: float = np.inf
) -> ChannelArrays:
    """Normalise channel weights and tabulate their deposits below ``max_deposit_kev``.

    Channels (or the part of a channel's continuum) that would deposit more than
    ``max_deposit_kev`` are dropped; ``extra['kept_fraction']`` is the fraction of the
    decays kept (the simulated activity is the decay rate times this fraction).
    Cherenkov, muon and after-pulse channels (no or special deposits) are always kept.
    """
    w_all = np.array([c.weight for c in channels], dtype=np.float64)
    if len(w_all) == 0 or np.any(w_all < 0) or not w_all.sum() > 0:
        raise SpectrumError("a spectrum needs channels with positive total weight")
    cache: dict[tuple[Any, ...], tuple[int, float]] = {}
    tables: list[np.ndarray] = []
    kept: list[tuple[Channel, float, int]] = []
    for c in channels:
        if c.kind != K.K_SCINT and c.kind != K.K_MUON:
            kept.append((c, c.weight, -1))
            continue
        if c.continuum is None:
            if c.line_kev < max_deposit_kev:
                kept.append((c, c.weight, -1))
            continue
        cut = max_deposit_kev - c.line_kev
        if c.kind == K.K_MUON:
            cut = np.inf
        key = (*c.continuum.key(), c.degrade, cut)
        if key not in cache:
            pdf, lo, hi = continuum_pdf(c.continuum)
            table, frac = deposit_table(pdf, lo, hi, degrade=c.degrade, cut_kev=cut)
            if table is not None:
                tables.append(table)
            cache[key] = (len(tables) - 1 if table is not None else -1, frac)
        idx, frac = cache[key]
        if idx >= 0 and frac > 0:
            kept.append((c, c.weight * frac, idx))
    w = np.array([k[1] for k in kept], dtype=np.float64)
    if len(w) == 0 or not w.sum() > 0:
        raise SpectrumError(f"no deposit below max_deposit_kev = {max_deposit_kev}")
    if not tables:
        tables.append(np.zeros(TABLE_CELLS + 1))
    cum = np.cumsum(w / w.sum())
    cum[-1] = 1.0
    return ChannelArrays(
        cum=cum,
        line=np.array([c.line_kev for c, _, _ in kept], dtype=np.float64),
        table=np.array([i for _, _, i in kept], dtype=np.int64),
        depth=np.array(
            [default_depth_cm if c.depth_cm is None else c.depth_cm for c, _, _ in kept],
            dtype=np.float64,
        ),
        kind=np.array([c.kind for c, _, _ in kept], dtype=np.int64),
        tables=np.ascontiguousarray(np.array(tables)),
        extra={"kept_fraction": float(w.sum() / w_all.sum())},
    )


def spectrum_channels(
    spec: Mapping[str, Any],
    key: str,
    density_g_cm3: float,
    rate_function: Callable[[np.ndarray], np.ndarray] | None = None,
) -> list[Channel]:
    """Channels of a configured spectrum ``spec`` (``key`` names it in error messages).

    Shapes: ``line`` (``energy_kev``, optional ``sigma_kev``), ``flat`` (``range_kev``),
    ``exponential`` (``slope_kev``, ``range_kev``), ``beta`` (``q_kev``, optional
    ``z_daughter``, ``forbidden``), ``double_beta`` (``q_kev``), ``gammas``
    (``lines_kev``, ``intensities``), ``decay`` (``decay``: a name of :data:`DECAYS`),
    ``solar_nu_sm`` (``max_kev``; needs ``rate_function``).
    """
    shape = spec.get("shape")

    def need(name: str) -> Any:
        if name not in spec:
            raise SpectrumError(f"{key}.{name}: required for shape {shape!r}")
        return spec[name]

    if shape == "line":
        e = float(need("energy_kev"))
        sigma = spec.get("sigma_kev")
        if sigma:
            return [Channel(1.0, 0.0, Continuum("gauss", (e, float(sigma))))]
        return [Channel(1.0, e)]
    if shape == "flat":
        lo, hi = (float(v) for v in need("range_kev"))
        return [Channel(1.0, 0.0, Continuum("flat", (lo, hi)))]
    if shape == "exponential":
        lo, hi = (float(v) for v in spec.get("range_kev", (0.0, 300.0)))
        return [Channel(1.0, 0.0, Continuum("exponential", (float(need("slope_kev")), lo, hi)))]
    if shape == "beta":
        unique = spec.get("forbidden", "allowed") == "unique_first"
        return [beta(1.0, float(need("q_kev")), int(spec.get("z_daughter", 0)), unique=unique)]
    if shape == "double_beta":
        return [Channel(1.0, 0.0, Continuum("double_beta", (float(need("q_kev")),)))]
    if shape == "gammas":
        lines = [float(v) for v in need("lines_kev")]
        inten = [float(v) for v in spec.get("intensities", [1.0] * len(lines))]
        if len(inten) != len(lines):
            raise SpectrumError(f"{key}.intensities: need one per entry of lines_kev")
        return gamma_channels(list(zip(lines, inten, strict=True)), density_g_cm3)
    if shape == "decay":
        name = need("decay")
        if name not in DECAYS:
            raise SpectrumError(f"{key}.decay: unknown decay {name!r} (known: {sorted(DECAYS)})")
        return DECAYS[name].channels(density_g_cm3)
    if shape == "solar_nu_sm":
        if rate_function is None:
            raise SpectrumError(f"{key}: shape solar_nu_sm needs the physics settings")
        return [Channel(1.0, 0.0, None)]  # replaced by a tabulated continuum by the caller
    raise SpectrumError(
        f"{key}.shape: unknown shape {shape!r} (line, flat, exponential, beta, double_beta, "
        f"gammas, decay, solar_nu_sm)"
    )


def tabulated_channel_arrays(
    pdf: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, depth_cm: float
) -> ChannelArrays:
    """A single continuum channel from an arbitrary density (solar neutrinos, signals)."""
    table = inverse_cdf_table(pdf, lo, hi)
    return ChannelArrays(
        cum=np.array([1.0]),
        line=np.zeros(1),
        table=np.zeros(1, np.int64),
        depth=np.array([depth_cm]),
        kind=np.zeros(1, np.int64),
        tables=table[None, :].copy(),
        extra={"kept_fraction": 1.0},
    )
