"""Detector energy resolution: a Gaussian with a configurable width σ(E).

The width is built from three terms, combined linearly (``form="linear_sum"``) or in
quadrature (``form="quadrature_sum"``), with E the deposited (true) energy in keV:

.. math::

   \\sigma_{lin}(E) = a\\sqrt{E} + b\\,E + c, \\qquad
   \\sigma_{quad}(E) = \\sqrt{a^2 E + b^2 E^2 + c^2},

a in √keV (photon/electron statistics), b dimensionless (a constant relative term), c in keV
(noise). XENON1T (Aprile et al., PRD 102 (2020) 072004; A. N. Khan arXiv:2006.12887 §II;
docs/physics.md §E.3) is ``linear_sum`` with a = 0.3171, b = 0.0015, c = 0, i.e.
σ(E)/E = 0.3171/√(E/keV) + 0.0015. With all three terms zero there is no smearing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from exonu.external.errors import ReleaseError

__all__ = ["Resolution", "ResolutionForm"]

ResolutionForm = Literal["linear_sum", "quadrature_sum"]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Resolution:
    """Gaussian energy resolution σ(E) (module docstring).

    Attributes
    ----------
    form : {"linear_sum", "quadrature_sum"}
        How the terms combine.
    a_sqrt_kev : float
        Stochastic term a [√keV].
    b : float
        Relative term b.
    c_kev : float
        Constant term c [keV].
    """

    form: ResolutionForm = "linear_sum"
    a_sqrt_kev: float = 0.3171
    b: float = 0.0015
    c_kev: float = 0.0

    def __post_init__(self) -> None:
        if self.form not in ("linear_sum", "quadrature_sum"):
            raise ReleaseError(
                f"config key 'release.resolution.form': {self.form!r}, expected linear_sum or "
                "quadrature_sum"
            )
        for key in ("a_sqrt_kev", "b", "c_kev"):
            v = getattr(self, key)
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise ReleaseError(f"config key 'release.resolution.{key}': {v!r}, expected >= 0")

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any] | None) -> Resolution:
        """From the ``release.resolution`` config block (missing keys take the defaults)."""
        m = dict(m or {})
        unknown = set(m) - {"form", "a_sqrt_kev", "b", "c_kev"}
        if unknown:
            raise ReleaseError(f"config key 'release.resolution.{sorted(unknown)[0]}' is unknown")
        return cls(**m)

    def to_mapping(self) -> dict[str, Any]:
        """The config block of this resolution."""
        return {"form": self.form, "a_sqrt_kev": self.a_sqrt_kev, "b": self.b, "c_kev": self.c_kev}

    @property
    def is_perfect(self) -> bool:
        """True if σ ≡ 0 (no smearing)."""
        return self.a_sqrt_kev == 0 and self.b == 0 and self.c_kev == 0

    def sigma_kev(self, energy_kev: npt.ArrayLike) -> FloatArray:
        """σ(E) [keV] at deposited energies E [keV] (negative E treated as 0)."""
        e = np.maximum(np.asarray(energy_kev, dtype=np.float64), 0.0)
        if self.form == "linear_sum":
            out = self.a_sqrt_kev * np.sqrt(e) + self.b * e + self.c_kev
        else:
            out = np.sqrt(self.a_sqrt_kev**2 * e + (self.b * e) ** 2 + self.c_kev**2)
        return np.asarray(out, dtype=np.float64)

    def describe(self) -> str:
        """One line for logs and the response's ``source``."""
        if self.is_perfect:
            return "no smearing"
        if self.form == "linear_sum":
            return f"sigma(E) = {self.a_sqrt_kev:g}*sqrt(E/keV) + {self.b:g}*E + {self.c_kev:g} keV"
        return (
            f"sigma(E) = sqrt(({self.a_sqrt_kev:g})^2*E/keV + ({self.b:g}*E)^2 + "
            f"({self.c_kev:g} keV)^2)"
        )
