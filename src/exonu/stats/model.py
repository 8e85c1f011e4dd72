"""The binned model: XMASS-I's χ² (eqs. 4-7) and a Poisson alternative, with analytic gradients.

Use :class:`BinnedModel` to turn a :class:`~exonu.stats.workspace.Workspace` and one or more of
its signals into a cost function of the parameter vector

.. math:: \\theta = (x_1..x_S,\\; p_1..p_J,\\; q_1..q_K,\\; r_1..r_L)

(one parameter of interest :math:`x_s` per signal, the RI activity scales :math:`p_j`, the
background systematic pulls :math:`q_k`, the signal systematic pulls :math:`r_l`). Minimise it
with :func:`exonu.stats.fit.fit`; this module only evaluates.

The χ² of XMASS-I, PLB 809 (2020) 135741, eqs. (4)-(7), over the bins i of the fit window:

.. math::

   \\chi^2 = \\sum_i \\frac{(D_i - B_i - S_i)^2}
                         {D_i + \\sigma^2(B_{stat})_i + \\sigma^2(S_{stat})_i(x)}
            + \\sum_{j \\in C} \\frac{(1 - p_j)^2}{\\sigma^2(B_{RI})_j}
            + \\sum_k q_k^2 + \\sum_l r_l^2,

   B_i = \\sum_j p_j \\Big(B_{ij} + \\sum_k q_k\\, \\sigma(B_{sys})_{ijk}\\Big)  \\quad (5),
   \\qquad
   S_i = \\sum_s S^0_{s,i}(x_s) \\Big(1 + \\sum_l r_l\\, \\delta_{s,il}\\Big) \\quad (6),

with :math:`S^0_{s,i}(x) = \\sum_p x^p T_{s,p,i}` (the paper's :math:`\\alpha S_i` for a pure power)
and C the constrained backgrounds (those with a ``relative_uncertainty`` that are not in the
signal's ``free_backgrounds``). Choices the paper leaves open, fixed here:

* **Background MC variance** scales with the square of the activity scale,
  :math:`\\sigma^2(B_{stat})_i = \\sum_j p_j^2 V_{ij}` (a weight rescaled by p has variance p²V);
  the systematic shifts do not change it.
* **Signal MC variance** :math:`\\sigma^2(S_{stat})_i(x) = \\max(0, \\sum_p x^p V_{p,i})` (clipped:
  interference cross terms may be negative); the signal pulls :math:`r_l` do not change it.
* **Zero denominators.** The data term of the denominator is
  :math:`\\max(D_i, f)` with ``data_variance_floor`` f = 1 count by default: an empty bin is
  given the variance of one count instead of an undefined or infinitely sharp term
  (Pearson's χ² is undefined there). With hundreds of counts per bin (the XMASS fit) the
  floor never acts. Set f = 0 to get eq. (4) literally (then an empty bin without MC
  variance raises :class:`~exonu.stats.errors.ModelError`).
* **Bounds.** Activity scales are physical, :math:`p_j \\ge 0`. They also get an upper
  bound, :math:`1 + 10\\,\\sigma(B_{RI})_j` (or 100 without a constraint): with
  :math:`\\sigma^2(B_{stat}) \\propto p_j^2` the data term tends to a constant
  :math:`\\sum_i B_{ij}^2/V_{ij}` as :math:`p_j \\to \\infty` instead of growing, and
  MIGRAD can run away along that plateau. A fit that ends on a bound says so
  (``FitResult.at_limit``).
* **Global observables.** The pull terms are written as :math:`(a_j - p_j)^2/\\sigma_j^2`,
  :math:`(b_k - q_k)^2`, :math:`(c_l - r_l)^2` with auxiliary data a = 1, b = c = 0 for the
  observed data set; toys fluctuate them (:mod:`exonu.stats.toys`).

``likelihood="poisson"`` replaces the data term by the Baker–Cousins likelihood-ratio χ²
:math:`2\\sum_i [\\mu_i - D_i + D_i \\ln(D_i/\\mu_i)]`, :math:`\\mu_i = B_i + S_i`, with the same
pull terms. The MC statistical variance :math:`V_i = \\sigma^2(B_{stat})_i +
\\sigma^2(S_{stat})_i` enters through one scale factor :math:`\\gamma_i` per bin with a Gaussian
constraint of relative width :math:`\\sqrt{V_i}/\\mu_i` (Barlow–Beeston "lite", Conway,
arXiv:1103.0354), profiled analytically (a quadratic), so it adds no fit parameters. Bins with
:math:`\\mu_i < \\epsilon` (10⁻⁹ counts; only reachable with destructive interference) continue
the likelihood by its second-order Taylor expansion at ε, which keeps value and gradient
consistent.

The gradient (:meth:`BinnedModel.gradient`) is analytic; the envelope theorem makes the
profiled :math:`\\gamma_i` drop out of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from exonu.stats.errors import ModelError
from exonu.stats.workspace import Signal, Workspace

__all__ = ["BinnedModel", "Likelihood", "ParameterInfo"]

Likelihood = Literal["chi2", "poisson"]
FloatArray = npt.NDArray[np.float64]

_MU_EPS = 1e-9  # counts; continuation point of the Poisson term (see module docstring)
# Upper bounds of the activity scales (see the module docstring, "bounds").
_P_MAX_FREE = 100.0
_P_MAX_SIGMAS = 10.0


@dataclass(frozen=True)
class ParameterInfo:
    """Description of one fit parameter.

    Attributes
    ----------
    name : str
        ``<signal name>`` for a parameter of interest, ``p_<background>``, ``q_<systematic>``
        or ``r_<signal systematic>`` for nuisances.
    kind : str
        ``"poi"``, ``"activity"`` (p_j), ``"bkg_sys"`` (q_k) or ``"sig_sys"`` (r_l).
    nominal : float
        Value in the nominal (background-only, no pull) model: 0 for x, q, r and 1 for p.
    lower, upper : float or None
        Bounds (``None`` = unbounded).
    sigma : float or None
        Width of the Gaussian constraint (``None`` = unconstrained).
    fixed : bool
        Fixed by construction (a background with ``relative_uncertainty`` 0).
    """

    name: str
    kind: str
    nominal: float
    lower: float | None
    upper: float | None
    sigma: float | None
    fixed: bool = False


def _derivative_table(powers: FloatArray) -> list[tuple[FloatArray, FloatArray]]:
    """(coefficient, exponent) of d^k/dx^k x**p for k = 0, 1, 2 (zero where p < k)."""
    out = []
    coef = np.ones_like(powers)
    for k in range(3):
        out.append((coef.copy(), np.maximum(powers - k, 0.0)))
        coef = coef * (powers - k)
    return out


@dataclass
class _Pieces:
    """Intermediate results of one evaluation (see :meth:`BinnedModel._pieces`)."""

    a: FloatArray  # B_ij + Σ_k q_k σ_ijk, (J, m)
    p: FloatArray  # activity scales
    mu: FloatArray = field(default_factory=lambda: np.zeros(0))
    var: FloatArray = field(default_factory=lambda: np.zeros(0))
    s0: list[FloatArray] = field(default_factory=list)  # S⁰_s per signal
    f: list[FloatArray] = field(default_factory=list)  # 1 + Σ_l r_l δ_sl
    ds: list[FloatArray] = field(default_factory=list)  # dS⁰_s/dx_s
    d2s: list[FloatArray] = field(default_factory=list)
    dvs: list[FloatArray | None] = field(default_factory=list)  # dσ²(S_stat)/dx_s
    d2vs: list[FloatArray | None] = field(default_factory=list)


class BinnedModel:
    """Cost function of XMASS eqs. (4)-(7) for the chosen signals of a workspace.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    signals : str or sequence of str
        Signal(s) to include, one parameter of interest each (S = Σ_s S_s(x_s)). Several
        signals must share the fit window and the list of free backgrounds.
    likelihood : {"chi2", "poisson"}
        XMASS's χ² (default) or the Baker–Cousins Poisson χ² (see the module docstring).
    data_variance_floor : float
        Floor f of the data term in the χ² denominator, max(D_i, f); default 1 count.

    Notes
    -----
    The cost is a χ² (``errordef`` = 1). Parameter vectors are in the order of
    :attr:`parameters`: the POIs, then p_j, q_k, r_l. The POIs are the dimensionless
    ``x`` of the workspace (physical value = x · ``Signal.scale``).
    """

    errordef: float = 1.0

    def __init__(
        self,
        ws: Workspace,
        signals: str | Sequence[str],
        likelihood: Likelihood = "chi2",
        *,
        data_variance_floor: float = 1.0,
    ) -> None:
        if likelihood not in ("chi2", "poisson"):
            raise ModelError(
                f"likelihood {likelihood!r} is not known, expected 'chi2' or 'poisson'"
            )
        names = [signals] if isinstance(signals, str) else list(signals)
        if not names:
            raise ModelError("BinnedModel needs at least one signal")
        if len(set(names)) != len(names):
            raise ModelError(f"signals {names} contain a duplicate")
        sigs = [ws.signal(n) for n in names]
        first = sigs[0]
        for s in sigs[1:]:
            if s.fit_window_kev != first.fit_window_kev:
                raise ModelError(
                    f"signals {first.name!r} and {s.name!r} have different fit windows "
                    f"{list(first.fit_window_kev)} and {list(s.fit_window_kev)} keV; "
                    "a combined model needs one window"
                )
            if set(s.free_backgrounds) != set(first.free_backgrounds):
                raise ModelError(
                    f"signals {first.name!r} and {s.name!r} free different backgrounds; "
                    "a combined model needs the same free_backgrounds"
                )
        if data_variance_floor < 0:
            raise ModelError(f"data_variance_floor is {data_variance_floor}, expected >= 0")

        self.workspace = ws
        self.signals: tuple[Signal, ...] = tuple(sigs)
        self.likelihood: Likelihood = likelihood
        self.data_variance_floor = float(data_variance_floor)
        mask = np.asarray(first.fit_mask)
        self.bin_mask = mask
        self.edges_kev = np.asarray(ws.edges_kev)
        self.n_bins = int(mask.sum())

        # -- backgrounds (J, m) --
        self._b0 = np.array([b.expected[mask] for b in ws.backgrounds])
        self._vb0 = np.array([b.mc_variance[mask] for b in ws.backgrounds])
        free = set(first.free_backgrounds)
        params: list[ParameterInfo] = []
        for s in sigs:
            lo, hi = s.x_bounds
            params.append(ParameterInfo(s.name, "poi", 0.0, lo, hi, None))
        for b in ws.backgrounds:
            rel = None if b.name in free else b.relative_uncertainty
            params.append(
                ParameterInfo(
                    f"p_{b.name}",
                    "activity",
                    1.0,
                    0.0,
                    _P_MAX_FREE if not rel else 1.0 + _P_MAX_SIGMAS * rel,
                    rel if rel else None,
                    fixed=rel == 0.0,
                )
            )
        # -- background systematics (K, J, m) --
        bkg_index = {b.name: j for j, b in enumerate(ws.backgrounds)}
        n_j = len(ws.backgrounds)
        self._sys = np.zeros((len(ws.background_systematics), n_j, self.n_bins))
        for k, bs in enumerate(ws.background_systematics):
            for comp, shift in bs.shifts.items():
                self._sys[k, bkg_index[comp]] = shift[mask]
            params.append(ParameterInfo(f"q_{bs.name}", "bkg_sys", 0.0, None, None, 1.0))
        # -- signals --
        ssys_names: list[str] = []
        for s in sigs:
            for ss in s.systematics:
                if ss.name not in ssys_names:
                    ssys_names.append(ss.name)
        for n in ssys_names:
            params.append(ParameterInfo(f"r_{n}", "sig_sys", 0.0, None, None, 1.0))
        self._t_pow = [np.array([t.power for t in s.terms], dtype=np.float64) for s in sigs]
        self._t_val = [np.array([t.values[mask] for t in s.terms]) for s in sigs]
        self._v_pow = [
            np.array([t.power for t in s.variance_terms], dtype=np.float64) for s in sigs
        ]
        self._v_val = [
            np.array([t.values[mask] for t in s.variance_terms]).reshape(-1, self.n_bins)
            for s in sigs
        ]
        self._t_table = [_derivative_table(pw) for pw in self._t_pow]
        self._v_table = [_derivative_table(pw) for pw in self._v_pow]
        self._delta = []
        for s in sigs:
            d = np.zeros((len(ssys_names), self.n_bins))
            for ss in s.systematics:
                d[ssys_names.index(ss.name)] = ss.relative_shifts[mask]
            self._delta.append(d)

        self.parameters: tuple[ParameterInfo, ...] = tuple(params)
        self.names: tuple[str, ...] = tuple(p.name for p in params)
        if len(set(self.names)) != len(self.names):
            dup = sorted({n for n in self.names if self.names.count(n) > 1})
            raise ModelError(f"parameter names {dup} are ambiguous; rename the signal(s)")
        self.n_poi = len(sigs)
        self.n_bkg = n_j
        self.n_bsys = self._sys.shape[0]
        self.n_ssys = len(ssys_names)
        self.npar = len(params)
        self._sl_p = slice(self.n_poi, self.n_poi + n_j)
        self._sl_q = slice(self._sl_p.stop, self._sl_p.stop + self.n_bsys)
        self._sl_r = slice(self._sl_q.stop, self._sl_q.stop + self.n_ssys)

        sig_p = np.array([p.sigma if p.sigma else np.inf for p in params[self._sl_p]])
        self._p_constrained = np.isfinite(sig_p)
        self._p_inv_var = np.where(self._p_constrained, 1.0 / np.where(sig_p > 0, sig_p, 1) ** 2, 0)

        self.nominal = np.array([p.nominal for p in params])
        # Weight of each nuisance in the pull sum: 1/σ² for p_j (0 if unconstrained), 1 for q, r.
        self._pull_weight = np.concatenate([self._p_inv_var, np.ones(self.n_bsys + self.n_ssys)])
        self.aux_nominal = self.nominal[self.n_poi :].copy()
        self._ones = np.ones(self.n_bins)
        self._sys_flat = self._sys.reshape(self.n_bsys, n_j * self.n_bins)
        self._cache_key: bytes | None = None
        self._cache_value = 0.0
        self._cache_grad: FloatArray | None = None
        self.set_data(ws.observed[mask].astype(np.float64))

    # -- data ----------------------------------------------------------------------------

    def set_data(self, observed: npt.ArrayLike, aux: npt.ArrayLike | None = None) -> None:
        """Replace the observed counts (fit-window bins) and, optionally, the global observables.

        Parameters
        ----------
        observed : array_like
            Counts in the ``n_bins`` bins of the fit window (need not be integers: Asimov).
        aux : array_like, optional
            Global observables of the pull terms, in the order of the nuisance parameters
            (p_j, q_k, r_l); default: the nominal 1, 0, 0.
        """
        d = np.array(observed, dtype=np.float64)
        if d.shape != (self.n_bins,):
            raise ModelError(f"observed has shape {d.shape}, expected ({self.n_bins},)")
        if np.any(d < 0) or not np.all(np.isfinite(d)):
            raise ModelError("observed counts must be finite and >= 0")
        a = self.aux_nominal.copy() if aux is None else np.array(aux, dtype=np.float64)
        if a.shape != self.aux_nominal.shape:
            raise ModelError(f"aux has shape {a.shape}, expected {self.aux_nominal.shape}")
        self.observed = d
        self.aux = a
        self._dvar = np.maximum(d, self.data_variance_floor)
        self._dlogd = np.where(d > 0, d * np.log(np.where(d > 0, d, 1.0)), 0.0)
        if self.likelihood == "chi2":
            no_var = (self._dvar <= 0) & (self._vb0.sum(axis=0) <= 0)
            if np.any(no_var):
                i = int(np.flatnonzero(no_var)[0])
                raise ModelError(
                    f"bin {i} of the fit window has no data and no MC variance: the χ² "
                    "denominator is 0 (use data_variance_floor > 0 or likelihood='poisson')"
                )
        self._cache_key = None

    def copy_with_data(
        self, observed: npt.ArrayLike, aux: npt.ArrayLike | None = None
    ) -> BinnedModel:
        """Shallow copy sharing the templates, with other data (for toys)."""
        new = object.__new__(BinnedModel)
        new.__dict__.update(self.__dict__)
        new.set_data(observed, aux)
        return new

    # -- predictions ---------------------------------------------------------------------

    def _pieces(self, theta: FloatArray, order: int = 0) -> _Pieces:
        """Expected counts, MC variance and (order >= 1) their derivatives at ``theta``."""
        p = theta[self._sl_p]
        q = theta[self._sl_q]
        r = theta[self._sl_r]
        a = self._b0 + (q @ self._sys_flat).reshape(self._b0.shape) if self.n_bsys else self._b0
        mu = p @ a
        var = (p * p) @ self._vb0
        pc = _Pieces(a=a, p=p)
        for s in range(self.n_poi):
            x = float(theta[s])
            tt, tv = self._t_table[s], self._v_table[s]
            t_val, v_val = self._t_val[s], self._v_val[s]
            s0 = (tt[0][0] * x ** tt[0][1]) @ t_val
            f = 1.0 + r @ self._delta[s] if self.n_ssys else self._ones
            mu = mu + s0 * f
            vs = (tv[0][0] * x ** tv[0][1]) @ v_val if v_val.shape[0] else None
            if vs is not None:
                var = var + np.maximum(vs, 0.0)
            pc.s0.append(s0)
            pc.f.append(f)
            for k in range(1, order + 1):
                (pc.ds if k == 1 else pc.d2s).append((tt[k][0] * x ** tt[k][1]) @ t_val)
                dv = None
                if vs is not None:
                    dv = np.where(vs > 0, (tv[k][0] * x ** tv[k][1]) @ v_val, 0.0)
                (pc.dvs if k == 1 else pc.d2vs).append(dv)
        pc.mu = mu
        pc.var = var
        return pc

    def expected_counts(self, theta: npt.ArrayLike) -> FloatArray:
        """Expected counts :math:`\\mu_i = B_i + S_i` in the fit-window bins at ``theta``."""
        return self._pieces(np.asarray(theta, dtype=np.float64)).mu

    def signal_counts(self, theta: npt.ArrayLike) -> FloatArray:
        """Signal counts :math:`S_i` (all signals, with pulls) at ``theta``."""
        t = np.asarray(theta, dtype=np.float64)
        pc = self._pieces(t)
        out = np.zeros(self.n_bins)
        for s0, f in zip(pc.s0, pc.f, strict=True):
            out = out + s0 * f
        return out

    def mc_variance(self, theta: npt.ArrayLike) -> FloatArray:
        """Total MC statistical variance σ²(B_stat) + σ²(S_stat) per bin at ``theta``."""
        return self._pieces(np.asarray(theta, dtype=np.float64)).var

    # -- cost ----------------------------------------------------------------------------

    def _data_term(self, mu: FloatArray, var: FloatArray, order: int = 1) -> tuple[FloatArray, ...]:
        """Per-bin data term f(μ_i, V_i) and partial derivatives.

        Returns ``(f, f_μ, f_V)`` and, for ``order`` 2, also ``(f_μμ, f_μV, f_VV)``.
        """
        d = self.observed
        if self.likelihood == "chi2":
            res = d - mu
            w = self._dvar + var
            f_mu = -2.0 * res / w
            f = -0.5 * f_mu * res
            f_v = -f / w
            if order < 2:
                return f, f_mu, f_v
            return f, f_mu, f_v, 2.0 / w, -f_mu / w, -2.0 * f_v / w
        # Baker–Cousins with Barlow–Beeston-lite, continued below _MU_EPS.
        m = np.maximum(mu, _MU_EPS)
        has_v = var > 0
        v = np.where(has_v, var, 1.0)
        m2 = m * m
        tau2 = np.where(has_v, v / m2, 0.0)
        b = m * tau2 - 1.0
        disc = np.sqrt(b * b + 4.0 * d * tau2)
        # Positive root of γ² + bγ − Dτ² = 0, written without cancellation.
        gam = np.where(b <= 0, 0.5 * (disc - b), 2.0 * d * tau2 / np.where(b > 0, b + disc, 1.0))
        gam = np.where(has_v, gam, 1.0)
        g1 = gam - 1.0
        pos = d > 0
        dlog = np.where(pos, d * np.log(np.where(pos, gam * m, 1.0)), 0.0)
        pen = np.where(has_v, g1 * g1 * m2 / v, 0.0)
        f = 2.0 * (gam * m - d - dlog) + 2.0 * self._dlogd + pen
        f_mu = 2.0 * gam - 2.0 * d / m + np.where(has_v, 2.0 * g1 * g1 * m / v, 0.0)
        # V -> 0 limit of -(γ-1)²μ²/V² is -(D-μ)²/μ².
        f_v = np.where(has_v, -pen / v, -((d - m) ** 2) / m2)
        low = mu < _MU_EPS
        any_low = bool(np.any(low))
        if order >= 2 or any_low:
            inv_v = np.where(has_v, 1.0 / v, 0.0)
            f_mumu = 2.0 * d / m2 + 2.0 * g1 * g1 * inv_v
            f_muv = -2.0 * g1 * g1 * m * inv_v * inv_v
            f_vv = 2.0 * g1 * g1 * m2 * inv_v**3
            f_gg = np.where(has_v, 2.0 * d / (gam * gam + (gam == 0)) + 2.0 * m2 * inv_v, 1.0)
            f_gmu = np.where(has_v, 2.0 + 4.0 * g1 * m * inv_v, 0.0)
            f_gv = np.where(has_v, -2.0 * g1 * m2 * inv_v * inv_v, 0.0)
            # Hessian of the profiled function: f_ab - f_aγ f_bγ / f_γγ (envelope theorem).
            f_mumu = f_mumu - f_gmu * f_gmu / f_gg
            f_muv = np.where(has_v, f_muv - f_gmu * f_gv / f_gg, 2.0 * d * (d - m) / (m2 * m))
            f_vv = np.where(has_v, f_vv - f_gv * f_gv / f_gg, 0.0)
        if any_low:
            # Second-order continuation in μ around ε (same value and slope at ε); its
            # Hessian keeps only the leading terms (h, and f_μV, f_VV taken at ε).
            h = 2.0 * d / (_MU_EPS * _MU_EPS)
            dm = np.where(low, mu - _MU_EPS, 0.0)
            f = f + f_mu * dm + 0.5 * h * dm * dm
            f_v = f_v + f_muv * dm
            f_mumu = np.where(low, h, f_mumu)
            f_mu = f_mu + h * dm
        if order < 2:
            return f, f_mu, f_v
        return f, f_mu, f_v, f_mumu, f_muv, f_vv

    def _pull(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """Pull terms of XMASS eq. (7), written with global observables, and their gradient."""
        nb = self.n_poi
        g = np.zeros(self.npar)
        dp = theta[nb:] - self.aux
        w = self._pull_weight
        g[nb:] = 2.0 * w * dp
        return float(np.dot(w * dp, dp)), g

    def _jacobians(self, pc: _Pieces) -> tuple[FloatArray, list[FloatArray | None]]:
        """dμ_i/dθ (npar, m); dV_i/dx_s per POI (dV/dp_j is 2 p_j V_ji, handled apart)."""
        jac = np.empty((self.npar, self.n_bins))
        for s in range(self.n_poi):
            jac[s] = pc.ds[s] * pc.f[s]
        jac[self._sl_p] = pc.a
        if self.n_bsys:
            jac[self._sl_q] = np.einsum("kjm,j->km", self._sys, pc.p)
        if self.n_ssys:
            jr = np.zeros((self.n_ssys, self.n_bins))
            for s in range(self.n_poi):
                jr += self._delta[s] * pc.s0[s]
            jac[self._sl_r] = jr
        return jac, pc.dvs

    def _evaluate(self, theta: FloatArray, order: int) -> tuple[float, FloatArray, FloatArray]:
        pc = self._pieces(theta, order)
        terms = self._data_term(pc.mu, pc.var, order)
        f, f_mu, f_v = terms[0], terms[1], terms[2]
        pull, g = self._pull(theta)
        value = float(f.sum()) + pull
        if order == 0:
            return value, g, g
        jac, dvs = self._jacobians(pc)
        g += jac @ f_mu
        p = pc.p
        g[self._sl_p] += 2.0 * p * (self._vb0 @ f_v)
        for s in range(self.n_poi):
            if dvs[s] is not None:
                g[s] += dvs[s] @ f_v
        if order == 1:
            return value, g, g
        f_mumu, f_muv, f_vv = terms[3], terms[4], terms[5]
        # dV/dθ (npar, m): rows of the POIs and of the activity scales.
        jv = np.zeros((self.npar, self.n_bins))
        jv[self._sl_p] = 2.0 * p[:, None] * self._vb0
        for s in range(self.n_poi):
            if dvs[s] is not None:
                jv[s] = dvs[s]
        hess = (jac * f_mumu) @ jac.T
        cross = (jac * f_muv) @ jv.T
        hess += cross + cross.T + (jv * f_vv) @ jv.T
        # Second derivatives of μ and V themselves.
        for s in range(self.n_poi):
            hess[s, s] += (pc.d2s[s] * pc.f[s]) @ f_mu
            if pc.d2vs[s] is not None:
                hess[s, s] += pc.d2vs[s] @ f_v
            if self.n_ssys:
                xr = self._delta[s] @ (pc.ds[s] * f_mu)
                hess[s, self._sl_r] += xr
                hess[self._sl_r, s] += xr
        if self.n_bsys:
            pq = self._sys @ f_mu  # (K, J): d²μ/dp_j dq_k = σ_kji
            hess[self._sl_q, self._sl_p] += pq
            hess[self._sl_p, self._sl_q] += pq.T
        ip = np.arange(self._sl_p.start, self._sl_p.stop)
        hess[ip, ip] += 2.0 * (self._vb0 @ f_v) + 2.0 * self._p_inv_var
        iq = np.arange(self._sl_q.start, self._sl_r.stop)
        hess[iq, iq] += 2.0
        return value, g, hess

    def __call__(self, theta: npt.ArrayLike) -> float:
        """Value of the cost (χ², ``errordef`` 1) at ``theta``."""
        t = np.asarray(theta, dtype=np.float64)
        if self._cache_key is not None and t.tobytes() == self._cache_key:
            return self._cache_value
        return self._evaluate(t, 0)[0]

    def value_and_gradient(self, theta: npt.ArrayLike) -> tuple[float, FloatArray]:
        """Value and analytic gradient at ``theta``."""
        t = np.asarray(theta, dtype=np.float64)
        key = t.tobytes()
        if key == self._cache_key and self._cache_grad is not None:
            return self._cache_value, self._cache_grad.copy()
        value, g, _ = self._evaluate(t, 1)
        self._cache_key, self._cache_value, self._cache_grad = key, value, g.copy()
        return value, g

    def gradient(self, theta: npt.ArrayLike) -> FloatArray:
        """Analytic gradient of the cost at ``theta`` (passed to MIGRAD explicitly)."""
        return self.value_and_gradient(theta)[1]

    def hessian(self, theta: npt.ArrayLike) -> FloatArray:
        """Analytic Hessian of the cost at ``theta`` (used by MIGRAD's seed and by HESSE)."""
        t = np.asarray(theta, dtype=np.float64)
        value, g, h = self._evaluate(t, 2)
        self._cache_key, self._cache_value, self._cache_grad = t.tobytes(), value, g.copy()
        return h

    def g2(self, theta: npt.ArrayLike) -> FloatArray:
        """Diagonal of :meth:`hessian`."""
        out: FloatArray = np.diag(self.hessian(theta)).copy()
        return out

    # -- helpers -------------------------------------------------------------------------

    def index(self, name: str) -> int:
        """Position of the parameter ``name`` in the parameter vector."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ModelError(
                f"no parameter {name!r} in the model (parameters: {', '.join(self.names)})"
            ) from None

    def poi_index(self, signal: str) -> int:
        """Position of the parameter of interest of ``signal``."""
        for i, s in enumerate(self.signals):
            if s.name == signal:
                return i
        raise ModelError(
            f"signal {signal!r} is not in the model (signals: "
            f"{', '.join(s.name for s in self.signals)})"
        )

    def ndof(self, fixed: Mapping[str, float] | None = None) -> int:
        """Degrees of freedom: fitted bins minus free POIs and free unconstrained scales.

        Constrained nuisances add one parameter and one pull term each and do not count.
        """
        fixed = fixed or {}
        n_free = 0
        for info in self.parameters:
            if info.fixed or info.name in fixed:
                continue
            if info.kind == "poi" or (info.kind == "activity" and info.sigma is None):
                n_free += 1
        return self.n_bins - n_free

    def sensitivity_scale(self, signal: int = 0) -> float:
        """Rough x at which signal ``signal`` changes the χ² by ~1 (for starting values).

        The smallest over the powers p of :math:`(\\sum_i T_{p,i}^2/(D_i + V_i))^{-1/(2p)}`.
        """
        w = self._dvar + self._vb0.sum(axis=0)
        w = np.where(w > 0, w, 1.0)
        scales = []
        for pw, t in zip(self._t_pow[signal], self._t_val[signal], strict=True):
            f = float(np.sum(t * t / w))
            if f > 0:
                scales.append(f ** (-0.5 / pw))
        return min(scales) if scales else 1.0
