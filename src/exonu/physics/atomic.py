"""Atomic response of xenon: free electrons, stepping, EPA, user ab-initio ratio tables.

* Free electrons: all Z = 54 electrons scatter as free at rest.
* Stepping approximation (XMASS eq. 2; Kouzakov, Studenikin, Voloshin PRD 83 (2011) 113001):
  electron i contributes only if T exceeds its binding energy B_i. Binding energies are the
  xraydb (Elam–Ravel–Sieber) edges of ``xray_edges('Xe')``; occupancies follow the subshell
  (s: 2, p½: 2, p3/2: 4, d3/2: 4, d5/2: 6), docs/physics.md §D.1, and must sum to 54.
* Equivalent-photon approximation for the millicharge (docs/physics.md §D.3): needs the real
  photoabsorption cross section of a xenon atom, from xraydb ``mu_elam(..., kind='photo')``.
* A user table of ab-initio (e.g. RRPA) / free-electron cross-section ratios, a two-column
  text file ``energy_kev ratio`` ('#' starts a comment), interpolated linearly in energy.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from exonu.physics.constants import AVOGADRO, XENON_ATOMS_PER_TONNE, XENON_MOLAR_MASS_G, XENON_Z
from exonu.physics.errors import PhysicsError
from exonu.physics.settings import PhysicsSettings

__all__ = [
    "SUBSHELL_OCCUPANCY",
    "active_electrons",
    "electron_targets_per_tonne",
    "load_ratio_table",
    "photoabsorption_cross_section_cm2",
    "xenon_shells",
]

#: Electrons per subshell, by the last character of the IUPAC edge name within a shell
#: (K = 1s; L1/M1/N1/O1 = s; L2/M2/N2/O2 = p½; L3/M3/N3/O3 = p3/2; M4/N4 = d3/2; M5/N5 = d5/2).
SUBSHELL_OCCUPANCY: dict[str, int] = {
    "K": 2,
    **{f"{shell}1": 2 for shell in "LMNO"},
    **{f"{shell}2": 2 for shell in "LMNO"},
    **{f"{shell}3": 4 for shell in "LMNO"},
    **{f"{shell}4": 4 for shell in "MN"},
    **{f"{shell}5": 6 for shell in "MN"},
}


@lru_cache(maxsize=1)
def xenon_shells() -> tuple[tuple[str, float, int], ...]:
    """Xenon subshells as (edge name, binding energy [keV], electrons), deepest first.

    Binding energies from xraydb ``xray_edges('Xe')`` (docs/physics.md §D.1 table).

    Raises
    ------
    PhysicsError
        If xraydb returns an edge without a known occupancy, or the electrons do not sum to 54.
    """
    import xraydb  # lazy: ~1 s to import, needed once (cached)

    shells = []
    for name, edge in xraydb.xray_edges("Xe").items():
        if name not in SUBSHELL_OCCUPANCY:
            raise PhysicsError(f"xraydb edge {name!r} of Xe has no known occupancy")
        shells.append((name, edge.energy * 1e-3, SUBSHELL_OCCUPANCY[name]))
    shells.sort(key=lambda item: -item[1])
    total = sum(n for _, _, n in shells)
    if total != XENON_Z:
        raise PhysicsError(f"xraydb Xe subshells hold {total} electrons, expected {XENON_Z}")
    return tuple(shells)


def active_electrons(recoil_kev: np.ndarray | float) -> np.ndarray:
    """Number of xenon electrons with binding energy below T (stepping approximation).

    Σ_i n_i θ(T − B_i), XMASS eq. (2); 54 above the K edge (34.561 keV).

    Parameters
    ----------
    recoil_kev : array_like
        Deposited energy T [keV].
    """
    t = np.asarray(recoil_kev, dtype=float)
    count = np.zeros(t.shape)
    for _, binding_kev, electrons in xenon_shells():
        count += np.where(t > binding_kev, electrons, 0)
    return count


def photoabsorption_cross_section_cm2(recoil_kev: np.ndarray | float) -> np.ndarray:
    """Photoabsorption cross section of one xenon atom at photon energy T [cm²].

    xraydb ``mu_elam('Xe', E_eV, kind='photo')`` [cm²/g] × A/N_A (docs/physics.md §D.3);
    e.g. 1.38×10⁻¹⁹ cm² at 5 keV. Elam tables cover 0.1–800 keV.
    """
    import xraydb  # lazy, as in xenon_shells: only the EPA treatment needs it

    t = np.atleast_1d(np.asarray(recoil_kev, dtype=float))
    if np.any(t < 0.1) or np.any(t > 800.0):
        raise PhysicsError(
            "energy_kev: the EPA photoabsorption table (xraydb/Elam) covers 0.1-800 keV, "
            f"got {t.min():g}-{t.max():g} keV"
        )
    mass_attenuation = np.asarray(xraydb.mu_elam("Xe", t * 1e3, kind="photo"), dtype=float)
    result = mass_attenuation * XENON_MOLAR_MASS_G / AVOGADRO
    return result.reshape(np.shape(recoil_kev))


@lru_cache(maxsize=16)
def load_ratio_table(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Read a two-column ``energy_kev ratio`` table of ab-initio / free-electron ratios.

    Parameters
    ----------
    path : str
        Text file; blank lines and text after '#' are ignored. Energies must be positive and
        strictly increasing, ratios finite and non-negative, at least two rows.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Energies [keV] and ratios.

    Raises
    ------
    PhysicsError
        Naming the file (and line) if it is missing or malformed.
    """
    file = Path(path)
    if not file.is_file():
        raise PhysicsError(f"rrpa_table: file {path!r} not found")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise PhysicsError(
            f"rrpa_table {path!r}: not a text file (byte {err.start} is not UTF-8), expected "
            "lines 'energy_kev ratio'"
        ) from None
    except OSError as err:
        raise PhysicsError(f"rrpa_table {path!r}: cannot read ({err.strerror})") from None
    energies: list[float] = []
    ratios: list[float] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.replace(",", " ").split()
        try:
            if len(parts) != 2:
                raise ValueError
            energy, ratio = float(parts[0]), float(parts[1])
        except ValueError:
            raise PhysicsError(
                f"rrpa_table {path!r} line {number}: expected two numbers 'energy_kev ratio', "
                f"got {raw.strip()!r}"
            ) from None
        if not (np.isfinite(energy) and energy > 0 and np.isfinite(ratio) and ratio >= 0):
            raise PhysicsError(
                f"rrpa_table {path!r} line {number}: expected energy_kev > 0 and a finite "
                f"ratio >= 0, got {raw.strip()!r}"
            )
        if energies and energy <= energies[-1]:
            raise PhysicsError(
                f"rrpa_table {path!r} line {number}: energies must increase strictly "
                f"({energy:g} after {energies[-1]:g} keV)"
            )
        energies.append(energy)
        ratios.append(ratio)
    if len(energies) < 2:
        raise PhysicsError(f"rrpa_table {path!r}: expected at least two rows, got {len(energies)}")
    return np.array(energies), np.array(ratios)


