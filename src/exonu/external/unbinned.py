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
cost is a χ² (``errordef`` = 1): Δχ² thresholds and the Bayesian density exp(−C/2) apply as
in :mod:`exonu.stats.limits`, whose :func:`~exonu.stats.limits.bayesian_interval` and
:func:`~exonu.stats.limits.profile_threshold` are reused, and results are
:class:`~exonu.stats.limits.LimitResult` with ``likelihood="unbinned"``.

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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from iminuit import Minuit
from scipy import optimize

from exonu.external.errors import ReleaseError
from exonu.external.release import Release
from exonu.external.response import response_density
from exonu.external.workspace import background_components, background_densities, response_for
from exonu.stats.limits import LimitResult, bayesian_interval, profile_threshold
from exonu.templates.build import exposure_factor

__all__ = [
    "UnbinnedModel",
    "UnbinnedProfile",
    "checked_unbinned_limit",
    "unbinned_limit",
    "unbinned_model",
]

FloatArray = npt.NDArray[np.float64]
_EPS = 1e-12  # events/keV; continuation point of the log
# posterior support and grid of the Bayesian integral: the same as the binned limits
from exonu.stats.limits import _BAYES_DCHI2_MAX, _BAYES_GRID  # noqa: E402

_P_MAX_FREE = 100.0


