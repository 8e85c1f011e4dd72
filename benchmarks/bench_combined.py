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

``--real`` instead measures the real combination of config/combined.yaml (run it first:
``snakemake --configfile config/combined.yaml --config release_root=../shared/data``): the
channels' workspaces and responses from its results/<combined>_<channel>/ directories, the
channel models and the combination built as ``exonu.stages.combined`` builds them (flux
systematics from the per-source spectra, shared fluxes), for the five release channels and
for all channels. Measured: one combined fit, one combined 90 % CL limit with the config's
method, and the 61-mass dark-photon scan on the combination in two processes (the workflow's
two shards, ``exonu.stages.combined.run_combined_hypotheses``). With ``--out`` the section
"Real combination" of that file is replaced (or appended), the rest kept.
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


REAL_HEADING = "## Real combination"
#: the channels of config/combined.yaml that are published releases (the sixth: XMASS-like)
RELEASES = ("xenonnt", "xenon1t", "lz2022", "lz2024", "pandax4t")
TARGET_SCAN = 60.0


def _real_setup(config: str, release_root: str) -> tuple[dict[str, Any], dict[str, Any]]:
    from exonu.config import combination_channels, resolve_config

    cfg = resolve_config([config], [f"release_root={release_root}"]).config
    return cfg, combination_channels(cfg)


def _real_models(cfg: dict[str, Any], channels: dict[str, Any], signal: str) -> list[Any]:
    from exonu.stages.combined import _channel_models, channel_files, combined_params

    ws, rs = channel_files(channels)
    models, _, _ = _channel_models(combined_params(cfg, channels), ws, rs, signal)
    return models


def _scan_shard(args: tuple[Any, ...]) -> tuple[float, list[dict[str, Any]]]:
    from exonu.stages.combined import run_combined_hypotheses
    from exonu.stages.scans import shard_of
    from exonu.templates.hypotheses import hypotheses

    params, ws, rs, shard, n = args
    t0 = time.perf_counter()
    hyps = shard_of(hypotheses(params["scan_name"], params["scan"]), shard, n)
    return time.perf_counter() - t0, run_combined_hypotheses(params, ws, rs, hyps)


