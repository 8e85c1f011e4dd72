"""Export of the binned model of one signal to pyhf (HistFactory JSON), with exonu's own result.

The exonu workspace (XMASS-I, PLB 809 (2020) 135741, eqs. 4-7) maps onto HistFactory
(Cranmer et al., CERN-OPEN-2012-016; pyhf, JOSS 6 (2021) 2823) as follows, a channel over
the bins of the signal's fit window (and the channel ``activity_constraints``):

==============================================  =============================================
exonu (``likelihood="poisson"``)                pyhf
==============================================  =============================================
background j, expected B_ij                     sample ``<j>``
activity scale p_j, Gaussian σ(B_RI)_j (eq. 7)  ``normfactor`` ``p_<j>``, bounds [0, 1 + 10σ],
                                                constrained by a bin of channel
                                                ``activity_constraints`` (below)
p_j unconstrained (``free_backgrounds``, null)  ``normfactor`` ``p_<j>``, bounds [0, 100]
p_j fixed (σ = 0)                               no modifier
systematic k, shifts σ(B_sys)_ijk (eq. 5)       ``histosys`` ``q_<k>``, hi/lo = B_ij ± σ_ijk
signal S = x^p T_i (one power p)                sample ``<signal>``, ``normfactor`` μ = x^p
signal systematic l, δ_il (eq. 6)               ``histosys`` ``r_<l>``, hi/lo = T_i (1 ± δ_il)
MC statistics ``barlow_beeston_lite`` (the     ``staterror`` ``mcstat_<sample>`` on every
  default): one Gaussian factor per bin and     template (background or signal), data √V_ij:
  template on its nominal counts, variance      one γ per bin and template; the template's
  p_j² V_ij (not rescaled by the shifts)        shifts go to a sample ``<sample>_shifts`` of
                                                zero nominal with the same activity modifier
MC statistics ``histfactory``: backgrounds      ``staterror`` ``mcstat`` on every background
  share one Gaussian factor per bin, relative   (data √V_ij), ``staterror`` ``mcstat_<signal>``
  width √Σ_j V_ij / Σ_j B_ij; the signal its    on the signal (data √V_2p,i)
  own, width √V_2p,i / T_i
MC statistics ``barlow_beeston``: one           ``shapesys`` ``mcstat_<sample>`` on every
  Poisson-constrained factor per bin and        sample, data √V (pyhf: τ = (T/σ)² = the
  template                                      effective MC count)
observed D_i                                    ``observations``
==============================================  =============================================

**What is the same model, exactly.** The Poisson term of the data, the MC-statistics
treatment (exonu profiles the same factors analytically or per bin; see
:mod:`exonu.stats.model`), the systematic shifts (HistFactory applies ``histosys``
additively before the multiplicative modifiers: p_j (γ_ij B_ij + Σ_k α_k σ_ijk) with the
default treatment, p_j γ_ij (B_ij + Σ_k α_k σ_ijk) with the others — eq. 5 and the variance
of each treatment), the signal systematics and the free normalisations. pyhf fits the
factors (one per bin and template with the default treatment: ~3400 for the default's
magnetic-moment fit, so use an autodiff backend there, e.g. ``pyhf.set_backend("jax")``
with L-BFGS-B); exonu profiles them in closed form.

**The activity constraints** (XMASS eq. 7, Gaussian in p_j) have no HistFactory modifier:
``normsys`` is a log-normal-like interpolation in its pull (pyhf's ``code4``), equal at first
order but cheaper by tens of per cent at the 1.5-2σ pulls of the default's magnetic-moment fit
at its limit (pyhf's limit 3 % higher), and ``lumi`` exists once. They are written as an
auxiliary measurement instead (:func:`_constraint_channel`): a channel
``activity_constraints`` with one bin per constrained background that observes K = 10¹⁰
counts with a mean linear in p_j, whose Poisson term is the Gaussian to 10⁻⁴ of itself.

**Signals with several powers** (interference: B−L, charge radius, full millicharge, vector,
axial vector) are not a HistFactory sample with one normfactor. They are exported as a pyhf
``PatchSet`` (:func:`pyhf_patchset`) over a grid of the coupling: the background-only
workspace (:func:`pyhf_background_workspace`) plus one patch per grid point that adds the
signal evaluated there (S⁰(x_g), its MC uncertainty √max(0, Σ_p x_g^p V_p) and its
systematics) with a plain strength μ as POI, so that μ = 1 is the hypothesis x = x_g and
μ = 0 the background. A signal with a mediator mass has that mass as second label.

**exonu's result on the same workspace** is recorded in the sidecar
(:func:`pyhf_metadata`, key ``exonu_reference``): the Poisson profile-likelihood best fit
and 90 % CL upper limit (Δχ² = 2.706, exonu's ``profile`` method, ``two_sided``) in pyhf's
POI units and physical units, and for a PatchSet exonu's Δχ² at every grid point, so that
``pyhf`` reproduces it (``tests/products/test_pyhf_export.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "NotExpressible",
    "coupling_grid",
    "exonu_reference",
    "expressible_powers",
    "pyhf_background_workspace",
    "pyhf_metadata",
    "pyhf_patchset",
    "pyhf_workspace",
    "refine_profile",
]

#: Bounds of the activity scales, as in exonu.stats.model.
_P_MAX_FREE = 100.0
_P_MAX_SIGMAS = 10.0
#: Counts of the auxiliary measurement that writes the Gaussian activity constraints.
_AUX_COUNTS = 1e10
#: MIGRAD tolerance of exonu's reference fits (EDM < 2e-3 · tol).
_REFERENCE_TOL = 1e-3
#: Name of the channel of the activity constraints.
CONSTRAINT_CHANNEL = "activity_constraints"
#: Placeholder INSPIRE id: pyhf's PatchSet schema requires ``references.hepdata`` (ins + 7
#: digits) and an exonu analysis has no HEPData record of its own.
NO_HEPDATA_RECORD = "ins0000000"
#: The treatments pyhf expresses exactly (all of exonu.stats.model.MC_STATISTICS).
EXPORTABLE_MC_STATISTICS = ("barlow_beeston_lite", "histfactory", "barlow_beeston")


class NotExpressible(ValueError):
    """The signal is not a single power of its coupling (no single HistFactory normfactor),
    or the MC-statistics treatment has no HistFactory form."""


def expressible_powers(powers: tuple[int, ...] | list[int]) -> bool:
    """True if a signal with these powers of its coupling can be exported as one workspace
    with the coupling's power as POI (otherwise: a PatchSet, :func:`pyhf_patchset`)."""
    return len(set(powers)) == 1


