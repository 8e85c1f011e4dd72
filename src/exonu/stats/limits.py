"""Upper limits and intervals on the coupling of one signal.

Three methods, chosen by ``method`` and recorded in every :class:`LimitResult`:

``"bayesian"`` — what XMASS-I did (PLB 809 (2020) 135741, section 4.3: "estimated from the χ²
    probability density function"): the profiled χ² (eq. 4 minimised over all nuisances at
    fixed coupling) defines the density :math:`\\exp(-\\chi^2_{min}(\\alpha)/2)` over the
    non-negative *signal strength* α with a flat prior, and the limit is its ``cl`` quantile.
    For a pure power signal :math:`S \\propto x^p` the strength is :math:`\\alpha = x^p` (μ_ν²,
    q², g⁴). For a polynomial with several powers the prior is flat in :math:`x^P` with P the
    **highest** power (the pure new-physics term, which dominates near the limit; XMASS
    treated the B−L signal as ≈ ∝ g⁴). ``prior_power`` overrides P; a flat prior in the
    coupling itself (``prior_power=1``) puts far more weight at large couplings for g⁴
    signals and gives limits that under-cover badly — don't. For two-sided couplings the
    prior is flat in :math:`\\mathrm{sign}(x)|x|^P` and the equal-tailed interval is returned.
    docs/physics.md §F: a parabolic χ² with best fit μ_ν = 1.3×10⁻¹⁰ μ_B and Δχ²(0) = 2.3 gives
    1.78×10⁻¹⁰ (published 1.8); g = 1.1×10⁻⁶ with Δχ²(0) = 2.9 gives 1.27×10⁻⁶ (1.3).

``"profile"`` — profile-likelihood ratio with a fixed Δχ² threshold relative to the best fit
    inside the allowed range (boundary-aware: for x ≥ 0 the best fit is clipped at 0).
    Default threshold ``"two_sided"``: :math:`\\chi^2_1` quantile at ``cl`` (2.71 for 90 %),
    the PDG convention for a 90 % interval, whose upper end alone covers ≈ 95 % away from
    the boundary. ``"one_sided"``: the quantile at 2·cl − 1 (1.64 for 90 %), the asymptotic
    one-sided upper limit of Cowan et al., EPJC 71 (2011) 1554. Two-sided models give the
    interval; bounded ones give ``lower_limit`` only when Δχ²(0) exceeds the threshold.

``"neyman"`` — Neyman construction with toys on a grid of x (:func:`neyman_belt`), ordered by
    the likelihood ratio as Feldman & Cousins, PRD 57 (1998) 3873 (``ordering="fc"``,
    unified intervals) or one-sided (``ordering="upper"``: t = 0 when x̂ > x), nuisances
    profiled at every grid point on the observed data (the "profile construction"). Exact
    coverage up to the toy statistics, at the cost of ``n_toys`` × 2 fits per grid point.

All returned values are physical, θ = x · ``scale`` of the workspace signal.

Every likelihood goes through the same code: :class:`Profile` profiles, and
:func:`compute_limit` turns into limits, any :class:`~exonu.stats.likelihood.LikelihoodModel`
— the binned χ² and Poisson models (:class:`~exonu.stats.model.BinnedModel`) and the
unbinned model of a data release (:mod:`exonu.external.unbinned`). Only the Neyman
construction needs toys and so a binned model.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import interpolate, optimize, stats

from exonu.stats.errors import LimitError, ModelError
from exonu.stats.fit import FitResult, Fitter
from exonu.stats.likelihood import LikelihoodModel
from exonu.stats.model import BinnedModel, Likelihood
from exonu.stats.toys import sample_toy, toy_generator
from exonu.stats.workspace import Workspace

__all__ = [
    "LimitResult",
    "Method",
    "NeymanBelt",
    "Profile",
    "bayesian_interval",
    "compute_limit",
    "default_neyman_grid",
    "neyman_belt",
    "profile_threshold",
    "upper_limit",
]

Method = Literal["bayesian", "profile", "neyman"]
FloatArray = npt.NDArray[np.float64]

# Posterior support of the Bayesian integral: out to Δχ² = 30 (density e^-15), sampled at
# 29 points in the strength and interpolated (PCHIP): limits agree with 41 points out to
# Δχ² = 40 to 0.05 % (one-sided) and 0.3 % (two-sided, bimodal posterior).
_BAYES_DCHI2_MAX = 30.0
_BAYES_GRID = 29


@dataclass(frozen=True)
class LimitResult:
    """A limit or interval on one coupling, in physical units (θ = x · scale).

    ``lower_limit`` is ``None`` for a one-sided result. ``valid`` is False if any fit failed
    or the limit could not be bracketed (see ``message``). ``expected`` holds the expected
    limits (median, ±1σ, ±2σ) when they were computed. ``parameters_at_bound`` names the
    free parameters of the best fit that ended on a bound (the signal at its physical limit
    0, an activity scale at 0 or at its upper bound, ...). ``warnings`` are one-line
    plausibility warnings: those of the workspace's inputs, and those of the result added by
    :func:`exonu.stats.plausibility.checked_limit` (a fit at a bound, a background-only
    discrepancy above 3σ, a limit unstable under a one-bin move of the fit window); a result
    with warnings can still be ``valid``.
    """

    analysis: str
    signal: str
    model: str
    parameter: str
    unit: str
    flavour: str
    mediator_mass_mev: float | None
    treatment: str | None
    atomic_model: str | None
    method: str
    cl: float
    likelihood: str
    upper_limit: float
    lower_limit: float | None
    best_fit: float
    chi2_best: float
    chi2_zero: float
    ndof: int
    n_bins: int
    fit_valid: bool
    valid: bool
    best_fit_at_bound: bool
    workspace_digest: str
    seed: int | None = None
    n_toys: int | None = None
    delta_chi2_threshold: float | None = None
    prior: str | None = None
    ordering: str | None = None
    intervals: tuple[tuple[float | None, float | None], ...] = ()
    n_fits: int = 0
    message: str = "ok"
    expected: dict[str, Any] | None = None
    parameters_at_bound: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation (``warnings`` always present, as a list)."""
        d = asdict(self)
        d["intervals"] = [list(iv) for iv in self.intervals]
        d["parameters_at_bound"] = list(self.parameters_at_bound)
        d["warnings"] = list(self.warnings)
        return d

    def with_warnings(self, warnings: Sequence[str]) -> LimitResult:
        """Copy with ``warnings`` added (duplicates dropped, order kept)."""
        merged = tuple(dict.fromkeys([*self.warnings, *(str(w) for w in warnings)]))
        return replace(self, warnings=merged)

    def with_expected(self, expected: dict[str, Any]) -> LimitResult:
        """Copy with the expected-limit summary attached."""
        d = asdict(self)
        d["expected"] = expected
        return LimitResult(**d)


