"""Curves tabulated in a release file: interpolation, extrapolation policy and exact integrals.

A published rate or efficiency is a list of (energy, value) pairs. Two readings are offered:

* ``"linear"`` — the values are samples of a smooth curve, linearly interpolated between the
  points (the efficiency of the XENONnT release, on a logarithmic grid);
* ``"histogram"`` — the values are bin contents at the bin centres, constant over each bin; the
  bin edges are the midpoints between neighbouring centres and the outer edges lie half a
  spacing beyond the first and last centre (the XENONnT background model, tabulated at 0.05,
  0.15, … keV, i.e. 0.1-keV bins). With explicit ``edges_kev`` (a published histogram given by
  its low and high bin edges, e.g. expected counts per bin) those edges are used instead.

:meth:`Tabulation.integrate` integrates either reading exactly over arbitrary bin edges, so
published rates turn into expected counts without a quadrature error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from exonu.external.errors import ReleaseError

__all__ = ["Outside", "Tabulation", "TabulationMode"]

TabulationMode = Literal["linear", "histogram"]
Outside = Literal["edge", "zero", "error"]
FloatArray = npt.NDArray[np.float64]

# Energies closer than this to the end of the tabulated range count as inside [keV].
_RANGE_TOL_KEV = 1e-9


@dataclass(frozen=True, eq=False)
class Tabulation:
    """A curve known at tabulated energies.

    Attributes
    ----------
    energies_kev : ndarray
        Strictly increasing energies [keV] (points, or bin centres for ``"histogram"``).
    values : ndarray
        Values at ``energies_kev`` (a rate per keV, or an efficiency).
    mode : {"linear", "histogram"}
        How to read the table (module docstring).
    outside : {"edge", "zero", "error"}
        Beyond the tabulated range: hold the edge value, use 0, or raise :class:`ReleaseError`.
    source : str
        Where the table came from (file and config key), used in error messages.
    edges_kev : ndarray or None
        Explicit bin edges of the ``"histogram"`` reading (one more than ``values``; the
        energies are then the bin centres). ``None``: midpoints between the centres.
    """

    energies_kev: FloatArray
    values: FloatArray
    mode: TabulationMode = "linear"
    outside: Outside = "error"
    source: str = "<table>"
    edges_kev: FloatArray | None = None

    def __post_init__(self) -> None:
        e = np.asarray(self.energies_kev, dtype=np.float64)
        v = np.asarray(self.values, dtype=np.float64)
        if e.ndim != 1 or e.shape != v.shape or e.size < 2:
            raise ReleaseError(f"{self.source}: need >= 2 (energy, value) pairs of equal length")
        if np.any(np.diff(e) <= 0):
            raise ReleaseError(f"{self.source}: energies must be strictly increasing")
        if self.mode not in ("linear", "histogram"):
            raise ReleaseError(f"{self.source}: tabulation {self.mode!r} is not linear/histogram")
        if self.outside not in ("edge", "zero", "error"):
            raise ReleaseError(f"{self.source}: outside {self.outside!r} is not edge/zero/error")
        if self.edges_kev is not None:
            edges = np.asarray(self.edges_kev, dtype=np.float64)
            if self.mode != "histogram":
                raise ReleaseError(f"{self.source}: explicit bin edges need the histogram reading")
            if edges.shape != (v.size + 1,) or np.any(np.diff(edges) <= 0):
                raise ReleaseError(
                    f"{self.source}: need {v.size + 1} strictly increasing bin edges for "
                    f"{v.size} bins"
                )
            object.__setattr__(self, "edges_kev", edges)
        object.__setattr__(self, "energies_kev", e)
        object.__setattr__(self, "values", v)

    # -- geometry --------------------------------------------------------------------------

    @property
    def bin_edges_kev(self) -> FloatArray:
        """Edges of the histogram reading (explicit edges, else midpoints and half a spacing
        beyond the ends)."""
        if self.edges_kev is not None:
            return self.edges_kev
        e = self.energies_kev
        mid = 0.5 * (e[1:] + e[:-1])
        return np.concatenate([[e[0] - (mid[0] - e[0])], mid, [e[-1] + (e[-1] - mid[-1])]])

    @property
    def range_kev(self) -> tuple[float, float]:
        """Energy range the table covers."""
        if self.mode == "histogram":
            edges = self.bin_edges_kev
            return float(edges[0]), float(edges[-1])
        return float(self.energies_kev[0]), float(self.energies_kev[-1])

    def _check_range(self, lo: float, hi: float) -> None:
        if self.outside != "error":
            return
        r_lo, r_hi = self.range_kev
        tol = _RANGE_TOL_KEV * max(1.0, abs(r_hi))
        if lo < r_lo - tol or hi > r_hi + tol:
            raise ReleaseError(
                f"{self.source}: needed from {lo:g} to {hi:g} keV but tabulated only from "
                f"{r_lo:g} to {r_hi:g} keV"
            )

    # -- evaluation ------------------------------------------------------------------------

    def __call__(self, energy_kev: npt.ArrayLike) -> FloatArray:
        """Value at ``energy_kev`` (array)."""
        x = np.asarray(energy_kev, dtype=np.float64)
        if x.size:
            self._check_range(float(x.min()), float(x.max()))
        lo, hi = self.range_kev
        if self.mode == "linear":
            out = np.interp(x, self.energies_kev, self.values)
        else:
            idx = np.clip(np.searchsorted(self.bin_edges_kev, x, side="right") - 1, 0, None)
            out = self.values[np.minimum(idx, self.values.size - 1)]
        if self.outside == "zero":
            out = np.where((x < lo) | (x > hi), 0.0, out)
        return np.asarray(out, dtype=np.float64)

    def _cumulative(self, x: FloatArray) -> FloatArray:
        """∫ from the start of the range to x of the curve (x clipped to the range)."""
        lo, hi = self.range_kev
        xc = np.clip(x, lo, hi)
        if self.mode == "histogram":
            edges = self.bin_edges_kev
            cum = np.concatenate([[0.0], np.cumsum(self.values * np.diff(edges))])
            return np.asarray(np.interp(xc, edges, cum), dtype=np.float64)
        e, v = self.energies_kev, self.values
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(e))])
        k = np.clip(np.searchsorted(e, xc, side="right") - 1, 0, e.size - 2)
        dx = xc - e[k]
        slope = (v[k + 1] - v[k]) / (e[k + 1] - e[k])
        return np.asarray(cum[k] + v[k] * dx + 0.5 * slope * dx * dx, dtype=np.float64)

    def integrate(self, edges_kev: npt.ArrayLike) -> FloatArray:
        """Exact integral of the curve over each bin of ``edges_kev`` (value × keV).

        Outside the tabulated range the ``outside`` policy applies: ``"edge"`` adds the edge
        value times the length outside, ``"zero"`` adds nothing, ``"error"`` raises.
        """
        edges = np.asarray(edges_kev, dtype=np.float64)
        self._check_range(float(edges[0]), float(edges[-1]))
        cum = self._cumulative(edges)
        out = np.diff(cum)
        if self.outside == "edge":
            lo, hi = self.range_kev
            below = np.clip(np.minimum(edges[1:], lo) - edges[:-1], 0.0, None)
            above = np.clip(edges[1:] - np.maximum(edges[:-1], hi), 0.0, None)
            out = out + below * self.values[0] + above * self.values[-1]
        return np.asarray(out, dtype=np.float64)
