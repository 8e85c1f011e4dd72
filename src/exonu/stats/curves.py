"""Profiled Δχ² curves (one coupling) and surfaces (two couplings).

* :func:`delta_chi2_curve` — Δχ²(θ) of one signal, all nuisances profiled, relative to the best
  fit in the allowed range (Khan, arXiv:2006.12887, Fig. 3: one curve per parameter and
  flavour).
* :func:`contour_2d` — Δχ²(θ_a, θ_b) on a grid for two signals fitted together
  (S = S_a(x_a) + S_b(x_b), e.g. the millicharges of ν_e and ν_μ, Khan Fig. 5), with the 2-dof
  thresholds of the requested levels (4.61 for 90 %, 9.21 for 99 %). Drawing the contour
  lines is left to :mod:`exonu.products` (computation and plotting stay apart).

Values are physical (θ = x · scale) in and out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from exonu.stats.errors import LimitError
from exonu.stats.fit import Fitter
from exonu.stats.limits import Profile
from exonu.stats.model import BinnedModel, Likelihood
from exonu.stats.workspace import Workspace

__all__ = ["Contour2D", "DeltaChi2Curve", "contour_2d", "delta_chi2_curve"]


@dataclass(frozen=True)
class DeltaChi2Curve:
    """Profiled Δχ² of one coupling at the requested values (physical units)."""

    signal: str
    parameter: str
    unit: str
    flavour: str
    likelihood: str
    values: tuple[float, ...]
    chi2: tuple[float, ...]
    delta_chi2: tuple[float, ...]
    chi2_best: float
    best_fit: float
    valid: tuple[bool, ...]
    workspace_digest: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready representation."""
        return asdict(self)