def profile_threshold(cl: float, threshold: str = "two_sided") -> float:
    """Δχ² threshold of the profile method: χ²₁ quantile at cl (two-sided) or 2·cl−1."""
    if not 0 < cl < 1:
        raise LimitError(f"cl is {cl}, expected 0 < cl < 1")
    if threshold == "two_sided":
        return float(stats.chi2.ppf(cl, 1))
    if threshold == "one_sided":
        if cl <= 0.5:
            raise LimitError(f"one-sided threshold needs cl > 0.5, got {cl}")
        return float(stats.chi2.ppf(2 * cl - 1, 1))
    raise LimitError(f"threshold {threshold!r} is not known, expected 'two_sided' or 'one_sided'")


# -- the profiled χ² as a function of one coupling ------------------------------------------


@dataclass
class Profile:
    """Profiled cost as a function of one POI, with the global and background-only fits.

    Evaluations are cached and warm-started from the nearest evaluated point, so the result
    depends only on the data and the sequence of requested points.

    Parameters
    ----------
    model : LikelihoodModel
        The model (its current data): a binned or an unbinned likelihood.
    signal : str
        Signal whose coupling is profiled; other POIs of the model stay free.
    strategy : int
        MIGRAD strategy of the fits at fixed coupling (0: with the analytic Hessian these
        converge as well and twice as fast; a failed fit is retried with strategy 2). The
        free fit always uses strategy 1.
    """

    model: LikelihoodModel
    signal: str
    strategy: int = 0
    fitter: Fitter = field(init=False)
    poi: int = field(init=False)
    power: int = field(init=False)
    best: FitResult = field(init=False)
    zero: FitResult = field(init=False)
    points: dict[float, FitResult] = field(init=False, default_factory=dict)
    n_fits: int = field(init=False, default=0)
    lower: float = field(init=False, default=-math.inf)
    upper: float = field(init=False, default=math.inf)

    def __post_init__(self) -> None:
        self.poi = self.model.poi_index(self.signal)
        self.power = self.model.signals[self.poi].leading_power
        self.fitter = Fitter(self.model, strategy=1)
        info = self.model.parameters[self.poi]
        self.lower = -math.inf if info.lower is None else info.lower
        self.upper = math.inf if info.upper is None else info.upper
        best = self.fitter.fit()
        self.n_fits += 1
        zero = self._fit_at(0.0, start=best.array)
        if zero.chi2 < best.chi2 - 1e-6:
            # The free fit missed the minimum at or through zero: restart from the
            # background-only fit.
            start = zero.array.copy()
            start[self.poi] = (
                0.5 * self.model.sensitivity_scale(self.poi) * (1.0 if self.upper > 0 else -1.0)
            )
            again = self.fitter.fit(start=start)
            self.n_fits += 1
            on_bound = 0.0 in (self.lower, self.upper)
            best = again if again.chi2 < zero.chi2 else _as_free(zero, self.poi, on_bound)
        self.best = best
        self.zero = zero
        self.points[float(best.values[self.poi])] = best

    def _fit_at(self, x: float, start: FloatArray | None = None) -> FitResult:
        if start is None:
            good = [k for k, r in self.points.items() if r.valid] or list(self.points)
            keys = np.array(good)
            start = self.points[float(keys[np.argmin(np.abs(keys - x))])].array
        res = self.fitter.fit({self.signal: x}, start=start, strategy=self.strategy)
        self.n_fits += 1
        # retry an invalid fit from the free best fit (during __post_init__, while the zero
        # fit is made, there is no best fit yet: the free fit's values are its start)
        if res.valid is False and start is not None and hasattr(self, "best"):
            alt = self.fitter.fit({self.signal: x}, start=self.best.array, strategy=1)
            self.n_fits += 1
            if alt.valid or alt.chi2 < res.chi2:
                res = alt
        self.points[float(x)] = res
        return res

    def improve(self) -> bool:
        """If a profile point lies below the global minimum, refit from it; True if so.

        Polynomial signals with interference can have a narrow second minimum that the
        starting-value scan of the free fit misses; the profile scan then finds it.
        """
        lowest = min(self.points.values(), key=lambda r: r.chi2)
        if lowest.chi2 >= self.chi2_min - 1e-3:
            return False
        again = self.fitter.fit(start=lowest.array)
        self.n_fits += 1
        if again.valid and again.chi2 <= lowest.chi2 + 1e-6:
            cand = again
        else:
            cand = _as_free(lowest, self.poi, on_bound=False)
        self.best = cand
        self.points[float(cand.values[self.poi])] = cand
        return True

    @property
    def x_hat(self) -> float:
        """Best-fit coupling (x units) inside the allowed range."""
        return float(self.best.values[self.poi])

    @property
    def chi2_min(self) -> float:
        """Global minimum of the cost."""
        return min(self.best.chi2, self.zero.chi2)

    def chi2(self, x: float) -> float:
        """Profiled cost at coupling x (model units)."""
        x = float(x)
        if x in self.points:
            return self.points[x].chi2
        return self._fit_at(x).chi2

    def delta(self, x: float) -> float:
        """Profiled Δχ² at x relative to the best fit in the allowed range."""
        return self.chi2(x) - self.chi2_min

    # strength variable u = sign(x)|x|^P used for bracketing and integration
    def to_u(self, x: float) -> float:
        """Signal-strength variable u = sign(x)·|x|^P."""
        return math.copysign(abs(x) ** self.power, x)

    def to_x(self, u: float) -> float:
        """Inverse of :meth:`to_u`."""
        return math.copysign(abs(u) ** (1.0 / self.power), u)

    def all_valid(self, relevant: float = 50.0) -> bool:
        """True if the fits that matter were valid and none fell below the global minimum.

        Fits with Δχ² above ``relevant`` (far outside any interval) are not checked: forcing
        a huge signal can leave MIGRAD unconverged without affecting the result.
        """
        lowest = min(r.chi2 for r in self.points.values())
        live = [r for r in self.points.values() if r.chi2 - self.chi2_min < relevant]
        return (
            all(r.valid for r in live)
            and self.zero.valid
            and self.best.valid
            and lowest >= self.chi2_min - 1e-3
        )

    def crossing(
        self,
        level: float,
        direction: int,
        *,
        start: float | None = None,
        max_steps: int = 60,
        refine: bool = True,
    ) -> float | None:
        """First x beyond ``start`` (default: the best fit) where Δχ² rises to ``level``.

        ``direction`` is +1 (upwards) or −1 (downwards); Δχ² at ``start`` must be below
        ``level``. With ``refine=False`` the first bracketing point beyond the crossing is
        returned instead of the root.

        Returns ``None`` if Δχ² stays below ``level`` up to the bound in that direction.

        Raises
        ------
        LimitError
            If no crossing is found within ``max_steps`` doublings of the step.
        """
        bound = self.upper if direction > 0 else self.lower
        x0 = self.x_hat if start is None else start
        u0 = self.to_u(x0)
        ubound = self.to_u(bound) if math.isfinite(bound) else direction * math.inf
        root_level = math.sqrt(level)
        memo: dict[float, float] = {}

        def g(u: float) -> float:
            # sqrt(Δχ²) is close to linear in the strength u: the root finder and the
            # extrapolation below converge in few fits.
            if u not in memo:
                memo[u] = math.sqrt(max(self.delta(self.to_x(u)), 0.0)) - root_level
            return memo[u]

        # First step: from the parabola through the best fit and Δχ²(0) when that is
        # informative, otherwise from the sensitivity scale of the signal.
        dist = abs(self.to_u(self.model.sensitivity_scale(self.poi))) * root_level
        d0 = self.zero.chi2 - self.chi2_min
        if start is None and u0 != 0 and d0 > 1e-3 and (0 - u0) * direction < 0:
            dist = 1.2 * root_level * abs(u0) / math.sqrt(d0)
        prev_u, prev_g = u0, g(u0)
        for _ in range(max_steps):
            u = u0 + direction * dist
            at_bound = (u - ubound) * direction >= 0
            if at_bound:
                u = ubound
            gu = g(u)
            if gu >= 0:
                if not refine:
                    return self.to_x(u)
                lo, hi = sorted((prev_u, u))
                # Profile fits converge to EDM ~1e-4: a relative 1e-5 in u is plenty.
                root = optimize.brentq(
                    g, lo, hi, xtol=1e-5 * max(abs(lo), abs(hi), 1e-300), rtol=1e-5
                )
                return self.to_x(float(root))
            if at_bound:
                return None
            # Extrapolate linearly to the crossing, overshooting a little to bracket it.
            grow = 2.0
            if gu > prev_g:
                grow = 1.2 * (abs(u - u0) + (-gu) * abs(u - prev_u) / (gu - prev_g)) / dist
            dist *= min(max(grow, 1.2), 8.0)
            prev_u, prev_g = u, gu
        raise LimitError(
            f"signal {self.signal!r}: Δχ² did not reach {level:g} within {max_steps} steps"
        )


