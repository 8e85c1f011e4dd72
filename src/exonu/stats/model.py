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

* **MC variance** :math:`\\sigma^2(B_{stat})_i + \\sigma^2(S_{stat})_i = V_i(\\theta)` as a
  function of the parameters is set by ``mc_statistics`` (below); signal variances with
  interference are clipped at 0 (cross terms may be negative).
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
pull terms. Bins with :math:`\\mu_i < \\epsilon` (10⁻⁹ counts; only reachable with destructive
interference) continue the likelihood by its second-order Taylor expansion at ε, which keeps
value and gradient consistent.

**Monte-Carlo statistics** (``mc_statistics``). The templates are weighted Monte Carlo with
variance :math:`V_{ij}` (and :math:`\\sum_p x^p V_{p,i}` for a signal). Three treatments, all
exactly HistFactory models (:mod:`exonu.products.pyhf_export` writes them for pyhf):

``"barlow_beeston_lite"`` (default) — one Gaussian factor per bin and template on the
    template's nominal counts (Barlow & Beeston's nuisances with Gaussian constraints,
    "lite" in the sense of Conway, arXiv:1103.0354). Profiled exactly they leave one factor
    per bin with the variance

    .. math:: V_i(\\theta) = \\sum_j p_j^2 V_{ij}
              + \\sum_s \\max\\big(0, \\textstyle\\sum_p x_s^p V_{s,p,i}\\big):

    a weight rescaled by p has variance p²V; the systematic shifts and signal pulls do not
    change it. exonu's treatment from the start, and the one that covers in the toy study
    ``benchmarks/mcstat_coverage.py`` (record ``benchmarks/records/mcstat_coverage.md``:
    data and templates fluctuating as in the embedded default). pyhf: one ``staterror``
    per template, the shifts on a separate zero-nominal sample
    (:mod:`exonu.products.pyhf_export`).

``"histfactory"`` — HistFactory's default ``staterror`` (Cranmer et al., CERN-OPEN-2012-016):
    the backgrounds share one factor per bin with the fixed relative width
    :math:`\\rho_i = \\sum_j V_{ij} / (\\sum_j B_{ij})^2` (nominal), each signal has its own:
    :math:`V_i(\\theta) = \\rho_i (\\sum_j p_j a_{ij})^2 + \\sum_s \\max(0, \\ldots)\\,
    f_{s,i}^2`. Attributing events to the background then buys variance, and the toy study
    finds the magnetic-moment fit biased towards no signal and under-covering.

``"barlow_beeston"`` — the full treatment of Barlow & Beeston, Comput. Phys. Commun. 77
    (1993) 219: one nuisance per bin and template (backgrounds and single-power signals),
    the unknown true template :math:`A_{ij}` constrained by the scaled Poisson probability
    of the MC's effective count :math:`m_{ij} = B_{ij}^2/V_{ij}` (Bohm & Zech, NIM A 748
    (2014) 1), profiled exactly per bin (a monotonic one-dimensional equation, solved by
    safeguarded Newton iterations). Poisson likelihood only; pyhf's per-sample ``shapesys``.
    Exact as a likelihood, but its profile has one nuisance per bin and template and also
    under-covers for the magnetic moment in the toy study.

With the Gaussian treatments the factor :math:`\\gamma_i` multiplying :math:`\\mu_i` has the
constraint :math:`(\\gamma_i - 1)^2 \\mu_i^2 / V_i(\\theta)` and is profiled analytically (a
quadratic), so it adds no fit parameters; the χ² of eq. (4) uses the same :math:`V_i(\\theta)`
as :math:`\\sigma^2(B_{stat})_i + \\sigma^2(S_{stat})_i`.

The gradient (:meth:`BinnedModel.gradient`) and Hessian are analytic; the envelope theorem
makes the profiled factors drop out of the gradient.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from exonu.stats.errors import ModelError
from exonu.stats.likelihood import ParameterInfo, activity_parameter, parameter_index
from exonu.stats.workspace import Signal, Workspace