def _channel_name(analysis: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in analysis) or "exonu"


def _mc_statistics(mc_statistics: str | None) -> str:
    from exonu.stats.model import DEFAULT_MC_STATISTICS

    mcs = DEFAULT_MC_STATISTICS if mc_statistics is None else mc_statistics
    if mcs not in EXPORTABLE_MC_STATISTICS:
        raise NotExpressible(
            f"mc_statistics {mcs!r} has no HistFactory form; exportable: "
            f"{', '.join(EXPORTABLE_MC_STATISTICS)}"
        )
    return mcs


def _mcstat_modifier(name: str, variance: np.ndarray, mc_statistics: str) -> dict[str, Any]:
    kind = "shapesys" if mc_statistics == "barlow_beeston" else "staterror"
    return {"name": name, "type": kind, "data": np.sqrt(np.clip(variance, 0.0, None)).tolist()}


def _shift_modifier(name: str, nominal: np.ndarray, shift: np.ndarray) -> dict[str, Any]:
    return {
        "name": name,
        "type": "histosys",
        "data": {"hi_data": (nominal + shift).tolist(), "lo_data": (nominal - shift).tolist()},
    }


def _split(
    name: str,
    nominal: np.ndarray,
    scale_mods: list[dict[str, Any]],
    shift_mods: list[tuple[str, np.ndarray]],
    mcstat: dict[str, Any] | None,
    mc_statistics: str,
) -> list[dict[str, Any]]:
    """One template as pyhf samples. ``barlow_beeston_lite``: its MC factors multiply the
    nominal template only (exonu's variance p² V does not follow the shifts), so the shifts
    go to a second sample ``<name>_shifts`` of zero nominal with the same scale modifiers.
    Otherwise one sample: the factors multiply nominal + shifts."""
    zeros = np.zeros_like(nominal)
    stat = [mcstat] if mcstat is not None else []
    if mc_statistics != "barlow_beeston_lite" or not shift_mods or not stat:
        mods = [*scale_mods, *[_shift_modifier(n, nominal, d) for n, d in shift_mods], *stat]
        return [{"name": name, "data": nominal.tolist(), "modifiers": mods}]
    return [
        {"name": name, "data": nominal.tolist(), "modifiers": [*scale_mods, *stat]},
        {
            "name": f"{name}_shifts",
            "data": zeros.tolist(),
            "modifiers": [*scale_mods, *[_shift_modifier(n, zeros, d) for n, d in shift_mods]],
        },
    ]