def _as_free(res: FitResult, poi: int, on_bound: bool = True) -> FitResult:
    """A fixed-POI fit result presented as the free best fit (POI on its boundary)."""
    fixed = list(res.fixed)
    fixed[poi] = False
    nuisances = tuple(n for n in res.at_limit if n != res.parameters[poi])
    at_limit = ((res.parameters[poi],) if on_bound else ()) + nuisances
    return FitResult(**{**asdict(res), "fixed": tuple(fixed), "at_limit": at_limit})


# -- Bayesian ------------------------------------------------------------------------------


def bayesian_interval(
    u: npt.ArrayLike,
    chi2: npt.ArrayLike,
    cl: float,
    *,
    two_sided: bool = False,
    n_fine: int = 4001,
) -> tuple[float | None, float]:
    """Quantiles of the density exp(−χ²(u)/2) with a flat prior in u over the sampled range.

    Parameters
    ----------
    u : array_like
        Increasing samples of the strength variable (the support of the prior).
    chi2 : array_like
        Profiled χ² at ``u`` (any additive constant).
    cl : float
        Credibility level.
    two_sided : bool
        Return the equal-tailed interval instead of the upper limit.

    Returns
    -------
    lower, upper : float
        ``lower`` is ``None`` for the one-sided upper limit.
    """
    u_arr = np.asarray(u, dtype=np.float64)
    c_arr = np.asarray(chi2, dtype=np.float64)
    if u_arr.ndim != 1 or u_arr.size < 3 or np.any(np.diff(u_arr) <= 0):
        raise LimitError("bayesian_interval needs >= 3 strictly increasing samples")
    spline = interpolate.PchipInterpolator(u_arr, c_arr)
    fine = np.linspace(u_arr[0], u_arr[-1], n_fine)
    c_fine = spline(fine)
    dens = np.exp(-0.5 * (c_fine - c_fine.min()))
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(fine))])
    cdf /= cdf[-1]

    def quantile(q: float) -> float:
        return float(np.interp(q, cdf, fine))

    if two_sided:
        return quantile(0.5 * (1 - cl)), quantile(0.5 * (1 + cl))
    return None, quantile(cl)


