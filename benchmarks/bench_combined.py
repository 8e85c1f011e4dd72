"""Performance of the joint likelihood of several analyses (exonu.stats.combined).

Run from the repository root (2 cores; keep BLAS single-threaded)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_combined.py [--quick] [--out FILE]

Five synthetic XMASS-like channels (``make_synthetic_workspace``: 100 bins, 10 backgrounds,
6 background systematics, 2 signal systematics each, different seeds and exposures, two of
them quoting μ_ν in another unit), each with the pp and ⁷Be flux systematics of
:func:`exonu.stats.combined.add_flux_systematics` on its signal and on one background standing
in for the SM solar-ν spectrum (fractions pp 92 %, ⁷Be 8 %: the magnetic-moment signal of
exonu.physics with the ``xmass`` flux set in 1–31 keV; σ from
:func:`exonu.physics.flux_uncertainties`, XMASS pp ±0.6 %, ⁷Be ±7 %). That is 20 nuisance
parameters per channel; the combination shares the signal μ_ν and the two fluxes, 93
parameters. Measured: one combined fit, one profile point, one combined 90 % CL limit
(profile and Bayesian), and for reference the same fits of the five channels one by one.
Results are printed as Markdown (``--out`` also writes them, e.g.
benchmarks/records/combined.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib import metadata
from typing import Any

import numpy as np
from benchinfo import cpu_model, git_commit

from exonu.physics import flux_uncertainties
from exonu.stats import BinnedModel, Fitter, Workspace, compute_limit, fit, make_synthetic_workspace
from exonu.stats.combined import CombinedModel, add_flux_systematics

MM = "magnetic_moment"
N_CHANNELS, N_BINS, N_BKG, N_SYS = 5, 100, 10, 6
#: mean background per bin and the μ_ν unit of each channel
EXPOSURES = (1000.0, 400.0, 2500.0, 150.0, 700.0)
UNITS = (1e-10, 1e-10, 2e-10, 1e-10, 5e-11)
#: fraction of the μ_ν signal and of the SM spectrum from pp and ⁷Be (xmass flux set, 1-31 keV)
FRACTIONS = {"pp": 0.92, "be7": 0.08}
SOLAR = "bkg_01"  # the background playing the SM solar-ν spectrum

TARGET_FIT = 0.050
TARGET_LIMIT = 1.0


def met(value: float, limit: float) -> str:
    return "met" if value <= limit else "**not met**"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median and minimum wall time (s) of ``repeat`` calls, and the last result."""
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), out