def _background_samples(ws: Any, sig: Any, mc_statistics: str) -> list[dict[str, Any]]:
    mask = np.asarray(sig.fit_mask)
    free = set(sig.free_backgrounds)
    samples = []
    for bkg in ws.backgrounds:
        nominal = np.asarray(bkg.expected)[mask]
        scale: list[dict[str, Any]] = []
        rel = bkg.relative_uncertainty
        if rel is None or bkg.name in free or rel > 0:
            # free, or constrained through the channel of _constraint_channel()
            scale.append({"name": f"p_{bkg.name}", "type": "normfactor", "data": None})
        shifts = []
        for bs in ws.background_systematics:
            shift = np.asarray(bs.shifts[bkg.name])[mask] if bkg.name in bs.shifts else None
            if shift is not None and np.any(shift):
                shifts.append((f"q_{bs.name}", shift))
        variance = np.asarray(bkg.mc_variance)[mask]
        if mc_statistics == "histfactory":
            # every background carries the shared staterror (zeros add nothing to the width)
            stat = _mcstat_modifier("mcstat", variance, mc_statistics)
        else:
            stat = (
                _mcstat_modifier(f"mcstat_{bkg.name}", variance, mc_statistics)
                if np.any(variance > 0)
                else None
            )
        samples += _split(bkg.name, nominal, scale, shifts, stat, mc_statistics)
    return samples


def _signal_samples(
    sig: Any, values: np.ndarray, variance: np.ndarray, mc_statistics: str
) -> list[dict[str, Any]]:
    """The signal: expected counts ``values`` (fit window), MC variance ``variance``."""
    mask = np.asarray(sig.fit_mask)
    scale: list[dict[str, Any]] = [{"name": f"mu_{sig.name}", "type": "normfactor", "data": None}]
    shifts = []
    for ss in sig.systematics:
        delta = np.asarray(ss.relative_shifts)[mask]
        if np.any(delta):
            shifts.append((f"r_{ss.name}", values * delta))
    stat = (
        _mcstat_modifier(f"mcstat_{sig.name}", variance, mc_statistics)
        if np.any(variance > 0)
        else None
    )
    return _split(sig.name, values, scale, shifts, stat, mc_statistics)


def _signal_variance(sig: Any, x: float) -> np.ndarray:
    """max(0, Σ_p x^p V_p) over the fit window (exonu.stats.model)."""
    mask = np.asarray(sig.fit_mask)
    out = np.zeros(int(mask.sum()))
    for t in sig.variance_terms:
        out = out + x**t.power * np.asarray(t.values)[mask]
    return np.clip(out, 0.0, None)


def _constrained(ws: Any, sig: Any) -> list[tuple[str, float]]:
    """(name, σ(B_RI)) of the backgrounds with a Gaussian activity constraint in this fit."""
    free = set(sig.free_backgrounds)
    return [
        (b.name, float(b.relative_uncertainty))
        for b in ws.backgrounds
        if b.relative_uncertainty and b.name not in free
    ]