def _bayesian(prof: Profile, cl: float, prior_power: int | None) -> tuple[float | None, float, str]:
    power = prof.power if prior_power is None else int(prior_power)
    if power < 1:
        raise LimitError(f"prior_power is {power}, expected >= 1")
    prof_power = prof.power
    prof.power = power  # strength variable of the prior
    try:
        x_up = prof.crossing(_BAYES_DCHI2_MAX, +1, refine=False)
        hi = prof.to_u(prof.upper if x_up is None else x_up)
        two_sided = prof.lower < 0
        if two_sided:
            x_dn = prof.crossing(_BAYES_DCHI2_MAX, -1, refine=False)
            lo = prof.to_u(prof.lower if x_dn is None else x_dn)
        else:
            lo = prof.to_u(max(prof.lower, 0.0))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise LimitError(f"signal {prof.signal!r}: the posterior is not normalisable")
        u_hat = prof.to_u(prof.x_hat)
        grid = np.unique(np.concatenate([np.linspace(lo, hi, _BAYES_GRID), [u_hat]]))
        # Evaluate outwards from the best fit so each fit is warm-started from a neighbour.
        order = np.argsort(np.abs(grid - u_hat), kind="stable")
        chi2 = np.empty(grid.size)
        for i in order:
            chi2[i] = prof.chi2(prof.to_x(float(grid[i])))
        lo_u, up_u = bayesian_interval(grid, chi2, cl, two_sided=two_sided)
        lower = None if lo_u is None else prof.to_x(lo_u)
        upper = prof.to_x(up_u)
    finally:
        prof.power = prof_power
    prior = f"flat in sign(x)|x|^{power}" if two_sided else f"flat in x^{power}, x >= 0"
    return lower, upper, prior