def electron_targets_per_tonne(
    recoil_kev: np.ndarray | float, settings: PhysicsSettings
) -> np.ndarray:
    """Effective number of free-electron targets per tonne of xenon at recoil energy T.

    The factor multiplying the free-electron cross section in XMASS eq. (2): 54 × atoms for
    ``free``; Σ_i θ(T − B_i) × atoms for ``stepping`` (and for ``epa``, whose EPA part is
    added separately for the millicharge); ratio(T) × (54 or stepping count) × atoms for
    ``rrpa_table`` inside the table range, stepping (or an error) outside.

    Parameters
    ----------
    recoil_kev : array_like
        Deposited energy T [keV].
    settings : PhysicsSettings
        Uses ``atomic_model`` and the ``rrpa_*`` fields.

    Returns
    -------
    numpy.ndarray
        Electrons per tonne (≤ 2.4769×10²⁹ unless the table ratio exceeds 1).
    """
    t = np.asarray(recoil_kev, dtype=float)
    if settings.atomic_model == "free":
        return np.full(t.shape, XENON_Z * XENON_ATOMS_PER_TONNE)
    stepping = active_electrons(t)
    if settings.atomic_model != "rrpa_table":
        return stepping * XENON_ATOMS_PER_TONNE
    assert settings.rrpa_table is not None
    energies, ratios = load_ratio_table(settings.rrpa_table)
    inside = (t >= energies[0]) & (t <= energies[-1])
    if settings.rrpa_outside == "error" and not np.all(inside):
        raise PhysicsError(
            f"energy_kev: {t[~inside].min():g}-{t[~inside].max():g} keV outside the rrpa_table "
            f"range {energies[0]:g}-{energies[-1]:g} keV (rrpa_outside='error')"
        )
    reference = np.full(t.shape, float(XENON_Z)) if settings.rrpa_reference == "free" else stepping
    ratio = np.interp(t, energies, ratios)
    return np.where(inside, ratio * reference, stepping) * XENON_ATOMS_PER_TONNE