@dataclass(frozen=True, eq=False)
class UnbinnedModel:
    """Extended unbinned likelihood of one signal (module docstring).

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
    powers : tuple of int
        Powers k of the signal polynomial in x.
    signal_density : ndarray
        (K, n) s_k(E_i) [events/keV per unit x^k].
    signal_total : ndarray
        (K,) S_k.
    x_bounds : tuple
        Allowed x (``None`` = unbounded).
    scale : float
        Physical θ = x · scale.
    labels : dict
        Physics labels of the signal (copied into the result).
    """

    events_kev: FloatArray
    window_kev: tuple[float, float]
    background_names: tuple[str, ...]
    background_density: FloatArray
    background_total: FloatArray
    relative_uncertainty: tuple[float | None, ...]
    powers: tuple[int, ...]
    signal_density: FloatArray
    signal_total: FloatArray
    x_bounds: tuple[float | None, float | None]
    scale: float
    labels: Mapping[str, Any] = field(default_factory=dict)
    errordef: float = 1.0

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names: the signal name, then ``p_<background>``."""
        return (str(self.labels.get("name", "x")), *(f"p_{n}" for n in self.background_names))

    @property
    def npar(self) -> int:
        """Number of parameters."""
        return 1 + len(self.background_names)

    def _constraint(self) -> tuple[FloatArray, FloatArray]:
        w = np.array(
            [0.0 if (r is None or r == 0) else 1.0 / r**2 for r in self.relative_uncertainty]
        )
        fixed = np.array([r == 0 for r in self.relative_uncertainty])
        return w, fixed

    def value_and_gradient(self, theta: npt.ArrayLike) -> tuple[float, FloatArray]:
        """Cost C and its gradient at θ = (x, p_1..p_J)."""
        th = np.asarray(theta, dtype=np.float64)
        x, p = th[0], th[1:]
        pw = np.asarray(self.powers, dtype=np.float64)
        xp = x**pw
        dxp = pw * x ** (pw - 1.0)
        nu = p @ self.background_total + xp @ self.signal_total
        f = p @ self.background_density + xp @ self.signal_density
        low = f < _EPS
        d = f - _EPS
        logf = np.where(
            low, math.log(_EPS) + d / _EPS - 0.5 * (d / _EPS) ** 2, np.log(np.where(low, 1, f))
        )
        dlog = np.where(low, 1.0 / _EPS - d / _EPS**2, 1.0 / np.where(low, 1, f))
        w, _ = self._constraint()
        cost = 2.0 * (nu - logf.sum()) + float(np.sum(w * (1.0 - p) ** 2))
        grad = np.empty_like(th)
        grad[0] = 2.0 * (dxp @ self.signal_total - (dxp @ self.signal_density) @ dlog)
        grad[1:] = 2.0 * (self.background_total - self.background_density @ dlog) - 2.0 * w * (
            1.0 - p
        )
        return float(cost), grad

    def __call__(self, theta: npt.ArrayLike) -> float:
        return self.value_and_gradient(theta)[0]

    def gradient(self, theta: npt.ArrayLike) -> FloatArray:
        """Gradient of the cost."""
        return self.value_and_gradient(theta)[1]

    def sensitivity_scale(self) -> float:
        """Rough x at which the signal changes the cost by ~1 (starting values, steps)."""
        f0 = np.maximum(self.background_density.sum(axis=0), _EPS)
        scales = []
        for k, pw in enumerate(self.powers):
            info = float(np.sum((self.signal_density[k] / f0) ** 2))
            if info > 0:
                scales.append(info ** (-0.5 / pw))
        return min(scales) if scales else 1.0

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
        h.update(repr((self.powers, self.relative_uncertainty, self.window_kev)).encode())
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
    labels = {
        "analysis": analysis,
        "name": spec["name"],
        "model": spectrum["model"],
        "parameter": spectrum["parameter"],
        "unit": spectrum["unit"],
        "flavour": spectrum["flavour"],
        "mediator_mass_mev": spectrum.get("mediator_mass_mev"),
        "treatment": spectrum.get("treatment"),
        "atomic_model": spectrum.get("atomic_model"),
    }
    return UnbinnedModel(
        events_kev=events,
        window_kev=(lo, hi),
        background_names=comps.names,
        background_density=dens,
        background_total=comps.expected[:, 0],
        relative_uncertainty=rel,
        powers=powers,
        signal_density=counts @ kernel,
        signal_total=(counts @ resp.matrix)[:, 0],
        x_bounds=(None, None) if sign_matters else (0.0, None),
        scale=scale,
        labels=labels,
    )


@dataclass
class _Fit:
    values: FloatArray
    cost: float
    valid: bool


class UnbinnedProfile:
    """Profiled cost C_min(x) of an :class:`UnbinnedModel` (nuisances minimised at fixed x).

    Fits are cached and warm-started from the nearest evaluated point.
    """

    def __init__(self, model: UnbinnedModel) -> None:
        self.model = model
        lo, hi = model.x_bounds
        self.lower = -math.inf if lo is None else float(lo)
        self.upper = math.inf if hi is None else float(hi)
        self.power = max(model.powers)
        self.xs = model.sensitivity_scale()
        self.points: dict[float, _Fit] = {}
        self.n_fits = 0
        _, fixed = model._constraint()
        self._fixed_p = fixed
        p_hi = [
            _P_MAX_FREE if (r is None or r == 0) else 1.0 + 10.0 * r
            for r in model.relative_uncertainty
        ]
        m = Minuit(
            model,
            np.concatenate([[0.0], np.ones(len(p_hi))]),
            grad=model.gradient,
            name=model.names,
        )
        m.print_level = 0
        m.limits[0] = (self.lower, self.upper)
        for j, h in enumerate(p_hi):
            m.limits[1 + j] = (0.0, h)
            m.fixed[1 + j] = bool(fixed[j])
        self._m = m
        self.best = self._global()
        self.zero = self.at(0.0)
        if self.zero.cost < self.best.cost:
            self.best = _Fit(self.zero.values.copy(), self.zero.cost, self.zero.valid)

    def _minimise(self, start: FloatArray, fix_x: float | None) -> _Fit:
        m = self._m
        m.reset()
        m.values = start
        m.errors[0] = 0.3 * self.xs
        for j in range(1, self.model.npar):
            m.errors[j] = 0.05
        m.fixed[0] = fix_x is not None
        if fix_x is not None:
            m.values[0] = fix_x
        m.migrad()
        self.n_fits += 1
        return _Fit(np.array(m.values), float(m.fval), bool(m.valid))

    def _global(self) -> _Fit:
        nominal = np.concatenate([[0.0], np.ones(self.model.npar - 1)])
        u = np.sinh(np.linspace(0.0, 4.0, 25)) / math.sinh(4.0) * 40.0 * self.xs
        grid = np.concatenate([-u[::-1], u[1:]])
        grid = grid[(grid >= self.lower) & (grid <= self.upper)]
        costs = []
        for g in grid:
            t = nominal.copy()
            t[0] = g
            costs.append(self.model(t))
        order = np.argsort(costs)
        starts = [grid[order[0]]]
        other = [g for g in grid[order] if np.sign(g) != np.sign(starts[0]) and g != 0]
        if other:
            starts.append(other[0])
        best: _Fit | None = None
        for x0 in starts:
            t = nominal.copy()
            t[0] = min(max(x0, self.lower), self.upper)
            fit = self._minimise(t, None)
            if best is None or fit.cost < best.cost:
                best = fit
        assert best is not None
        self.points[float(best.values[0])] = best
        return best

    def at(self, x: float) -> _Fit:
        """Profiled fit at fixed x (cached)."""
        x = float(x)
        if x in self.points:
            return self.points[x]
        keys = np.array(list(self.points)) if self.points else np.array([0.0])
        if self.points:
            start = self.points[float(keys[np.argmin(np.abs(keys - x))])].values.copy()
        else:
            start = np.concatenate([[0.0], np.ones(self.model.npar - 1)])
        start[0] = x
        fit = self._minimise(start, x)
        self.points[x] = fit
        return fit

    @property
    def x_hat(self) -> float:
        """Best-fit x in the allowed range."""
        return float(self.best.values[0])

    def delta(self, x: float) -> float:
        """Profiled Δχ² at x."""
        return self.at(x).cost - self.best.cost

    def to_u(self, x: float) -> float:
        """Strength variable sign(x)|x|^P."""
        return math.copysign(abs(x) ** self.power, x)

    def to_x(self, u: float) -> float:
        """Inverse of :meth:`to_u`."""
        return math.copysign(abs(u) ** (1.0 / self.power), u)

    def crossing(self, level: float, direction: int, refine: bool = True) -> float | None:
        """First x beyond the best fit (in ``direction``) where Δχ² reaches ``level``."""
        bound = self.upper if direction > 0 else self.lower
        u0 = self.to_u(self.x_hat)
        ubound = self.to_u(bound) if math.isfinite(bound) else direction * math.inf
        step = self.to_u(self.xs)
        prev = u0
        for k in range(60):
            u = u0 + direction * step * 2.0**k
            at_bound = (u - ubound) * direction >= 0
            if at_bound:
                u = ubound
            if self.delta(self.to_x(u)) >= level:
                if not refine:
                    return self.to_x(u)
                a, b = sorted((prev, u))
                root = optimize.brentq(
                    lambda v: self.delta(self.to_x(v)) - level,
                    a,
                    b,
                    xtol=1e-6 * max(abs(a), abs(b), 1e-300),
                    rtol=1e-6,
                )
                return self.to_x(float(root))
            if at_bound:
                return None
            prev = u
        raise ReleaseError(f"unbinned profile: Δχ² did not reach {level:g} (signal scale wrong?)")


def unbinned_limit(
    model: UnbinnedModel,
    method: str = "bayesian",
    cl: float = 0.9,
    *,
    threshold: str = "two_sided",
) -> LimitResult:
    """Limit or interval at ``cl`` from the unbinned likelihood.

    ``method`` is ``"bayesian"`` (flat prior in sign(x)|x|^P, P the highest power; equal-tailed
    interval for two-sided models) or ``"profile"`` (Δχ² threshold, :func:`~exonu.stats.limits.
    profile_threshold`), with the conventions of :mod:`exonu.stats.limits`.
    """
    prof = UnbinnedProfile(model)
    two_sided = prof.lower < 0
    lower: float | None
    thr: float | None = None
    prior: str | None = None
    message = "ok"
    if method == "profile":
        thr = profile_threshold(cl, threshold)
        upper = prof.crossing(thr, +1)
        if upper is None:
            upper, message = prof.upper, f"Δχ² stays below {thr:.3g} up to the upper bound"
        if two_sided:
            lower = prof.crossing(thr, -1)
        else:
            lower = prof.crossing(thr, -1) if prof.delta(max(prof.lower, 0.0)) > thr else None
    elif method == "bayesian":
        x_up = prof.crossing(_BAYES_DCHI2_MAX, +1, refine=False)
        hi = prof.to_u(prof.upper if x_up is None else x_up)
        if two_sided:
            x_dn = prof.crossing(_BAYES_DCHI2_MAX, -1, refine=False)
            lo = prof.to_u(prof.lower if x_dn is None else x_dn)
        else:
            lo = prof.to_u(max(prof.lower, 0.0))
        u_hat = prof.to_u(prof.x_hat)
        grid = np.unique(np.concatenate([np.linspace(lo, hi, _BAYES_GRID), [u_hat]]))
        order = np.argsort(np.abs(grid - u_hat), kind="stable")
        chi2 = np.empty(grid.size)
        for i in order:
            chi2[i] = prof.at(prof.to_x(float(grid[i]))).cost
        lo_u, up_u = bayesian_interval(grid, chi2, cl, two_sided=two_sided)
        lower = None if lo_u is None else prof.to_x(lo_u)
        upper = prof.to_x(up_u)
        prior = (
            f"flat in sign(x)|x|^{prof.power}" if two_sided else f"flat in x^{prof.power}, x >= 0"
        )
    else:
        raise ReleaseError(
            f"method {method!r} is not known for the unbinned fit (bayesian, profile)"
        )
    at_bound = _at_bound(prof)
    relevant = [f for f in prof.points.values() if f.cost - prof.best.cost < 50.0]
    fit_valid = all(f.valid for f in relevant) and prof.best.valid and prof.zero.valid
    if not fit_valid and message == "ok":
        message = "fit failed: MIGRAD did not converge at some profile point"
    lab = model.labels
    scale = model.scale
    interval = ((None if lower is None else lower * scale, upper * scale),)
    return LimitResult(
        analysis=str(lab.get("analysis", "")),
        signal=str(lab.get("name", "")),
        model=str(lab.get("model", "")),
        parameter=str(lab.get("parameter", "")),
        unit=str(lab.get("unit", "")),
        flavour=str(lab.get("flavour", "all")),
        mediator_mass_mev=lab.get("mediator_mass_mev"),
        treatment=lab.get("treatment"),
        atomic_model=lab.get("atomic_model"),
        method=method,
        cl=cl,
        likelihood="unbinned",
        upper_limit=float(upper * scale),
        lower_limit=None if lower is None else float(lower * scale),
        best_fit=float(prof.x_hat * scale),
        chi2_best=float(prof.best.cost),
        chi2_zero=float(prof.zero.cost),
        ndof=int(model.events_kev.size - (model.npar - int(np.sum(model._constraint()[1])))),
        n_bins=int(model.events_kev.size),
        fit_valid=fit_valid,
        valid=fit_valid and message == "ok",
        best_fit_at_bound=abs(prof.x_hat - max(prof.lower, 0.0)) < 1e-9 and not two_sided,
        workspace_digest=model.digest(),
        delta_chi2_threshold=thr,
        prior=prior,
        intervals=interval if method == "profile" else (),
        n_fits=prof.n_fits,
        message=message,
        parameters_at_bound=at_bound,
    )


def _at_bound(prof: UnbinnedProfile, tol: float = 1e-5) -> tuple[str, ...]:
    """Free parameters of the best fit on a bound (x at its lower bound, p_j at 0 or at max)."""
    m = prof.model
    out = []
    x = float(prof.best.values[0])
    if (math.isfinite(prof.lower) and x - prof.lower < tol * max(1.0, abs(prof.lower))) or (
        math.isfinite(prof.upper) and prof.upper - x < tol * max(1.0, abs(prof.upper))
    ):
        out.append(m.names[0])
    _, fixed = m._constraint()
    for j, r in enumerate(m.relative_uncertainty):
        if fixed[j]:
            continue
        p = float(prof.best.values[1 + j])
        p_hi = _P_MAX_FREE if (r is None or r == 0) else 1.0 + 10.0 * r
        if p < tol or p_hi - p < tol * p_hi:
            out.append(m.names[1 + j])
    return tuple(out)


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