# -- profile likelihood --------------------------------------------------------------------


def _profile(
    prof: Profile, level: float
) -> tuple[float | None, float, tuple[tuple[float | None, float | None], ...], str]:
    message = "ok"
    upper = prof.crossing(level, +1)
    if upper is None:
        upper = prof.upper
        message = f"Δχ² stays below {level:.3g} up to the upper bound of x"
    two_sided = prof.lower < 0
    lower = prof.crossing(level, -1) if (two_sided or prof.delta(prof.lower) > level) else None
    if two_sided and lower is None:
        lower = prof.lower if math.isfinite(prof.lower) else None
    intervals: list[tuple[float | None, float | None]] = [(lower, upper)]
    if two_sided:
        # Sign-dependent signals can allow a second region on the other side of zero. Look
        # for it with the cheap fixed-nuisance scan, then confirm with profile fits.
        grid, cost = prof.fitter._poi_scan(prof.best.array, prof.poi)
        lo_x = -math.inf if lower is None else lower
        cand = [
            float(x)
            for x, c in zip(grid, cost - prof.chi2_min, strict=True)
            if (x < lo_x or x > upper) and c < level + 10.0
        ]
        found = [x for x in cand if prof.delta(x) < level]
        if found:
            message = "allowed region is not connected; see intervals"
            x0 = min(found, key=lambda v: prof.delta(v))
            a = prof.crossing(level, -1, start=x0)
            b = prof.crossing(level, +1, start=x0)
            intervals.append((a, prof.upper if b is None else b))
            intervals.sort(key=lambda iv: -math.inf if iv[0] is None else iv[0])
            lower = intervals[0][0]
            upper = max(upper, intervals[-1][1] if intervals[-1][1] is not None else upper)
    return lower, upper, tuple(intervals), message


# -- Neyman construction -------------------------------------------------------------------


