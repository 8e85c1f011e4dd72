"""Unbinned extended maximum likelihood for a release with unbinned data.

For the n events with reconstructed energies E_i in the window [E_lo, E_hi) the cost is
−2 ln L of the extended likelihood (Barlow, NIM A 297 (1990) 496) plus the same Gaussian
activity constraints as the binned model (XMASS-I, PLB 809 (2020) 135741, eq. 7):

.. math::

   C(x, p) = 2\\Big[\\nu(x, p) - \\sum_i \\ln f(E_i; x, p)\\Big]
             + \\sum_{j \\in C} \\frac{(1 - p_j)^2}{\\sigma_j^2},

   f(E; x, p) = \\sum_j p_j\\, b_j(E) + \\sum_k x^k s_k(E), \\qquad
   \\nu = \\int_{E_lo}^{E_hi} f\\,dE = \\sum_j p_j B_j + \\sum_k x^k S_k,

with b_j the background densities [events/keV] of :func:`exonu.external.workspace.
background_densities`, s_k the signal coefficient spectra folded with
:func:`exonu.external.response.response_density`, and B_j, S_k their integrals over the window
(the binned response summed over it, so ν is identical to the binned model's total). The
cost is a χ² (``errordef`` = 1).

:class:`UnbinnedModel` implements :class:`~exonu.stats.likelihood.LikelihoodModel` (analytic
gradient and Hessian, the activity scales bounded and constrained as in the binned model), so
it is fitted by :class:`~exonu.stats.fit.Fitter`, profiled by
:class:`~exonu.stats.limits.Profile` and its limits come from
:func:`~exonu.stats.limits.compute_limit`: the same code and conventions (Δχ² thresholds, the
Bayesian density exp(−C/2)) as the binned limits, with results of ``likelihood="unbinned"``.

No Monte-Carlo variance enters (the response is analytic). Where interference makes f ≤ ε
(10⁻¹² events/keV) the log is continued by its second-order Taylor expansion at ε, as the
binned Poisson model does.

Use :func:`unbinned_model` to build the model of one signal from a release, and
:func:`unbinned_limit` for its limit or interval.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from exonu.detector.folding import exposure_factor
from exonu.external.errors import ReleaseError
from exonu.external.release import Release
from exonu.external.response import response_density
from exonu.external.workspace import background_components, background_densities, response_for
from exonu.stats.errors import ModelError
from exonu.stats.likelihood import ParameterInfo, activity_parameter, parameter_index
from exonu.stats.limits import LimitResult, Method, compute_limit

__all__ = [
    "UnbinnedModel",
    "UnbinnedSignal",
    "checked_unbinned_limit",
    "unbinned_limit",
    "unbinned_model",
]

FloatArray = npt.NDArray[np.float64]
_EPS = 1e-12  # events/keV; continuation point of the log
_SCAN_CHUNK = 1 << 22  # grid points × events evaluated at once by poi_scan_cost


@dataclass(frozen=True)
class UnbinnedSignal:
    """The signal of an :class:`UnbinnedModel`: its labels (copied into the result), the powers
    k of its polynomial in x, the allowed x and the physical scale θ = x · ``scale``."""

    name: str
    model: str
    parameter: str
    unit: str
    flavour: str
    mediator_mass_mev: float | None
    treatment: str | None
    atomic_model: str | None
    scale: float
    powers: tuple[int, ...]
    x_bounds: tuple[float | None, float | None]

    @property
    def leading_power(self) -> int:
        """Highest power of x."""
        return max(self.powers)


@dataclass(frozen=True, eq=False)
class UnbinnedModel:
    """Extended unbinned likelihood of one signal (module docstring).

    Parameters are θ = (x, p_1..p_J), in the order of :attr:`parameters`.

    Attributes
    ----------
    events_kev : ndarray
        Energies of the events in the window.
    window_kev : tuple of float
        The window.
    background_names : tuple of str
        Components j.
    background_density : ndarray
        (J, n) b_j(E_i) [events/keV] at p_j = 1.
    background_total : ndarray
        (J,) B_j.
    relative_uncertainty : tuple
        σ_j (``None`` = free, 0 = fixed).
    signal : UnbinnedSignal
        The signal (powers k, bounds of x, scale, labels).
    signal_density : ndarray
        (K, n) s_k(E_i) [events/keV per unit x^k].
    signal_total : ndarray
        (K,) S_k.
    analysis : str
        Analysis name (copied into the result).
    """

    events_kev: FloatArray
    window_kev: tuple[float, float]
    background_names: tuple[str, ...]
    background_density: FloatArray
    background_total: FloatArray
    relative_uncertainty: tuple[float | None, ...]
    signal: UnbinnedSignal
    signal_density: FloatArray
    signal_total: FloatArray
    analysis: str = ""

    likelihood = "unbinned"
    errordef = 1.0
    n_poi = 1
    warnings: tuple[str, ...] = ()

    # -- parameters (exonu.stats.likelihood.LikelihoodModel) ----------------------------

    @cached_property
    def parameters(self) -> tuple[ParameterInfo, ...]:
        """x, then the activity scales p_j (bounds and constraints as in the binned model)."""
        lo, hi = self.signal.x_bounds
        return (
            ParameterInfo(self.signal.name, "poi", 0.0, lo, hi, None),
            *(
                activity_parameter(n, r)
                for n, r in zip(self.background_names, self.relative_uncertainty, strict=True)
            ),
        )

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Parameter names: the signal name, then ``p_<background>``."""
        return tuple(p.name for p in self.parameters)

    @property
    def npar(self) -> int:
        """Number of parameters."""
        return 1 + len(self.background_names)

    @property
    def n_bins(self) -> int:
        """Number of events (the observations of the fit)."""
        return int(self.events_kev.size)

    @property
    def signals(self) -> tuple[UnbinnedSignal]:
        """The signal of the one POI."""
        return (self.signal,)

    @cached_property
    def nominal(self) -> FloatArray:
        """Nominal parameters: x = 0, p_j = 1."""
        return np.array([p.nominal for p in self.parameters])

    @cached_property
    def aux(self) -> FloatArray:
        """Global observables of the activity constraints (1)."""
        return self.nominal[1:].copy()

    @cached_property
    def _pull_weight(self) -> FloatArray:
        return np.array([0.0 if p.sigma is None else p.sigma**-2 for p in self.parameters[1:]])

    @cached_property
    def _powers(self) -> FloatArray:
        return np.array(self.signal.powers, dtype=np.float64)

    # -- cost ----------------------------------------------------------------------------

    def _evaluate(
        self, theta: npt.ArrayLike, order: int
    ) -> tuple[float, FloatArray | None, FloatArray | None]:
        """Cost and, for ``order`` >= 1 and 2, its gradient and Hessian at θ = (x, p)."""
        th = np.asarray(theta, dtype=np.float64)
        x, p = th[0], th[1:]
        pw = self._powers
        xp = x**pw
        nu = p @ self.background_total + xp @ self.signal_total
        f = p @ self.background_density + xp @ self.signal_density
        low = f < _EPS
        d = (f - _EPS) / _EPS
        safe = np.where(low, 1.0, f)
        logf = np.where(low, math.log(_EPS) + d - 0.5 * d**2, np.log(safe))
        w = self._pull_weight
        dp = self.aux - p
        cost = 2.0 * (nu - logf.sum()) + float(np.sum(w * dp**2))
        if order < 1:
            return float(cost), None, None
        dlog = np.where(low, (1.0 - d) / _EPS, 1.0 / safe)
        dxp = pw * x ** (pw - 1.0)
        # df_i/dθ: row 0 the signal's dx, rows 1.. the background densities
        jac = np.vstack([dxp @ self.signal_density, self.background_density])
        grad = 2.0 * (
            np.concatenate([[dxp @ self.signal_total], self.background_total]) - jac @ dlog
        )
        grad[1:] -= 2.0 * w * dp
        if order < 2:
            return float(cost), grad, None
        d2log = np.where(low, -1.0 / _EPS**2, -1.0 / safe**2)
        hess = -2.0 * (jac * d2log) @ jac.T
        d2xp = np.where(pw >= 2, pw * (pw - 1.0) * x ** np.maximum(pw - 2.0, 0.0), 0.0)
        hess[0, 0] += 2.0 * (d2xp @ self.signal_total - (d2xp @ self.signal_density) @ dlog)
        hess[1:, 1:] += 2.0 * np.diag(w)
        return float(cost), grad, hess

    def __call__(self, theta: npt.ArrayLike) -> float:
        return self._evaluate(theta, 0)[0]

    def value_and_gradient(self, theta: npt.ArrayLike) -> tuple[float, FloatArray]:
        """Cost C and its gradient at θ = (x, p_1..p_J)."""
        value, grad, _ = self._evaluate(theta, 1)
        assert grad is not None
        return value, grad

    def gradient(self, theta: npt.ArrayLike) -> FloatArray:
        """Gradient of the cost."""
        return self.value_and_gradient(theta)[1]

    def hessian(self, theta: npt.ArrayLike) -> FloatArray:
        """Analytic Hessian of the cost."""
        hess = self._evaluate(theta, 2)[2]
        assert hess is not None
        return hess

    def g2(self, theta: npt.ArrayLike) -> FloatArray:
        """Diagonal of :meth:`hessian`."""
        out: FloatArray = np.diag(self.hessian(theta)).copy()
        return out

    def constraint_cost(self, theta: npt.ArrayLike) -> float:
        """The activity constraints alone, Σ_j (1 − p_j)²/σ_j²."""
        p = np.asarray(theta, dtype=np.float64)[1:]
        return float(np.sum(self._pull_weight * (self.aux - p) ** 2))

    def poi_scan_cost(self, theta: npt.ArrayLike, s: int, grid: npt.ArrayLike) -> FloatArray:
        """Cost without the constraints for x on ``grid``, p at θ (vectorised)."""
        xs = np.asarray(grid, dtype=np.float64)
        p = np.asarray(theta, dtype=np.float64)[1:]
        fb = p @ self.background_density
        xg = xs[:, None] ** self._powers[None, :]
        nu = p @ self.background_total + xg @ self.signal_total
        logsum = np.empty(xs.size)
        step = max(1, _SCAN_CHUNK // max(fb.size, 1))
        for a in range(0, xs.size, step):
            f = fb[None, :] + xg[a : a + step] @ self.signal_density
            low = f < _EPS
            d = (f - _EPS) / _EPS
            logf = np.where(low, math.log(_EPS) + d - 0.5 * d**2, np.log(np.where(low, 1.0, f)))
            logsum[a : a + step] = logf.sum(axis=1)
        out: FloatArray = 2.0 * (nu - logsum)
        return out

    # -- fit set-up ----------------------------------------------------------------------

    def initial_steps(self) -> FloatArray:
        """0.3 × the sensitivity scale for x; for p_j 1/√(B_j²/ν₀ + 1/σ_j²), the information
        of the expected count ν₀ and the constraint (at most 0.5)."""
        nu0 = max(float(np.sum(self.background_total)), 1.0)
        info = self.background_total**2 / nu0 + self._pull_weight
        steps_p = np.clip(1.0 / np.sqrt(np.maximum(info, 1e-12)), 1e-6, 0.5)
        return np.concatenate([[0.3 * self.sensitivity_scale()], steps_p])

    def symmetric_pois(self) -> tuple[int, ...]:
        """(0,) if x ≥ 0 and only even powers of x enter: the cost is even in x."""
        even = all(k % 2 == 0 for k in self.signal.powers)
        return (0,) if self.signal.x_bounds == (0.0, None) and even else ()

    def sensitivity_scale(self, signal: int = 0) -> float:
        """Rough x at which the signal changes the cost by ~1 (starting values, steps)."""
        f0 = np.maximum(self.background_density.sum(axis=0), _EPS)
        scales = []
        for k, pw in enumerate(self.signal.powers):
            info = float(np.sum((self.signal_density[k] / f0) ** 2))
            if info > 0:
                scales.append(info ** (-0.5 / pw))
        return min(scales) if scales else 1.0

    def index(self, name: str) -> int:
        """Position of the parameter ``name``."""
        return parameter_index(self.names, name)

    def poi_index(self, signal: str) -> int:
        """0 for the model's signal."""
        if signal != self.signal.name:
            raise ModelError(f"signal {signal!r} is not in the model ({self.signal.name!r} is)")
        return 0

    def ndof(self, fixed: Mapping[str, float] | None = None) -> int:
        """Events minus the free parameters."""
        fixed = fixed or {}
        n_free = sum(1 for p in self.parameters if not (p.fixed or p.name in fixed))
        return self.n_bins - n_free

    def digest(self) -> str:
        """sha256 of the model's arrays (identifies it in the result, like a workspace)."""
        h = hashlib.sha256()
        for arr in (
            self.events_kev,
            self.background_density,
            self.background_total,
            self.signal_density,
            self.signal_total,
        ):
            h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
        h.update(repr((self.signal.powers, self.relative_uncertainty, self.window_kev)).encode())
        return h.hexdigest()


def unbinned_model(
    release: Release,
    spec: Mapping[str, Any],
    spectrum: Mapping[str, Any],
    window_kev: tuple[float, float],
    sm_true_rate: FloatArray | None = None,
    analysis: str = "",
) -> UnbinnedModel:
    """The unbinned model of one signal.

    Parameters
    ----------
    release : Release
        A release with unbinned data.
    spec : mapping
        The signal's config entry (``name``, ``scale``, ``free_backgrounds``).
    spectrum : mapping
        Its spectrum document (``signals/<name>.json``: coefficients on true bins).
    window_kev : tuple of float
        Fit window [E_lo, E_hi).
    sm_true_rate : ndarray, optional
        SM on the spectrum's true bins (``release.solar_nu.replace``).
    analysis : str
        Analysis name (copied into the result).
    """
    lo, hi = (float(v) for v in window_kev)
    events = release.events_in((lo, hi))
    s = release.settings
    t_edges = np.asarray(spectrum["true_edges_kev"], dtype=np.float64)
    window_edges = np.array([lo, hi])
    resp = response_for(release, t_edges, window_edges)
    comps = background_components(release, window_edges, resp, sm_true_rate)
    dens = background_densities(release, events, t_edges, sm_true_rate)
    free = set(spec.get("free_backgrounds", ()))
    unknown = free - set(comps.names)
    if unknown:
        raise ReleaseError(
            f"config key 'signals' ({spec['name']}): free_backgrounds {sorted(unknown)} are not "
            f"release components ({', '.join(comps.names)})"
        )
    rel = tuple(
        None if n in free else r
        for n, r in zip(comps.names, comps.relative_uncertainty, strict=True)
    )
    scale = float(spec.get("scale", 1.0))
    powers = tuple(int(p) for p in spectrum["powers"])
    coeff = np.atleast_2d(np.asarray(spectrum["coefficients"], dtype=np.float64))
    counts = coeff * exposure_factor(t_edges, release.fiducial_mass_kg, release.livetime_s)
    counts = counts * np.array([scale**p for p in powers])[:, None]
    kernel = response_density(
        t_edges, events, release.efficiency, s.resolution, s.efficiency_applies_to
    )
    sign_matters = bool(spectrum.get("sign_matters", False))
    signal = UnbinnedSignal(
        name=str(spec["name"]),
        model=str(spectrum["model"]),
        parameter=str(spectrum["parameter"]),
        unit=str(spectrum["unit"]),
        flavour=str(spectrum["flavour"]),
        mediator_mass_mev=spectrum.get("mediator_mass_mev"),
        treatment=spectrum.get("treatment"),
        atomic_model=spectrum.get("atomic_model"),
        scale=scale,
        powers=powers,
        x_bounds=(None, None) if sign_matters else (0.0, None),
    )
    return UnbinnedModel(
        events_kev=events,
        window_kev=(lo, hi),
        background_names=comps.names,
        background_density=dens,
        background_total=comps.expected[:, 0],
        relative_uncertainty=rel,
        signal=signal,
        signal_density=counts @ kernel,
        signal_total=(counts @ resp.matrix)[:, 0],
        analysis=analysis,
    )


def unbinned_limit(
    model: UnbinnedModel,
    method: str = "bayesian",
    cl: float = 0.9,
    *,
    threshold: str = "two_sided",
) -> LimitResult:
    """Limit or interval at ``cl`` from the unbinned likelihood.

    :func:`~exonu.stats.limits.compute_limit` of the model: ``method`` is ``"bayesian"``
    (flat prior in sign(x)|x|^P, P the highest power; equal-tailed interval for two-sided
    models) or ``"profile"`` (Δχ² ``threshold``, :func:`~exonu.stats.limits.profile_threshold`);
    the Neyman construction needs toys of a binned model.
    """
    if method not in ("bayesian", "profile"):
        raise ReleaseError(
            f"method {method!r} is not known for the unbinned fit (bayesian, profile)"
        )
    return compute_limit(model, model.signal.name, cast(Method, method), cl, threshold=threshold)


def checked_unbinned_limit(
    release: Release,
    spec: Mapping[str, Any],
    spectrum: Mapping[str, Any],
    window_kev: tuple[float, float],
    method: str,
    cl: float,
    sm_true_rate: FloatArray | None = None,
    analysis: str = "",
    *,
    edges_kev: npt.ArrayLike | None = None,
    window_check: bool = True,
) -> LimitResult:
    """:func:`unbinned_limit` of one signal with the plausibility checks of
    :mod:`exonu.stats.plausibility`.

    The result carries the release's data warnings (against the binning ``edges_kev``
    [keV], when given), "no observed event" for an empty window, and the result warnings (a
    fit at a bound, a background-only discrepancy, and with ``window_check`` and
    ``edges_kev`` the limits with the window edges moved by one bin of ``edges_kev``).
    """
    from exonu.external.checks import release_warnings
    from exonu.stats.plausibility import result_warnings, window_variants

    def limit(window: Sequence[float]) -> LimitResult:
        w = (float(window[0]), float(window[1]))
        model = unbinned_model(release, spec, spectrum, w, sm_true_rate, analysis)
        return unbinned_limit(model, method, cl)

    model = unbinned_model(release, spec, spectrum, window_kev, sm_true_rate, analysis)
    res = unbinned_limit(model, method, cl)
    inputs = []
    if edges_kev is not None:
        inputs += release_warnings(release, edges_kev)
    if model.events_kev.size == 0:
        inputs.append(
            f"no observed event in the fit window [{window_kev[0]:g}, {window_kev[1]:g}] keV "
            "(unbinned): the data do not overlap the fitted energies"
        )
    windows = (
        window_variants(edges_kev, window_kev) if (window_check and edges_kev is not None) else []
    )
    found = result_warnings(res, limit if windows else None, windows)
    return res.with_warnings([*inputs, *found])