def _constraint_channel(ws: Any, sig: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """XMASS eq. 7's Gaussian constraint (1 − p_j)²/σ_j² as an auxiliary measurement.

    One bin per constrained background j observes K = 10¹⁰ counts with mean
    λ_j = K + (√K/σ_j)(p_j − 1), linear in the ``normfactor`` p_j (a sample of nominal
    K − √K/σ_j without modifiers plus one of nominal √K/σ_j scaled by p_j). Its Poisson term
    is ((p_j − 1)/σ_j)² (1 − (2/3)ε + …), ε = (p_j − 1)/(σ_j √K) ≲ 10⁻⁴: the Gaussian to
    10⁻⁴ of itself, where pyhf's ``normsys`` (exponential beyond one σ) differs at first
    order in the pull and by tens of per cent at the 1.5-2 σ pulls of the default's
    magnetic-moment fit at its limit.
    """
    cons = _constrained(ws, sig)
    if not cons:
        return None
    k = _AUX_COUNTS
    root = math.sqrt(k)
    n = len(cons)
    samples: list[dict[str, Any]] = [
        {"name": "activity_offset", "data": [k - root / rel for _, rel in cons], "modifiers": []}
    ]
    for i, (name, rel) in enumerate(cons):
        data = [0.0] * n
        data[i] = root / rel
        samples.append(
            {
                "name": f"activity_{name}",
                "data": data,
                "modifiers": [{"name": f"p_{name}", "type": "normfactor", "data": None}],
            }
        )
    channel = {"name": CONSTRAINT_CHANNEL, "samples": samples}
    return channel, {"name": CONSTRAINT_CHANNEL, "data": [k] * n}


def _measurement(ws: Any, sig: Any, mu_bounds: tuple[float, float]) -> dict[str, Any]:
    free = set(sig.free_backgrounds)
    mu_name = f"mu_{sig.name}"
    parameters: list[dict[str, Any]] = [
        {"name": mu_name, "bounds": [[float(mu_bounds[0]), float(mu_bounds[1])]], "inits": [0.0]}
    ]
    for bkg in ws.backgrounds:
        rel = bkg.relative_uncertainty
        if rel is None or bkg.name in free:
            top = _P_MAX_FREE
        elif rel > 0:
            top = 1.0 + _P_MAX_SIGMAS * rel  # exonu.stats.model's bound
        else:
            continue
        parameters.append({"name": f"p_{bkg.name}", "bounds": [[0.0, top]], "inits": [1.0]})
    return {"name": sig.name, "config": {"poi": mu_name, "parameters": parameters}}


def _spec(
    ws: Any, sig: Any, samples: list[dict[str, Any]], mu_bounds: tuple[float, float]
) -> dict[str, Any]:
    channel = _channel_name(ws.analysis)
    mask = np.asarray(sig.fit_mask)
    channels = [{"name": channel, "samples": samples}]
    observations = [{"name": channel, "data": [int(v) for v in np.asarray(ws.observed)[mask]]}]
    aux = _constraint_channel(ws, sig)
    if aux is not None:
        channels.append(aux[0])
        observations.append(aux[1])
    return {
        "version": "1.0.0",
        "channels": channels,
        "observations": observations,
        "measurements": [_measurement(ws, sig, mu_bounds)],
    }


def pyhf_workspace(
    ws: Any, signal: str, *, mc_statistics: str | None = None, mu_max: float | None = None
) -> dict[str, Any]:
    """The pyhf JSON workspace of a single-power ``signal`` in ``ws`` (module docstring).

    Parameters
    ----------
    ws : exonu.stats.Workspace
        The exonu workspace.
    signal : str
        Name of the signal (one power of its coupling).
    mc_statistics : {"histfactory", "barlow_beeston"}, optional
        exonu's MC-statistics treatment to write (default: exonu's default).
    mu_max : float, optional
        Upper bound of the signal strength μ = x^p; default 10⁴ (the workspace's scale puts
        the sensitivity at x ~ 1-30).

    Raises
    ------
    NotExpressible
        If the signal has several powers (use :func:`pyhf_patchset`) or the treatment has no
        HistFactory form.
    """
    mcs = _mc_statistics(mc_statistics)
    sig = ws.signal(signal)
    powers = sig.powers
    if not expressible_powers(powers):
        raise NotExpressible(
            f"signal {signal!r} has powers {list(powers)} of its coupling; a HistFactory "
            "sample with one normfactor needs a single power (export a PatchSet instead)"
        )
    power = powers[0]
    mask = np.asarray(sig.fit_mask)
    template = np.asarray(sig.expected(1.0))[mask]
    # The signal MC variance of a single power p is V_2p x^2p: relative size √V_2p / T,
    # independent of x — the per-bin factor of the signal's own staterror/shapesys.
    samples = [
        *_background_samples(ws, sig, mcs),
        *_signal_samples(sig, template, _signal_variance(sig, 1.0), mcs),
    ]
    top = float(mu_max or 1e4)
    lo_x = sig.x_bounds[0]
    mu_lo = 0.0 if (lo_x is not None and lo_x >= 0) or power % 2 == 0 else -top
    return _spec(ws, sig, samples, (mu_lo, top))


def pyhf_background_workspace(
    ws: Any, signal: str, *, mc_statistics: str | None = None, mu_max: float = 10.0
) -> dict[str, Any]:
    """The background-only workspace of ``signal``'s fit (the base of its PatchSet).

    Its measurement already names the POI ``mu_<signal>`` (bounds [0, ``mu_max``]), which
    the patches' signal sample carries; build the model of the patched workspace.
    """
    mcs = _mc_statistics(mc_statistics)
    sig = ws.signal(signal)
    return _spec(ws, sig, _background_samples(ws, sig, mcs), (0.0, mu_max))


def _label(value: float) -> str:
    return f"{value:.6g}".replace("-", "m").replace("+", "").replace(".", "p")


def pyhf_patchset(
    ws: Any,
    signal: str,
    couplings: Sequence[float],
    *,
    mc_statistics: str | None = None,
    hepdata: str = NO_HEPDATA_RECORD,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A pyhf PatchSet: one patch per coupling (physical units) adding ``signal`` there.

    Returns ``(patchset, background-only workspace)``; the PatchSet's digest is that of the
    background-only workspace (``pyhf.PatchSet.verify``).

    Each patch appends the signal sample S⁰(x_g) = Σ_p x_g^p T_p (x_g = coupling / scale)
    with its systematics and MC uncertainty √max(0, Σ_p x_g^p V_p) to the background-only
    workspace of :func:`pyhf_background_workspace`; the POI ``mu_<signal>`` is a plain
    strength (μ = 1: the hypothesis, μ = 0: background only). Labels: the coupling
    (``parameter`` of the signal) and, for a mediator, its mass in MeV.
    """
    import pyhf

    mcs = _mc_statistics(mc_statistics)
    sig = ws.signal(signal)
    base = pyhf_background_workspace(ws, signal, mc_statistics=mcs)
    mask = np.asarray(sig.fit_mask)
    labels = [_safe(sig.parameter)]
    if sig.mediator_mass_mev is not None:
        labels.append("mediator_mass_mev")
    patches = []
    for g in couplings:
        x = float(g) / sig.scale
        values = np.asarray(sig.expected(x))[mask]
        samples = _signal_samples(sig, values, _signal_variance(sig, x), mcs)
        values_label: list[float] = [float(g)]
        name = f"{_safe(sig.name)}_{labels[0]}_{_label(float(g))}"
        if sig.mediator_mass_mev is not None:
            values_label.append(float(sig.mediator_mass_mev))
        patches.append(
            {
                "metadata": {"name": name, "values": values_label},
                "patch": [
                    {"op": "add", "path": "/channels/0/samples/-", "value": sample}
                    for sample in samples
                ],
            }
        )
    return {
        "metadata": {
            "description": (
                f"exonu analysis '{ws.analysis}': signal {sig.name} ({sig.model}, flavour "
                f"{sig.flavour}) at fixed {sig.parameter} [{sig.unit}] on a grid, one patch "
                "each; POI mu_"
                + sig.name
                + " is a plain signal strength (1: the grid point). "
                + (
                    "No HEPData record: references.hepdata is a placeholder required by the "
                    "pyhf schema."
                    if hepdata == NO_HEPDATA_RECORD
                    else ""
                )
            ).strip(),
            "digests": {"sha256": pyhf.utils.digest(base, algorithm="sha256")},
            "labels": labels,
            "references": {"hepdata": hepdata},
        },
        "patches": patches,
        "version": "1.0.0",
    }, base


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name)


# -- exonu's own result on the same workspace ----------------------------------------------


def exonu_reference(
    ws: Any,
    signal: str,
    *,
    mc_statistics: str | None = None,
    cl: float = 0.9,
    couplings: Sequence[float] | None = None,
) -> dict[str, Any]:
    """exonu's Poisson profile-likelihood result for ``signal`` (what pyhf must reproduce).

    The best fit is the minimum of exonu's profiled χ² located to 10⁻⁴ in x by a bounded
    one-dimensional minimisation (every point a full exonu fit at fixed coupling): the free
    MIGRAD fit stops at EDM < 10⁻⁴, which along a flat coupling direction (Δχ²(0) of a few
    tenths) can leave x̂ off by several per cent; ``best_fit_migrad`` is that fit's value, as
    in ``fits/<signal>.json`` with ``likelihood: poisson``. The upper limit (Δχ² = 2.706 at
    90 %, exonu's ``profile`` method, ``two_sided``) is relative to the located minimum.
    Values in physical units and, for a single power p, in pyhf's POI units μ = x^p; with
    ``couplings`` (physical), the profiled χ² at each relative to the minimum and to zero.
    """

    from exonu.stats.limits import Profile, compute_limit, profile_threshold
    from exonu.stats.model import BinnedModel

    mcs = _mc_statistics(mc_statistics)
    sig = ws.signal(signal)
    model = BinnedModel(ws, signal, "poisson", mc_statistics=mcs)  # type: ignore[arg-type]
    res = compute_limit(model, signal, "profile", cl, threshold="two_sided")
    scale = sig.scale
    thr = profile_threshold(cl, "two_sided")
    prof = Profile(model, signal)
    # the fits of the reference converge 50x tighter (EDM < 2e-6) than the pipeline's
    prof.fitter.tol = _REFERENCE_TOL
    prof.points.pop(float(prof.best.values[prof.poi]), None)
    prof.zero = prof._fit_at(0.0, start=prof.zero.array)
    x0, x_ul0 = res.best_fit / scale, res.upper_limit / scale
    x_hat, x_ul, chi2_min, chi2_zero = refine_profile(prof, x0, x_ul0, thr)
    out: dict[str, Any] = {
        "likelihood": "poisson",
        "mc_statistics": mcs,
        "method": "profile",
        "cl": cl,
        "q_threshold": thr,
        "best_fit": x_hat * scale,
        "upper_limit": x_ul * scale,
        "lower_limit": res.lower_limit,
        "chi2_best": chi2_min,
        "chi2_zero": chi2_zero,
        "best_fit_migrad": res.best_fit,
        "upper_limit_migrad": res.upper_limit,
        "valid": bool(res.valid and prof.all_valid()),
        "unit": sig.unit,
    }
    if expressible_powers(sig.powers):
        p = sig.powers[0]
        out["power"] = p
        out["best_fit_poi"] = math.copysign(abs(x_hat) ** p, x_hat)
        out["upper_limit_poi"] = math.copysign(abs(x_ul) ** p, x_ul)
    if couplings is not None:
        points = []
        for g in couplings:
            chi2 = prof.chi2(float(g) / scale)
            points.append(
                {
                    "coupling": float(g),
                    "delta_chi2": chi2 - chi2_min,
                    "chi2_minus_zero": chi2 - chi2_zero,
                }
            )
        out["points"] = points
    return out


def coupling_grid(
    reference: dict[str, Any], power: int, n: int = 12, *, two_sided: bool = False
) -> list[float]:
    """Couplings (physical) of a PatchSet: ``n`` points evenly spaced in the strength
    sign(g)|g|^power up to twice exonu's limit, plus the limit(s) and the best fit; for a
    two-sided coupling, the same on the negative side."""
    ul = float(reference["upper_limit"])
    lower = reference.get("lower_limit")
    reach = max(abs(ul), abs(lower) if (two_sided and lower is not None) else 0.0)
    u_max = 2.0 * reach**power
    grid = [(u_max * k / n) ** (1.0 / power) for k in range(1, n + 1)]
    if two_sided:
        grid += [-g for g in grid]
        if lower is not None:
            grid.append(float(lower))
    grid.append(ul)
    if reference["best_fit"] != 0:
        grid.append(float(reference["best_fit"]))
    return sorted({float(f"{g:.6g}") for g in grid})


def pyhf_metadata(
    ws: Any,
    signal: str,
    *,
    mc_statistics: str | None = None,
    reference: dict[str, Any] | None = None,
    patchset: bool = False,
) -> dict[str, Any]:
    """What the pyhf workspace (or PatchSet) of ``signal`` means in exonu terms (a sidecar).

    pyhf's schema admits no extra keys, so the definition of the POI, the binning, what is
    the same model and what is not, the digest of the source workspace and exonu's own
    result (``exonu_reference``, :func:`exonu_reference`) go here.
    """
    mcs = _mc_statistics(mc_statistics)
    sig = ws.signal(signal)
    mu_name = f"mu_{signal}"
    edges = np.asarray(ws.edges_kev)
    idx = np.flatnonzero(np.asarray(sig.fit_mask))
    if patchset:
        poi_def = (
            f"{mu_name} multiplies the signal at the patch's {sig.parameter} "
            "(1: that hypothesis, 0: background only)"
        )
        power: int | list[int] = list(sig.powers)
    else:
        power = sig.powers[0]
        poi_def = f"{mu_name} = ({sig.parameter} / {sig.scale:g} {sig.unit})^{power}"
    mc_text = {
        "barlow_beeston_lite": (
            "staterror per sample: one Gaussian factor per bin and template (backgrounds and "
            "signal) with relative width sqrt(V_ij)/B_ij on the nominal template; the "
            "systematic shifts sit on a zero-nominal sample <name>_shifts with the same "
            "activity modifier, so the factors do not scale them — exactly exonu's "
            "mc_statistics 'barlow_beeston_lite' (Conway, arXiv:1103.0354), whose closed-form "
            "profile has the variance sum_j p_j^2 V_ij + V_S(x)"
        ),
        "histfactory": (
            "HistFactory staterror: one Gaussian factor per bin shared by the backgrounds "
            "(relative width sqrt(sum_j V_ij)/sum_j B_ij) and one per bin for the signal "
            "(relative width sqrt(V_S,i)/S_i) — exactly exonu's mc_statistics 'histfactory'"
        ),
        "barlow_beeston": (
            "shapesys per sample: one Poisson-constrained factor per bin and template with "
            "tau = effective MC count (B^2/V) — exactly exonu's mc_statistics 'barlow_beeston' "
            "(Barlow & Beeston 1993)"
        ),
    }[mcs]
    return {
        "analysis": ws.analysis,
        "signal": sig.name,
        "model": sig.model,
        "parameter": sig.parameter,
        "unit": sig.unit,
        "flavour": sig.flavour,
        "mediator_mass_mev": sig.mediator_mass_mev,
        "treatment": sig.treatment,
        "kind": "patchset" if patchset else "workspace",
        "poi": mu_name,
        "poi_definition": poi_def,
        "power": power,
        "scale": sig.scale,
        "edges_kev": edges[idx[0] : idx[-1] + 2].tolist(),
        "workspace_digest": ws.digest(),
        "likelihood": "poisson (HistFactory): exonu's likelihood 'poisson' (Baker-Cousins)",
        "mc_statistics": mcs,
        "equivalence": {
            "same": [
                "Poisson term of the data",
                f"MC statistics: {mc_text}",
                "background systematic shifts (histosys, additive, scaled by the activity)",
                "signal systematics (histosys)",
                "free activity scales (normfactor, bounds [0, 100])",
            ],
            "approximate": [
                "activity constraints (XMASS eq. 7, Gaussian in p_j): channel "
                "activity_constraints, one bin per constrained background observing K = 1e10 "
                "counts with mean K + (sqrt(K)/sigma_j)(p_j - 1); its Poisson term is "
                "((p_j - 1)/sigma_j)^2 to a relative 1e-4 (fit only the main channel's "
                "observations as data; the constraint bins are auxiliary)",
            ],
            "not_exported": [
                "exonu's likelihood 'chi2' (XMASS eq. 4), which the default's published "
                "numbers use unless fit.likelihood is 'poisson'",
            ],
        },
        "exonu_reference": reference,
    }


def refine_profile(
    prof: Any, x0: float, ul0: float | None, thr: float
) -> tuple[float, float, float, float]:
    """The reference profile's best fit, Δχ² = ``thr`` upper crossing, minimum and χ² at
    zero (model x units): the best fit located to 10⁻⁴ by a bounded 1-d minimisation of the
    profile around ``x0`` (half the distance to the first upper limit ``ul0`` on either side),
    the profile improved, and the crossing searched from the lowest point found."""
    from scipy import optimize

    known = ul0 is not None and math.isfinite(ul0)
    half = 0.5 * abs(ul0 - x0) if known else 1.0  # type: ignore[operator]
    a, b = max(prof.lower, x0 - half), x0 + half
    if b > a:
        opt = optimize.minimize_scalar(
            prof.chi2, bounds=(a, b), method="bounded", options={"xatol": 1e-4 * max(half, 1e-3)}
        )
        prof.chi2(float(opt.x))
    prof.improve()
    chi2_zero = prof.chi2(0.0) if prof.lower <= 0.0 <= prof.upper else prof.zero.chi2
    lowest_x, lowest = min(prof.points.items(), key=lambda kv: kv[1].chi2)
    chi2_min = min(prof.chi2_min, lowest.chi2)
    x_hat = prof.x_hat if prof.chi2_min <= lowest.chi2 else lowest_x
    upper = prof.crossing(thr, +1, start=x_hat)
    x_ul = prof.upper if upper is None else upper
    return float(x_hat), float(x_ul), float(chi2_min), float(chi2_zero)
