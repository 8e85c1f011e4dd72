"""Publication figures in the style of XMASS-I (PLB 809 (2020) 135741) and A. N. Khan
(arXiv:2006.12887). Plotting only: every function draws a JSON document written by a
computation rule (:mod:`exonu.products.spectra`, :mod:`exonu.products.curves`, the scans)
and computes nothing beyond axis scaling.

=========================  ======================================  =========================
function                   draws                                   paper
=========================  ======================================  =========================
:func:`model_spectra_figure`  SM and exotic recoil spectra         XMASS-I Fig. 1
:func:`fit_figure`         data, best fit ±1σ, signal at the limit XMASS-I Figs. 3 and 5
:func:`millicharge_figure` millicharge limits per flavour          XMASS-I Fig. 4
:func:`exclusion_figure`   coupling limit vs mediator mass         XMASS-I Fig. 6
:func:`delta_chi2_figure`  profiled Δχ² per parameter and flavour  Khan Figs. 3 and 4
:func:`contour_figure`     two-coupling Δχ² contours (2 dof)       Khan Fig. 5
=========================  ======================================  =========================

Matplotlib is imported inside the functions only (Agg backend, mplhep style of config
``plots.style``, :mod:`exonu.products.style`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from exonu.products.published import MILLICHARGE_LIMITS, XMASS_RESULTS, PublishedLimit
from exonu.products.style import (
    LINESTYLES,
    format_value,
    model_title,
    parameter_label,
    pyplot,
    save_figure,
    unit_label,
    warning_note,
)

__all__ = [
    "contour_figure",
    "delta_chi2_figure",
    "exclusion_figure",
    "fit_figure",
    "millicharge_figure",
    "model_spectra_figure",
]

_FLAVOUR_TEX = {"all": r"all $\nu$", "e": r"$\nu_e$", "mu": r"$\nu_\mu$", "tau": r"$\nu_\tau$"}
_FLAVOUR_COLOUR = {"all": "black", "e": "tab:blue", "mu": "tab:red", "tau": "tab:green"}
_FLAVOUR_STYLE = {"all": "-", "e": "-", "mu": "--", "tau": ":"}
#: XMASS-I Fig. 1 order: magenta solid, red dashed, green and blue dash-dotted.
_BENCHMARK_STYLES = (
    ("magenta", "-"),
    ("tab:red", "--"),
    ("tab:green", "-."),
    ("tab:blue", "-."),
    ("tab:orange", ":"),
    ("tab:purple", (0, (5, 1, 1, 1))),
)


def _mass_text(mass: float | None) -> str:
    if mass is None:
        return ""
    if mass == 0:
        return r"$M = 0$"
    if mass < 1:
        return rf"$M$ = {mass * 1e3:.3g} keV"
    return rf"$M$ = {mass:.3g} MeV"


def _hypothesis_text(
    doc: Mapping[str, Any], value: float | None, flavour: str = "all", mass: float | None = None
) -> str:
    """``θ = value unit[, M = mass]`` of a document with ``model``, ``parameter``, ``unit``."""
    text = parameter_label(doc["model"], flavour, doc["parameter"])
    if value is not None:
        u = unit_label(doc["unit"])
        text += f" = {format_value(value)}" + (f" {u}" if u else "")
    if mass is not None:
        text += ", " + _mass_text(mass)
    return text


def _exponent(values: Sequence[float]) -> int:
    finite = [abs(v) for v in values if v is not None and math.isfinite(v) and v != 0]
    return math.floor(math.log10(max(finite))) if finite else 0


def _dpi(plots: Mapping[str, Any]) -> int:
    """Resolution of the PNG files (``plots["dpi"]``: tests draw small reference images)."""
    return int(plots.get("dpi", 120))


def _scan_warnings(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """``<hypothesis>: <warning>`` of every scan result with plausibility warnings."""
    return [
        f"{r.get('hypothesis', r.get('signal'))}: {w}"
        for r in results
        for w in r.get("warnings") or []
    ]


def _corner_label(ax: Any, text: str) -> None:
    ax.text(0.05, 0.95, text, transform=ax.transAxes, va="top", ha="left", fontsize=11)


# --------------------------------------------------------------------------- Fig. 1


def model_spectra_figure(
    doc: Mapping[str, Any], outputs: Sequence[str | Path], plots: Mapping[str, Any]
) -> None:
    """XMASS-I Fig. 1: the SM recoil spectrum (black dotted) and the benchmark excesses.

    ``doc`` is :func:`exonu.products.spectra.model_spectra`. Negative parts of an excess
    (destructive interference) are drawn as its magnitude, thin and faded.
    """
    plt = pyplot(plots.get("style", "ATLAS"))
    e = np.asarray(doc["energy_kev"], dtype=float)
    sm = np.asarray(doc["standard_model"], dtype=float)
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.plot(e, np.where(sm > 0, sm, np.nan), color="black", ls=":", lw=2, label="SM (weak)")
    tops = [float(np.nanmax(sm))]
    for k, b in enumerate(doc["benchmarks"]):
        colour, ls = _BENCHMARK_STYLES[k % len(_BENCHMARK_STYLES)]
        ex = np.asarray(b["excess"], dtype=float)
        label = _hypothesis_text(b, b["value"], b["flavour"], b.get("mediator_mass_mev"))
        ax.plot(e, np.where(ex > 0, ex, np.nan), color=colour, ls=ls, lw=2, label=label)
        if np.any(ex < 0):
            ax.plot(e, np.where(ex < 0, -ex, np.nan), color=colour, ls=ls, lw=1, alpha=0.5)
        if np.any(ex > 0):
            tops.append(float(np.nanmax(ex[ex > 0])))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(e[0], e[-1])
    sm_pos = sm[sm > 0]
    ax.set_ylim(1e-3 * sm_pos.min() if sm_pos.size else 1e-3, 30 * max(tops))
    ax.set_xlabel("deposited energy $T$ [keV]")
    ax.set_ylabel(r"$dN/dT$ [events / (t$\cdot$yr$\cdot$keV)]")
    ax.legend(fontsize=10, loc="upper right", title=f"atomic model: {doc['atomic_model']}")
    fig.tight_layout()
    save_figure(fig, outputs, dpi=_dpi(plots))


# --------------------------------------------------------------------------- Figs. 3 and 5


def fit_figure(
    doc: Mapping[str, Any], outputs: Sequence[str | Path], plots: Mapping[str, Any]
) -> None:
    """XMASS-I Figs. 3 and 5 with a ratio panel.

    Top: data (black points, √N errors), the best-fit background stacked by origin, the
    best-fit signal + background (blue) with its ±1σ band (green), and the signal alone at
    the 90 % CL upper limit (red dotted). Bottom: data / best fit, the band, and
    (best fit + signal at the limit) / best fit. ``doc`` is
    :func:`exonu.products.spectra.fit_spectrum`; its plausibility ``warnings`` are written in
    red above the plot.
    """
    plt = pyplot(plots.get("style", "ATLAS"))
    edges = np.asarray(doc["edges_kev"], dtype=float)
    centres = 0.5 * (edges[1:] + edges[:-1])
    obs = np.asarray(doc["observed"], dtype=float)
    total = np.asarray(doc["total_best"], dtype=float)
    sigma = np.asarray(doc["total_sigma"], dtype=float)
    fig, (ax, rax) = plt.subplots(
        2, 1, figsize=(8, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.05}
    )
    groups: dict[str, np.ndarray] = {}
    for name, values in doc["backgrounds"].items():
        g = doc["background_groups"].get(name, "other")
        groups[g] = groups.get(g, 0.0) + np.asarray(values, dtype=float)
    bottom = np.zeros(edges.size - 1)
    palette = ("#c6dbef", "#fdd0a2", "#dadaeb", "#d9d9d9")
    for k, (g, values) in enumerate(sorted(groups.items(), key=lambda kv: -kv[1].sum())):
        ax.stairs(
            bottom + values,
            edges,
            baseline=bottom,
            fill=True,
            color=palette[k % len(palette)],
            label=f"BG: {g}",
        )
        bottom = bottom + values
    lim = doc["limit"]
    cl = lim.get("cl") or 0.9
    best = _hypothesis_text(doc, doc["best_fit"])
    chi2 = f"$\\chi^2$/dof = {doc['chi2_best']:.1f}/{doc['ndof']}"
    ax.stairs(
        total + sigma,
        edges,
        baseline=total - sigma,
        fill=True,
        color="tab:green",
        alpha=0.4,
        label="best fit $\\pm1\\sigma$",
    )
    ax.stairs(total + sigma, edges, color="tab:green", lw=0.8)
    ax.stairs(total - sigma, edges, color="tab:green", lw=0.8)
    ax.stairs(total, edges, color="tab:blue", lw=1.8, label=f"best fit signal + BG ({best})")
    ax.errorbar(centres, obs, yerr=np.sqrt(obs), fmt="o", color="black", ms=3, lw=1, label="data")
    s_lim = doc.get("signal_at_limit")
    if s_lim is not None:
        s_lim = np.asarray(s_lim, dtype=float)
        label = _hypothesis_text(doc, lim.get("upper_limit"))
        ax.stairs(
            np.where(s_lim > 0, s_lim, np.nan),
            edges,
            color="tab:red",
            ls=":",
            lw=2,
            label=f"signal at {100 * cl:g}% CL limit ({label})",
        )
    ax.set_yscale("log")
    positive = np.concatenate([obs[obs > 0], total[total > 0]])
    low = positive.min() if positive.size else 1.0
    if s_lim is not None and np.any(s_lim > 0):
        low = min(low, float(np.max(s_lim)) * 0.05)
    ax.set_ylim(max(0.3 * low, 1e-2), 30 * (positive.max() if positive.size else 10.0))
    width = np.diff(edges)
    per = f"{width[0]:g} keV" if np.allclose(width, width[0]) else "bin"
    ax.set_ylabel(f"events / {per}")
    _corner_label(ax, f"{doc['analysis']}: {model_title(doc['model'])}\n{chi2}")
    ax.legend(fontsize=9, loc="upper right", ncol=1)
    safe = np.where(total > 0, total, np.nan)
    rax.stairs(
        1 + sigma / safe, edges, baseline=1 - sigma / safe, fill=True, color="tab:green", alpha=0.4
    )
    rax.axhline(1.0, color="tab:blue", lw=1.2)
    rax.errorbar(centres, obs / safe, yerr=np.sqrt(obs) / safe, fmt="o", color="black", ms=3, lw=1)
    if s_lim is not None:
        rax.stairs((total + s_lim) / safe, edges, color="tab:red", ls=":", lw=2)
    dev = np.abs(obs / safe - 1) + np.sqrt(obs) / safe
    half = float(np.clip(1.15 * np.nanmax(dev), 0.1, 1.0)) if np.any(np.isfinite(dev)) else 0.25
    rax.set_ylim(1 - half, 1 + half)
    rax.set_ylabel("data / fit")
    rax.set_xlabel("reconstructed energy [keV]")
    rax.set_xlim(edges[0], edges[-1])
    fig.subplots_adjust(left=0.13, right=0.97, top=0.97, bottom=0.09)
    warning_note(fig, doc.get("warnings") or lim.get("warnings") or [])
    save_figure(fig, outputs, dpi=_dpi(plots))


# --------------------------------------------------------------------------- Fig. 4


def millicharge_figure(
    scan: Mapping[str, Any],
    outputs: Sequence[str | Path],
    plots: Mapping[str, Any],
    published: Sequence[PublishedLimit] = MILLICHARGE_LIMITS,
) -> None:
    """XMASS-I Fig. 4: 90 % CL limits on |q_ν| per flavour, this analysis and others.

    ``scan`` is a merged millicharge scan (``scans/<scan>.json``). Upper limits are drawn as
    bars with downward arrows; two-sided published intervals that exclude zero as vertical
    bands (Khan's XENON1T ν_e fit), the others at max(|lower|, upper). Antineutrino (reactor)
    limits are drawn with open markers.
    """
    plt = pyplot(plots.get("style", "ATLAS"))
    flavours = ["e", "mu", "tau", "all"]
    ours = {r["flavour"]: r for r in scan["results"]}
    analysis = scan["results"][0].get("analysis", "this analysis") if scan["results"] else ""
    unique = list(dict.fromkeys(p.label for p in published))
    markers = ("s", "^", "v", "D", "P", "X", "*", "h")
    cmap = plt.get_cmap("tab10")
    # (x, y, style) of every upper limit, (x, lower, upper, style) of every allowed band
    limits: list[tuple[float, float, dict[str, Any]]] = []
    bands: list[tuple[float, float, float, dict[str, Any]]] = []
    for i, fl in enumerate(flavours):
        r = ours.get(fl)
        if r is not None and r.get("upper_limit") is not None:
            style = {"marker": "_", "ms": 26, "mew": 3, "color": "black"}
            limits.append(
                (i - 0.3, float(r["upper_limit"]), {**style, "label": f"{analysis} (exonu)"})
            )
        hits = [p for p in published if fl in p.flavours]
        for k, p in enumerate(hits):
            j = unique.index(p.label)
            x = i - 0.12 + 0.42 * (k + 0.5) / max(len(hits), 1)
            colour = cmap(j % 10)
            style = {
                "marker": markers[j % len(markers)],
                "ms": 9,
                "color": colour,
                "mfc": colour if p.neutrino else "none",
                "label": p.label,
            }
            if p.lower is not None and p.lower > 0:
                bands.append((x, p.lower, p.upper, style))
            else:
                y = max(abs(p.lower), p.upper) if p.lower is not None else p.upper
                limits.append((x, y, style))
    fig, ax = plt.subplots(figsize=(8, 6))
    values = [y for _, y, _ in limits] + [v for _, lo, hi, _ in bands for v in (lo, hi)]
    lo_y, hi_y = (0.1 * min(values), 30 * max(values)) if values else (1e-13, 1e-3)
    ax.set_yscale("log")
    ax.set_ylim(lo_y, hi_y)
    arrow = 10 ** (-0.05 * math.log10(hi_y / lo_y))  # 5 % of the axis height
    seen: set[str] = set()
    for x, y, style in limits:
        style = dict(style)
        label = style.pop("label")
        ax.plot(x, y, ls="none", label=None if label in seen else label, **style)
        seen.add(label)
        ax.annotate(
            "",
            xy=(x, y * arrow),
            xytext=(x, y),
            arrowprops={"arrowstyle": "-|>", "color": style["color"], "lw": 1.5},
        )
    for x, lo, hi, style in bands:
        label = style["label"]
        ax.plot(
            [x, x],
            [lo, hi],
            color=style["color"],
            lw=7,
            alpha=0.7,
            solid_capstyle="butt",
            label=None if label in seen else f"{label}, allowed",
        )
        seen.add(label)
    ax.set_xticks(range(len(flavours)), [_FLAVOUR_TEX[f] for f in flavours])
    ax.set_xlim(-0.6, len(flavours) - 0.4)
    ax.set_ylabel(r"$|q_\nu|$ [$e$], 90% CL")
    ax.tick_params(axis="x", which="minor", bottom=False, top=False)
    ax.legend(fontsize=9, loc="upper left", ncol=2)
    fig.tight_layout()
    warning_note(fig, _scan_warnings(scan["results"]))
    save_figure(fig, outputs, dpi=_dpi(plots))


# --------------------------------------------------------------------------- Fig. 6


def exclusion_figure(
    scan: Mapping[str, Any], outputs: Sequence[str | Path], plots: Mapping[str, Any]
) -> None:
    """XMASS-I Fig. 6: the 90 % CL upper limit on the coupling versus the mediator mass.

    ``scan`` is a merged scan over mediator masses (``scans/<scan>.json``); one line per
    flavour, the excluded region above it shaded. Expected limits (median, ±1σ green,
    ±2σ yellow) are drawn when the results carry them (``expected``), and the XMASS-I
    values where XMASS-I quoted one (§4.4: M = 10⁻³ and 10 MeV).
    """
    plt = pyplot(plots.get("style", "ATLAS"))
    fig, ax = plt.subplots(figsize=(8, 6))
    results = [r for r in scan["results"] if r.get("mediator_mass_mev") is not None]
    flavours = list(dict.fromkeys(r["flavour"] for r in results))
    first = results[0]
    ys: list[float] = []
    for fl in flavours:
        rs = sorted(
            (r for r in results if r["flavour"] == fl), key=lambda r: r["mediator_mass_mev"]
        )
        m = np.array([float(r["mediator_mass_mev"]) for r in rs])
        ul = np.array([np.nan if r.get("upper_limit") is None else r["upper_limit"] for r in rs])
        ys += [float(v) for v in ul if np.isfinite(v)]
        exp = [r.get("expected") for r in rs]
        if all(e is not None for e in exp):
            q = {
                k: np.array([e.get(k) or np.nan for e in exp], dtype=float)
                for k in ("minus2", "minus1", "median", "plus1", "plus2")
            }
            ax.fill_between(
                m, q["minus2"], q["plus2"], color="#fdd835", label="expected $\\pm2\\sigma$"
            )
            ax.fill_between(
                m, q["minus1"], q["plus1"], color="#43a047", label="expected $\\pm1\\sigma$"
            )
            ax.plot(m, q["median"], color="black", ls="--", lw=1.2, label="expected (median)")
        colour = "black" if len(flavours) == 1 else _FLAVOUR_COLOUR.get(fl, None)
        tag = "" if fl == "all" else f", {_FLAVOUR_TEX[fl]}"
        ax.plot(m, ul, color=colour, lw=2.2, label=f"{scan['scan']}: 90% CL limit{tag}")
        top = np.nanmax(ul) * 1e3 if np.any(np.isfinite(ul)) else 1.0
        ax.fill_between(m, ul, top, color=colour, alpha=0.08, lw=0)
        bad = np.array([not r.get("valid", True) for r in rs])
        if bad.any():
            ax.plot(m[bad], ul[bad], "x", color="tab:red", ms=8, label="fit not valid")
        # the XMASS-I limits of this model (§4.4), wherever they lie on the mass axis
        for (model, pub_fl, mass), pub in XMASS_RESULTS.items():
            if model == first["model"] and pub_fl == fl and mass is not None:
                ax.plot(
                    mass,
                    pub["upper_limit"],
                    "*",
                    ms=14,
                    color="tab:red",
                    ls="none",
                    label="XMASS-I (PLB 809 (2020) 135741)",
                )
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=True))
    ax.set_xscale("log")
    ax.set_yscale("log")
    if ys:
        ax.set_ylim(0.2 * min(ys), 50 * max(ys))
    ax.set_xlabel("mediator mass $M$ [MeV]")
    symbol = parameter_label(first["model"], parameter=first["parameter"])
    ax.set_ylabel(symbol + " (90% CL upper limit)")
    _corner_label(ax, f"{first.get('analysis', '')}: {model_title(first['model'])}")
    masses = [float(r["mediator_mass_mev"]) for r in results if r["mediator_mass_mev"] > 0]
    if masses:
        ax.set_xlim(min(masses) / 2, max(masses) * 2)
    ax.legend(uniq.values(), uniq.keys(), fontsize=9, loc="lower right")
    fig.tight_layout()
    warning_note(fig, _scan_warnings(results))
    save_figure(fig, outputs, dpi=_dpi(plots))


# --------------------------------------------------------------------------- Khan Figs. 3-5


def delta_chi2_figure(
    doc: Mapping[str, Any], outputs: Sequence[str | Path], plots: Mapping[str, Any]
) -> None:
    """Khan Fig. 3 (Fig. 4 for mediator scans): profiled Δχ² versus the coupling.

    One curve per hypothesis of the scan — colour by flavour, line style by mediator mass —
    with the 1-dof thresholds of the stored levels (90 %, 99 %) as horizontal lines. ``doc`` is
    :func:`exonu.products.curves.scan_curves`.
    """
    plt = pyplot(plots.get("style", "ATLAS"))
    curves = doc["curves"]
    exp = _exponent([v for c in curves for v in c["values"]])
    factor = 10.0**exp
    fig, ax = plt.subplots(figsize=(8, 6))
    masses = list(dict.fromkeys(c.get("mediator_mass_mev") for c in curves))
    ymax = 0.0
    for c in curves:
        x = np.asarray(c["values"], dtype=float) / factor
        y = np.asarray(c["delta_chi2"], dtype=float)
        ymax = max(ymax, float(np.nanmax(y)))
        if len(masses) > 1:
            ls = LINESTYLES[masses.index(c.get("mediator_mass_mev")) % len(LINESTYLES)]
        else:
            ls = _FLAVOUR_STYLE.get(c["flavour"], "-")
        label = _FLAVOUR_TEX.get(c["flavour"], c["flavour"])
        if c.get("mediator_mass_mev") is not None:
            label += ", " + _mass_text(c["mediator_mass_mev"])
        ax.plot(x, y, color=_FLAVOUR_COLOUR.get(c["flavour"]), ls=ls, lw=2, label=label)
        bad = ~np.asarray(c["valid"], dtype=bool)
        if bad.any():
            ax.plot(x[bad], y[bad], "x", color="tab:red", ms=7)
    for cl, thr in zip(doc["levels"], doc["thresholds"], strict=True):
        ax.axhline(thr, color="grey", ls="--", lw=1)
        ax.text(
            ax.get_xlim()[0],
            thr,
            f" {100 * cl:g}% CL",
            va="bottom",
            ha="left",
            fontsize=10,
            color="grey",
        )
    top = max(doc["thresholds"]) * 1.6
    ax.set_ylim(0, max(top, min(ymax, top)))
    first = curves[0]
    unit = unit_label(first["unit"])
    scale = f"$10^{{{exp}}}$ {unit}".strip() if exp else unit
    ax.set_xlabel(f"{parameter_label(first['model'], parameter=first['parameter'])} [{scale}]")
    ax.set_ylabel(r"$\Delta\chi^2$")
    _corner_label(ax, model_title(first["model"]))
    ax.legend(fontsize=10, loc="upper right")
    fig.tight_layout()
    save_figure(fig, outputs, dpi=_dpi(plots))


def contour_figure(
    doc: Mapping[str, Any], outputs: Sequence[str | Path], plots: Mapping[str, Any]
) -> None:
    """Khan Fig. 5: Δχ² contours of two flavour couplings at the stored levels (2 dof).

    Filled regions inside each level (darkest = lowest level), the best fit (cross) and the
    Standard Model (star at the origin). ``doc`` is
    :func:`exonu.products.curves.flavour_contour`.
    """
    plt = pyplot(plots.get("style", "ATLAS"))
    a = np.asarray(doc["values_a"], dtype=float)
    b = np.asarray(doc["values_b"], dtype=float)
    z = np.asarray(doc["delta_chi2"], dtype=float)
    ea, eb = _exponent(list(a)), _exponent(list(b))
    fa, fb = 10.0**ea, 10.0**eb
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    thresholds = list(doc["thresholds"])
    order = np.argsort(thresholds)
    fills = ("#1f77b4", "#9ecae1", "#deebf7")
    bounds = [0.0] + [thresholds[i] for i in order]
    # x: the first flavour's coupling, y: the second's (Khan Fig. 5: q_e across, q_mu up)
    ax.contourf(
        a / fa,
        b / fb,
        z.T,
        levels=bounds,
        colors=[fills[k % len(fills)] for k in range(len(bounds) - 1)],
    )
    styles = ("-", "--", ":")
    for k, i in enumerate(order):
        ax.contour(
            a / fa, b / fb, z.T, levels=[thresholds[i]], colors="black", linestyles=styles[k % 3]
        )
        ax.plot([], [], color="black", ls=styles[k % 3], label=f"{100 * doc['levels'][i]:g}% CL")
    ax.plot(doc["best_fit"][0] / fa, doc["best_fit"][1] / fb, "kx", ms=10, mew=2, label="best fit")
    ax.plot(0, 0, "*", color="tab:red", ms=14, ls="none", label="SM")
    fl_a, fl_b = doc["flavours"]
    ua, ub = unit_label(doc["units"][0]), unit_label(doc["units"][1])
    pa = parameter_label(doc["model"], fl_a, doc["parameters"][0])
    pb = parameter_label(doc["model"], fl_b, doc["parameters"][1])
    ax.set_xlabel(f"{pa} [$10^{{{ea}}}$ {ua}]")
    ax.set_ylabel(f"{pb} [$10^{{{eb}}}$ {ub}]")
    _corner_label(ax, f"{model_title(doc['model'])}, 2 dof")
    ax.legend(fontsize=10, loc="upper right")
    fig.tight_layout()
    save_figure(fig, outputs, dpi=_dpi(plots))