@dataclass(frozen=True)
class NeymanBelt:
    """Critical values of the likelihood-ratio test statistic on a grid of x.

    Attributes
    ----------
    signal : str
        Signal whose coupling is tested.
    x_grid : tuple of float
        Tested couplings (model units).
    critical : tuple of float
        ``cl`` quantile of t(x) under x, per grid point.
    cl : float
        Confidence level.
    ordering : str
        ``"fc"`` (Feldman–Cousins) or ``"upper"`` (one-sided).
    n_toys, seed : int
        Toys per grid point and the seed (toy i of grid point k: stream k, index i).
    n_failed : tuple of int
        Toys per grid point dropped because a fit failed.
    """

    signal: str
    x_grid: tuple[float, ...]
    critical: tuple[float, ...]
    cl: float
    ordering: str
    n_toys: int
    seed: int
    n_failed: tuple[int, ...]

    def interval(self, prof: Profile) -> tuple[float | None, float, bool]:
        """Interval from the observed test statistic of ``prof`` (lower, upper, closed).

        ``closed`` is False when the top grid point is still accepted (grid too small).
        """
        t_obs = np.array([_t_stat(prof, x, self.ordering) for x in self.x_grid])
        crit = np.array(self.critical)
        ok = t_obs <= crit
        if not ok.any():
            raise LimitError(f"signal {self.signal!r}: no grid point accepted; refine the grid")
        k_hi = int(np.flatnonzero(ok)[-1])
        k_lo = int(np.flatnonzero(ok)[0])
        x = np.array(self.x_grid)
        g = t_obs - crit
        if k_hi == x.size - 1:
            upper, closed = float(x[-1]), False
        else:
            upper, closed = _lin_root(x[k_hi], x[k_hi + 1], g[k_hi], g[k_hi + 1]), True
        lower = None if k_lo == 0 else _lin_root(x[k_lo - 1], x[k_lo], g[k_lo - 1], g[k_lo])
        return lower, upper, closed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation."""
        return asdict(self)


def _lin_root(x0: float, x1: float, g0: float, g1: float) -> float:
    if g1 == g0:
        return float(0.5 * (x0 + x1))
    return float(x0 + (x1 - x0) * (0 - g0) / (g1 - g0))


def _t_stat(prof: Profile, x: float, ordering: str) -> float:
    if ordering == "upper" and prof.x_hat > x:
        return 0.0
    return max(prof.delta(x), 0.0)


def neyman_belt(
    model: BinnedModel,
    signal: str,
    x_grid: Sequence[float],
    *,
    n_toys: int,
    seed: int,
    cl: float = 0.9,
    ordering: str = "fc",
    nuisances: str | Callable[[float], npt.ArrayLike] = "profiled",
    strategy: int = 0,
) -> NeymanBelt:
    """Critical values of t(x) = χ²(x) − χ²_min for a Neyman construction with toys.

    Parameters
    ----------
    model : BinnedModel
        Model with the observed data (used to profile the nuisances).
    signal : str
        Signal whose coupling is tested.
    x_grid : sequence of float
        Couplings to test (model units, increasing).
    n_toys : int
        Toys per grid point.
    seed : int
        Seed; toy i at grid point k uses ``toy_generator(seed, i, stream=k)``.
    cl : float
        Confidence level.
    ordering : {"fc", "upper"}
        Feldman–Cousins (two-sided where needed) or one-sided upper limits.
    nuisances : "profiled", "nominal" or callable
        Nuisance values of the toys at x: profiled on the observed data at x (default),
        nominal (p = 1, q = r = 0), or ``f(x)`` returning a full parameter vector.
    strategy : int
        MIGRAD strategy of the fits at fixed coupling (see :class:`Profile`).
    """
    if ordering not in ("fc", "upper"):
        raise LimitError(f"ordering {ordering!r} is not known, expected 'fc' or 'upper'")
    if n_toys < 10:
        raise LimitError(f"n_toys is {n_toys}, expected >= 10 for a Neyman construction")
    grid = [float(x) for x in x_grid]
    if any(b <= a for a, b in itertools.pairwise(grid)):
        raise LimitError("x_grid must be strictly increasing")
    poi = model.poi_index(signal)
    obs_fitter = Fitter(model, strategy=strategy) if nuisances == "profiled" else None
    critical, failed = [], []
    for k, x in enumerate(grid):
        if callable(nuisances):
            theta = np.asarray(nuisances(x), dtype=np.float64)
        elif nuisances == "nominal":
            theta = model.nominal.copy()
            theta[poi] = x
        elif nuisances == "profiled":
            assert obs_fitter is not None
            theta = obs_fitter.fit({signal: x}, warm=True).array
        else:
            raise LimitError(f"nuisances {nuisances!r} is not known")
        t_vals = []
        n_fail = 0
        for i in range(n_toys):
            rng = toy_generator(seed, i, stream=k)
            obs, aux = sample_toy(model, theta, rng)
            toy = model.copy_with_data(obs, aux)
            prof = Profile(toy, signal, strategy=strategy)
            t = _t_stat(prof, x, ordering)
            if not (prof.best.valid and (x not in prof.points or prof.points[x].valid)):
                n_fail += 1
                continue
            t_vals.append(t)
        if len(t_vals) < 0.9 * n_toys:
            raise LimitError(
                f"signal {signal!r}: {n_fail} of {n_toys} toy fits failed at x = {x:g}"
            )
        critical.append(float(np.quantile(t_vals, cl)))
        failed.append(n_fail)
    return NeymanBelt(
        signal=signal,
        x_grid=tuple(grid),
        critical=tuple(critical),
        cl=cl,
        ordering=ordering,
        n_toys=n_toys,
        seed=seed,
        n_failed=tuple(failed),
    )


def default_neyman_grid(
    prof: Profile, cl: float, n_points: int = 16, span: float = 2.0
) -> list[float]:
    """Grid for the Neyman construction (model units): uniform in the strength u = x^P from
    the lower end (0 for x ≥ 0) to ``span`` times the strength at the profile limit
    (Δχ² = 2.71); for expected limits of toys a wider span is needed."""
    level = profile_threshold(cl, "two_sided")
    up = prof.crossing(level, +1)
    up = prof.upper if up is None else up
    sens = prof.to_u(prof.model.sensitivity_scale(prof.poi))
    u_hi = span * max(prof.to_u(up), sens)
    if prof.lower < 0:
        lo = prof.crossing(level, -1)
        lo = prof.lower if lo is None else lo
        u_lo = prof.to_u(lo) * span if lo < 0 else -u_hi
        u_lo = max(u_lo, prof.to_u(prof.lower))
    else:
        u_lo = prof.to_u(max(prof.lower, 0.0))
    u_hi = min(u_hi, prof.to_u(prof.upper))
    return [prof.to_x(float(u)) for u in np.linspace(u_lo, u_hi, n_points)]


# -- public entry points -------------------------------------------------------------------


def _limit_once(
    prof: Profile,
    method: str,
    cl: float,
    threshold: str,
    prior_power: int | None,
    n_toys: int | None,
    seed: int | None,
    grid: Sequence[float] | None,
    n_grid: int,
    ordering: str,
    belt: NeymanBelt | None,
    strategy: int,
) -> tuple[Any, ...]:
    """One evaluation of the chosen method on a profile (see :func:`compute_limit`)."""
    model, signal = prof.model, prof.signal
    lower: float | None
    intervals: tuple[tuple[float | None, float | None], ...] = ()
    thr: float | None = None
    prior: str | None = None
    used_ordering: str | None = None
    message = "ok"
    limit_valid = True
    if method == "bayesian":
        lower, upper, prior = _bayesian(prof, cl, prior_power)
    elif method == "profile":
        thr = profile_threshold(cl, threshold)
        lower, upper, intervals, message = _profile(prof, thr)
        limit_valid = not message.startswith("Δχ² stays below")
    else:
        used_ordering = ordering
        if belt is None:
            if n_toys is None or seed is None:
                raise LimitError("method 'neyman' needs n_toys and seed (or a belt)")
            assert isinstance(model, BinnedModel)  # compute_limit checked it
            x_grid = list(grid) if grid is not None else default_neyman_grid(prof, cl, n_grid)
            belt = neyman_belt(
                model,
                signal,
                x_grid,
                n_toys=n_toys,
                seed=seed,
                cl=cl,
                ordering=ordering,
                strategy=strategy,
            )
        else:
            used_ordering = belt.ordering
        lower, upper, closed = belt.interval(prof)
        if not closed:
            limit_valid = False
            message = "the top of the Neyman grid is still accepted; extend the grid"
        if prof.lower >= 0 and lower is not None and lower <= max(prof.lower, 0.0):
            lower = None
    return lower, upper, intervals, thr, prior, used_ordering, message, limit_valid, belt


def compute_limit(
    model: LikelihoodModel,
    signal: str,
    method: Method = "bayesian",
    cl: float = 0.9,
    *,
    threshold: str = "two_sided",
    prior_power: int | None = None,
    n_toys: int | None = None,
    seed: int | None = None,
    grid: Sequence[float] | None = None,
    n_grid: int = 16,
    ordering: str = "fc",
    belt: NeymanBelt | None = None,
    strategy: int = 0,
) -> LimitResult:
    """Limit on the coupling of ``signal`` for a model with data (toys use this directly).

    ``model`` is any :class:`~exonu.stats.likelihood.LikelihoodModel` (binned or unbinned);
    ``method="neyman"`` needs a :class:`~exonu.stats.model.BinnedModel` for its toys unless a
    precomputed ``belt`` is given. Parameters are those of :func:`upper_limit`; ``grid`` is in
    the model's x units here, and a precomputed ``belt`` replaces the toys of the Neyman
    construction.
    """
    if method not in ("bayesian", "profile", "neyman"):
        raise LimitError(f"method {method!r} is not known, expected bayesian, profile or neyman")
    if method == "neyman" and belt is None and not isinstance(model, BinnedModel):
        raise LimitError(
            f"method 'neyman' needs toys of a binned model, not a {model.likelihood!r} likelihood"
        )
    if not 0 < cl < 1:
        raise LimitError(f"cl is {cl}, expected 0 < cl < 1")
    prof = Profile(model, signal, strategy=strategy)
    sig = model.signals[prof.poi]
    for _ in range(3):
        lower, upper, intervals, thr, prior, used_ordering, message, limit_valid, belt = (
            _limit_once(
                prof,
                method,
                cl,
                threshold,
                prior_power,
                n_toys,
                seed,
                grid,
                n_grid,
                ordering,
                belt,
                strategy,
            )
        )
        # A profile point below the global minimum means the free fit missed it: refit
        # from there and redo the limit with the corrected minimum.
        if not prof.improve():
            break
    if belt is not None:
        n_toys, seed = belt.n_toys, belt.seed
    fit_valid = prof.all_valid()
    if not fit_valid and message == "ok":
        bad = [r.message for r in prof.points.values() if not r.valid]
        message = "fit failed: " + (bad[0] if bad else prof.zero.message)
    scale = sig.scale
    phys_intervals = tuple(
        (None if a is None else a * scale, None if b is None else b * scale) for a, b in intervals
    )
    return LimitResult(
        analysis=model.analysis,
        signal=sig.name,
        model=sig.model,
        parameter=sig.parameter,
        unit=sig.unit,
        flavour=sig.flavour,
        mediator_mass_mev=sig.mediator_mass_mev,
        treatment=sig.treatment,
        atomic_model=sig.atomic_model,
        method=method,
        cl=cl,
        likelihood=model.likelihood,
        upper_limit=float(upper * scale),
        lower_limit=None if lower is None else float(lower * scale),
        best_fit=float(prof.x_hat * scale),
        chi2_best=float(prof.chi2_min),
        chi2_zero=float(prof.zero.chi2),
        ndof=model.ndof(),
        n_bins=model.n_bins,
        fit_valid=fit_valid,
        valid=fit_valid and limit_valid,
        best_fit_at_bound=sig.name in prof.best.at_limit,
        workspace_digest=model.digest(),
        seed=seed if method == "neyman" else None,
        n_toys=n_toys if method == "neyman" else None,
        delta_chi2_threshold=thr,
        prior=prior,
        ordering=used_ordering,
        intervals=phys_intervals,
        n_fits=prof.n_fits,
        message=message,
        parameters_at_bound=tuple(prof.best.at_limit),
        warnings=model.warnings,
    )


def upper_limit(
    ws: Workspace,
    signal: str,
    method: Method = "bayesian",
    cl: float = 0.9,
    likelihood: Likelihood = "chi2",
    *,
    n_toys: int | None = None,
    seed: int | None = None,
    threshold: str = "two_sided",
    prior_power: int | None = None,
    grid: Sequence[float] | None = None,
    n_grid: int = 16,
    ordering: str = "fc",
    data_variance_floor: float = 1.0,
) -> LimitResult:
    """Observed limit (or interval) at ``cl`` on the coupling of ``signal``.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    signal : str
        Name of the signal.
    method : {"bayesian", "profile", "neyman"}
        See the module docstring; XMASS used ``"bayesian"``.
    cl : float
        Confidence (credibility) level, default 0.9.
    likelihood : {"chi2", "poisson"}
        XMASS χ² (eq. 4) or Baker–Cousins Poisson χ².
    n_toys, seed : int
        Toys per grid point and seed of the Neyman construction.
    threshold : {"two_sided", "one_sided"}
        Δχ² convention of the profile method (2.71 or 1.64 at 90 %).
    prior_power : int, optional
        Bayesian prior flat in x**prior_power (default: the highest power of the signal).
    grid : sequence of float, optional
        Neyman grid in **physical** units (default: 16 points up to ~2× the profile limit).
    ordering : {"fc", "upper"}
        Neyman ordering.
    data_variance_floor : float
        See :class:`~exonu.stats.model.BinnedModel`.

    Returns
    -------
    LimitResult
        In physical units; check ``valid``.
    """
    model = BinnedModel(ws, signal, likelihood, data_variance_floor=data_variance_floor)
    scale = model.signals[0].scale
    x_grid = None if grid is None else [g / scale for g in grid]
    if method == "neyman" and (n_toys is None or seed is None):
        raise ModelError("method 'neyman' needs n_toys and seed")
    return compute_limit(
        model,
        signal,
        method,
        cl,
        threshold=threshold,
        prior_power=prior_power,
        n_toys=n_toys,
        seed=seed,
        grid=x_grid,
        n_grid=n_grid,
        ordering=ordering,
    )