def channel(k: int) -> BinnedModel:
    """Channel ``k``: a synthetic workspace with flux systematics and its own μ_ν unit."""
    ws = make_synthetic_workspace(
        N_BINS,
        N_BKG,
        N_SYS,
        seed=100 + k,
        signals=(MM,),
        counts_per_bin=EXPOSURES[k],
        n_free=0,
        inject={MM: 0.3},
    )
    doc = ws.to_dict()
    sig = doc["signals"][0]
    ratio = UNITS[k] / sig["scale"]  # x' = x / ratio: the x² terms scale by ratio²
    sig["scale"] = UNITS[k]
    for term in sig["terms"]:
        term["expected"] = [v * ratio ** term["power"] for v in term["expected"]]
    for term in sig["variance_terms"]:
        term["values"] = [v * ratio ** term["power"] for v in term["values"]]
    ws = Workspace.from_dict(doc, source=f"channel {k}")
    fractions = {src: np.full(N_BINS, f) for src, f in FRACTIONS.items()}
    ws = add_flux_systematics(
        ws,
        {MM: fractions},
        flux_uncertainties("xmass"),
        background=SOLAR,
        background_fractions=fractions,
    )
    return BinnedModel(ws, MM)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    ap.add_argument("--out", "--output", help="also write the Markdown report to this file")
    args = ap.parse_args()
    rep = 3 if args.quick else 20
    lines: list[str] = []

    def out(s: str = "") -> None:
        print(s, flush=True)
        lines.append(s)

    models = [channel(k) for k in range(N_CHANNELS)]
    names = [f"xe{k}" for k in range(N_CHANNELS)]
    comb = CombinedModel(list(zip(names, models, strict=True)), fluxes=tuple(FRACTIONS))
    sep = CombinedModel(
        list(zip(names, models, strict=True)), fluxes=tuple(FRACTIONS), correlate_fluxes=False
    )

    out("# exonu.stats.combined benchmarks")
    out()
    out(f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}, commit {git_commit()}")
    out(f"- machine: {cpu_model()}, {os.cpu_count()} cores, {platform.platform()}")
    out(
        f"- command: `OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '?')} "
        f"{' '.join([os.path.relpath(sys.executable), *sys.argv])}`"
    )
    versions = {p: metadata.version(p) for p in ("numpy", "scipy", "iminuit")}
    out(
        f"- python {platform.python_version()}, "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
    )
    out(
        "- load average at start (1, 5, 15 min): "
        + ", ".join(f"{v:.1f}" for v in os.getloadavg())
        + " — other jobs on this shared 2-core machine inflate the times"
    )
    n_nuis = [m.npar - m.n_poi - len(FRACTIONS) for m in models]  # r/q of a flux are one
    out(
        f"- model: {N_CHANNELS} channels `make_synthetic_workspace({N_BINS}, {N_BKG}, {N_SYS}, "
        f"seed=100+k, counts_per_bin={list(EXPOSURES)}, n_free=0, inject μ_ν x = 0.3)` with "
        f"pp and ⁷Be flux systematics (signal and `{SOLAR}`), μ_ν units {list(UNITS)} μ_B; "
        f"nuisances per channel {n_nuis}; combined: {comb.npar} parameters (shared μ_ν, "
        f"flux_pp, flux_be7), {comb.n_bins} bins; decorrelated fluxes: {sep.npar} "
        "parameters; median (min) of repeated runs"
    )
    out()
    out("| measurement | time | target |")
    out("|---|---|---|")

    med, best, res = timed(lambda: fit(comb), rep)
    assert res.valid, res.message
    fit_time = med
    out(
        f"| combined fit + HESSE, 5 channels, nfcn={res.nfcn} ngrad={res.ngrad} | "
        f"{med * 1e3:.1f} ms ({best * 1e3:.1f}) | ≤ {TARGET_FIT * 1e3:.0f} ms: "
        f"{met(med, TARGET_FIT)} |"
    )
    med_nh, best_nh, res_nh = timed(lambda: fit(comb, errors=False), rep)
    out(
        f"| combined fit, no HESSE (nfcn={res_nh.nfcn}) | {med_nh * 1e3:.1f} ms "
        f"({best_nh * 1e3:.1f}) | ≤ {TARGET_FIT * 1e3:.0f} ms: {met(med_nh, TARGET_FIT)} |"
    )
    fitter = Fitter(comb)
    fitter.fit()
    x_hat = res.value(MM)
    med, best, _ = timed(lambda: fitter.fit({MM: 1.5 * x_hat + 0.1}, warm=True, strategy=0), rep)
    out(f"| profile point (POI fixed, warm start) | {med * 1e3:.1f} ms ({best * 1e3:.1f}) | |")
    med, best, _ = timed(lambda: fit(sep), rep)
    out(
        f"| combined fit + HESSE, fluxes decorrelated ({sep.npar} parameters) | "
        f"{med * 1e3:.1f} ms ({best * 1e3:.1f}) | |"
    )
    singles = [timed(lambda m=m: fit(m), rep)[0] for m in models]
    out(
        f"| the five channels fitted one by one (+ HESSE), sum | {sum(singles) * 1e3:.1f} ms "
        f"(each {', '.join(f'{t * 1e3:.1f}' for t in singles)}) | (reference) |"
    )

    # cost of one evaluation (value+gradient, Hessian) vs the channels' own
    th = res.array
    rng = np.random.default_rng(1)
    med_vg, _, _ = timed(lambda: comb.value_and_gradient(th + 1e-9 * rng.random()), 200)
    med_h, _, _ = timed(lambda: comb.hessian(th), 200)
    ch_vg = 0.0
    ch_h = 0.0
    for name, m in zip(names, models, strict=True):
        tc = comb.channel_parameters(name, th)
        ch_vg += timed(lambda m=m, tc=tc: m.value_and_gradient(tc + 1e-9 * rng.random()), 200)[0]
        ch_h += timed(lambda m=m, tc=tc: m.hessian(tc), 200)[0]
    out(
        f"| one value + gradient / one Hessian of the combination | {med_vg * 1e6:.0f} µs / "
        f"{med_h * 1e6:.0f} µs (channels alone: {ch_vg * 1e6:.0f} / {ch_h * 1e6:.0f} µs) | |"
    )

    limits = {}
    limits_time = {}
    for method in ("profile", "bayesian"):
        med, best, lim = timed(lambda m=method: compute_limit(comb, MM, m), max(3, rep // 4))
        assert lim.valid, lim.message
        limits[method] = lim
        limits_time[method] = med
        out(
            f"| combined 90 % CL limit, {method} ({lim.n_fits} fits) → μ_ν < "
            f"{lim.upper_limit:.3g} μ_B | {med * 1e3:.0f} ms ({best * 1e3:.0f}) | "
            f"≤ {TARGET_LIMIT:.0f} s: {met(med, TARGET_LIMIT)} |"
        )
    for method in ("profile", "bayesian"):
        lim = compute_limit(sep, MM, method)
        out(
            f"| (result) fluxes decorrelated, {method}: μ_ν < {lim.upper_limit:.3g} μ_B; "
            f"correlated {limits[method].upper_limit:.3g} | | |"
        )
    best_ch = min(compute_limit(m, MM, "profile").upper_limit for m in models)
    out(f"| (result) best single channel, profile: μ_ν < {best_ch:.3g} μ_B | | |")
    out()
    out("- load average at end: " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    out()
    out("## Notes")
    out()
    out(
        '- "fit" is `exonu.stats.fit` on the `CombinedModel`: the starting-value scan, MIGRAD '
        "with the analytic gradient and Hessian (the channels' own, assembled by the chain "
        "rule), the boundary checks and, with HESSE, errors. The combined cost adds the five "
        "channels' costs and removes the surplus pull terms of shared nuisances."
    )
    out(
        "- Limits: `compute_limit` of the combination, exactly as for one analysis (profile: "
        "root of sqrt(Δχ²) − sqrt(2.71) in x²; Bayesian: the profiled exp(−χ²/2) integrated "
        "up to Δχ² = 30)."
    )
    fit_ms, sum_ms = fit_time * 1e3, sum(singles) * 1e3
    bayes_s = limits_time["bayesian"]
    out(
        f"- Verdict: the combined fit takes {fit_ms:.0f} ms, "
        + ("within" if fit_time <= TARGET_FIT else f"{fit_ms / (TARGET_FIT * 1e3):.1f}× over")
        + f" the {TARGET_FIT * 1e3:.0f} ms target; the five channels fitted one by one already "
        f"take {sum_ms:.0f} ms. One evaluation of the combination costs what its five channels "
        "cost (table above): the time is the channels' own cost times MIGRAD's iterations, which "
        "for 93 parameters are about those of one channel. The Bayesian limit takes "
        f"{bayes_s:.1f} s, "
        + ("within" if bayes_s <= TARGET_LIMIT else f"{bayes_s / TARGET_LIMIT:.1f}× over")
        + f" the {TARGET_LIMIT:.0f} s target: it needs ~30 profile fits of the 93-parameter "
        "model (the profile limit, ~7 fits, meets it). Faster channels (a cheaper "
        "`BinnedModel._pieces`, ~40 % of the time) would speed both up proportionally."
    )
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
