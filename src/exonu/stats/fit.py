"""Maximum-likelihood fits with iminuit of any :class:`~exonu.stats.likelihood.LikelihoodModel`
(the binned χ² and Poisson models of :class:`~exonu.stats.model.BinnedModel`, the unbinned
model of :mod:`exonu.external.unbinned`).

Use :func:`fit` for one fit (the parameters of interest free or fixed) and :class:`Fitter`
when many fits of the same model follow each other (profile scans, toys): it keeps one
:class:`iminuit.Minuit` object and warm-starts every fit from the previous minimum.

How a fit runs
--------------
1. Starting point: the nominal nuisances (p = 1, q = r = 0). For every free parameter of
   interest a vectorised scan of the cost over ~320 values of x (nuisances nominal, all
   shapes exact) picks the starting x — and, for two-sided models, a second start on the
   other side of zero, because polynomial signals can have two local minima. After the fit
   the scan is repeated with the fitted nuisances and the fit restarted if it finds lower.
2. MIGRAD with the analytic gradient *and Hessian* of the model, passed explicitly (iminuit
   would also pick up ``grad``/``hessian`` attributes by itself; the model calls its gradient
   ``gradient`` and the fit checks that MIGRAD called it). Starts are moved off parameter
   bounds: MIGRAD started exactly on a bound can report a valid minimum there. Signals with
   only even powers of x are symmetric under x → −x, so their bound x ≥ 0 is left to the
   symmetry (MIGRAD's bound transformation is flat at the bound) and |x| is reported.
3. Checks and fallbacks: MIGRAD's validity, and for every parameter at a bound that the cost
   rises into the allowed region. A fit that fails because parameters ran into a bound is
   redone with them fixed there (active set) and accepted if that is a constrained minimum;
   otherwise one careful retry (strategy 2). A fit that ends next to a bound is polished onto
   it. A fit that still fails is returned with ``valid=False`` and a ``message`` — the limit
   code never uses it silently.
4. Optionally HESSE (parameters on an active bound held there) for errors and correlations.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from iminuit import Minuit
from iminuit._core import MnPrint
from iminuit.warnings import IMinuitWarning

from exonu.stats.errors import ModelError
from exonu.stats.likelihood import LikelihoodModel

__all__ = ["FitResult", "Fitter", "fit"]

FloatArray = npt.NDArray[np.float64]

# Relative tolerance on the gradient when deciding whether a bound is really active.
_KKT_TOL = 1e-3


@dataclass(frozen=True)
class FitResult:
    """Result of one fit.

    Attributes
    ----------
    parameters : tuple of str
        Parameter names (model order: POIs, p_j, q_k, r_l).
    values, errors : tuple of float
        Best-fit values and HESSE (or MIGRAD) errors; POIs in the model's ``x`` units.
    fixed : tuple of bool
        Which parameters were fixed in this fit.
    chi2 : float
        Minimum of the cost (χ² or Baker–Cousins χ²).
    ndof : int
        Fitted bins minus free POIs and free unconstrained activity scales.
    n_bins : int
        Number of fitted bins.
    valid : bool
        MIGRAD converged and every active bound is a true constrained minimum.
    at_limit : tuple of str
        Free parameters that ended on a bound (e.g. a signal at its physical limit 0).
    edm : float
        Estimated distance to minimum.
    nfcn, ngrad : int
        Function and gradient calls (ngrad > 0 proves the analytic gradient was used).
    pulls : dict
        (value − global observable)/σ for every constrained, free nuisance parameter.
    correlation : tuple of tuple of float, optional
        Correlation matrix of the free parameters (in ``parameters`` order, fixed ones
        dropped) when errors were computed.
    likelihood : str
        ``"chi2"``, ``"poisson"`` or ``"unbinned"`` (the model's ``likelihood``).
    message : str
        ``"ok"`` or what went wrong.
    """

    parameters: tuple[str, ...]
    values: tuple[float, ...]
    errors: tuple[float, ...]
    fixed: tuple[bool, ...]
    chi2: float
    ndof: int
    n_bins: int
    valid: bool
    at_limit: tuple[str, ...]
    edm: float
    nfcn: int
    ngrad: int
    pulls: Mapping[str, float] = field(default_factory=dict)
    correlation: tuple[tuple[float, ...], ...] | None = None
    likelihood: str = "chi2"
    message: str = "ok"

    def value(self, name: str) -> float:
        """Best-fit value of parameter ``name``."""
        return self.values[self._index(name)]

    def error(self, name: str) -> float:
        """Error of parameter ``name``."""
        return self.errors[self._index(name)]

    def _index(self, name: str) -> int:
        try:
            return self.parameters.index(name)
        except ValueError:
            raise ModelError(f"no parameter {name!r} in the fit result") from None

    @property
    def array(self) -> FloatArray:
        """Best-fit parameter vector as an array."""
        return np.array(self.values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation."""
        return {
            "parameters": list(self.parameters),
            "values": list(self.values),
            "errors": list(self.errors),
            "fixed": list(self.fixed),
            "chi2": self.chi2,
            "ndof": self.ndof,
            "n_bins": self.n_bins,
            "valid": self.valid,
            "at_limit": list(self.at_limit),
            "edm": self.edm,
            "nfcn": self.nfcn,
            "ngrad": self.ngrad,
            "pulls": dict(self.pulls),
            "correlation": None
            if self.correlation is None
            else [list(r) for r in self.correlation],
            "likelihood": self.likelihood,
            "message": self.message,
        }


class Fitter:
    """Repeated fits of one model with one warm-started :class:`iminuit.Minuit`.

    Parameters
    ----------
    model : LikelihoodModel
        The cost function.
    strategy : int
        MIGRAD strategy (0 fast, 1 default, 2 careful); a failed fit is retried with 2.
    tol : float
        MIGRAD tolerance; convergence when EDM < 0.002 · tol (χ² units).
    """

    def __init__(self, model: LikelihoodModel, *, strategy: int = 1, tol: float = 0.05) -> None:
        self.model = model
        self.strategy = strategy
        self.tol = tol
        self._lower = np.array([-np.inf if p.lower is None else p.lower for p in model.parameters])
        self._upper = np.array([np.inf if p.upper is None else p.upper for p in model.parameters])
        self._steps = model.initial_steps()
        with warnings.catch_warnings():
            # iminuit warns that g2 is ignored when a Hessian is given, but Minuit2 still
            # calls g2 in some code paths (fixed parameters); pass both.
            warnings.simplefilter("ignore", IMinuitWarning)
            m = Minuit(
                model,
                model.nominal.copy(),
                grad=model.gradient,
                g2=model.g2,
                hessian=model.hessian,
                name=model.names,
            )
        m.print_level = 0
        m.throw_nan = False
        # POIs whose cost is even in x (signals with only even powers of x) are symmetric
        # under x -> -x: their bound x >= 0 is left to the symmetry instead of MIGRAD's bound
        # transformation, which is flat at the bound and makes a best fit at x = 0 slow.
        # Values are folded back to |x| after every fit.
        self._mirror = list(model.symmetric_pois())
        for i, info in enumerate(model.parameters):
            m.limits[i] = (
                -np.inf if info.lower is None or i in self._mirror else info.lower,
                np.inf if info.upper is None else info.upper,
            )
            m.errors[i] = self._steps[i]
            m.fixed[i] = info.fixed
        self.minuit = m
        self._last: FloatArray | None = None
        self._fixed_by_model = np.array([p.fixed for p in model.parameters])

    # -- starting values -----------------------------------------------------------------

    def _poi_scan(self, theta: FloatArray, s: int) -> tuple[FloatArray, FloatArray]:
        """Cost over a grid of x_s with all other parameters at ``theta`` (vectorised)."""
        model = self.model
        xs = model.sensitivity_scale(s)
        lo, hi = self._lower[s], self._upper[s]
        u = np.sinh(np.linspace(0.0, 4.0, 161)) / math.sinh(4.0) * 40.0 * xs
        grid = np.concatenate([-u[::-1], u[1:]])
        grid = grid[(grid >= lo) & (grid <= hi)]
        if grid.size == 0:
            grid = np.array([0.5 * (lo + hi)])
        return grid, model.poi_scan_cost(theta, s, grid)

    def _starts(self, fixed: Mapping[int, float], start: FloatArray | None) -> list[FloatArray]:
        model = self.model
        theta = model.nominal.copy() if start is None else start.copy()
        for i, v in fixed.items():
            theta[i] = v
        free_pois = [s for s in range(model.n_poi) if s not in fixed]
        if start is not None or not free_pois:
            return [self._off_bounds(theta, fixed)]
        starts = [theta]
        for s in free_pois:
            grid, cost = self._poi_scan(starts[0], s)
            best = int(np.argmin(cost))
            new = []
            for st in starts:
                t = st.copy()
                t[s] = grid[best]
                new.append(t)
            # A second start on the other side of zero for sign-dependent signals.
            other = grid < 0 if grid[best] > 0 else grid > 0
            if self._lower[s] < 0 < self._upper[s] and np.any(other):
                j = int(np.flatnonzero(other)[np.argmin(cost[other])])
                if cost[j] < cost[best] + 25.0:
                    t = starts[0].copy()
                    t[s] = grid[j]
                    new.append(t)
            starts = new
        return [self._off_bounds(t, fixed) for t in starts]

    def _off_bounds(self, theta: FloatArray, fixed: Mapping[int, float]) -> FloatArray:
        """Move free parameters a fraction of their step away from any bound."""
        t = theta.copy()
        for i in range(self.model.npar):
            if i in fixed or self.model.parameters[i].fixed:
                continue
            margin = 0.5 * self._steps[i]
            lo, hi = self._lower[i], self._upper[i]
            if hi - lo <= 2 * margin:
                t[i] = 0.5 * (lo + hi)
            else:
                t[i] = min(max(t[i], lo + margin), hi - margin)
        return t

    # -- fitting -------------------------------------------------------------------------

    def fit(
        self,
        fixed: Mapping[str, float] | None = None,
        *,
        start: npt.ArrayLike | None = None,
        errors: bool = False,
        warm: bool = False,
        strategy: int | None = None,
    ) -> FitResult:
        """Minimise the cost.

        Parameters
        ----------
        fixed : dict, optional
            ``{parameter name: value}`` to hold fixed (POIs in the model's x units).
        start : array_like, optional
            Starting parameter vector (skips the POI scan).
        errors : bool
            Run HESSE and report errors and correlations.
        warm : bool
            Start from the previous fit of this object (profile scans); implies ``start``.
        strategy : int, optional
            MIGRAD strategy of this fit (default: the object's).

        Returns
        -------
        FitResult
        """
        if strategy is not None and strategy != self.strategy:
            saved = self.strategy
            self.strategy = strategy
            try:
                return self.fit(fixed, start=start, errors=errors, warm=warm)
            finally:
                self.strategy = saved
        model = self.model
        fixed_idx = {model.index(k): float(v) for k, v in (fixed or {}).items()}
        for i, v in fixed_idx.items():
            lo, hi = self._lower[i], self._upper[i]
            if not lo <= v <= hi:
                raise ModelError(
                    f"{model.names[i]} fixed at {v:g} is outside its bounds [{lo:g}, {hi:g}]"
                )
        if warm and self._last is not None and start is None:
            start = self._last
        start_arr = None if start is None else np.asarray(start, dtype=np.float64)
        best: tuple[float, dict[str, Any], str] | None = None
        for theta0 in self._starts(fixed_idx, start_arr):
            snap, message = self._attempt(theta0, fixed_idx)
            fval = float(snap["fval"])
            if best is None or (message == "ok", -fval) > (best[2] == "ok", -best[0]):
                best = (fval, snap, message)
        assert best is not None
        free_pois = [i for i in range(model.n_poi) if i not in fixed_idx]
        for _ in range(2 if start_arr is None else 0):
            # Re-scan each free POI with the fitted nuisances: a pulled nuisance can hide a
            # lower minimum that the scan at nominal nuisances missed.
            theta_b = np.array(best[1]["values"])
            pull = model.constraint_cost(theta_b)  # the POIs have no pull term
            better = None
            for s in free_pois:
                grid, cost = self._poi_scan(theta_b, s)
                k = int(np.argmin(cost))
                if cost[k] + pull < best[0] - 1e-3:
                    better = theta_b.copy()
                    better[s] = grid[k]
            if better is None:
                break
            snap, message = self._attempt(self._off_bounds(better, fixed_idx), fixed_idx)
            fval = float(snap["fval"])
            if (message == "ok", -fval) > (best[2] == "ok", -best[0]):
                best = (fval, snap, message)
            else:
                break
        fval, snap, message = best
        if message == "ok":
            snap = self._polish(snap, fixed_idx)
            fval = float(snap["fval"])
        if errors and message == "ok":
            # HESSE with the parameters on an active bound held there (their error is 0).
            m = self.minuit
            m.values = snap["values"]
            at_bound = set(snap.get("at_bound", ()))
            m.fixed[:] = [f or i in at_bound for i, f in enumerate(snap["fixed"])]
            with _quiet_minuit2():
                m.hesse()
            new = _snapshot(m, keep_fval=fval, covariance=True, mirror=self._mirror)
            free_block = None
            if any(m.fixed):
                # iminuit 2.33 / Minuit2 take the leading block of an analytic Hessian for
                # the free parameters when some are fixed (root-project/root#20954), so the
                # covariance is computed here from the free block of the model's Hessian.
                free_block = _free_block_covariance(self.model, m, self._mirror)
                if free_block is not None:
                    new["errors"], new["correlation"] = free_block
            new["fixed"] = snap["fixed"]
            new["at_bound"] = sorted(at_bound)
            new["errors"] = [0.0 if i in at_bound else e for i, e in enumerate(new["errors"])]
            new["nfcn"], new["ngrad"] = snap["nfcn"], snap["ngrad"]
            snap = new
            fmin = m.fmin
            # Judge HESSE by its covariance: the EDM Minuit reports after values were moved
            # (active bounds, folded |x|) refers to its own last minimisation state.
            if any(m.fixed):
                if free_block is None:
                    message = "HESSE failed: covariance not positive definite"
            elif fmin is None or fmin.hesse_failed or not fmin.has_posdef_covar:
                message = "HESSE failed: covariance not positive definite"
        self._last = np.array(snap["values"])
        return self._result(snap, fval, message, fixed_idx)

    def _attempt(
        self, theta0: FloatArray, fixed: Mapping[int, float]
    ) -> tuple[dict[str, Any], str]:
        """MIGRAD from ``theta0`` with the fallbacks of the module docstring."""
        f0 = self.model(theta0)
        m, message = self._migrad(theta0, fixed, self.strategy, iterate=1)
        snap = _snapshot(m, mirror=self._mirror)
        if message != "ok":
            # Active set: MIGRAD converges badly onto an active bound (the internal
            # transformation is flat there). Fix the parameters that ran into a bound at
            # that bound, refit, and accept if the cost rises into the allowed region.
            snap, message = self._active_set(snap, fixed, message)
        if message != "ok":
            # Retry carefully from an interior start.
            m, message2 = self._migrad(self._off_bounds(theta0, fixed), fixed, 2, iterate=3)
            if message2 == "ok" or m.fval < snap["fval"]:
                snap, message = _snapshot(m, mirror=self._mirror), message2
            if message != "ok":
                snap, message = self._active_set(snap, fixed, message)
        if message == "ok" and snap["fval"] > f0 + 1e-6 * max(1.0, abs(f0)):
            message = "MIGRAD ended above its starting point"
        return snap, message

    def _polish(self, snap: dict[str, Any], fixed: Mapping[int, float]) -> dict[str, Any]:
        """Snap free parameters that ended close to a bound onto it, if that is no worse.

        MIGRAD approaches a bound slowly (the transformation is flat there) and a signal
        x² is stationary at x = 0, so a best fit "at" the bound usually ends a little inside.
        """
        values = np.array(snap["values"])
        near: dict[int, float] = {}
        for i in range(self.model.npar):
            if snap["fixed"][i]:
                continue
            margin = 0.2 * self._steps[i]
            if values[i] - self._lower[i] < margin:
                near[i] = float(self._lower[i])
            elif self._upper[i] - values[i] < margin:
                near[i] = float(self._upper[i])
        if not near:
            return snap
        start = values.copy()
        for i, v in near.items():
            start[i] = v
        tol = max(2e-3 * self.tol * max(1.0, abs(snap["fval"])), 1e-6)
        # Usually the other parameters are still at their minimum after the move: check with
        # the estimated distance to the minimum (½ gᵀH⁻¹g over the free parameters).
        free = [i for i in range(self.model.npar) if not snap["fixed"][i] and i not in near]
        value, grad = self.model.value_and_gradient(start)
        if free and value <= snap["fval"] + tol:
            g = grad[free]
            h = self.model.hessian(start)[np.ix_(free, free)]
            try:
                edm = 0.5 * float(g @ np.linalg.solve(h, g))
            except np.linalg.LinAlgError:
                edm = math.inf
            if 0 <= edm < 2e-3 * self.tol:
                out = dict(snap)
                out["values"] = [float(v) for v in start]
                out["fval"] = float(value)
                out["edm"] = edm
                out["at_bound"] = sorted(set(snap.get("at_bound", ())) | set(near))
                return out
        m, message = self._migrad(start, {**fixed, **near}, self.strategy, iterate=1)
        if message != "ok" or m.fval > snap["fval"] + tol:
            return snap
        out = _snapshot(m, mirror=self._mirror)
        out["fixed"] = list(snap["fixed"])
        out["at_bound"] = sorted(set(snap.get("at_bound", ())) | set(near))
        out["nfcn"] += snap["nfcn"]
        out["ngrad"] += snap["ngrad"]
        return out

    def _active_set(
        self, snap: dict[str, Any], fixed: Mapping[int, float], message: str
    ) -> tuple[dict[str, Any], str]:
        values = np.array(snap["values"])
        at_bound = {
            i: float(
                self._lower[i]
                if values[i] - self._lower[i] < self._upper[i] - values[i]
                else self._upper[i]
            )
            for i in self._near_bound(values, snap)
        }
        if not at_bound:
            return snap, message
        start = values.copy()
        for i, v in at_bound.items():
            start[i] = v
        m, message2 = self._migrad(start, {**fixed, **at_bound}, self.strategy, iterate=1)
        if message2 != "ok" or m.fval > snap["fval"] + 1e-3:
            return snap, message
        g = self.model.gradient(np.array(m.values))
        for i, v in at_bound.items():
            # Cost change for one step into the allowed region must not be negative.
            inward = g[i] * self._steps[i] * (1.0 if v == self._lower[i] else -1.0)
            if inward < -0.05:
                return snap, message
        out = _snapshot(m, mirror=self._mirror)
        out["fixed"] = [f and i not in at_bound for i, f in enumerate(out["fixed"])]
        out["at_bound"] = sorted(at_bound)
        return out, "ok"

    def _near_bound(self, values: FloatArray, snap: dict[str, Any]) -> list[int]:
        errs = np.abs(np.array(snap["errors"]))
        out = []
        for i in range(self.model.npar):
            if snap["fixed"][i]:
                continue
            tol_x = 1e-4 * max(1.0, abs(values[i])) + 1e-2 * errs[i]
            if values[i] - self._lower[i] < tol_x or self._upper[i] - values[i] < tol_x:
                out.append(i)
        return out

    def _migrad(
        self, theta0: FloatArray, fixed: Mapping[int, float], strategy: int, iterate: int = 1
    ) -> tuple[Minuit, str]:
        m = self.minuit
        m.reset()
        m.values = theta0
        fixed_mask = self._fixed_by_model.copy()
        fixed_mask[list(fixed)] = True
        m.fixed[:] = fixed_mask
        m.errors[:] = self._steps
        m.strategy = strategy
        m.tol = self.tol
        ngrad0 = m.ngrad
        with _quiet_minuit2():
            m.migrad(iterate=iterate)
        if m.ngrad == ngrad0 and not all(m.fixed):
            raise RuntimeError("MIGRAD did not call the analytic gradient")  # pragma: no cover
        return m, self._check(m)

    def _check(self, m: Minuit) -> str:
        if not m.valid:
            fmin = m.fmin
            what = []
            if fmin is not None:
                if fmin.has_reached_call_limit:
                    what.append("call limit reached")
                if fmin.is_above_max_edm:
                    what.append(f"EDM {fmin.edm:.2g} above maximum")
            return "MIGRAD failed" + (": " + ", ".join(what) if what else "")
        theta = np.array(m.values)
        if not np.isfinite(m.fval):
            return "MIGRAD failed: non-finite cost"
        g = self.model.gradient(theta)
        scale = np.abs(np.array(m.errors)) + 1e-300
        for i in range(self.model.npar):
            if m.fixed[i] or i in self._mirror:
                continue
            lo, hi = self._lower[i], self._upper[i]
            tol_x = 1e-6 * max(1.0, abs(theta[i])) + 1e-3 * scale[i]
            # A bound is a proper constrained minimum if the cost rises into the allowed region.
            if theta[i] - lo < tol_x and g[i] * scale[i] < -_KKT_TOL * max(1.0, m.fval) - 0.1:
                return (
                    f"{self.model.names[i]} stuck at its lower bound with the cost falling inwards"
                )
            if hi - theta[i] < tol_x and g[i] * scale[i] > _KKT_TOL * max(1.0, m.fval) + 0.1:
                return (
                    f"{self.model.names[i]} stuck at its upper bound with the cost falling inwards"
                )
        return "ok"

    def _result(
        self, snap: dict[str, Any], fval: float, message: str, fixed: Mapping[int, float]
    ) -> FitResult:
        model = self.model
        values = np.array(snap["values"])
        errs = np.array(snap["errors"])
        at_limit = []
        at_bound = set(snap.get("at_bound", ()))
        for i in range(model.npar):
            if snap["fixed"][i]:
                continue
            if i in at_bound:
                at_limit.append(model.names[i])
                continue
            lo, hi = self._lower[i], self._upper[i]
            tol_x = 1e-6 * max(1.0, abs(values[i])) + 1e-3 * abs(errs[i])
            if values[i] - lo < tol_x or hi - values[i] < tol_x:
                at_limit.append(model.names[i])
        pulls: dict[str, float] = {}
        for i, info in enumerate(model.parameters):
            if info.kind == "poi" or snap["fixed"][i] or info.sigma is None:
                continue
            aux = model.aux[i - model.n_poi]
            pulls[info.name] = float((values[i] - aux) / info.sigma)
        fixed_names = {model.names[i]: v for i, v in fixed.items()}
        return FitResult(
            parameters=model.names,
            values=tuple(float(v) for v in values),
            errors=tuple(float(e) for e in errs),
            fixed=tuple(bool(f) for f in snap["fixed"]),
            chi2=float(fval),
            ndof=model.ndof(fixed_names),
            n_bins=model.n_bins,
            valid=message == "ok",
            at_limit=tuple(at_limit),
            edm=float(snap["edm"]),
            nfcn=int(snap["nfcn"]),
            ngrad=int(snap["ngrad"]),
            pulls=pulls,
            correlation=snap["correlation"],
            likelihood=model.likelihood,
            message=message,
        )


@contextmanager
def _quiet_minuit2() -> Iterator[None]:
    """Silence Minuit2's own log lines (e.g. "Initial matrix not pos.def.", which the exact
    Hessian triggers away from the minimum): failures are reported in the FitResult."""
    level = MnPrint.global_level
    MnPrint.global_level = -1
    try:
        yield
    finally:
        MnPrint.global_level = level


def _free_block_covariance(
    model: LikelihoodModel, m: Minuit, mirror: Sequence[int] = ()
) -> tuple[list[float], tuple[tuple[float, ...], ...]] | None:
    """Errors and correlations of the free parameters of ``m`` from the model's Hessian.

    The cost is a χ² (−2 ln L), so the covariance of the free parameters is
    2 · errordef · H_free⁻¹ with H_free the block of the Hessian of the free parameters; fixed
    parameters get error 0. Returns ``None`` when H_free is not positive definite.
    """
    values = np.array(m.values, dtype=np.float64)
    free = [i for i in range(m.npar) if not m.fixed[i]]
    if not free:
        return [0.0] * m.npar, ()
    h = np.asarray(model.hessian(values), dtype=np.float64)[np.ix_(free, free)]
    h = 0.5 * (h + h.T)
    try:
        chol = np.linalg.cholesky(h)
    except np.linalg.LinAlgError:
        return None
    inv_chol = np.linalg.inv(chol)
    cov = 2.0 * float(m.errordef) * (inv_chol.T @ inv_chol)
    sign = np.array([-1.0 if (i in mirror and values[i] < 0) else 1.0 for i in free])
    cov = cov * np.outer(sign, sign)
    d = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    errors = [0.0] * m.npar
    for k, i in enumerate(free):
        errors[i] = float(d[k])
    corr = cov / np.outer(d, d)
    return errors, tuple(tuple(float(v) for v in row) for row in corr)


def _snapshot(
    m: Minuit,
    keep_fval: float | None = None,
    covariance: bool = False,
    mirror: Sequence[int] = (),
) -> dict[str, Any]:
    """Plain copy of the state of ``m``; ``mirror`` parameters are folded to |x|."""
    values = np.array(m.values)
    sign = np.ones(m.npar)
    for i in mirror:
        if values[i] < 0:
            values[i], sign[i] = -values[i], -1.0
    corr = None
    if covariance and m.fmin is not None and m.fmin.has_covariance and m.covariance is not None:
        cov = np.array(m.covariance) * np.outer(sign, sign)
        free = [i for i in range(m.npar) if not m.fixed[i]]
        sub = cov[np.ix_(free, free)]
        d = np.sqrt(np.clip(np.diag(sub), 1e-300, None))
        c = sub / np.outer(d, d)
        corr = tuple(tuple(float(v) for v in row) for row in c)
    return {
        "values": [float(v) for v in values],
        "errors": list(m.errors),
        "fixed": [bool(f) for f in m.fixed],
        "edm": m.fmin.edm if m.fmin is not None else math.nan,
        "nfcn": m.nfcn,
        "ngrad": m.ngrad,
        "correlation": corr,
        "fval": m.fval if keep_fval is None else keep_fval,
    }


def fit(
    model: LikelihoodModel,
    fixed: Mapping[str, float] | None = None,
    *,
    start: Sequence[float] | None = None,
    errors: bool = True,
    strategy: int = 1,
) -> FitResult:
    """Fit ``model`` to its data (XMASS eqs. 4-7 minimised over all free parameters).

    Parameters
    ----------
    model : LikelihoodModel
        Model with data.
    fixed : dict, optional
        Parameters to hold fixed, e.g. ``{"magnetic_moment": 0.0}`` for the background-only
        fit (POI values in the model's x units: θ = x · scale).
    start : sequence of float, optional
        Starting vector; by default nominal nuisances and a scanned POI start.
    errors : bool
        Run HESSE (errors, correlations).
    strategy : int
        MIGRAD strategy.

    Returns
    -------
    FitResult
        Check ``valid`` (and ``at_limit``) before using the result.
    """
    return Fitter(model, strategy=strategy).fit(fixed, start=start, errors=errors)