__all__ = [
    "DEFAULT_MC_STATISTICS",
    "MC_STATISTICS",
    "BinnedModel",
    "Likelihood",
    "MCStatistics",
]

Likelihood = Literal["chi2", "poisson"]
MCStatistics = Literal["histfactory", "barlow_beeston_lite", "barlow_beeston"]
#: The Monte-Carlo-statistics treatments (see the module docstring).
MC_STATISTICS: tuple[str, ...] = ("histfactory", "barlow_beeston_lite", "barlow_beeston")
#: The treatment used unless another is asked for (chosen by benchmarks/mcstat_coverage.py).
DEFAULT_MC_STATISTICS: MCStatistics = "barlow_beeston_lite"
FloatArray = npt.NDArray[np.float64]

_MU_EPS = 1e-9  # counts; continuation point of the Poisson term (see module docstring)


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
    bt: FloatArray = field(default_factory=lambda: np.zeros(0))  # Σ_j p_j a_ij
    mu: FloatArray = field(default_factory=lambda: np.zeros(0))
    var: FloatArray = field(default_factory=lambda: np.zeros(0))
    s0: list[FloatArray] = field(default_factory=list)  # S⁰_s per signal
    f: list[FloatArray] = field(default_factory=list)  # 1 + Σ_l r_l δ_sl
    ds: list[FloatArray] = field(default_factory=list)  # dS⁰_s/dx_s
    d2s: list[FloatArray] = field(default_factory=list)
    vs: list[FloatArray | None] = field(default_factory=list)  # max(0, Σ_p x^p V_p) per signal
    dvs: list[FloatArray | None] = field(default_factory=list)  # its dx_s (0 where clipped)
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
    mc_statistics : {"histfactory", "barlow_beeston_lite", "barlow_beeston"}
        Treatment of the finite Monte-Carlo statistics (module docstring); default
        :data:`DEFAULT_MC_STATISTICS`. ``"barlow_beeston"`` needs ``likelihood="poisson"``
        and signals that are a single power of their coupling.

    Notes
    -----
    The cost is a χ² (``errordef`` = 1). Parameter vectors are in the order of
    :attr:`parameters`: the POIs, then p_j, q_k, r_l. The POIs are the dimensionless
    ``x`` of the workspace (physical value = x · ``Signal.scale``). The model implements
    :class:`~exonu.stats.likelihood.LikelihoodModel`: the fits, profiles and limits of
    :mod:`exonu.stats` take it like any other likelihood.
    """

    errordef: float = 1.0

    def __init__(
        self,
        ws: Workspace,
        signals: str | Sequence[str],
        likelihood: Likelihood = "chi2",
        *,
        data_variance_floor: float = 1.0,
        mc_statistics: MCStatistics | None = None,
    ) -> None:
        if likelihood not in ("chi2", "poisson"):
            raise ModelError(
                f"likelihood {likelihood!r} is not known, expected 'chi2' or 'poisson'"
            )
        mc_stat = DEFAULT_MC_STATISTICS if mc_statistics is None else mc_statistics
        if mc_stat not in MC_STATISTICS:
            raise ModelError(
                f"mc_statistics {mc_stat!r} is not known, expected one of "
                f"{', '.join(MC_STATISTICS)}"
            )
        if mc_stat == "barlow_beeston" and likelihood != "poisson":
            raise ModelError("mc_statistics 'barlow_beeston' needs likelihood 'poisson'")
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
        self.mc_statistics: MCStatistics = mc_stat  # type: ignore[assignment]
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
            params.append(activity_parameter(b.name, rel))
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
        # HistFactory: relative MC variance of the nominal background sum per bin.
        b_sum = self._b0.sum(axis=0)
        self._rho_b = np.where(
            b_sum > 0, self._vb0.sum(axis=0) / np.where(b_sum > 0, b_sum, 1.0) ** 2, 0.0
        )
        if mc_stat == "barlow_beeston":
            self._init_barlow_beeston()
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
        bt = p @ a
        mu = bt
        pc = _Pieces(a=a, p=p, bt=bt)
        for s in range(self.n_poi):
            x = float(theta[s])
            tt, tv = self._t_table[s], self._v_table[s]
            t_val, v_val = self._t_val[s], self._v_val[s]
            s0 = (tt[0][0] * x ** tt[0][1]) @ t_val
            f = 1.0 + r @ self._delta[s] if self.n_ssys else self._ones
            mu = mu + s0 * f
            raw = (tv[0][0] * x ** tv[0][1]) @ v_val if v_val.shape[0] else None
            pc.s0.append(s0)
            pc.f.append(f)
            pc.vs.append(None if raw is None else np.maximum(raw, 0.0))
            for k in range(1, order + 1):
                (pc.ds if k == 1 else pc.d2s).append((tt[k][0] * x ** tt[k][1]) @ t_val)
                dv = None
                if raw is not None:
                    dv = np.where(raw > 0, (tv[k][0] * x ** tv[k][1]) @ v_val, 0.0)
                (pc.dvs if k == 1 else pc.d2vs).append(dv)
        pc.mu = mu
        pc.var = self._variance(pc)
        return pc

    def _variance(self, pc: _Pieces) -> FloatArray:
        """MC variance V_i(θ) of the treatment (module docstring)."""
        if self.mc_statistics == "histfactory":
            var = self._rho_b * pc.bt * pc.bt
        else:
            var = (pc.p * pc.p) @ self._vb0
        for s in range(self.n_poi):
            vs = pc.vs[s]
            if vs is not None:
                var = var + self._signal_var(vs, pc.f[s])
        return var

    def _signal_var(self, vs: FloatArray, f: FloatArray) -> FloatArray:
        """A signal's MC variance from max(0, Σ x^p V_p) and its systematic factor f."""
        return vs if self.mc_statistics == "barlow_beeston_lite" else vs * f * f

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
        if not has_v.any():
            return self._data_term_no_variance(mu, m, order)
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
            f, f_mu, f_v, f_mumu = _continue_below_eps(d, mu, low, f, f_mu, f_v, f_mumu, f_muv)
        if order < 2:
            return f, f_mu, f_v
        return f, f_mu, f_v, f_mumu, f_muv, f_vv

    def _data_term_no_variance(
        self, mu: FloatArray, m: FloatArray, order: int
    ) -> tuple[FloatArray, ...]:
        """:meth:`_data_term` of the Poisson likelihood when no bin has MC variance (a
        release's counts, for instance): Barlow–Beeston's γ is 1, so the same values with a
        third of the array operations (the profile and toy loops call this most)."""
        d = self.observed
        pos = d > 0
        dlog = np.where(pos, d * np.log(np.where(pos, m, 1.0)), 0.0)
        m2 = m * m
        f = 2.0 * (m - d - dlog) + 2.0 * self._dlogd
        f_mu = 2.0 - 2.0 * d / m
        f_v = -((d - m) ** 2) / m2
        low = mu < _MU_EPS
        any_low = bool(np.any(low))
        if order >= 2 or any_low:
            f_mumu = 2.0 * d / m2
            f_muv = 2.0 * d * (d - m) / (m2 * m)
            f_vv = np.zeros_like(m)
        if any_low:
            f, f_mu, f_v, f_mumu = _continue_below_eps(d, mu, low, f, f_mu, f_v, f_mumu, f_muv)
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

    def constraint_cost(self, theta: npt.ArrayLike) -> float:
        """The pull terms alone (XMASS eq. 7)."""
        return self._pull(np.asarray(theta, dtype=np.float64))[0]

    def _jacobian(self, pc: _Pieces) -> FloatArray:
        """dμ_i/dθ, shape (npar, m)."""
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
        return jac

    def _var_jacobian(self, pc: _Pieces, jac: FloatArray) -> FloatArray:
        """dV_i/dθ, shape (npar, m), of the MC-statistics treatment."""
        jv = np.zeros((self.npar, self.n_bins))
        lite = self.mc_statistics == "barlow_beeston_lite"
        if self.mc_statistics == "histfactory":
            bkg = slice(self._sl_p.start, self._sl_q.stop)
            jv[bkg] = (2.0 * self._rho_b * pc.bt) * jac[bkg]
        else:  # Σ_j p_j² V_ij
            jv[self._sl_p] = 2.0 * pc.p[:, None] * self._vb0
        for s in range(self.n_poi):
            vs, dvs = pc.vs[s], pc.dvs[s]
            if vs is None or dvs is None:
                continue
            if lite:
                jv[s] = dvs
                continue
            f = pc.f[s]
            jv[s] = dvs * f * f
            if self.n_ssys:
                jv[self._sl_r] += 2.0 * (vs * f) * self._delta[s]
        return jv

    def _var_hessian(self, pc: _Pieces, jac: FloatArray, f_v: FloatArray) -> FloatArray:
        """Σ_i f_V,i ∂²V_i/∂θ∂θ', shape (npar, npar)."""
        h = np.zeros((self.npar, self.npar))
        if self.mc_statistics == "histfactory":
            bkg = slice(self._sl_p.start, self._sl_q.stop)
            g = 2.0 * self._rho_b * f_v
            h[bkg, bkg] = (jac[bkg] * g) @ jac[bkg].T
            if self.n_bsys:
                pq = self._sys @ (g * pc.bt)  # (K, J): ∂²B_t/∂p_j∂q_k = σ_kj
                h[self._sl_q, self._sl_p] += pq
                h[self._sl_p, self._sl_q] += pq.T
        else:  # Σ_j p_j² V_ij
            ip = np.arange(self._sl_p.start, self._sl_p.stop)
            h[ip, ip] += 2.0 * (self._vb0 @ f_v)
        lite = self.mc_statistics == "barlow_beeston_lite"
        for s in range(self.n_poi):
            vs, dvs, d2vs = pc.vs[s], pc.dvs[s], pc.d2vs[s]
            if vs is None or dvs is None or d2vs is None:
                continue
            if lite:
                h[s, s] += d2vs @ f_v
                continue
            f = pc.f[s]
            h[s, s] += (d2vs * f * f) @ f_v
            if self.n_ssys:
                d = self._delta[s]
                xr = d @ (2.0 * dvs * f * f_v)
                h[s, self._sl_r] += xr
                h[self._sl_r, s] += xr
                h[self._sl_r, self._sl_r] += (d * (2.0 * vs * f_v)) @ d.T
        return h

    def _mu_hessian(self, pc: _Pieces, w: FloatArray | None, w_sig: list[FloatArray]) -> FloatArray:
        """Σ_i w ∂²μ_i/∂θ∂θ' with per-bin weights of each background (w, (J, m) or None for
        none) and of each signal (``w_sig``), shape (npar, npar)."""
        h = np.zeros((self.npar, self.npar))
        for s in range(self.n_poi):
            h[s, s] += (pc.d2s[s] * pc.f[s]) @ w_sig[s]
            if self.n_ssys:
                xr = self._delta[s] @ (pc.ds[s] * w_sig[s])
                h[s, self._sl_r] += xr
                h[self._sl_r, s] += xr
        if self.n_bsys and w is not None:
            pq = np.einsum("kjm,jm->kj", self._sys, w)  # d²μ/dp_j dq_k = σ_kji
            h[self._sl_q, self._sl_p] += pq
            h[self._sl_p, self._sl_q] += pq.T
        return h

    def _pull_hessian(self, hess: FloatArray) -> None:
        ip = np.arange(self._sl_p.start, self._sl_p.stop)
        hess[ip, ip] += 2.0 * self._p_inv_var
        iq = np.arange(self._sl_q.start, self._sl_r.stop)
        hess[iq, iq] += 2.0

    def _evaluate(self, theta: FloatArray, order: int) -> tuple[float, FloatArray, FloatArray]:
        if self.mc_statistics == "barlow_beeston":
            return self._evaluate_bb(theta, order)
        pc = self._pieces(theta, order)
        terms = self._data_term(pc.mu, pc.var, order)
        f, f_mu, f_v = terms[0], terms[1], terms[2]
        pull, g = self._pull(theta)
        value = float(f.sum()) + pull
        if order == 0:
            return value, g, g
        jac = self._jacobian(pc)
        jv = self._var_jacobian(pc, jac)
        g += jac @ f_mu + jv @ f_v
        if order == 1:
            return value, g, g
        f_mumu, f_muv, f_vv = terms[3], terms[4], terms[5]
        hess = (jac * f_mumu) @ jac.T
        cross = (jac * f_muv) @ jv.T
        hess += cross + cross.T + (jv * f_vv) @ jv.T
        # Second derivatives of μ and V themselves.
        w_b = np.broadcast_to(f_mu, (self.n_bkg, self.n_bins))
        hess += self._mu_hessian(pc, w_b, [f_mu] * self.n_poi)
        hess += self._var_hessian(pc, jac, f_v)
        self._pull_hessian(hess)
        return value, g, hess

    # -- full Barlow–Beeston -------------------------------------------------------------

    def _init_barlow_beeston(self) -> None:
        """Relative MC variances ρ = V/T² of every component (0: exact template)."""
        b0, vb0 = self._b0, self._vb0
        self._rho_bb = np.where((b0 > 0) & (vb0 > 0), vb0 / np.where(b0 > 0, b0, 1.0) ** 2, 0.0)
        rho_sig = []
        for s, sig in enumerate(self.signals):
            if len(sig.terms) != 1:
                raise ModelError(
                    f"mc_statistics 'barlow_beeston' needs signals that are a single power of "
                    f"their coupling; {sig.name!r} has powers {list(sig.powers)}"
                )
            t = self._t_val[s][0]
            if self._v_val[s].shape[0] == 0:
                rho_sig.append(np.zeros(self.n_bins))
                continue
            if list(self._v_pow[s]) != [2.0 * self._t_pow[s][0]]:
                raise ModelError(
                    f"signal {sig.name!r}: its MC variance is not the square power of its "
                    "single term; mc_statistics 'barlow_beeston' cannot use it"
                )
            v = self._v_val[s][0]
            rho_sig.append(np.where((t > 0) & (v > 0), v / np.where(t > 0, t, 1.0) ** 2, 0.0))
        self._rho_bb = np.vstack([self._rho_bb, *rho_sig]) if rho_sig else self._rho_bb

    @staticmethod
    def _bb_solve(nu: FloatArray, c: FloatArray, d: FloatArray) -> FloatArray:
        """Root t of (1 − t) Σ_k ν_k/(1 + c_k t) = D per bin (components on axis −2).

        The left side minus D decreases monotonically from +∞ (pole at −1/max c_k) to −D at
        t = 1; safeguarded Newton iterations on that bracket.
        """
        mu = nu.sum(axis=-2)
        cmax = c.max(axis=-2)
        lo = np.where(cmax > 0, -1.0 / np.where(cmax > 0, cmax, 1.0), -np.inf)
        hi = np.ones_like(mu)
        t = np.where(d > 0, 1.0 - d / np.maximum(mu, _MU_EPS), 1.0)
        mid = np.where(np.isfinite(lo), 0.5 * (lo + hi), t)
        t = np.where((t <= lo) | (t > hi), mid, t)
        done = d <= 0
        t = np.where(done, 1.0, t)
        for _ in range(100):
            den = 1.0 + c * t[..., None, :]
            big_f = np.sum(nu / den, axis=-2)
            h = (1.0 - t) * big_f - d
            dh = -big_f - (1.0 - t) * np.sum(nu * c / (den * den), axis=-2)
            lo = np.where(h > 0, t, lo)
            hi = np.where(h <= 0, t, hi)
            new = t - np.where(dh < 0, h / np.where(dh < 0, dh, -1.0), 0.0)
            outside = ((new < lo) | (new > hi)) & np.isfinite(lo)
            new = np.where(outside, 0.5 * (lo + hi), new)
            conv = np.abs(new - t) <= 1e-14 * (1.0 + np.abs(t))
            t = np.where(done, t, new)
            done = done | conv
            if np.all(done):
                break
        return t

    def _bb_components(self, pc: _Pieces) -> tuple[FloatArray, FloatArray]:
        """Expected counts ν (K, m) of every component and their c = ν ρ (0 if ν <= 0)."""
        nu = np.vstack([pc.p[:, None] * pc.a, *[s0 * f for s0, f in zip(pc.s0, pc.f, strict=True)]])
        c = np.where(nu > 0, nu * self._rho_bb, 0.0)
        return nu, c

    def _bb_value(self, nu: FloatArray, c: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Profiled −2 ln L per bin (data + constraint terms), t and f = Σ ν/(1 + c t)."""
        d = self.observed
        t = self._bb_solve(nu, c, d)
        z = c * t[..., None, :]
        den = 1.0 + z
        fsum = np.maximum(np.sum(nu / den, axis=-2), _MU_EPS)
        small = np.abs(z) < 1e-6
        log_ratio = np.where(small, 1.0 - z / 2 + z * z / 3, np.log1p(z) / np.where(small, 1.0, z))
        pen = nu * t[..., None, :] * (log_ratio - 1.0 / den)
        pos = d > 0
        data = 2.0 * (fsum - d - np.where(pos, d * np.log(fsum), 0.0)) + 2.0 * self._dlogd
        return data + 2.0 * pen.sum(axis=-2), t, fsum

    def _evaluate_bb(self, theta: FloatArray, order: int) -> tuple[float, FloatArray, FloatArray]:
        pc = self._pieces(theta, order)
        nu, c = self._bb_components(pc)
        per_bin, t, fsum = self._bb_value(nu, c)
        pull, g = self._pull(theta)
        value = float(per_bin.sum()) + pull
        if order == 0:
            return value, g, g
        n_j = self.n_bkg
        # dν_k/dθ, (K, npar, m)
        jn = np.zeros((nu.shape[0], self.npar, self.n_bins))
        jn[np.arange(n_j), self._sl_p.start + np.arange(n_j)] = pc.a
        if self.n_bsys:
            jn[:n_j, self._sl_q] = np.einsum("kjm,j->jkm", self._sys, pc.p)
        for s in range(self.n_poi):
            jn[n_j + s, s] = pc.ds[s] * pc.f[s]
            if self.n_ssys:
                jn[n_j + s, self._sl_r] = self._delta[s] * pc.s0[s]
        den = 1.0 + c * t
        w = 2.0 * t / den  # ∂(−2 ln L)/∂ν_k at the profiled nuisances
        g += np.einsum("kpm,km->p", jn, w)
        if order == 1:
            return value, g, g
        e = 1.0 / (den * den)
        rho = np.where(nu > 0, self._rho_bb, 0.0)
        one_t = 1.0 - t
        big_d = fsum + one_t * np.sum(nu * c * e, axis=0)
        u = np.einsum("kpm,km->pm", jn, e)
        hess = (u * (2.0 * one_t / big_d)) @ u.T
        j2 = np.transpose(jn, (1, 0, 2)).reshape(self.npar, -1)
        hess -= (j2 * (2.0 * t * t * e * rho).reshape(-1)) @ j2.T
        hess += self._mu_hessian(pc, w[:n_j], list(w[n_j:]))
        self._pull_hessian(hess)
        return value, g, hess

    # -- starting values -----------------------------------------------------------------

    def initial_steps(self) -> FloatArray:
        """MIGRAD's initial steps: 0.3 × the sensitivity scale for the POIs, the diagonal of
        the Fisher information at the nominal point for p_j, 0.5 for q_k and r_l."""
        steps = np.empty(self.npar)
        theta = self.nominal.copy()
        for s in range(self.n_poi):
            steps[s] = 0.3 * self.sensitivity_scale(s)
        w = self.observed + self.mc_variance(theta)
        w = np.maximum(w, max(self.data_variance_floor, 1.0))
        b0 = self._b0
        fisher_p = np.sum(b0 * b0 / w, axis=1) + self._p_inv_var
        steps[self._sl_p] = 1.0 / np.sqrt(np.maximum(fisher_p, 1e-12))
        steps[self._sl_q] = 0.5
        steps[self._sl_r] = 0.5
        return np.clip(steps, 1e-6, None)

    def symmetric_pois(self) -> tuple[int, ...]:
        """POIs bounded to x ≥ 0 of signals with only even powers of x (S and its MC
        variance): the cost is even in them."""
        return tuple(
            s
            for s, sig in enumerate(self.signals)
            if sig.x_bounds == (0.0, None)
            and all(t.power % 2 == 0 for t in (*sig.terms, *sig.variance_terms))
        )

    def poi_scan_cost(self, theta: npt.ArrayLike, s: int, grid: npt.ArrayLike) -> FloatArray:
        """Data term (no pull terms) for x_s on ``grid``, the other parameters at ``theta``.

        Vectorised over the grid; used by the fitter to choose starting values.
        """
        xs = np.asarray(grid, dtype=np.float64)
        base = np.array(theta, dtype=np.float64)
        base[s] = 0.0
        pc = self._pieces(base)
        pw = self._t_pow[s]
        f = pc.f[s]
        s_grid = (xs[:, None] ** pw[None, :]) @ self._t_val[s] * f
        vs_grid = None
        if self._v_pow[s].size:
            vs_grid = np.maximum((xs[:, None] ** self._v_pow[s][None, :]) @ self._v_val[s], 0.0)
        if self.mc_statistics == "barlow_beeston":
            nu, _ = self._bb_components(pc)
            nu_g = np.repeat(nu[None], xs.size, axis=0)
            nu_g[:, self.n_bkg + s] = s_grid
            c_g = np.where(nu_g > 0, nu_g * self._rho_bb, 0.0)
            return self._bb_value(nu_g, c_g)[0].sum(axis=1)
        var0 = pc.var
        if pc.vs[s] is not None:  # remove the signal's own variance at x = 0
            var0 = var0 - self._signal_var(pc.vs[s], f)
        var_g = np.broadcast_to(var0, s_grid.shape)
        if vs_grid is not None:
            var_g = var_g + self._signal_var(vs_grid, f)
        return self._data_term(pc.mu + s_grid, var_g, 1)[0].sum(axis=1)

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
        return parameter_index(self.names, name)

    @property
    def analysis(self) -> str:
        """Analysis name of the workspace."""
        return self.workspace.analysis

    @property
    def warnings(self) -> tuple[str, ...]:
        """Plausibility warnings of the workspace's inputs."""
        return tuple(self.workspace.warnings)

    def digest(self) -> str:
        """sha256 of the workspace (:meth:`~exonu.stats.workspace.Workspace.digest`)."""
        return self.workspace.digest()

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


def _continue_below_eps(
    d: FloatArray,
    mu: FloatArray,
    low: npt.NDArray[np.bool_],
    f: FloatArray,
    f_mu: FloatArray,
    f_v: FloatArray,
    f_mumu: FloatArray,
    f_muv: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The Poisson data term continued to second order in μ below ε in the ``low`` bins
    (same value and slope at ε); its Hessian keeps only the leading terms (h, and f_μV,
    f_VV taken at ε). Returns the new (f, f_μ, f_V, f_μμ)."""
    h = 2.0 * d / (_MU_EPS * _MU_EPS)
    dm = np.where(low, mu - _MU_EPS, 0.0)
    f = f + f_mu * dm + 0.5 * h * dm * dm
    f_v = f_v + f_muv * dm
    f_mumu = np.where(low, h, f_mumu)
    f_mu = f_mu + h * dm
    return f, f_mu, f_v, f_mumu