@dataclass(frozen=True)
class Contour2D:
    """Profiled Δχ² of two couplings on a grid (physical units).

    ``delta_chi2[i][j]`` belongs to ``values_a[i]``, ``values_b[j]``; the region inside a
    contour at level L is Δχ² ≤ ``thresholds`` of L (χ² quantile with 2 degrees of freedom).
    """

    signals: tuple[str, str]
    parameters: tuple[str, str]
    units: tuple[str, str]
    likelihood: str
    values_a: tuple[float, ...]
    values_b: tuple[float, ...]
    delta_chi2: tuple[tuple[float, ...], ...]
    chi2_best: float
    best_fit: tuple[float, float]
    levels: tuple[float, ...]
    thresholds: tuple[float, ...]
    valid: bool
    n_failed: int
    workspace_digest: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready representation."""
        return asdict(self)


def delta_chi2_curve(
    ws: Workspace,
    signal: str,
    values: Sequence[float] | npt.ArrayLike,
    likelihood: Likelihood = "chi2",
    *,
    data_variance_floor: float = 1.0,
) -> DeltaChi2Curve:
    """Profiled Δχ² of ``signal`` at physical ``values`` of its coupling.

    Raises
    ------
    LimitError
        If a value lies outside the allowed range of the coupling.
    """
    model = BinnedModel(ws, signal, likelihood, data_variance_floor=data_variance_floor)
    sig = model.signals[0]
    xs = np.asarray(values, dtype=np.float64).ravel() / sig.scale
    prof = Profile(model, signal)
    for v, x in zip(np.ravel(values), xs, strict=True):
        if not prof.lower <= x <= prof.upper:
            raise LimitError(
                f"signal {signal!r}: value {v:g} {sig.unit} is outside the allowed range "
                f"[{prof.lower * sig.scale:g}, {prof.upper * sig.scale:g}]"
            )
    # Evaluate outwards from the best fit so every fit starts from a converged neighbour.
    order = np.argsort(np.abs(xs - prof.x_hat), kind="stable")
    chi2 = np.empty(xs.size)
    valid = np.empty(xs.size, dtype=bool)
    for i in order:
        chi2[i] = prof.chi2(float(xs[i]))
        valid[i] = prof.points[float(xs[i])].valid
    cmin = min(prof.chi2_min, float(chi2.min()) if chi2.size else math.inf)
    return DeltaChi2Curve(
        signal=signal,
        parameter=sig.parameter,
        unit=sig.unit,
        flavour=sig.flavour,
        likelihood=likelihood,
        values=tuple(float(v) for v in xs * sig.scale),
        chi2=tuple(float(c) for c in chi2),
        delta_chi2=tuple(float(c - cmin) for c in chi2),
        chi2_best=float(cmin),
        best_fit=float(prof.x_hat * sig.scale),
        valid=tuple(bool(v) for v in valid),
        workspace_digest=ws.digest(),
    )


def _default_range(model: BinnedModel, signal: str, level: float) -> tuple[float, float]:
    prof = Profile(model, signal)
    hi = prof.crossing(level, +1)
    hi = prof.upper if hi is None else hi
    lo = prof.crossing(level, -1) if prof.lower < prof.x_hat else prof.lower
    lo = prof.lower if lo is None else lo
    pad = 0.15 * (hi - lo)
    return max(lo - pad, prof.lower), min(hi + pad, prof.upper)


def contour_2d(
    ws: Workspace,
    signals: tuple[str, str],
    levels: Sequence[float] = (0.90, 0.99),
    grid: tuple[Sequence[float], Sequence[float]] | None = None,
    *,
    n_grid: int = 25,
    likelihood: Likelihood = "chi2",
    data_variance_floor: float = 1.0,
) -> Contour2D:
    """Profiled Δχ² of two couplings fitted together, on a grid.

    Parameters
    ----------
    ws : Workspace
        The workspace; both signals must share the fit window and free backgrounds.
    signals : (str, str)
        The two signals (one coupling each).
    levels : sequence of float
        Confidence levels of the contours (2 degrees of freedom).
    grid : (values_a, values_b), optional
        Physical grid values; by default ``n_grid`` points per axis spanning the 1-dof
        profile interval of each coupling at the largest level's 2-dof threshold, +15 %.
    n_grid : int
        Points per axis of the default grid.
    likelihood : {"chi2", "poisson"}
        Cost function.
    data_variance_floor : float
        See :class:`~exonu.stats.model.BinnedModel`.
    """
    a, b = signals
    model = BinnedModel(ws, [a, b], likelihood, data_variance_floor=data_variance_floor)
    sa, sb = model.signals
    thresholds = tuple(float(stats.chi2.ppf(cl, 2)) for cl in levels)
    if grid is None:
        lo_a, hi_a = _default_range(model, a, max(thresholds))
        lo_b, hi_b = _default_range(model, b, max(thresholds))
        xa = np.linspace(lo_a, hi_a, n_grid)
        xb = np.linspace(lo_b, hi_b, n_grid)
    else:
        xa = np.asarray(grid[0], dtype=np.float64) / sa.scale
        xb = np.asarray(grid[1], dtype=np.float64) / sb.scale
    fitter = Fitter(model)
    best = fitter.fit()
    chi2 = np.full((xa.size, xb.size), np.nan)
    n_failed = 0
    start = best.array
    for i, x_a in enumerate(xa):
        # Serpentine order: each fit starts from its grid neighbour.
        cols = range(xb.size) if i % 2 == 0 else range(xb.size - 1, -1, -1)
        for j in cols:
            res = fitter.fit({a: float(x_a), b: float(xb[j])}, start=start, strategy=0)
            if not res.valid:
                retry = fitter.fit({a: float(x_a), b: float(xb[j])}, start=best.array)
                if retry.valid or retry.chi2 < res.chi2:
                    res = retry
            n_failed += not res.valid
            chi2[i, j] = res.chi2
            start = res.array if res.valid else best.array
    cmin = min(best.chi2, float(np.nanmin(chi2)))
    return Contour2D(
        signals=(a, b),
        parameters=(sa.parameter, sb.parameter),
        units=(sa.unit, sb.unit),
        likelihood=likelihood,
        values_a=tuple(float(v) for v in xa * sa.scale),
        values_b=tuple(float(v) for v in xb * sb.scale),
        delta_chi2=tuple(tuple(float(c - cmin) for c in row) for row in chi2),
        chi2_best=float(cmin),
        best_fit=(float(best.values[0] * sa.scale), float(best.values[1] * sb.scale)),
        levels=tuple(float(v) for v in levels),
        thresholds=thresholds,
        valid=best.valid and n_failed == 0,
        n_failed=n_failed,
        workspace_digest=ws.digest(),
    )