def real(args: argparse.Namespace) -> list[str]:
    """Measurements on the real combination (module docstring)."""
    import json
    import multiprocessing as mp
    from pathlib import Path

    from exonu.config import combination_fluxes
    from exonu.stages.combined import _combine, channel_files, combined_scan_params

    rep = 3 if args.quick else 10
    lines: list[str] = []

    def out(s: str = "") -> None:
        print(s, flush=True)
        lines.append(s)

    cfg, channels = _real_setup(args.real, args.release_root)
    method, cl = cfg["fit"]["method"], cfg["fit"]["cl"]
    out(REAL_HEADING)
    out()
    out(f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}, commit {git_commit()}")
    out(
        f"- command: `OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '?')} "
        f"{' '.join([os.path.relpath(sys.executable), *sys.argv])}`"
    )
    out("- load average at start (1, 5, 15 min): " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    out(
        f"- {args.real}: channels {', '.join(channels)} (results/<combined>_<channel>/), "
        f"fluxes {cfg['combination']['fluxes'] or 'all of ' + cfg['physics']['flux_set']} "
        f"shared, fit.method {method}, CL {cl}; median (min) of repeated runs"
    )
    out()
    out("| channels | measurement | time | target |")
    out("|---|---|---|---|")
    sets = {
        "5 releases": {k: v for k, v in channels.items() if k in RELEASES},
        f"all {len(channels)}": channels,
    }
    for label, chans in sets.items():
        params = {"fluxes": combination_fluxes(cfg), "analysis": cfg["analysis"]}
        for signal in [s["name"] for s in cfg["signals"]]:
            models = _real_models(cfg, chans, signal)
            comb = _combine(params, models, bool(cfg["combination"]["correlate_fluxes"]))
            med, best, res = timed(lambda c=comb: fit(c), rep)
            med_nh, _, _ = timed(lambda c=comb: fit(c, errors=False), rep)
            size = f"{comb.npar} parameters, {comb.n_bins} bins"
            out(
                f"| {label} | {signal}: combined fit + HESSE ({size}, nfcn={res.nfcn}) | "
                f"{med * 1e3:.1f} ms ({best * 1e3:.1f}); no HESSE {med_nh * 1e3:.1f} ms | "
                f"≤ {TARGET_FIT * 1e3:.0f} ms: {met(med, TARGET_FIT)} |"
            )
            med, best, lim = timed(
                lambda c=comb, s=signal: compute_limit(c, s, method, cl), max(3, rep // 2)
            )
            out(
                f"| {label} | {signal}: combined {cl:.0%} CL limit, {method} ({lim.n_fits} fits)"
                f" → {lim.upper_limit:.4g} {lim.unit} | {med * 1e3:.0f} ms ({best * 1e3:.0f}) | "
                f"≤ {TARGET_LIMIT:.0f} s: {met(med, TARGET_LIMIT)} |"
            )
    scan = "dark_photon_bl"
    if scan in cfg["scans"]:
        for label, chans in sets.items():
            params = combined_scan_params(cfg, chans, scan)
            ws, rs = channel_files(chans)
            n = 2
            for per_channel in (True, False):
                params = {**params, "channel_limits": per_channel}
                t0 = time.perf_counter()
                with mp.get_context("fork").Pool(n) as pool:
                    parts = pool.map(_scan_shard, [(params, ws, rs, k, n) for k in range(n)])
                wall = time.perf_counter() - t0
                n_hyp = sum(len(p[1]) for p in parts)
                what = "with" if per_channel else "without"
                out(
                    f"| {label} | {scan} scan, {n_hyp} masses, 2 processes, {what} the "
                    f"per-channel limits | {wall:.1f} s | ≤ {TARGET_SCAN:.0f} s: "
                    f"{met(wall, TARGET_SCAN)} |"
                )
    out()
    out("- load average at end: " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    missed = [
        line.split(" | ")[0].lstrip("| ") + ": " + line.split(" | ")[1]
        for line in lines
        if line.endswith("**not met** |")
    ]
    out(
        "- Verdict: "
        + ("every target met" if not missed else "targets missed by " + "; ".join(missed))
        + " (the times of the table; a shared 2-core machine)."
    )
    out(
        "- fit: `exonu.stats.fit` of the joint model of each combined signal (the starting-value "
        "scan, MIGRAD with the analytic gradient and Hessian, boundary checks, HESSE); limit: "
        "`compute_limit` with the config's method; scan: the combined scan rule's computation "
        "(per hypothesis: the physics spectra, total and per solar source, once per true-energy "
        "binning shared by the channels, each channel's workspace and flux systematics, the "
        "joint limit and, as the workflow writes them, each channel's limit) in two processes "
        "like the workflow's two shards; reading the workspaces is not timed."
    )
    out(
        "- The XMASS-like channel has 41 parameters (15 per release channel): with it the "
        "joint fit needs ~4x the function calls (nfcn) of the five releases alone. q_nu takes "
        "either sign: the profile method finds both ends of its interval and looks for a "
        "disconnected allowed region on the other side of zero (profile fits at the candidate "
        "points of a fixed-nuisance scan, ~60 % of the time), ~43 fits where mu_nu needs 6-7, "
        "hence > 1 s."
    )
    out(
        "- Speed-up made for these numbers: the release channels have no Monte-Carlo variance, "
        "and `BinnedModel._data_term` of the Poisson likelihood now skips the Barlow-Beeston "
        "algebra when no bin has any (`_data_term_no_variance`; identical values, 170 -> 58 us "
        "per call for 29 bins): the joint fits and limits of the releases ~2x faster."
    )
    fits = Path("results") / cfg["analysis"] / "fits"
    docs = [
        json.loads(p.read_text()) for p in sorted(fits.glob("*.json")) if ".prov." not in p.name
    ]
    if docs:
        out()
        out(
            f"Limits of the workflow's run ({fits}/<signal>.json; expected: median "
            "[±1σ] [±2σ] of background-only toys):"
        )
        out()
        out("| signal | channel | limit | expected median | ±1σ | ±2σ |")
        out("|---|---|---:|---:|---:|---:|")
        for d in docs:
            rows = [(n, c) for n, c in d["channels"].items()]
            rows.append(("combined (shared fluxes)", d))
            if d.get("alternative"):
                rows.append(("combined (per-channel fluxes)", d["alternative"]))
            for name, r in rows:
                e = r.get("expected") or {}
                band1 = f"[{e['minus1']:.3g}, {e['plus1']:.3g}]" if e else ""
                band2 = f"[{e['minus2']:.3g}, {e['plus2']:.3g}]" if e else ""
                med_e = f"{e['median']:.3g}" if e else ""
                out(
                    f"| {d['signal']} ({d['unit']}) | {name} | {r['upper_limit']:.4g} | "
                    f"{med_e} | {band1} | {band2} |"
                )
    return lines


def write_section(path: str, lines: list[str]) -> None:
    """Replace (or append) the section of ``lines`` (its first line the heading) in ``path``."""
    from pathlib import Path

    file = Path(path)
    text = file.read_text(encoding="utf-8") if file.is_file() else ""
    head = text.split(f"\n{REAL_HEADING}\n", 1)[0].rstrip("\n")
    file.write_text(head + "\n\n" + "\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    ap.add_argument("--out", "--output", help="also write the Markdown report to this file")
    ap.add_argument("--real", metavar="CONFIG", help="measure this combined config's real run")
    ap.add_argument("--release-root", default="../shared/data", help="release_root of --real")
    args = ap.parse_args()
    if args.real:
        section = real(args)
        if args.out:
            write_section(args.out, section)
        return 0
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
        from pathlib import Path

        file = Path(args.out)
        old = file.read_text(encoding="utf-8") if file.is_file() else ""
        kept = old.split(f"\n{REAL_HEADING}\n", 1)
        tail = f"\n{REAL_HEADING}\n{kept[1]}" if len(kept) == 2 else ""
        file.write_text("\n".join(lines) + "\n" + tail, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
