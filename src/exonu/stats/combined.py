"""The joint likelihood of several analyses ("channels") with shared signals and fluxes.

Use :class:`CombinedModel` to fit and limit one coupling with several experiments at once:
each channel is any :class:`~exonu.stats.likelihood.LikelihoodModel` (a binned
:class:`~exonu.stats.model.BinnedModel`, the unbinned model of a data release, or another
combination) and keeps its own exposure, response, backgrounds and nuisance parameters. The
combined model is again a ``LikelihoodModel``, so :class:`~exonu.stats.fit.Fitter`,
:class:`~exonu.stats.limits.Profile` and :func:`~exonu.stats.limits.compute_limit` (the
profile and Bayesian methods) take it like a single analysis.

Cost
----
With θ the combined parameter vector and θ_c = A_c θ the parameters of channel c (A_c picks
and, for the POIs, rescales entries of θ; see below):

.. math::

   C(\\theta) = \\sum_c C_c(A_c \\theta)
              - \\sum_n (m_n - 1)\\,\\frac{(\\theta_n - a_n)^2}{\\sigma_n^2},

where n runs over the combined nuisance parameters that m_n ≥ 2 constrained channel
parameters map onto. Every channel's cost carries the Gaussian pull term of each of its
nuisances (XMASS-I, PLB 809 (2020) 135741, eq. 7); a nuisance shared by several channels is
one parameter with one constraint, so the surplus copies are subtracted. Gradient and
Hessian follow by the chain rule, :math:`A_c^T g_c` and :math:`A_c^T H_c A_c`.

Parameter names
---------------
* **POIs.** One combined POI per signal name: channel POIs with equal names are merged
  (``signals=`` maps other names, ``{combined name: {channel: channel signal}}``). A channel
  POI is the channel's dimensionless x_c with physical coupling x_c · scale_c, and channels
  may use different scales for the same coupling. The combined POI x is in units of a
  **reference scale** (``scales=``; default: the scale of the first channel holding the
  signal), so x_c = x · scale_ref / scale_c and the physical value is x · scale_ref — the
  results of :func:`~exonu.stats.limits.compute_limit` are physical as for one analysis.
  The bounds of x are the intersection of the channels' bounds; the POI is even in x (and
  mirrored by the fitter) only if it is so in every channel.
* **Nuisances.** A channel parameter ``name`` is first renamed by ``aliases`` (default
  none); if the result is in ``shared`` it is one parameter of that name for all channels,
  otherwise it becomes ``<channel>/<name>``. Parameters merged this way must agree on their
  constraint width, global observable, nominal value and fixed state (a constraint present
  in only one of them is kept once); their bounds are intersected.

Solar-neutrino fluxes
---------------------
The exotic signals and the SM background are sums over the solar sources; a flux
normalisation φ_src(1 + θ_src σ_src) changes the expected counts of bin i by

.. math:: S_i(\\theta) = S^0_i\\,\\Big(1 + \\sum_{src} \\theta_{src}\\,\\sigma_{src}\\,
          f_{src,i}\\Big),

f_src,i the fraction of the bin's counts from that source — exactly a signal systematic of
XMASS eq. 6 with relative shift σ_src f_src,i, and for the SM background a background
systematic of eq. 5 with absolute shift σ_src f_src,i B_i. :func:`add_flux_systematics`
writes both into a workspace under the name ``flux_<src>`` (so a binned channel has
``r_flux_<src>`` and ``q_flux_<src>``), with the fractions of :func:`source_fractions`
(from per-source spectra, e.g. :func:`exonu.templates.hypotheses.hypothesis_spectrum_by_source`
folded with the response) and the uncertainties of :func:`exonu.physics.flux_uncertainties`
(docs/physics.md §A.1: XMASS pp ±0.6 %, ⁷Be ±7 %; B16-GS98 of Vinyoles et al., ApJ 835
(2017) 202). ``CombinedModel(..., fluxes=("pp", "be7"))`` ties ``r_flux_<src>`` and
``q_flux_<src>`` of every channel to one parameter ``flux_<src>`` (θ_src, unit Gaussian
constraint counted once) shared by all channels; ``correlate_fluxes=False`` keeps one
``<channel>/flux_<src>`` per channel instead (signal and background of a channel stay
correlated).

Toys
----
When every channel supports toys (a :class:`~exonu.stats.model.BinnedModel` or a combination
of such), :meth:`CombinedModel.sample_toy` draws one pseudo-experiment: each channel's counts,
Poisson about its expectation at A_c θ, then the global observable of every constrained
combined nuisance once, :math:`a_n \\sim N(\\theta_n, \\sigma_n)` — a shared flux
nuisance is one observable for all channels, as it is one constraint.
:meth:`CombinedModel.copy_with_data` gives the model of those data (each channel's
observables the combined ones it maps onto), so :func:`exonu.stats.toys.sample_toy` and
:func:`exonu.stats.expected.expected_limits` take a combination like a single analysis.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from exonu.stats.errors import ModelError
from exonu.stats.likelihood import LikelihoodModel, ParameterInfo, parameter_index
from exonu.stats.workspace import Workspace

__all__ = [
    "CombinedModel",
    "CombinedSignal",
    "add_flux_systematics",
    "flux_aliases",
    "flux_parameter",
    "flux_systematic_names",
    "source_fractions",
]

FloatArray = npt.NDArray[np.float64]
Channels = Sequence[tuple[str, LikelihoodModel]] | Mapping[str, LikelihoodModel]

_SEP = "/"  # between the channel name and a channel-local parameter name
_RTOL = 1e-9  # agreement required of the constraints of merged parameters


def flux_parameter(source: str) -> str:
    """Name of the flux nuisance of ``source`` (``flux_<source>``), also the name of the
    signal and background systematics :func:`add_flux_systematics` writes."""
    return f"flux_{source}"


def flux_aliases(sources: Sequence[str]) -> dict[str, str]:
    """``{r_flux_<src>: flux_<src>, q_flux_<src>: flux_<src>}``: the binned model's signal
    and background pulls of one flux made one parameter."""
    out = {}
    for src in sources:
        out[f"r_{flux_parameter(src)}"] = flux_parameter(src)
        out[f"q_{flux_parameter(src)}"] = flux_parameter(src)
    return out


@dataclass(frozen=True)
class CombinedSignal:
    """The signal of one combined POI (implements
    :class:`~exonu.stats.likelihood.SignalLabels`).

    The labels are those of the first channel; ``scale`` is the reference scale (physical
    coupling = x · ``scale``); ``channels`` lists (channel, channel signal, k) with the
    channel's x_c = k · x.
    """

    name: str
    model: str
    parameter: str
    unit: str
    flavour: str
    mediator_mass_mev: float | None
    treatment: str | None
    atomic_model: str | None
    scale: float
    leading_power: int
    channels: tuple[tuple[str, str, float], ...]


@dataclass
class _Channel:
    """One channel: its model and the map θ_c = θ[index] · factor."""

    name: str
    model: LikelihoodModel
    index: npt.NDArray[np.intp]
    factor: FloatArray
    unique: bool  # no two channel parameters map onto the same combined one
    pois: dict[int, int]  # combined POI -> channel POI


class CombinedModel:
    """Joint cost of several channels (module docstring).

    Parameters
    ----------
    channels : sequence of (str, LikelihoodModel) or mapping
        The channels, by name (unique, non-empty, without ``"/"``).
    shared : collection of str
        Nuisance names (after ``aliases``) that are one parameter for all channels, e.g.
        ``{"p_solar_nu"}``; the flux nuisances are added by ``fluxes``.
    fluxes : sequence of str
        Solar sources whose ``r_flux_<src>``/``q_flux_<src>`` pulls become the flux nuisance
        ``flux_<src>`` (:func:`add_flux_systematics`).
    correlate_fluxes : bool
        One ``flux_<src>`` for all channels (default) or one per channel.
    signals : mapping, optional
        ``{combined signal: {channel: channel signal}}`` for POIs whose names differ between
        channels; other channel POIs are merged by name.
    scales : mapping, optional
        ``{combined signal: reference scale}`` (default: the first channel's scale).
    aliases : mapping, optional
        ``{channel parameter name: combined name}`` applied in every channel before
        ``shared`` (added to those of ``fluxes``).
    analysis : str, optional
        Name of the combination (default: the channel names joined by ``+``).
    """

    errordef: float = 1.0

    def __init__(
        self,
        channels: Channels,
        shared: Collection[str] = (),
        *,
        fluxes: Sequence[str] = (),
        correlate_fluxes: bool = True,
        signals: Mapping[str, Mapping[str, str]] | None = None,
        scales: Mapping[str, float] | None = None,
        aliases: Mapping[str, str] | None = None,
        analysis: str | None = None,
    ) -> None:
        items = list(channels.items()) if isinstance(channels, Mapping) else list(channels)
        if not items:
            raise ModelError("CombinedModel needs at least one channel")
        ch_names = [str(n) for n, _ in items]
        for n in ch_names:
            if not n or _SEP in n:
                raise ModelError(f"channel name {n!r} must be non-empty and without {_SEP!r}")
        if len(set(ch_names)) != len(ch_names):
            raise ModelError(f"channel names {ch_names} contain a duplicate")
        alias = {**flux_aliases(fluxes), **dict(aliases or {})}
        shared_set = set(shared)
        if correlate_fluxes:
            shared_set |= {flux_parameter(s) for s in fluxes}
        self.shared: frozenset[str] = frozenset(shared_set)
        self.aliases: dict[str, str] = alias

        # -- POIs --
        poi_of: dict[tuple[str, str], str] = {}  # (channel, channel signal) -> combined
        for comb, per_ch in (signals or {}).items():
            for ch, sig in per_ch.items():
                if ch not in ch_names:
                    raise ModelError(f"signals[{comb!r}] names no channel {ch!r}")
                model = dict(items)[ch]
                model.poi_index(sig)  # raises if the channel has no such signal
                poi_of[(ch, sig)] = comb
        explicit = set((signals or {}).keys())
        poi_names: list[str] = []
        members: dict[str, list[tuple[int, int]]] = {}  # combined -> [(channel k, channel poi)]
        for k, (ch, model) in enumerate(items):
            for s in range(model.n_poi):
                sig = model.signals[s].name
                comb = poi_of.get((ch, sig))
                if comb is None:
                    if sig in explicit:
                        raise ModelError(
                            f"signal {sig!r} of channel {ch!r} has the name of a combined signal "
                            "of 'signals' without being mapped to it; add it to that mapping"
                        )
                    comb = sig
                if comb not in members:
                    members[comb] = []
                    poi_names.append(comb)
                if any(kk == k for kk, _ in members[comb]):
                    raise ModelError(
                        f"channel {ch!r} has two signals mapped to the combined signal {comb!r}"
                    )
                members[comb].append((k, s))

        params: list[ParameterInfo] = []
        combined_signals: list[CombinedSignal] = []
        factors: dict[tuple[int, int], float] = {}
        for comb in poi_names:
            mem = members[comb]
            k0, s0 = mem[0]
            first = items[k0][1].signals[s0]
            ref = float((scales or {}).get(comb, first.scale))
            if not (math.isfinite(ref) and ref > 0):
                raise ModelError(f"reference scale of {comb!r} is {ref}, expected > 0")
            lo, hi = -math.inf, math.inf
            chans = []
            for k, s in mem:
                model = items[k][1]
                sig = model.signals[s]
                if (sig.parameter, sig.unit) != (first.parameter, first.unit):
                    raise ModelError(
                        f"combined signal {comb!r}: channel {items[k][0]!r} constrains "
                        f"{sig.parameter} [{sig.unit}], channel {items[k0][0]!r} "
                        f"{first.parameter} [{first.unit}]"
                    )
                if not (math.isfinite(sig.scale) and sig.scale > 0):
                    raise ModelError(
                        f"signal {sig.name!r} of channel {items[k][0]!r} has scale {sig.scale}"
                    )
                f = ref / sig.scale
                factors[(k, s)] = f
                info = model.parameters[s]
                if info.lower is not None:
                    lo = max(lo, info.lower / f)
                if info.upper is not None:
                    hi = min(hi, info.upper / f)
                chans.append((items[k][0], sig.name, f))
            if not lo <= 0.0 <= hi:
                raise ModelError(f"combined signal {comb!r}: the channels' bounds exclude x = 0")
            params.append(
                ParameterInfo(
                    comb,
                    "poi",
                    0.0,
                    None if lo == -math.inf else lo,
                    None if hi == math.inf else hi,
                    None,
                )
            )
            combined_signals.append(
                CombinedSignal(
                    name=comb,
                    model=first.model,
                    parameter=first.parameter,
                    unit=first.unit,
                    flavour=first.flavour,
                    mediator_mass_mev=first.mediator_mass_mev,
                    treatment=first.treatment,
                    atomic_model=first.atomic_model,
                    scale=ref,
                    leading_power=max(items[k][1].signals[s].leading_power for k, s in mem),
                    channels=tuple(chans),
                )
            )
        n_poi = len(poi_names)

        # -- nuisances --
        nuis_names: list[str] = []
        nuis_members: dict[str, list[tuple[int, int]]] = {}
        for k, (ch, model) in enumerate(items):
            for i in range(model.n_poi, model.npar):
                raw = model.names[i]
                name = alias.get(raw, raw)
                comb = name if name in self.shared else f"{ch}{_SEP}{name}"
                if comb not in nuis_members:
                    nuis_members[comb] = []
                    nuis_names.append(comb)
                nuis_members[comb].append((k, i))
        clash = set(nuis_names) & set(poi_names)
        if clash:
            raise ModelError(f"parameter names {sorted(clash)} are both a signal and a nuisance")
        aux = []
        dup_idx, dup_w, dup_n = [], [], []
        for comb in nuis_names:
            info, a, n_constrained = self._merge(comb, nuis_members[comb], items)
            params.append(info)
            aux.append(a)
            if n_constrained > 1:
                assert info.sigma is not None
                dup_idx.append(len(params) - 1)
                dup_w.append(info.sigma**-2)
                dup_n.append(n_constrained - 1)

        index_of = {p.name: j for j, p in enumerate(params)}
        self._channels: list[_Channel] = []
        for k, (ch, model) in enumerate(items):
            idx = np.empty(model.npar, dtype=np.intp)
            fac = np.ones(model.npar)
            pois: dict[int, int] = {}
            for s in range(model.n_poi):
                comb = next(c for c in poi_names if (k, s) in members[c])
                idx[s] = index_of[comb]
                fac[s] = factors[(k, s)]
                pois[idx[s]] = s
            for i in range(model.n_poi, model.npar):
                raw = model.names[i]
                name = alias.get(raw, raw)
                idx[i] = index_of[name if name in self.shared else f"{ch}{_SEP}{name}"]
            unique = len(set(idx.tolist())) == idx.size
            self._channels.append(_Channel(ch, model, idx, fac, unique, pois))

        self.parameters: tuple[ParameterInfo, ...] = tuple(params)
        self.names: tuple[str, ...] = tuple(p.name for p in params)
        self.npar = len(params)
        self.n_poi = n_poi
        self.nominal: FloatArray = np.array([p.nominal for p in params])
        self.aux: FloatArray = np.array(aux, dtype=np.float64)
        self.n_bins = int(sum(m.n_bins for _, m in items))
        self._signals = tuple(combined_signals)
        self._dup_idx = np.array(dup_idx, dtype=np.intp)
        self._dup_w = np.array(dup_w, dtype=np.float64) * np.array(dup_n, dtype=np.float64)
        self._dup_aux = self.aux[self._dup_idx - n_poi] if dup_idx else np.zeros(0)
        likes = sorted({m.likelihood for _, m in items})
        self.likelihood: str = likes[0] if len(likes) == 1 else "+".join(likes)
        self._analysis = analysis or "+".join(ch_names)
        self._counted = self._free_counts(items)

    # -- construction helpers ------------------------------------------------------------

    @staticmethod
    def _merge(
        comb: str, mem: list[tuple[int, int]], items: list[tuple[str, LikelihoodModel]]
    ) -> tuple[ParameterInfo, float, int]:
        """The combined parameter of the channel parameters ``mem``, its global observable
        and the number of constraints the channels carry for it."""
        infos = [items[k][1].parameters[i] for k, i in mem]
        auxes = [float(items[k][1].aux[i - items[k][1].n_poi]) for k, i in mem]
        where = ", ".join(f"{items[k][0]}:{items[k][1].names[i]}" for k, i in mem)
        first = infos[0]
        sigmas = {p.sigma for p in infos if p.sigma is not None}
        sigma = next(iter(sigmas)) if sigmas else None
        if sigma is not None and any(not math.isclose(s, sigma, rel_tol=_RTOL) for s in sigmas):
            raise ModelError(
                f"shared parameter {comb!r} ({where}) has different constraints "
                f"{sorted(sigmas)}; share only parameters with one constraint"
            )
        constrained = [a for p, a in zip(infos, auxes, strict=True) if p.sigma is not None]
        if any(
            not math.isclose(a, constrained[0], rel_tol=_RTOL, abs_tol=1e-12) for a in constrained
        ):
            raise ModelError(
                f"shared parameter {comb!r} ({where}) has different global observables"
            )
        if any(not math.isclose(p.nominal, first.nominal, abs_tol=1e-12) for p in infos):
            raise ModelError(f"shared parameter {comb!r} ({where}) has different nominal values")
        if len({p.fixed for p in infos}) > 1:
            raise ModelError(f"shared parameter {comb!r} ({where}) is fixed in some channels only")
        lows = [p.lower for p in infos if p.lower is not None]
        highs = [p.upper for p in infos if p.upper is not None]
        lo = max(lows) if lows else None
        hi = min(highs) if highs else None
        if lo is not None and hi is not None and lo > hi:
            raise ModelError(f"shared parameter {comb!r} ({where}) has disjoint bounds")
        kinds = {p.kind for p in infos}
        kind = first.kind if len(kinds) == 1 else "shared"
        aux = constrained[0] if constrained else auxes[0]
        info = ParameterInfo(comb, kind, first.nominal, lo, hi, sigma, fixed=first.fixed)
        return info, aux, len(constrained)

    def _free_counts(self, items: list[tuple[str, LikelihoodModel]]) -> FloatArray:
        """Per combined parameter: 1 if some channel counts it as a free fit parameter in its
        degrees of freedom (a POI, a free activity scale, ...), else 0."""
        counted = np.zeros(self.npar)
        for ch in self._channels:
            base = ch.model.ndof()
            for i, name in enumerate(ch.model.names):
                if base - ch.model.ndof({name: float(ch.model.nominal[i])}) != 0:
                    counted[ch.index[i]] = 1.0
        return counted

    # -- the map θ -> θ_c ------------------------------------------------------------------

    def channel_parameters(self, channel: str, theta: npt.ArrayLike) -> FloatArray:
        """The parameter vector of ``channel`` at the combined ``theta``."""
        th = np.asarray(theta, dtype=np.float64)
        for ch in self._channels:
            if ch.name == channel:
                return th[ch.index] * ch.factor
        raise ModelError(f"no channel {channel!r} (channels: {', '.join(self.channel_names)})")

    @property
    def channel_names(self) -> tuple[str, ...]:
        """The channel names, in order."""
        return tuple(ch.name for ch in self._channels)

    @property
    def channels(self) -> tuple[tuple[str, LikelihoodModel], ...]:
        """(name, model) of every channel."""
        return tuple((ch.name, ch.model) for ch in self._channels)

    def _dup(self, th: FloatArray) -> tuple[float, FloatArray]:
        """The surplus pull terms of shared constrained nuisances and their gradient."""
        if not self._dup_idx.size:
            return 0.0, np.zeros(0)
        d = th[self._dup_idx] - self._dup_aux
        return float(np.dot(self._dup_w * d, d)), 2.0 * self._dup_w * d

    # -- cost ----------------------------------------------------------------------------

    def __call__(self, theta: npt.ArrayLike) -> float:
        """The cost at θ."""
        th = np.asarray(theta, dtype=np.float64)
        total = 0.0
        for ch in self._channels:
            total += ch.model(th[ch.index] * ch.factor)
        return total - self._dup(th)[0]

    def value_and_gradient(self, theta: npt.ArrayLike) -> tuple[float, FloatArray]:
        """The cost and its gradient at θ (the channels' analytic gradients)."""
        th = np.asarray(theta, dtype=np.float64)
        total = 0.0
        grad = np.zeros(self.npar)
        for ch in self._channels:
            v, g = ch.model.value_and_gradient(th[ch.index] * ch.factor)
            total += v
            if ch.unique:
                grad[ch.index] += g * ch.factor
            else:
                np.add.at(grad, ch.index, g * ch.factor)
        dv, dg = self._dup(th)
        if self._dup_idx.size:
            grad[self._dup_idx] -= dg
        return total - dv, grad

    def gradient(self, theta: npt.ArrayLike) -> FloatArray:
        """The gradient at θ."""
        return self.value_and_gradient(theta)[1]

    def hessian(self, theta: npt.ArrayLike) -> FloatArray:
        """The Hessian at θ, Σ_c A_cᵀ H_c A_c minus the surplus pull terms."""
        th = np.asarray(theta, dtype=np.float64)
        hess = np.zeros((self.npar, self.npar))
        for ch in self._channels:
            h = ch.model.hessian(th[ch.index] * ch.factor) * np.outer(ch.factor, ch.factor)
            if ch.unique:
                hess[np.ix_(ch.index, ch.index)] += h
            else:
                np.add.at(hess, (ch.index[:, None], ch.index[None, :]), h)
        if self._dup_idx.size:
            hess[self._dup_idx, self._dup_idx] -= 2.0 * self._dup_w
        return hess

    def g2(self, theta: npt.ArrayLike) -> FloatArray:
        """Diagonal of :meth:`hessian`."""
        out: FloatArray = np.diag(self.hessian(theta)).copy()
        return out

    def constraint_cost(self, theta: npt.ArrayLike) -> float:
        """The pull terms alone, each shared constraint once."""
        th = np.asarray(theta, dtype=np.float64)
        total = 0.0
        for ch in self._channels:
            total += ch.model.constraint_cost(th[ch.index] * ch.factor)
        return total - self._dup(th)[0]

    def poi_scan_cost(self, theta: npt.ArrayLike, s: int, grid: npt.ArrayLike) -> FloatArray:
        """The cost without pull terms for POI ``s`` on ``grid``, the rest at θ: the scans of
        the channels holding the POI plus the constant data terms of the others."""
        th = np.asarray(theta, dtype=np.float64)
        xs = np.asarray(grid, dtype=np.float64)
        out = np.zeros(xs.shape)
        for ch in self._channels:
            tc = th[ch.index] * ch.factor
            if s in ch.pois:
                sc = ch.pois[s]
                out = out + ch.model.poi_scan_cost(tc, sc, xs * ch.factor[sc])
            else:
                out = out + (ch.model(tc) - ch.model.constraint_cost(tc))
        return out

    # -- fit set-up ----------------------------------------------------------------------

    def initial_steps(self) -> FloatArray:
        """Per parameter the smallest of the channels' steps (in combined units)."""
        steps = np.full(self.npar, np.inf)
        for ch in self._channels:
            np.minimum.at(steps, ch.index, ch.model.initial_steps() / np.abs(ch.factor))
        return np.where(np.isfinite(steps), steps, 0.5)

    def symmetric_pois(self) -> tuple[int, ...]:
        """POIs bounded to x ≥ 0 that are even in x in every channel holding them."""
        out = []
        for s in range(self.n_poi):
            info = self.parameters[s]
            if (info.lower, info.upper) != (0.0, None):
                continue
            if all(
                ch.pois[s] in ch.model.symmetric_pois() for ch in self._channels if s in ch.pois
            ):
                out.append(s)
        return tuple(out)

    def sensitivity_scale(self, signal: int = 0) -> float:
        """Rough x at which POI ``signal`` changes the cost by ~1: the channels' scales
        combined as Δχ² ∝ Σ_c (x/x_c)^{2P} (P the leading power); one channel's own if only
        one holds the POI."""
        scales = [
            ch.model.sensitivity_scale(ch.pois[signal]) / abs(ch.factor[ch.pois[signal]])
            for ch in self._channels
            if signal in ch.pois
        ]
        if len(scales) == 1:
            return scales[0]
        p2 = 2.0 * self._signals[signal].leading_power
        return float(sum(sc**-p2 for sc in scales) ** (-1.0 / p2))

    # -- data and toys -------------------------------------------------------------------

    @property
    def supports_toys(self) -> bool:
        """True if every channel can draw toys (binned channels, or combinations of them)."""
        from exonu.stats.model import BinnedModel

        return all(
            isinstance(ch.model, BinnedModel) or getattr(ch.model, "supports_toys", False)
            for ch in self._channels
        )

    def _require_toys(self) -> None:
        if not self.supports_toys:
            bad = [
                ch.name
                for ch in self._channels
                if not getattr(ch.model, "supports_toys", hasattr(ch.model, "expected_counts"))
            ]
            raise ModelError(f"channels {bad} of the combination cannot draw toys")

    @property
    def observed(self) -> FloatArray:
        """The observed counts of all channels, concatenated in channel order."""
        self._require_toys()
        return np.concatenate([np.asarray(ch.model.observed) for ch in self._channels])  # type: ignore[attr-defined]

    def expected_counts(self, theta: npt.ArrayLike) -> FloatArray:
        """The expected counts of all channels at the combined θ, concatenated."""
        self._require_toys()
        th = np.asarray(theta, dtype=np.float64)
        return np.concatenate(
            [ch.model.expected_counts(th[ch.index] * ch.factor) for ch in self._channels]  # type: ignore[attr-defined]
        )

    def _channel_aux(self, ch: _Channel, aux: FloatArray) -> FloatArray:
        """The global observables of ``ch`` given the combined ones ``aux``: a constrained
        channel nuisance takes the observable of the combined parameter it maps onto."""
        model = ch.model
        out = np.array(model.aux, dtype=np.float64)
        for i in range(model.n_poi, model.npar):
            if model.parameters[i].sigma is not None:
                out[i - model.n_poi] = aux[ch.index[i] - self.n_poi]
        return out

    def sample_toy(
        self, theta: npt.ArrayLike, rng: np.random.Generator, *, fluctuate_aux: bool = True
    ) -> tuple[FloatArray, FloatArray]:
        """One pseudo-experiment at the combined ``theta`` (module docstring, *Toys*).

        Returns
        -------
        observed, aux : ndarray
            The counts of all channels (concatenated) and the combined global observables,
            ready for :meth:`copy_with_data`.
        """
        from exonu.stats.toys import sample_toy

        self._require_toys()
        th = np.asarray(theta, dtype=np.float64)
        # counts first, then the observables: the order of a single BinnedModel's toy, so a
        # one-channel combination draws exactly that channel's toys
        counts = [
            sample_toy(ch.model, th[ch.index] * ch.factor, rng, fluctuate_aux=False)[0]  # type: ignore[arg-type]
            for ch in self._channels
        ]
        aux = self.aux.copy()
        if fluctuate_aux:
            nuis = th[self.n_poi :]
            info = self.parameters[self.n_poi :]
            width = np.array([p.sigma if p.sigma is not None else 0.0 for p in info])
            live = (width > 0) & ~np.array([p.fixed for p in info], dtype=bool)
            # one draw per combined parameter: a shared nuisance has one observable
            aux = np.where(live, nuis + width * rng.standard_normal(nuis.size), aux)
        return np.concatenate(counts), aux

    def copy_with_data(
        self, observed: npt.ArrayLike, aux: npt.ArrayLike | None = None
    ) -> CombinedModel:
        """Shallow copy with other data: ``observed`` the concatenated counts of the channels
        (:meth:`sample_toy`), ``aux`` the combined global observables (default: these)."""
        self._require_toys()
        obs = np.asarray(observed, dtype=np.float64)
        if obs.shape != (self.n_bins,):
            raise ModelError(f"observed has shape {obs.shape}, expected ({self.n_bins},)")
        a = self.aux.copy() if aux is None else np.array(aux, dtype=np.float64)
        if a.shape != self.aux.shape:
            raise ModelError(f"aux has shape {a.shape}, expected {self.aux.shape}")
        new = copy.copy(self)
        channels = []
        start = 0
        for ch in self._channels:
            n = ch.model.n_bins
            model = ch.model.copy_with_data(obs[start : start + n], self._channel_aux(ch, a))  # type: ignore[attr-defined]
            channels.append(dataclasses.replace(ch, model=model))
            start += n
        new._channels = channels
        new.aux = a
        new._dup_aux = a[self._dup_idx - self.n_poi] if self._dup_idx.size else np.zeros(0)
        return new

    # -- labels and bookkeeping ----------------------------------------------------------

    @property
    def signals(self) -> tuple[CombinedSignal, ...]:
        """The signal of each combined POI."""
        return self._signals

    @property
    def analysis(self) -> str:
        """Name of the combination."""
        return self._analysis

    @property
    def warnings(self) -> tuple[str, ...]:
        """The channels' warnings, each prefixed by its channel name."""
        return tuple(f"{ch.name}: {w}" for ch in self._channels for w in ch.model.warnings)

    def index(self, name: str) -> int:
        """Position of the parameter ``name``."""
        return parameter_index(self.names, name)

    def poi_index(self, signal: str) -> int:
        """Position of the POI of the combined signal ``signal``."""
        for i, s in enumerate(self._signals):
            if s.name == signal:
                return i
        raise ModelError(
            f"signal {signal!r} is not in the combination (signals: "
            f"{', '.join(s.name for s in self._signals)})"
        )

    def ndof(self, fixed: Mapping[str, float] | None = None) -> int:
        """Fitted observations of all channels minus the combined parameters that some
        channel counts as free (each shared parameter once), except those ``fixed``."""
        fixed = fixed or {}
        n_free = sum(
            1
            for j, info in enumerate(self.parameters)
            if self._counted[j] and not info.fixed and info.name not in fixed
        )
        return self.n_bins - n_free

    def digest(self) -> str:
        """sha256 of the channels' digests and of the parameter map."""
        h = hashlib.sha256()
        for ch in self._channels:
            h.update(ch.name.encode())
            h.update(ch.model.digest().encode())
            h.update(ch.index.tobytes())
            h.update(ch.factor.tobytes())
        h.update(repr(self.names).encode())
        return h.hexdigest()


# -- flux systematics ---------------------------------------------------------------------


def source_fractions(per_source: Mapping[str, npt.ArrayLike]) -> dict[str, FloatArray]:
    """Fraction f_src,i of the counts of each bin that comes from each solar source.

    Parameters
    ----------
    per_source : mapping
        Source → its counts per bin, shape (m,), or per power of a polynomial signal,
        shape (P, m) (the terms :math:`T_{p,src,i}`, same shape for every source).

    Returns
    -------
    dict
        Source → f_src (m,). For a polynomial the terms are weighted by their magnitude,
        :math:`f_{src,i} = \\sum_p \\mathrm{sign}(T_{p,i}) T_{p,src,i} / \\sum_p |T_{p,i}|`
        with :math:`T_{p,i} = \\sum_{src} T_{p,src,i}` (the convention of
        :func:`exonu.templates.signals.signal_systematics`; exact when the terms have one
        sign). 0 where the bin has no counts.
    """
    if not per_source:
        raise ModelError("source_fractions needs at least one source")
    arrs = {k: np.atleast_2d(np.asarray(v, dtype=np.float64)) for k, v in per_source.items()}
    shapes = {a.shape for a in arrs.values()}
    if len(shapes) != 1:
        raise ModelError(f"per-source counts have different shapes {sorted(shapes)}")
    total = sum(arrs.values())
    assert isinstance(total, np.ndarray)
    sign = np.sign(total)
    denom = np.abs(total).sum(axis=0)
    safe = np.where(denom > 0, denom, 1.0)
    return {k: np.where(denom > 0, (sign * a).sum(axis=0) / safe, 0.0) for k, a in arrs.items()}


def add_flux_systematics(
    ws: Workspace,
    signal_fractions: Mapping[str, Mapping[str, npt.ArrayLike]],
    uncertainties: Mapping[str, float],
    *,
    background: str | None = None,
    background_fractions: Mapping[str, npt.ArrayLike] | None = None,
) -> Workspace:
    """A copy of ``ws`` whose signals (and SM solar-ν background) depend on the solar fluxes.

    For every source the signal systematic ``flux_<src>`` with relative shifts
    σ_src · f_src,i is added to each signal of ``signal_fractions`` (XMASS eq. 6), and, with
    ``background``, the background systematic ``flux_<src>`` with absolute shifts
    σ_src · f_src,i · B_i of that component (eq. 5). With a
    :class:`~exonu.stats.model.BinnedModel` their pulls are ``r_flux_<src>`` and
    ``q_flux_<src>``; :class:`CombinedModel` (``fluxes=``) makes them one parameter.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    signal_fractions : mapping
        ``{signal name: {source: f (n_bins)}}`` (:func:`source_fractions` on the
        workspace's binning).
    uncertainties : mapping
        ``{source: σ}``, relative 1σ flux uncertainties, e.g.
        :func:`exonu.physics.flux_uncertainties` (docs/physics.md §A.1).
    background : str, optional
        The SM solar-ν background component.
    background_fractions : mapping, optional
        ``{source: f (n_bins)}`` of that component (needed with ``background``).

    Notes
    -----
    The solar-ν background's own activity constraint (``relative_uncertainty``) stays: set
    it to the uncertainty not due to the fluxes, or it is counted twice.
    """
    doc = ws.to_dict()
    n = ws.n_bins
    sources: list[str] = []

    def checked(src: str, f: npt.ArrayLike, what: str) -> FloatArray:
        arr = np.asarray(f, dtype=np.float64)
        if arr.shape != (n,):
            raise ModelError(
                f"{what}: fractions of {src!r} have shape {arr.shape}, expected ({n},)"
            )
        if src not in uncertainties:
            raise ModelError(f"{what}: no flux uncertainty for source {src!r}")
        if src not in sources:
            sources.append(src)
        return arr * float(uncertainties[src])

    by_name = {s["name"]: s for s in doc["signals"]}
    for sig, fracs in signal_fractions.items():
        if sig not in by_name:
            raise ModelError(f"workspace {ws.source!r} has no signal {sig!r}")
        entry = by_name[sig]
        have = {x["name"] for x in entry["systematics"]}
        for src, f in fracs.items():
            name = flux_parameter(src)
            if name in have:
                raise ModelError(f"signal {sig!r} already has a systematic {name!r}")
            shift = checked(src, f, f"signal {sig!r}")
            entry["systematics"].append({"name": name, "relative_shifts": shift.tolist()})
    if background is not None:
        if background_fractions is None:
            raise ModelError("add_flux_systematics: background needs background_fractions")
        comp = next((b for b in ws.backgrounds if b.name == background), None)
        if comp is None:
            raise ModelError(f"workspace {ws.source!r} has no background {background!r}")
        have = {b["name"] for b in doc["background_systematics"]}
        for src, f in background_fractions.items():
            name = flux_parameter(src)
            if name in have:
                raise ModelError(f"workspace already has a background systematic {name!r}")
            shift = checked(src, f, f"background {background!r}") * comp.expected
            doc["background_systematics"].append(
                {"name": name, "shifts": {background: shift.tolist()}}
            )
    return Workspace.from_dict(doc, source=f"{ws.source}+flux")


def flux_systematic_names(model: LikelihoodModel) -> tuple[str, ...]:
    """Sources whose flux pulls (``r_flux_<src>``/``q_flux_<src>``) a model has."""
    out: list[str] = []
    for name in model.names:
        for prefix in ("r_flux_", "q_flux_"):
            if name.startswith(prefix) and name[len(prefix) :] not in out:
                out.append(name[len(prefix) :])
    return tuple(out)
