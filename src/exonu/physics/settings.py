"""Physics settings: flux set, oscillations, weak mixing angle, atomic model.

One immutable :class:`PhysicsSettings` object carries every physics choice that changes a
rate, so that it can be hashed (rates are cached per settings), written to provenance
sidecars (:meth:`PhysicsSettings.to_mapping`) and read back from a configuration block
(:meth:`PhysicsSettings.from_mapping`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from exonu.physics.errors import PhysicsError
from exonu.physics.fluxes import FLUX_SETS

__all__ = [
    "ATOMIC_MODELS",
    "FLAVOUR_COMPOSITIONS",
    "PhysicsSettings",
]

#: Atomic models: free electrons (Z = 54 for every T), the stepping approximation
#: (XMASS eq. 2), the equivalent-photon approximation for the millicharge (docs/physics.md §D.3),
#: a user table of ab-initio/free-electron ratios.
ATOMIC_MODELS = ("free", "stepping", "epa", "rrpa_table")
#: Flavour compositions at Earth: XMASS's fixed 54/23/23 %, user fixed fractions, adiabatic MSW.
FLAVOUR_COMPOSITIONS = ("xmass", "fixed", "msw")
_RRPA_REFERENCES = ("free", "stepping")
_RRPA_OUTSIDE = ("stepping", "error")


def _check_fraction(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and 0.0 <= value <= 1.0):
        raise PhysicsError(f"PhysicsSettings.{name}: expected a number in [0, 1], got {value!r}")


def _check_positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0.0):
        raise PhysicsError(f"PhysicsSettings.{name}: expected a positive number, got {value!r}")


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise PhysicsError(
            f"PhysicsSettings.{name}: expected one of {', '.join(choices)}, got {value!r}"
        )


@dataclass(frozen=True)
class PhysicsSettings:
    """Every physics choice entering the electron-recoil rate.

    Parameters
    ----------
    flux_set : str
        Solar-model flux normalisations (docs/physics.md §A.1): ``"xmass"`` (pp 5.98×10¹⁰ ± 0.6 %,
        ⁷Be 5.00×10⁹ ± 7 % only, XMASS §4.2), ``"shp11_gs98"``, ``"b16_gs98"``,
        ``"b16_agss09met"`` (all eight sources).
    sources : tuple of str or None
        Subset of the flux set's sources to include (``pp``, ``pep``, ``hep``, ``be7``, ``b8``,
        ``n13``, ``o15``, ``f17``); ``None`` = all sources of the flux set.
    flavour_composition : str
        ``"xmass"``: energy-independent ν_e/ν_μ/ν_τ = 0.54/0.23/0.23 (XMASS §4.2);
        ``"fixed"``: energy-independent :attr:`flavour_fractions`; ``"msw"``: adiabatic LMA-MSW
        survival probability (Khan-1T eq. 9) with the production-zone-averaged electron density of
        each source (docs/physics.md §B.1), 1 − P_ee split as cos²θ₂₃ : sin²θ₂₃ (Khan-1T eq. 8).
    flavour_fractions : tuple of float
        (ν_e, ν_μ, ν_τ) fractions used by ``flavour_composition="fixed"``; must sum to 1.
    sin2_theta12, sin2_theta13, sin2_theta23 : float
        Mixing angles (PDG 2022 defaults: R. L. Workman et al., PTEP 2022 (2022) 083C01;
        sin²θ₂₃ = 0.546 ± 0.021 is the normal-ordering global value, upper octant, so that
        ν_μ and ν_τ carry cos²θ₂₃ = 0.454 and sin²θ₂₃ = 0.546 of 1 − P_ee as in Khan-1T eq. 8 —
        with maximal mixing, 0.5, their limits would be identical).
    dm2_21_ev2 : float
        Solar mass splitting Δm²₂₁ [eV²].
    sin2_theta_w : float
        Weak mixing angle used at tree level (PDG 2022 low-Q² value 0.23857).
    radiative_corrections : bool
        Use the Bahcall–Kamionkowski–Sirlin ρ/κ(T)-corrected couplings (PRD 51 (1995) 6146,
        App. A; docs/physics.md §C.1) instead of the tree-level ones; :attr:`sin2_theta_w` is then
        replaced by :attr:`bks_sin2_theta_w` as in that paper.
    bks_rho, bks_sin2_theta_w : float
        ρ and s² (MS-bar at M_Z) of the BKS corrections (1.0126, 0.2317).
    atomic_model : str
        ``"free"`` (Z = 54 free electrons), ``"stepping"`` (XMASS eq. 2 with xraydb binding
        energies), ``"epa"`` (stepping for everything except the pure millicharge term, which is
        max(EPA, stepping) for 0.1 keV ≤ T ≤ :attr:`epa_max_kev`, docs/physics.md §D.3) or
        ``"rrpa_table"``
        (stepping multiplied by the user table :attr:`rrpa_table`).
    rrpa_table : str or None
        Path of a two-column text file ``energy_kev ratio`` (ab-initio / free-electron), needed
        by ``atomic_model="rrpa_table"`` and rejected otherwise.
    rrpa_reference : str
        What the table's ratio is relative to: ``"free"`` (54 unbound electrons) or
        ``"stepping"``.
    rrpa_outside : str
        Outside the table's energy range: ``"stepping"`` (fall back to the stepping
        approximation) or ``"error"``.
    pp_endpoint_kev : float
        pp neutrino end point [keV]. Default 423.41 keV, the end point of Bahcall's solar pp
        table (PRC 56 (1997) 3391), which includes the thermal energy of the fusing protons;
        the laboratory value is 420.22 keV (docs/physics.md §A.2).
    neutrino_mass_ev : float
        Neutrino mass [eV] cutting off the collinear logarithm of the EPA.
    epa_max_kev : float
        Highest recoil energy [keV] at which the EPA is considered (validity ≲ 10–20 keV; at
        20 keV the EPA is already below the stepping value). Below 0.1 keV (end of the xraydb
        photoabsorption data) the stepping approximation is used.
    quadrature_nodes : int
        Gauss–Legendre nodes per continuum source in the neutrino-energy integral.
    """

    flux_set: str = "xmass"
    sources: tuple[str, ...] | None = None
    flavour_composition: str = "xmass"
    flavour_fractions: tuple[float, float, float] = (0.54, 0.23, 0.23)
    sin2_theta12: float = 0.307
    sin2_theta13: float = 0.0220
    dm2_21_ev2: float = 7.53e-5
    sin2_theta23: float = 0.546
    sin2_theta_w: float = 0.23857
    radiative_corrections: bool = False
    bks_rho: float = 1.0126
    bks_sin2_theta_w: float = 0.2317
    atomic_model: str = "stepping"
    rrpa_table: str | None = None
    rrpa_reference: str = "free"
    rrpa_outside: str = "stepping"
    pp_endpoint_kev: float = 423.41
    neutrino_mass_ev: float = 0.01
    epa_max_kev: float = 20.0
    quadrature_nodes: int = 64

    def __post_init__(self) -> None:
        _check_choice("flux_set", self.flux_set, tuple(FLUX_SETS))
        if self.sources is not None:
            if isinstance(self.sources, str) or not all(isinstance(s, str) for s in self.sources):
                raise PhysicsError(
                    f"PhysicsSettings.sources: expected a list of source names or None, "
                    f"got {self.sources!r}"
                )
            sources = tuple(self.sources)
            object.__setattr__(self, "sources", sources)
            available = tuple(FLUX_SETS[self.flux_set])
            unknown = [s for s in sources if s not in available]
            if unknown or not sources:
                raise PhysicsError(
                    f"PhysicsSettings.sources: {unknown or 'empty list'} not in flux set "
                    f"{self.flux_set!r} (available: {', '.join(available)})"
                )
        _check_choice("flavour_composition", self.flavour_composition, FLAVOUR_COMPOSITIONS)
        fractions = tuple(self.flavour_fractions)
        object.__setattr__(self, "flavour_fractions", fractions)
        if len(fractions) != 3:
            raise PhysicsError(
                f"PhysicsSettings.flavour_fractions: expected 3 numbers (e, mu, tau), "
                f"got {fractions!r}"
            )
        for value in fractions:
            _check_fraction("flavour_fractions", value)
        if abs(sum(fractions) - 1.0) > 1e-9:
            raise PhysicsError(
                f"PhysicsSettings.flavour_fractions: must sum to 1, got {fractions!r}"
            )
        for name in ("sin2_theta12", "sin2_theta13", "sin2_theta23", "sin2_theta_w"):
            _check_fraction(name, getattr(self, name))
        _check_fraction("bks_sin2_theta_w", self.bks_sin2_theta_w)
        for name in ("dm2_21_ev2", "bks_rho", "neutrino_mass_ev", "epa_max_kev"):
            _check_positive(name, getattr(self, name))
        if not isinstance(self.radiative_corrections, bool):
            raise PhysicsError(
                f"PhysicsSettings.radiative_corrections: expected true/false, "
                f"got {self.radiative_corrections!r}"
            )
        _check_choice("atomic_model", self.atomic_model, ATOMIC_MODELS)
        _check_choice("rrpa_reference", self.rrpa_reference, _RRPA_REFERENCES)
        _check_choice("rrpa_outside", self.rrpa_outside, _RRPA_OUTSIDE)
        if self.atomic_model == "rrpa_table" and not self.rrpa_table:
            raise PhysicsError(
                "PhysicsSettings.rrpa_table: atomic_model 'rrpa_table' needs the path of a "
                "two-column 'energy_kev ratio' file"
            )
        if self.rrpa_table is not None and self.atomic_model != "rrpa_table":
            raise PhysicsError(
                f"PhysicsSettings.rrpa_table is set but atomic_model is {self.atomic_model!r}; "
                "use atomic_model 'rrpa_table' or drop the table"
            )
        if self.rrpa_table is not None:
            object.__setattr__(self, "rrpa_table", str(self.rrpa_table))
        _check_positive("pp_endpoint_kev", self.pp_endpoint_kev)
        if not 400.0 <= self.pp_endpoint_kev <= 430.0:
            raise PhysicsError(
                f"PhysicsSettings.pp_endpoint_kev: expected 400-430 keV (lab 420.22, solar "
                f"table 423.41), got {self.pp_endpoint_kev!r}"
            )
        if not (
            isinstance(self.quadrature_nodes, int)
            and not isinstance(self.quadrature_nodes, bool)
            and 8 <= self.quadrature_nodes <= 2048
        ):
            raise PhysicsError(
                f"PhysicsSettings.quadrature_nodes: expected an integer in [8, 2048], "
                f"got {self.quadrature_nodes!r}"
            )

    @property
    def source_names(self) -> tuple[str, ...]:
        """Sources actually included (``sources`` or every source of the flux set)."""
        return self.sources if self.sources is not None else tuple(FLUX_SETS[self.flux_set])

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> PhysicsSettings:
        """Build settings from a configuration mapping, rejecting unknown keys.

        Parameters
        ----------
        mapping : mapping or None
            Keys are field names of :class:`PhysicsSettings`; lists are accepted for tuple
            fields. ``None`` or an empty mapping gives the defaults.

        Raises
        ------
        PhysicsError
            If a key is not a settings field (the message names it) or a value is invalid.
        """
        if mapping is None:
            return cls()
        if not isinstance(mapping, Mapping):
            raise PhysicsError(
                f"physics settings: expected a mapping of field names, got {type(mapping).__name__}"
            )
        known = {f.name for f in fields(cls)}
        for key in mapping:
            if key not in known:
                raise PhysicsError(
                    f"physics settings: unknown key {key!r} "
                    f"(known keys: {', '.join(sorted(known))})"
                )
        values = dict(mapping)
        for key in ("sources", "flavour_fractions"):
            if isinstance(values.get(key), list):
                values[key] = tuple(values[key])
        return cls(**values)

    def to_mapping(self) -> dict[str, Any]:
        """JSON-serialisable mapping of every field (inverse of :meth:`from_mapping`)."""
        out = asdict(self)
        for key in ("sources", "flavour_fractions"):
            if out[key] is not None:
                out[key] = list(out[key])
        return out
