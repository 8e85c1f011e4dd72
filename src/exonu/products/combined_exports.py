"""Products of a combined analysis beyond its limit table (``mode: combined``).

Input: the channel models of a combination (:class:`~exonu.stats.combined.CombinedModel` and
its channels, built by :mod:`exonu.stages.combined_products` exactly as the joint fit builds
them) and the ``fits/<signal>.json`` documents of the joint fit.

* :func:`profile_curves` — the profiled Δχ² (−2 Δln L for a Poisson channel) versus the
  physical coupling for each channel alone, for the combination with shared solar fluxes and
  for the combination with one flux nuisance per channel; :func:`curves_figure` overlays them
  with the CL threshold.
* :func:`impacts` — per constrained nuisance of the joint fit its pull (θ̂ − θ₀)/σ₀, its
  constraint σ̂/σ₀ and its impacts: with the nuisance fixed at θ̂ ± σ̂ (its post-fit width)
  and everything else refitted, the shift of the best-fit coupling (the usual "impact" of a
  ranking plot) and the shift of the profile upper limit — ranked by the latter, which is the
  informative one for a limit (the best fit of a x ≥ 0 coupling often sits at 0, where every
  best-fit shift vanishes). :func:`impacts_table` and :func:`impacts_figure` show the top N.
* :func:`combined_pyhf_workspace` — the combination as one pyhf (HistFactory) workspace,
  one pyhf channel per binned channel (:func:`combined_pyhf_patchset`: a PatchSet for a
  signal with several powers of its coupling); :func:`combined_reference` is exonu's own
  Poisson profile result on the same model.
* :func:`combined_submission` — the HEPData tables: limits per channel and combined, and the
  overlaid curves.

**The pyhf export of a combination.** Each channel is written as the one-channel export
writes it (:mod:`exonu.products.pyhf_export`: the same samples and modifiers; the activity
constraints as an auxiliary channel ``<channel>_activity_constraints``), with every
parameter renamed as :class:`~exonu.stats.combined.CombinedModel` names it, except that
pyhf reserves ``/``: a channel-local parameter ``n`` (``<channel>/n`` in the combined model)
becomes ``<channel>__n`` (MC-statistics modifiers likewise; :func:`pyhf_name`), the flux pulls
``r_flux_<src>`` and ``q_flux_<src>`` of every channel become the one ``histosys``
``flux_<src>`` (with ``correlate_fluxes``; else ``<channel>__flux_<src>``) — a modifier name
that appears in several channels is one parameter with one unit-Gaussian constraint in
HistFactory, exactly the shared flux nuisance of the combined model. The POI
``mu_<signal>`` is the combined x to the signal's power, x = coupling / reference scale
(the ``scale`` of the combined signal): channel c's coupling in its own units is
x_c = x · s_ref / s_c, so its signal sample is its template at x_c = s_ref / s_c, i.e. the
channel's T_c scaled by (s_ref / s_c)^p, and one μ = x^p drives every channel correctly.
Like the one-channel export this needs a single power p (the same in every channel); a
signal with several powers (interference) is a PatchSet over the physical coupling whose
patches add the signal to every channel at once.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from exonu.products.curves import curve_range
from exonu.products.pyhf_export import refine_profile

__all__ = [
    "combined_pyhf_patchset",
    "combined_pyhf_workspace",
    "combined_reference",
    "combined_submission",
    "curves_figure",
    "impacts",
    "impacts_figure",
    "impacts_table",
    "profile_curves",
    "pyhf_name",
]

#: Δχ² reach of a curve, in units of the CL threshold (both sides of the best fit).
CURVE_REACH = 1.5
#: Fit tolerance of the reference fits (as the one-channel export's).
_REFERENCE_TOL = 1e-3


# --------------------------------------------------------------------------- curves


def _curve(
    prof: Any, own: tuple[float, float], common: tuple[float, float], thr: float, n_points: int
) -> dict[str, Any]:
    """The profiled Δχ² of ``prof`` at ``n_points`` evenly spaced couplings over its own
    range and as many over the common range (physical units, clipped to its bounds), plus
    the best fit."""
    scale = float(prof.model.signals[prof.poi].scale)
    lo, hi = max(common[0] / scale, prof.lower), min(common[1] / scale, prof.upper)
    xs = np.concatenate([np.linspace(*own, n_points), np.linspace(lo, hi, n_points)])
    if prof.lower < prof.x_hat < prof.upper:
        xs = np.append(xs, prof.x_hat)
    xs = np.unique(xs)
    # outwards from the best fit: every fit starts from a converged neighbour
    order = np.argsort(np.abs(xs - prof.x_hat), kind="stable")
    chi2 = np.empty(xs.size)
    valid = np.empty(xs.size, dtype=bool)
    for i in order:
        chi2[i] = prof.chi2(float(xs[i]))
        valid[i] = prof.points[float(xs[i])].valid
    upper = prof.crossing(thr, +1)
    cmin = min(prof.chi2_min, float(chi2.min()))
    return {
        "values": [float(v) for v in xs * scale],
        "chi2": [float(c) for c in chi2],
        "delta_chi2": [float(c - cmin) for c in chi2],
        "chi2_best": float(cmin),
        "best_fit": float(prof.x_hat * scale),
        "upper_crossing": None if upper is None else float(upper * scale),
        "own_range": [own[0] * scale, own[1] * scale],
        "scale": scale,
        "valid": bool(valid.all() and prof.all_valid()),
        "likelihood": getattr(prof.model, "likelihood", None),
        "model_digest": prof.model.digest(),
    }


def profile_curves(
    curve_models: Sequence[tuple[str, str, Any]],
    signal: str,
    *,
    cl: float = 0.9,
    n_points: int = 41,
) -> dict[str, Any]:
    """The profiled Δχ² curves of ``signal``, one per entry of ``curve_models``.

    Parameters
    ----------
    curve_models : sequence of (label, kind, LikelihoodModel)
        ``kind`` is ``"channel"``, ``"combined"`` (the configured flux correlation) or
        ``"alternative"`` (the other one); each curve is relative to its own minimum.
    signal : str
        The combined signal (the POI of every model).
    cl : float
        Confidence level of the threshold (two-sided χ²₁ quantile, exonu's profile method).
    n_points : int
        Points of each curve over its own range (Δχ² up to CURVE_REACH × threshold on each
        side of its best fit), and as many over the common range of all curves (so that a
        channel's second minimum, e.g. of an interference signal, shows in the overlay).

    Returns
    -------
    dict
        ``{signal, cl, threshold, parameter, unit, model, flavour, range, curves: [{label,
        kind, values, delta_chi2, chi2, chi2_best, best_fit, upper_crossing, own_range, valid,
        ...}]}``; ``upper_crossing`` is the Δχ² = threshold crossing above the best fit (the
        profile upper limit of a coupling bounded at 0; for a two-sided coupling exonu's
        limit may be the other side's).
    """
    from exonu.stats.limits import Profile, profile_threshold

    if not curve_models:
        raise ValueError("profile_curves needs at least one model")
    thr = profile_threshold(cl)
    profiles = [Profile(model, signal) for _, _, model in curve_models]
    owns = [curve_range(prof, CURVE_REACH * thr) for prof in profiles]
    scales = [float(p.model.signals[p.poi].scale) for p in profiles]
    common = (
        min(o[0] * sc for o, sc in zip(owns, scales, strict=True)),
        max(o[1] * sc for o, sc in zip(owns, scales, strict=True)),
    )
    curves = [
        {"label": label, "kind": kind, **_curve(prof, own, common, thr, n_points)}
        for (label, kind, _), prof, own in zip(curve_models, profiles, owns, strict=True)
    ]
    first = profiles[0].model.signals[profiles[0].poi]
    return {
        "signal": signal,
        "cl": cl,
        "threshold": profile_threshold(cl),
        "parameter": first.parameter,
        "unit": first.unit,
        "model": first.model,
        "flavour": first.flavour,
        "range": list(common),
        "curves": curves,
    }


def _axis_factor(reach: float) -> tuple[float, str]:
    """(10^e, its mathtext "10^{e} ") for values up to ``reach`` (plotted as value / 10^e)."""
    if not (math.isfinite(reach) and reach > 0):
        return 1.0, ""
    e = math.floor(math.log10(reach))
    return (10.0**e, f"$10^{{{e}}}$ ") if e else (1.0, "")


def _bracket(power: str, unit: str) -> str:
    text = f"{power}{unit}".strip()
    return f" [{text}]" if text else ""


def curves_figure(doc: Mapping[str, Any], outputs: Sequence[str | Path], style: str) -> None:
    """The curves of :func:`profile_curves` overlaid: channels in colour, the combination
    black (solid: configured flux correlation, dashed: the other), the CL threshold."""
    from exonu.products.style import parameter_label, pyplot, save_figure, unit_label

    plt = pyplot(style)
    fig, ax = plt.subplots(figsize=(8, 6))
    colours = iter(plt.rcParams["axes.prop_cycle"].by_key()["color"])
    thr = float(doc["threshold"])
    reach = max((abs(v) for c in doc["curves"] for v in c["values"]), default=1.0)
    factor, power = _axis_factor(reach)
    x_max = 0.0
    x_min = 0.0
    for c in doc["curves"]:
        if c["kind"] == "channel":
            kw: dict[str, Any] = {"color": next(colours), "ls": "-", "lw": 1.6, "zorder": 3}
        else:
            dashed = c["kind"] != "combined"
            kw = {"color": "black", "ls": "--" if dashed else "-", "lw": 2.6, "zorder": 2}
        order = np.argsort(c["values"])
        xs = np.asarray(c["values"])[order] / factor
        ax.plot(xs, np.asarray(c["delta_chi2"])[order], label=c["label"], **kw)
        x_max = max(x_max, float(xs[-1]))
        x_min = min(x_min, float(xs[0]))
    ax.axhline(thr, color="grey", ls=":", lw=1.2)
    ax.annotate(
        f"{100 * doc['cl']:g} % CL",
        (x_max, thr),
        xytext=(-4, 4),
        textcoords="offset points",
        ha="right",
        color="grey",
    )
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(0.0, CURVE_REACH * thr * 1.1)
    ax.set_xlabel(
        parameter_label(doc["model"], doc["flavour"], doc["parameter"])
        + _bracket(power, unit_label(doc["unit"]))
    )
    ax.set_ylabel(r"$\Delta\chi^2$ (profiled)")
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    save_figure(fig, outputs)


# --------------------------------------------------------------------------- pulls and impacts


def _limit_at(
    fitter: Any,
    signal: str,
    poi: int,
    fixed: Mapping[str, float],
    thr: float,
    guess: float,
    start: Any,
) -> tuple[float, float, bool]:
    """(best fit, upper limit, all fits valid) of the POI with ``fixed`` held: the Δχ² =
    ``thr`` crossing above the best fit of the profile at fixed ``fixed`` (model x units),
    bracketed from ``guess`` and located to 10⁻⁴ of it."""
    from scipy.optimize import brentq

    free = fitter.fit(dict(fixed), start=start)
    x0, c0 = float(free.values[poi]), float(free.chi2)
    state = {"start": free.array, "valid": bool(free.valid)}

    def excess(x: float) -> float:
        res = fitter.fit({**fixed, signal: x}, start=state["start"])
        state["valid"] = state["valid"] and bool(res.valid)
        if res.valid:
            state["start"] = res.array
        return float(res.chi2) - c0 - thr

    span = max(abs(guess - x0), 1e-6 * max(abs(guess), 1.0))
    hi = x0 + span
    for _ in range(40):
        if excess(hi) > 0:
            break
        span *= 1.6
        hi = x0 + span
    else:
        return x0, math.inf, False
    # the bracket's lower end is refitted from the free fit (not from the far end's minimum,
    # which for a coupling with two local minima, e.g. the full millicharge, may differ)
    state["start"] = free.array
    try:
        x_ul = brentq(excess, x0, hi, xtol=1e-4 * abs(hi), rtol=1e-6)
    except ValueError:  # no sign change: the fit at x0 is not the free minimum; say so
        return x0, math.nan, False
    return x0, float(x_ul), bool(state["valid"])


def impacts(model: Any, signal: str, *, cl: float = 0.9) -> dict[str, Any]:
    """Pull, constraint and impacts of every constrained nuisance of the joint fit (module
    docstring), sorted by decreasing impact on the upper limit.

    A nuisance is fixed at θ̂ + σ̂ and at θ̂ − σ̂ (σ̂ its post-fit error, HESSE) and all other
    parameters are refitted; its impacts are the shifts of the best-fit coupling and of the
    profile upper limit (Δχ² = threshold of ``cl`` above the best fit, both with the
    nuisance held) from those with every nuisance free, computed the same way. The limit
    impact is the informative one when the best fit sits at a physical bound (x ≥ 0), where
    the best-fit shifts vanish.

    Returns
    -------
    dict
        ``{signal, unit, best_fit, upper_limit, impact_definition, valid, nuisances: [{name,
        channel, parameter, value, pull, constraint, best_fit_up, best_fit_down,
        limit_up, limit_down, impact, valid}]}``, shifts in physical units; ``impact`` is
        the larger |limit shift|, the ranking key.
    """
    from exonu.stats.fit import Fitter
    from exonu.stats.limits import Profile, profile_threshold

    thr = profile_threshold(cl)
    prof = Profile(model, signal)
    poi = prof.poi
    scale = float(model.signals[poi].scale)
    fitter = Fitter(model, strategy=1)
    best = fitter.fit(start=prof.best.array, errors=True)
    ul = prof.crossing(thr, +1)
    guess = prof.upper if ul is None else ul
    x_hat, x_ul, ok_ref = _limit_at(fitter, signal, poi, {}, thr, guess, best.array)
    if not math.isfinite(x_ul):  # the held fits are measured against the free limit
        x_ul = float(guess)
        ok_ref = False
    rows = []
    for i, info in enumerate(model.parameters):
        if info.kind == "poi" or not info.sigma or info.fixed:
            continue
        value, err = float(best.values[i]), float(best.errors[i])
        fits, ok = [], True
        for sign in (+1.0, -1.0):
            target = value + sign * err
            if info.lower is not None:
                target = max(target, info.lower)
            if info.upper is not None:
                target = min(target, info.upper)
            bf, lim, valid = _limit_at(
                fitter, signal, poi, {info.name: target}, thr, x_ul, best.array
            )
            ok = ok and valid and math.isfinite(lim)
            shift = (lim - x_ul) * scale
            fits.append(((bf - x_hat) * scale, shift if math.isfinite(shift) else None))
        channel, _, local = info.name.rpartition("/")
        rows.append(
            {
                "name": info.name,
                "channel": channel or "shared",
                "parameter": local,
                "value": value,
                "error": err,
                "pull": best.pulls.get(info.name),
                "constraint": err / float(info.sigma),
                "best_fit_up": fits[0][0],
                "best_fit_down": fits[1][0],
                "limit_up": fits[0][1],
                "limit_down": fits[1][1],
                "impact": max((abs(f[1]) for f in fits if f[1] is not None), default=0.0),
                "valid": ok,
            }
        )
    rows.sort(key=lambda r: (-r["impact"], r["name"]))
    sig = model.signals[poi]
    return {
        "signal": signal,
        "parameter": sig.parameter,
        "unit": sig.unit,
        "scale": scale,
        "cl": cl,
        "best_fit": x_hat * scale,
        "best_fit_error": float(best.errors[poi]) * scale,
        "upper_limit": x_ul * scale,
        "impact_on": ["best_fit", "upper_limit"],
        "impact_definition": (
            "each nuisance fixed at its best fit plus (_up) or minus (_down) its post-fit error "
            "(HESSE), every other parameter refitted: best_fit_* is the shift of the best-fit "
            "coupling, limit_* the shift of the profile upper limit (Delta chi2 = "
            f"{thr:.3f}, {100 * cl:g}% CL, relative to the best fit with the nuisance held), "
            "physical units; ranked by the larger |limit shift|. pull = (value - nominal)/"
            "prefit sigma; constraint = post-fit error / prefit sigma"
        ),
        "valid": bool(best.valid and ok_ref),
        "model_digest": model.digest(),
        "nuisances": rows,
    }


def _signed(v: float | None) -> str:
    """A signed shift for the table; an empty cell when the limit was not found."""
    return "" if v is None else f"{v:+.3g}"


IMPACT_COLUMNS = (
    "rank",
    "channel",
    "parameter",
    "value",
    "pull",
    "constraint",
    "limit_up",
    "limit_down",
    "best_fit_up",
    "best_fit_down",
    "valid",
)


def impacts_table(doc: Mapping[str, Any], top: int) -> tuple[str, str]:
    """(Markdown, CSV) of the ``top`` highest-ranked nuisances of :func:`impacts`."""
    rows = doc["nuisances"][:top]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=IMPACT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for k, r in enumerate(rows, start=1):
        writer.writerow(
            {c: ("" if r.get(c) is None else r.get(c)) for c in IMPACT_COLUMNS} | {"rank": k}
        )
    unit = doc["unit"]
    lines = [
        f"# Pulls and impacts: {doc['signal']}",
        "",
        f"Best fit {doc['best_fit']:.4g}"
        + (f" ± {doc['best_fit_error']:.2g}" if doc["best_fit_error"] else "")
        + f" {unit}, "
        f"{100 * doc['cl']:g} % CL upper limit {doc['upper_limit']:.4g} {unit}. Impacts: "
        "shift of the upper limit (UL) and of the best fit (BF) when the nuisance is fixed at "
        "its post-fit value ± its post-fit error, the rest refitted; pull (θ̂ − θ₀)/σ₀; "
        f"constraint σ̂/σ₀. Top {len(rows)} of {len(doc['nuisances'])} constrained nuisances, "
        "ranked by the UL shift.",
        "",
        f"| rank | channel | nuisance | pull | constraint | UL +σ̂ [{unit}] | UL −σ̂ [{unit}] | "
        f"BF +σ̂ [{unit}] | BF −σ̂ [{unit}] |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for k, r in enumerate(rows, start=1):
        pull = r["pull"]
        mark = "" if r["valid"] else " †"
        lines.append(
            f"| {k} | {r['channel']} | {r['parameter']}{mark} | "
            f"{'' if pull is None else f'{pull:+.3f}'} | {r['constraint']:.3f} | "
            f"{_signed(r['limit_up'])} | {_signed(r['limit_down'])} | "
            f"{r['best_fit_up']:+.3g} | {r['best_fit_down']:+.3g} |"
        )
    if any(not r["valid"] for r in rows):
        lines += ["", "† a fit with the nuisance held did not converge (or no limit was found)"]
    return "\n".join(lines) + "\n", out.getvalue()


def impacts_figure(
    doc: Mapping[str, Any], outputs: Sequence[str | Path], style: str, top: int
) -> None:
    """Ranking plot of the ``top`` nuisances: pull with the constraint as error bar (left),
    shift of the upper limit for +σ̂ and −σ̂ (right)."""
    from exonu.products.style import pyplot, save_figure, unit_label

    plt = pyplot(style)
    rows = doc["nuisances"][:top]
    n = max(len(rows), 1)
    fig, (axp, axi) = plt.subplots(1, 2, figsize=(10, 1.8 + 0.38 * n), sharey=True)
    ys = np.arange(len(rows))[::-1]
    labels = [
        r["parameter"] if r["channel"] == "shared" else f"{r['channel']}: {r['parameter']}"
        for r in rows
    ]
    pulls = [r["pull"] if r["pull"] is not None else 0.0 for r in rows]
    axp.axvspan(-1, 1, color="0.9")
    axp.axvline(0, color="grey", lw=0.8)
    axp.errorbar(
        pulls, ys, xerr=[r["constraint"] for r in rows], fmt="o", color="black", ms=4, capsize=2
    )
    axp.set_xlabel(r"pull $(\hat\theta-\theta_0)/\sigma_0$", fontsize="small")
    axp.set_xlim(-2.5, 2.5)
    axp.set_yticks(ys, labels)
    factor, power = _axis_factor(max((r["impact"] for r in rows), default=1.0))
    up = [(r["limit_up"] or 0.0) / factor for r in rows]
    down = [(r["limit_down"] or 0.0) / factor for r in rows]
    axi.barh(ys, up, color="tab:red", alpha=0.6, label=r"$\hat\theta+\hat\sigma$")
    axi.barh(ys, down, color="tab:blue", alpha=0.6, label=r"$\hat\theta-\hat\sigma$")
    axi.axvline(0, color="grey", lw=0.8)
    axi.set_xlabel(
        f"shift of the {100 * doc['cl']:g} % CL limit" + _bracket(power, unit_label(doc["unit"])),
        fontsize="small",
    )
    axi.legend(loc="lower right", fontsize="small")
    axp.set_ylim(-0.7, n - 0.3)
    fig.suptitle(
        f"{doc['signal']}: pulls and impacts (top {len(rows)}), limit {doc['upper_limit']:.3g}",
        fontsize="medium",
    )
    fig.tight_layout()
    save_figure(fig, outputs)


# --------------------------------------------------------------------------- pyhf


#: Between the channel and a channel-local parameter name in pyhf (CombinedModel's "/" is
#: reserved by pyhf: its staterror parameters are looked up as "<type>/<name>").
PYHF_SEP = "__"


def pyhf_name(name: str) -> str:
    """The pyhf name of a :class:`~exonu.stats.combined.CombinedModel` parameter
    (``<channel>/<name>`` -> ``<channel>__<name>``; shared names unchanged)."""
    return name.replace("/", PYHF_SEP)


def _rename(name: str, channel: str, fluxes: Mapping[str, str]) -> str:
    return pyhf_name(fluxes.get(name, f"{channel}/{name}"))


def _renamed_samples(
    samples: list[dict[str, Any]], channel: str, fluxes: Mapping[str, str], poi: str
) -> list[dict[str, Any]]:
    out = []
    for s in samples:
        mods = []
        for m in s["modifiers"]:
            name = m["name"] if m["name"] == poi else _rename(m["name"], channel, fluxes)
            mods.append({**m, "name": name})
        out.append({**s, "modifiers": mods})
    return out


def _flux_names(channel: str, sources: Sequence[str], correlate: bool) -> dict[str, str]:
    out = {}
    for src in sources:
        target = f"flux_{src}" if correlate else f"{channel}/flux_{src}"
        out[f"r_flux_{src}"] = target
        out[f"q_flux_{src}"] = target
    return out


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "channel"


def _spec_parts(
    channels: Sequence[tuple[str, Any]],
    signal: str,
    fluxes: Sequence[str],
    correlate: bool,
    mcs: str,
    signal_at: Mapping[str, float] | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    """Channels, observations and measurement parameters of the combination; with
    ``signal_at`` ({channel: x_c}) the signal sample of each channel at that x_c."""
    from exonu.products import pyhf_export as one

    poi = f"mu_{signal}"
    chans, obs, params = [], [], []
    index: dict[str, int] = {}
    for name, ws in channels:
        sig = ws.signal(signal)
        flux = _flux_names(name, fluxes, correlate)
        mask = np.asarray(sig.fit_mask)
        samples = one._background_samples(ws, sig, mcs)
        if signal_at is not None:
            x = signal_at[name]
            values = np.asarray(sig.expected(x))[mask]
            samples += one._signal_samples(sig, values, one._signal_variance(sig, x), mcs)
        main = _safe(name)
        index[name] = len(chans)
        chans.append({"name": main, "samples": _renamed_samples(samples, name, flux, poi)})
        obs.append({"name": main, "data": [int(v) for v in np.asarray(ws.observed)[mask]]})
        aux = one._constraint_channel(ws, sig)
        if aux is not None:
            aux_name = f"{main}_{one.CONSTRAINT_CHANNEL}"
            samples = _renamed_samples(aux[0]["samples"], name, flux, poi)
            samples = [{**s, "name": f"{main}_{s['name']}"} for s in samples]
            chans.append({"name": aux_name, "samples": samples})
            obs.append({"name": aux_name, "data": aux[1]["data"]})
        for p in one._measurement(ws, sig, (0.0, 1.0))["config"]["parameters"][1:]:
            params.append({**p, "name": _rename(p["name"], name, flux)})
    return chans, obs, params, index


def _channel_factors(
    channels: Sequence[tuple[str, Any]], signal: str, scale: float | None
) -> tuple[float, dict[str, float]]:
    first = channels[0][1].signal(signal)
    ref = float(scale if scale is not None else first.scale)
    return ref, {name: ref / float(ws.signal(signal).scale) for name, ws in channels}


def combined_pyhf_workspace(
    channels: Sequence[tuple[str, Any]],
    signal: str,
    *,
    fluxes: Sequence[str] = (),
    correlate_fluxes: bool = True,
    scale: float | None = None,
    mc_statistics: str | None = None,
    mu_max: float | None = None,
) -> dict[str, Any]:
    """The pyhf workspace of a single-power ``signal`` combined over ``channels``.

    Parameters
    ----------
    channels : sequence of (str, Workspace)
        The channels' workspaces by channel name, each with the flux systematics
        ``flux_<src>`` of ``fluxes`` on its signal (and SM background) as the joint fit has
        them (:func:`exonu.stats.combined.add_flux_systematics`).
    signal : str
        The signal, present in every workspace with the same single power p.
    fluxes, correlate_fluxes
        As :class:`~exonu.stats.combined.CombinedModel`.
    scale : float, optional
        Reference scale of the POI (default: the first channel's signal scale);
        μ = (coupling / scale)^p.
    mc_statistics : str, optional
        exonu's MC-statistics treatment to write (default: exonu's default).
    mu_max : float, optional
        Upper bound of μ (default 10⁴, as the one-channel export).

    Raises
    ------
    NotExpressible
        If the signal has several powers, or different powers in different channels.
    """
    from exonu.products.pyhf_export import NotExpressible, _mc_statistics, expressible_powers

    if not channels:
        raise ValueError("combined_pyhf_workspace needs at least one channel")
    mcs = _mc_statistics(mc_statistics)
    powers = {tuple(ws.signal(signal).powers) for _, ws in channels}
    if len(powers) != 1 or not expressible_powers(next(iter(powers))):
        raise NotExpressible(
            f"signal {signal!r} has powers {sorted(powers)} in the channels; one pyhf "
            "normfactor needs one power common to all channels (export a PatchSet instead)"
        )
    power = next(iter(powers))[0]
    _, factors = _channel_factors(channels, signal, scale)
    chans, obs, params, _ = _spec_parts(channels, signal, fluxes, correlate_fluxes, mcs, factors)
    top = float(mu_max or 1e4)
    lows = [ws.signal(signal).x_bounds[0] for _, ws in channels]
    nonneg = any(lo is not None and lo >= 0 for lo in lows)
    mu_lo = 0.0 if nonneg or power % 2 == 0 else -top
    poi = f"mu_{signal}"
    return {
        "version": "1.0.0",
        "channels": chans,
        "observations": obs,
        "measurements": [
            {
                "name": signal,
                "config": {
                    "poi": poi,
                    "parameters": [
                        {"name": poi, "bounds": [[mu_lo, top]], "inits": [0.0]},
                        *params,
                    ],
                },
            }
        ],
    }


def combined_pyhf_patchset(
    channels: Sequence[tuple[str, Any]],
    signal: str,
    couplings: Sequence[float],
    *,
    fluxes: Sequence[str] = (),
    correlate_fluxes: bool = True,
    mc_statistics: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A pyhf PatchSet of a signal with several powers, combined over ``channels``: the
    background-only combined workspace and one patch per physical coupling g adding the
    signal at g to every channel (x_c = g / s_c), POI ``mu_<signal>`` a plain strength (1:
    the hypothesis, 0: background only). Returns ``(patchset, background-only workspace)``.
    """
    import pyhf

    from exonu.products import pyhf_export as one

    mcs = one._mc_statistics(mc_statistics)
    chans, obs, params, index = _spec_parts(channels, signal, fluxes, correlate_fluxes, mcs, None)
    poi = f"mu_{signal}"
    base = {
        "version": "1.0.0",
        "channels": chans,
        "observations": obs,
        "measurements": [
            {
                "name": signal,
                "config": {
                    "poi": poi,
                    "parameters": [
                        {"name": poi, "bounds": [[0.0, 10.0]], "inits": [0.0]},
                        *params,
                    ],
                },
            }
        ],
    }
    first = channels[0][1].signal(signal)
    label = _safe(first.parameter)
    patches = []
    for g in couplings:
        ops = []
        for name, ws in channels:
            sig = ws.signal(signal)
            x = float(g) / float(sig.scale)
            mask = np.asarray(sig.fit_mask)
            values = np.asarray(sig.expected(x))[mask]
            samples = one._signal_samples(sig, values, one._signal_variance(sig, x), mcs)
            flux = _flux_names(name, fluxes, correlate_fluxes)
            for s in _renamed_samples(samples, name, flux, poi):
                ops.append({"op": "add", "path": f"/channels/{index[name]}/samples/-", "value": s})
        patches.append(
            {
                "metadata": {
                    "name": f"{_safe(signal)}_{label}_{one._label(float(g))}",
                    "values": [float(g)],
                },
                "patch": ops,
            }
        )
    return {
        "metadata": {
            "description": (
                f"exonu combination of {', '.join(n for n, _ in channels)}: signal {signal} "
                f"({first.model}) at fixed {first.parameter} [{first.unit}] on a grid, one patch "
                f"each adding the signal to every channel; POI {poi} is a plain signal "
                "strength (1: the grid point). No HEPData record: references.hepdata is a "
                "placeholder required by the pyhf schema."
            ),
            "digests": {"sha256": pyhf.utils.digest(base, algorithm="sha256")},
            "labels": [label],
            "references": {"hepdata": one.NO_HEPDATA_RECORD},
        },
        "patches": patches,
        "version": "1.0.0",
    }, base


def combined_reference(
    model: Any, signal: str, *, cl: float = 0.9, couplings: Sequence[float] | None = None
) -> dict[str, Any]:
    """exonu's profile-likelihood result of ``model`` (a combination of Poisson channels, the
    model pyhf is given): best fit located to 10⁻⁴ by a bounded 1-d minimisation of the
    profile, Δχ² = threshold crossing above it (physical units, and for one power p in μ =
    x^p), χ² at zero; with ``couplings``, the profiled χ² at each (relative to the minimum and
    to zero). As :func:`exonu.products.pyhf_export.exonu_reference` for one workspace."""

    from exonu.stats.limits import Profile, profile_threshold

    thr = profile_threshold(cl)
    prof = Profile(model, signal)
    prof.fitter.tol = _REFERENCE_TOL
    scale = float(model.signals[prof.poi].scale)
    x0 = prof.x_hat
    ul0 = prof.crossing(thr, +1, start=x0)
    x_hat, x_ul, chi2_min, chi2_zero = refine_profile(prof, x0, ul0, thr)
    sig = model.signals[prof.poi]
    out: dict[str, Any] = {
        "likelihood": "poisson",
        "method": "profile",
        "cl": cl,
        "q_threshold": thr,
        "scale": scale,
        "best_fit": x_hat * scale,
        "upper_limit": x_ul * scale,
        "chi2_best": chi2_min,
        "chi2_zero": chi2_zero,
        "valid": bool(prof.all_valid()),
        "unit": sig.unit,
        "model_digest": model.digest(),
    }
    p = int(sig.leading_power)
    out["power"] = p
    out["best_fit_poi"] = math.copysign(abs(x_hat) ** p, x_hat)
    out["upper_limit_poi"] = math.copysign(abs(x_ul) ** p, x_ul)
    if couplings is not None:
        out["points"] = [
            {
                "coupling": float(g),
                "delta_chi2": prof.chi2(float(g) / scale) - chi2_min,
                "chi2_minus_zero": prof.chi2(float(g) / scale) - chi2_zero,
            }
            for g in couplings
        ]
    return out


# --------------------------------------------------------------------------- HEPData


def _var(name: str, values: Sequence[Any], *, units: str = "", independent: bool = False) -> Any:
    from hepdata_lib import Variable

    var = Variable(
        name,
        is_independent=independent,
        is_binned=False,
        units=units,
        zero_uncertainties_warning=False,
    )
    var.values = list(values)
    return var


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and v is not None and math.isfinite(float(v))


def combined_submission(
    analysis: str,
    fits: Sequence[Mapping[str, Any]],
    curves: Sequence[Mapping[str, Any]],
    provenance: str,
) -> Any:
    """The :class:`hepdata_lib.Submission` of a combination: table ``Combined limits`` (every
    signal's limit per channel and combined, shared and per-channel fluxes) and per signal
    and curve a table ``Delta chi2 <signal> <curve>``. ``provenance`` (the exonu version,
    channels and input digests, one sentence) goes into the comment and every description."""
    from hepdata_lib import Submission, Table

    from exonu.products.combined import limits_rows
    from exonu.products.hepdata import _unit

    sub = Submission()
    names = sorted({c["name"] for d in fits for c in d["combination"]["channels"]})
    sub.comment = (
        f"exonu combined analysis '{analysis}': exotic neutrino-electron interactions of solar "
        f"neutrinos, one likelihood over the channels {', '.join(names)} with shared "
        f"solar-flux nuisances. {provenance}"
    )
    rows = limits_rows(fits)
    t = Table("Combined limits")
    t.description = (
        "Upper limit and best fit of each signal per channel (the channel's model in the "
        "combination) and combined, with the solar fluxes shared by the channels and with one "
        f"flux nuisance per channel. {provenance}"
    )
    t.location = "combined_limits table"

    def col(key: str) -> list[Any]:
        return [r[key] if _finite(r.get(key)) else "-" for r in rows]

    t.add_variable(_var("signal", [r["signal"] for r in rows], independent=True))
    t.add_variable(_var("channel", [r["channel"] for r in rows], independent=True))
    t.add_variable(_var("fluxes", [r["fluxes"] for r in rows], independent=True))
    t.add_variable(_var("parameter", [r["parameter"] for r in rows]))
    t.add_variable(_var("unit", [r["unit"] for r in rows]))
    t.add_variable(_var("likelihood", [r["likelihood"] for r in rows]))
    t.add_variable(_var("CL", col("cl")))
    t.add_variable(_var("upper limit", col("upper_limit")))
    t.add_variable(_var("best fit", col("best_fit")))
    sub.add_table(t)
    for doc in curves:
        unit = _unit(doc["unit"])
        for c in doc["curves"]:
            ct = Table(f"Delta chi2 {doc['signal']} {_safe(c['label'])}")
            ct.description = (
                f"Profiled Delta chi2 of {doc['parameter']} ({doc['signal']}) for "
                f"{c['label']} (all nuisances profiled; minimum at {c['best_fit']:.4g} "
                f"{doc['unit']}); {100 * doc['cl']:g}% CL at Delta chi2 = "
                f"{doc['threshold']:.3f}. {provenance}"
            )
            ct.location = f"combined_curves_{doc['signal']} figure"
            pts = [
                (v, d)
                for v, d in zip(c["values"], c["delta_chi2"], strict=True)
                if _finite(v) and _finite(d)
            ]
            ct.add_variable(
                _var(doc["parameter"], [p[0] for p in pts], units=unit, independent=True)
            )
            ct.add_variable(_var("Delta chi2", [p[1] for p in pts]))
            sub.add_table(ct)
    return sub
