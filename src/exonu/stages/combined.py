"""The combined analysis: several channels' workspaces fitted together
(``workflow/rules/combined.smk``, ``mode: combined``).

Each channel's workspace is built by its own rules (a Snakemake module of the workflow with
the channel's config). Here every channel gets the flux nuisances ``flux_<src>``
(:func:`exonu.stats.combined.add_flux_systematics`): the fraction of each bin's signal, and of
the SM solar-ν background when the channel has one as a component, that comes from each solar
source, from the per-source spectra
(:func:`exonu.templates.hypotheses.hypothesis_spectrum_by_source`) folded with the channel's
response. The channels become one
:class:`~exonu.stats.combined.CombinedModel`, whose 90 % CL limit is computed like a single
analysis's (:func:`~exonu.stats.limits.compute_limit`); the per-channel limits come from the
same channel models.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from exonu.stages.runtime import write_json, write_text

__all__ = [
    "channel_files",
    "channel_summary",
    "combined_expected_shard",
    "combined_figure",
    "combined_limit",
    "combined_params",
    "combined_scan_gather",
    "combined_scan_params",
    "combined_scan_shard",
    "combined_tables",
    "expected_seed",
    "run_combined_hypotheses",
]

log = logging.getLogger("exonu")

#: SM solar-ν component of a release workspace (exonu.external.workspace.SOLAR_NU_NAME)
_RELEASE_SM = "solar_nu_sm"


def channel_summary(
    name: str, cfg: Mapping[str, Any], likelihood: str | None = None
) -> dict[str, Any]:
    """What the joint fit needs of one channel's (resolved) config besides its files: the
    binned likelihood, the SM solar-ν background component (or None) and whether a release
    with unbinned data is used binned here."""
    mode = cfg["mode"]
    if mode == "events":
        sm = [
            k
            for k, v in sorted(cfg["simulation"]["backgrounds"].items())
            if v["spectrum"]["shape"] == "solar_nu_sm"
        ]
        sm_component = sm[0] if sm else None
        binned_for_unbinned = False
    else:
        rel = cfg["release"]
        sm_component = _RELEASE_SM if rel["solar_nu"]["replace"] else None
        binned_for_unbinned = bool(
            rel["data"].get("format") == "unbinned" and rel.get("unbinned_fit", False)
        )
    return {
        "name": name,
        "analysis": cfg["analysis"],
        "mode": mode,
        "likelihood": likelihood or cfg["fit"]["likelihood"],
        "sm_background": sm_component,
        "binned_for_unbinned": binned_for_unbinned,
    }


def channel_files(channels: Mapping[str, Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """Per channel (resolved configs by name): its ``workspace.json`` and the response its
    signals are folded with (the RESPONSE_FILE of ``common.smk``), under
    ``results/<channel analysis>/``."""
    workspaces, responses = [], []
    for cfg in channels.values():
        results = f"results/{cfg['analysis']}"
        workspaces.append(f"{results}/workspace.json")
        events = cfg["mode"] == "events"
        responses.append(
            f"{results}/templates/response.root" if events else f"{results}/response.json"
        )
    return workspaces, responses


def combined_params(
    cfg: Mapping[str, Any], channels: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The params of the joint fit: what it takes of each channel (:func:`channel_summary`),
    the combined signals and physics, the flux nuisances, the method and CL (sorted keys)."""
    from exonu.config import combination_fluxes

    block = cfg["combination"]
    doc = {
        "analysis": cfg["analysis"],
        "channels": [
            channel_summary(name, ch, block["likelihood"]) for name, ch in channels.items()
        ],
        "signals": cfg["signals"],
        "physics": cfg["physics"],
        "fluxes": combination_fluxes(cfg),
        "correlate_fluxes": block["correlate_fluxes"],
        "compare_decorrelated": block["compare_decorrelated"],
        "fit": {k: cfg["fit"][k] for k in ("method", "cl")},
    }
    out: dict[str, Any] = json.loads(json.dumps(doc, sort_keys=True))
    return out


def _signal_spec(params: Mapping[str, Any], signal: str) -> dict[str, Any]:
    for s in params["signals"]:
        if s["name"] == signal:
            return dict(s)
    raise ValueError(f"signal {signal!r} is not a combined signal")


def _flux_workspace(
    ws: Any,
    response: Any,
    spec: Mapping[str, Any],
    physics: Mapping[str, Any],
    fluxes: Sequence[str],
    sm_component: str | None,
    by_source: Mapping[str, Any] | None = None,
) -> Any:
    """``ws`` with the flux systematics of ``fluxes`` on its signal (and SM background);
    ``by_source``: the per-source spectra of ``spec`` on the response's true-energy bins
    (default: computed here)."""
    import numpy as np

    from exonu.detector.folding import fold_polynomial
    from exonu.physics import flux_uncertainties
    from exonu.stats.combined import add_flux_systematics, source_fractions
    from exonu.templates.hypotheses import hypothesis_spectrum_by_source

    if not fluxes:
        return ws
    sig = ws.signal(spec["name"])
    if by_source is None:
        by_source = hypothesis_spectrum_by_source(spec, physics, response.true_edges)
    # terms at x = 1 (the workspace's scale): the magnitudes near the limit weight the powers
    sig_terms, sm_counts = {}, {}
    for src, doc in by_source.items():
        coeff = np.asarray(doc["coefficients"], dtype=np.float64)
        terms, _ = fold_polynomial(response, coeff, 1.0, 1.0)
        powers = np.asarray(doc["powers"], dtype=np.float64)
        sig_terms[src] = terms * (sig.scale**powers)[:, None]
        sm, _ = fold_polynomial(response, np.asarray([doc["standard_model"]]), 1.0, 1.0)
        sm_counts[src] = sm[0]
    fractions = source_fractions(sig_terms)
    sigma = flux_uncertainties(physics["flux_set"])
    kwargs: dict[str, Any] = {}
    if sm_component is not None and any(b.name == sm_component for b in ws.backgrounds):
        sm_fr = source_fractions(sm_counts)
        kwargs = {
            "background": sm_component,
            "background_fractions": {s: sm_fr[s] for s in fluxes},
        }
    return add_flux_systematics(
        ws, {spec["name"]: {s: fractions[s] for s in fluxes}}, sigma, **kwargs
    )


def _pulls(model: Any, fit: Any) -> dict[str, dict[str, Any]]:
    """Post-fit pull and constraint of every constrained nuisance of ``model``."""
    out = {}
    for info, value, error in zip(model.parameters, fit.values, fit.errors, strict=True):
        if info.kind == "poi" or info.sigma is None or info.fixed:
            continue
        channel, _, local = info.name.rpartition("/")
        out[info.name] = {
            "channel": channel or "shared",
            "parameter": local,
            "value": float(value),
            "pull": fit.pulls.get(info.name),
            "constraint": float(error) / float(info.sigma) if info.sigma else None,
        }
    return out


def _channel_models(
    params: Mapping[str, Any],
    workspaces: Sequence[str],
    responses: Sequence[str],
    signal: str,
) -> tuple[list[tuple[str, Any]], list[str], list[str]]:
    """Per channel its binned model of the combined signal ``signal`` with the flux
    systematics, and the window warnings and notes of the inputs."""
    from exonu.stats.model import BinnedModel
    from exonu.stats.plausibility import window_warnings
    from exonu.stats.workspace import load_workspace
    from exonu.templates.hypotheses import load_response

    channels = params["channels"]
    if not len(channels) == len(workspaces) == len(responses):
        raise ValueError("one workspace and one response per channel expected")
    spec = _signal_spec(params, signal)
    fluxes = list(params["fluxes"])
    models: list[tuple[str, Any]] = []
    notes: list[str] = []
    input_warnings: list[str] = []
    for ch, ws_path, resp_path in zip(channels, workspaces, responses, strict=True):
        ws = load_workspace(ws_path)
        response = load_response(resp_path, 1.0, 1.0).response
        ws = _flux_workspace(
            ws,
            response,
            {**spec, "name": signal},
            params["physics"],
            fluxes,
            ch["sm_background"],
        )
        models.append((ch["name"], BinnedModel(ws, signal, ch["likelihood"])))
        input_warnings += [
            f"{ch['name']}: {w}" for w in window_warnings(ws, ws.signal(signal).fit_window_kev)
        ]
        if ch["binned_for_unbinned"]:
            notes.append(
                f"channel {ch['name']} ({ch['analysis']}): the release's data are unbinned and "
                f"its headline limit is the unbinned one (limits_unbinned/); the combination "
                f"uses its binned workspace ({ch['likelihood']} likelihood)"
            )
    return models, input_warnings, notes


def _combine(params: Mapping[str, Any], models: Sequence[tuple[str, Any]], correlate: bool) -> Any:
    from exonu.stats.combined import CombinedModel

    return CombinedModel(
        models,
        fluxes=list(params["fluxes"]),
        correlate_fluxes=correlate,
        analysis=params["analysis"],
    )


def expected_seed(analysis: str, signal: str, toy_seed: int, channel: str | None = None) -> int:
    """Seed of the background-only toys of a combined signal (``channel``: of that channel's
    model in the combination), derived from names (:func:`exonu.stats.toys.seed_from_name`)."""
    from exonu.stats.toys import seed_from_name

    parts = [analysis, signal, "expected", str(toy_seed)]
    return seed_from_name(*parts, *([f"channel={channel}"] if channel else []))


def combined_expected_shard(
    params: Mapping[str, Any],
    workspaces: Sequence[str],
    responses: Sequence[str],
    signal: str,
    shard: int,
    output: str,
) -> None:
    """Rule ``combined_expected_shard``: background-only toy limits of one shard of toys, of
    the combination (the configured flux correlation) and of each channel's model in it
    (:func:`exonu.stats.expected.expected_limits`; seeds from names, recorded)."""
    from exonu.stages.runtime import record_seed
    from exonu.stats.expected import expected_limits

    fit = params["fit"]
    n_toys, n_shards = int(fit["expected_toys"]), int(fit["expected_shards"])
    method, cl = fit["method"], float(fit["cl"])
    models, _, _ = _channel_models(params, workspaces, responses, signal)
    comb = _combine(params, models, bool(params["correlate_fluxes"]))
    seed = expected_seed(params["analysis"], signal, int(fit["toy_seed"]))
    record_seed(seed)
    combined = expected_limits(comb, signal, n_toys, seed, method, cl, shard=(shard, n_shards))
    log.info("%s: %d combined toy limits (shard %d)", signal, len(combined.limits), shard)
    per_channel = {}
    for name, model in models:
        ch_seed = expected_seed(params["analysis"], signal, int(fit["toy_seed"]), name)
        record_seed(ch_seed)
        exp = expected_limits(model, signal, n_toys, ch_seed, method, cl, shard=(shard, n_shards))
        per_channel[name] = exp.to_dict()
        log.info(
            "%s: channel %s: %d toy limits, %d failed", signal, name, len(exp.limits), exp.n_failed
        )
    write_json(
        {"signal": signal, "shard": shard, "combined": combined.to_dict(), "channels": per_channel},
        output,
        one_line_arrays=True,
    )


def _expected_summaries(
    paths: Sequence[str],
) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]:
    """The expected-limit summaries (combined, per channel) of the toy shards ``paths``."""
    from exonu.stats.expected import ExpectedLimits, combine_expected

    if not paths:
        return None, {}
    docs = [json.loads(Path(p).read_text()) for p in paths]
    comb = combine_expected([ExpectedLimits.from_dict(d["combined"]) for d in docs])
    channels = {
        name: combine_expected(
            [ExpectedLimits.from_dict(d["channels"][name]) for d in docs]
        ).summary()
        for name in docs[0]["channels"]
    }
    return comb.summary(), channels


def combined_limit(
    params: Mapping[str, Any],
    workspaces: Sequence[str],
    responses: Sequence[str],
    signal: str,
    output: str,
    strict: bool = False,
    expected_paths: Sequence[str] = (),
) -> None:
    """Joint fit and limit of one combined signal (``params``: the combination, see
    ``workflow/rules/combined.smk``), the per-channel limits of the same channel models, the
    combined limit with the other flux correlation, and each nuisance's post-fit pull. With
    ``expected_paths`` (:func:`combined_expected_shard`), the combined and every channel's
    result carry the expected limit (median, ±1σ/±2σ)."""
    from exonu.stats.fit import Fitter
    from exonu.stats.limits import compute_limit
    from exonu.stats.plausibility import enforce_strict

    channels = params["channels"]
    method, cl = params["fit"]["method"], float(params["fit"]["cl"])
    fluxes = list(params["fluxes"])
    models, input_warnings, notes = _channel_models(params, workspaces, responses, signal)
    expected, expected_channels = _expected_summaries(expected_paths)
    per_channel: dict[str, Any] = {}
    for ch, ws_path, (name, model) in zip(channels, workspaces, models, strict=True):
        res = compute_limit(model, signal, method, cl)
        if name in expected_channels:
            res = res.with_expected(expected_channels[name])
        per_channel[name] = {
            **res.to_dict(),
            "channel_analysis": ch["analysis"],
            "workspace": ws_path,
        }
        log.info("%s: channel %s: limit %.4g", signal, name, res.upper_limit)

    correlate = bool(params["correlate_fluxes"])
    comb = _combine(params, models, correlate)
    result = compute_limit(comb, signal, method, cl).with_warnings(input_warnings)
    if expected is not None:
        result = result.with_expected(expected)
        log.info(
            "%s: combined expected %.3g (-1σ %.3g, +1σ %.3g)",
            signal,
            expected["median"],
            expected["minus1"],
            expected["plus1"],
        )
    log.info("%s: combined limit %.4g (shared fluxes: %s)", signal, result.upper_limit, correlate)
    for w in result.warnings:
        log.warning("%s: %s", signal, w)
    enforce_strict(result.warnings, strict, signal)
    best = Fitter(comb).fit()
    alternative = None
    if params["compare_decorrelated"] and fluxes:
        other = compute_limit(_combine(params, models, not correlate), signal, method, cl)
        alternative = {"correlate_fluxes": not correlate, **other.to_dict()}
        log.info("%s: limit %.4g with shared fluxes %s", signal, other.upper_limit, not correlate)
    from exonu.physics import flux_uncertainties

    sigma = flux_uncertainties(params["physics"]["flux_set"])
    doc = {
        **result.to_dict(),
        "combination": {
            "channels": [
                {k: ch[k] for k in ("name", "analysis", "mode", "likelihood", "sm_background")}
                for ch in channels
            ],
            "fluxes": {s: sigma[s] for s in fluxes},
            "correlate_fluxes": correlate,
            "parameters": list(comb.names),
        },
        "channels": per_channel,
        "alternative": alternative,
        "best_fit_valid": bool(best.valid),
        "pulls": _pulls(comb, best),
        "notes": notes,
    }
    write_json(doc, output)


# --------------------------------------------------------------------------- scans


def combined_scan_params(
    cfg: Mapping[str, Any], channels: Mapping[str, Mapping[str, Any]], scan: str
) -> dict[str, Any]:
    """The params of the shards of the combined scan ``scan``: the combination
    (:func:`combined_params`), the scan, and per channel what its own ``scan_shard`` takes:
    the scan's fit window and free backgrounds in the channel (its config, resolved by
    :func:`exonu.config.combination_channels`), the target mass of a Monte-Carlo response
    and the systematic regions (events mode)."""
    base = combined_params(cfg, channels)
    local = {}
    for name, ch in channels.items():
        events = ch["mode"] == "events"
        mass = None
        if events:
            from exonu.detector.geometry import fiducial_mass_kg

            mass = fiducial_mass_kg(float(ch["detector"]["radius_cm"]))
        own = ch["scans"][scan]
        local[name] = {
            "fit_window_kev": own["fit_window_kev"],
            "free_backgrounds": own.get("free_backgrounds", []),
            "target_mass_kg": mass,
            "systematic_regions_kev": (ch["binning"]["systematic_regions_kev"] if events else None),
        }
    doc = {
        **base,
        "scan_name": scan,
        "scan": cfg["scans"][scan],
        "scan_channels": local,
        "channel_limits": True,
    }
    out: dict[str, Any] = json.loads(json.dumps(doc, sort_keys=True))
    return out


def _scan_channel_model(
    params: Mapping[str, Any],
    ch: Mapping[str, Any],
    base: Any,
    response: Any,
    hyp: Any,
    spectra: dict[tuple[str, bytes], Any],
    parent: Any,
) -> tuple[Any, list[str]]:
    """The binned model of hypothesis ``hyp`` in one channel (and the warnings about its fit
    window): its spectrum folded with the
    channel's response into the channel's workspace (as :func:`~exonu.templates.hypotheses.
    hypothesis_entry` in the channel's own ``scan_shard``), with the flux systematics.
    ``spectra`` caches the physics spectra (total, per source) by hypothesis and true-energy
    bins ``parent``, of which the channel's bins are the first (:func:`_parent_edges`): the
    spectra are bin averages bin by bin, so channels whose bins start alike share them."""
    from exonu.stats.model import BinnedModel
    from exonu.stats.plausibility import window_warnings
    from exonu.templates.hypotheses import (
        auto_scale,
        hypothesis_spectrum,
        hypothesis_spectrum_by_source,
        hypothesis_workspace,
    )
    from exonu.templates.signals import signal_workspace_entry

    local = params["scan_channels"][ch["name"]]
    spec = {
        **hyp.spec(),
        "fit_window_kev": list(local["fit_window_kev"]),
        "free_backgrounds": list(local["free_backgrounds"]),
    }
    physics = params["physics"]
    edges = response.response.true_edges
    key = (hyp.name, parent.tobytes())
    if key not in spectra:
        by_source = None
        if params["fluxes"]:
            by_source = hypothesis_spectrum_by_source(spec, physics, parent)
        spectra[key] = (hypothesis_spectrum(spec, physics, parent), by_source)
    spectrum, by_source = (
        None if doc is None else _prefix_spectrum(doc, edges) for doc in spectra[key]
    )
    if spec.get("scale", "auto") == "auto":
        spec["scale"] = auto_scale(spectrum, response, spec["fit_window_kev"])
    entry = signal_workspace_entry(
        spec,
        spectrum,
        response.response,
        response.target_mass_kg,
        response.livetime_s,
        local["systematic_regions_kev"],
    )
    ws = hypothesis_workspace(base, entry)
    ws = _flux_workspace(
        ws,
        response.response,
        spec,
        physics,
        list(params["fluxes"]),
        ch["sm_background"],
        by_source,
    )
    model = BinnedModel(ws, hyp.name, ch["likelihood"])
    warnings = [f"{ch['name']}: {w}" for w in window_warnings(ws, spec["fit_window_kev"])]
    return model, warnings


def _parent_edges(all_edges: Sequence[Any]) -> list[Any]:
    """Per true-energy binning of ``all_edges`` the longest of them that starts with it."""
    import numpy as np

    out = []
    for e in all_edges:
        longer = [p for p in all_edges if len(p) >= len(e) and np.array_equal(p[: len(e)], e)]
        out.append(max(longer, key=len))
    return out


def _prefix_spectrum(doc: Mapping[str, Any], edges: Any) -> Any:
    """A spectrum of :func:`~exonu.templates.hypotheses.hypothesis_spectrum` (or ``{source:
    spectrum}``) restricted to its first ``len(edges) - 1`` bins."""
    if "coefficients" not in doc:
        return {k: _prefix_spectrum(v, edges) for k, v in doc.items()}
    n = len(edges) - 1
    if len(doc["true_edges_kev"]) == n + 1:
        return doc
    return {
        **doc,
        "true_edges_kev": list(doc["true_edges_kev"][: n + 1]),
        "coefficients": [list(c[:n]) for c in doc["coefficients"]],
        "standard_model": list(doc["standard_model"][:n]),
    }


def run_combined_hypotheses(
    params: Mapping[str, Any],
    workspaces: Sequence[str],
    responses: Sequence[str],
    hyps: Sequence[Any],
) -> list[dict[str, Any]]:
    """The combined limit of every hypothesis of ``hyps`` (and, with
    ``params["channel_limits"]``, each channel's limit from its model in the combination)."""
    from exonu.stats.limits import compute_limit
    from exonu.stats.workspace import load_workspace
    from exonu.templates.hypotheses import load_response

    channels = params["channels"]
    method, cl = params["fit"]["method"], float(params["fit"]["cl"])
    inputs = []
    for ch, ws_path, resp_path in zip(channels, workspaces, responses, strict=True):
        base = load_workspace(ws_path)
        local = params["scan_channels"][ch["name"]]
        response = load_response(resp_path, local["target_mass_kg"], float(base.livetime_s))
        inputs.append((ch, base, response))
    parents = _parent_edges([response.response.true_edges for _, _, response in inputs])
    out = []
    for k, hyp in enumerate(hyps):
        spectra: dict[tuple[str, bytes], Any] = {}
        models, input_warnings = [], []
        for (ch, base, response), parent in zip(inputs, parents, strict=True):
            model, warnings = _scan_channel_model(params, ch, base, response, hyp, spectra, parent)
            models.append((ch["name"], model))
            input_warnings += warnings
        comb = _combine(params, models, bool(params["correlate_fluxes"]))
        result = compute_limit(comb, hyp.name, method, cl).with_warnings(input_warnings).to_dict()
        per_channel = {}
        if params.get("channel_limits", True):
            for ch, (name, model) in zip(channels, models, strict=True):
                res = compute_limit(model, hyp.name, method, cl).to_dict()
                per_channel[name] = {**res, "channel_analysis": ch["analysis"]}
        for w in result["warnings"]:
            log.warning("%s: %s", hyp.name, w)
        out.append({**result, "hypothesis": hyp.name, "scan": hyp.scan, "channels": per_channel})
        log.info(
            "[%d/%d] %s: combined upper limit %s %s",
            k + 1,
            len(hyps),
            hyp.name,
            result.get("upper_limit"),
            result.get("unit"),
        )
    return out


def combined_scan_shard(
    params: Mapping[str, Any],
    workspaces: Sequence[str],
    responses: Sequence[str],
    shard: int,
    output: str,
    strict: bool = False,
) -> None:
    """Rule ``combined_scan_shard``: the combined (and per-channel) limits of the hypotheses
    of one shard of a scan (hypotheses i, i+n, …, as :func:`exonu.stages.scans.scan_shard`)."""
    from exonu.stages.scans import shard_of
    from exonu.stats.plausibility import enforce_strict
    from exonu.templates.hypotheses import hypotheses

    name, scan = params["scan_name"], params["scan"]
    hyps = shard_of(hypotheses(name, scan), shard, int(scan["n_shards"]))
    results = run_combined_hypotheses(params, workspaces, responses, hyps) if hyps else []
    for r in results:
        enforce_strict(r["warnings"], strict, r["hypothesis"])
    write_json({"scan": name, "shard": shard, "results": results}, output, one_line_arrays=True)


def combined_scan_gather(
    params: Mapping[str, Any],
    shard_paths: Sequence[str],
    merged: str,
    csv: str,
    md: str,
    channels_csv: str,
    limit_paths: Sequence[str],
) -> None:
    """Rule ``combined_scan_gather_<scan>``: merge the shards in hypothesis order into
    ``scans/<scan>.json`` and ``limits/<hypothesis>.json`` (the combined limit, the channels'
    under ``channels``), the scan's table (as a single analysis's) and
    ``tables/<scan>_channels.csv`` (the limit of each channel and combined per hypothesis)."""
    from exonu.products.tables import csv_table, scan_csv, scan_markdown, scan_rows
    from exonu.templates.hypotheses import ScanError, hypotheses

    name, scan = params["scan_name"], params["scan"]
    by_name: dict[str, dict[str, Any]] = {}
    for path in shard_paths:
        for r in json.loads(Path(path).read_text())["results"]:
            by_name[r["hypothesis"]] = r
    hyps = hypotheses(name, scan)
    missing = [h.name for h in hyps if h.name not in by_name]
    if missing:
        raise ScanError(f"combined scan {name!r}: shards lack hypotheses {missing}")
    results = [by_name[h.name] for h in hyps]
    wanted = {Path(p).stem: p for p in limit_paths}
    for r in results:
        write_json(r, wanted[r["hypothesis"]], one_line_arrays=True)
    write_json(
        {"scan": name, "config": dict(scan), "results": results}, merged, one_line_arrays=True
    )
    rows = scan_rows(results)
    write_text(scan_csv(rows), csv)
    write_text(scan_markdown(rows), md)
    names = [ch["name"] for ch in params["channels"]]
    body = []
    for h, r in zip(hyps, results, strict=True):
        cells = [r["channels"].get(n, {}).get("upper_limit") for n in names]
        body.append(
            [
                h.name,
                h.flavour,
                "" if h.mediator_mass_mev is None else f"{h.mediator_mass_mev:.6g}",
                r["parameter"],
                r["unit"],
                *("" if v is None else f"{v:.6g}" for v in cells),
                "" if r["upper_limit"] is None else f"{r['upper_limit']:.6g}",
            ]
        )
    header = ["hypothesis", "flavour", "mediator_mass_mev", "parameter", "unit", *names, "combined"]
    write_text(csv_table(header, body), channels_csv)


# --------------------------------------------------------------------------- products


def combined_tables(
    params: Mapping[str, Any],
    fits: Sequence[str],
    md: str,
    csv: str,
    pulls_json: str,
    pulls_md: str,
) -> None:
    """tables/combined_limits.{md,csv} and tables/combined_pulls.{json,md}."""
    from exonu.products.combined import limits_rows, limits_table, pulls_table

    docs = [json.loads(Path(p).read_text()) for p in fits]
    rows = limits_rows(docs)
    text_md, text_csv = limits_table(rows)
    write_text(text_md, md)
    write_text(text_csv, csv)
    pulls = {d["signal"]: d["pulls"] for d in docs}
    write_json(pulls, pulls_json)
    write_text(pulls_table(pulls), pulls_md)


def combined_figure(params: Mapping[str, Any], fits: Sequence[str], outputs: Sequence[str]) -> None:
    """figures/combined_limits.<format>: the limit of each channel and the combination
    (``params``: ``signals`` and the ``plots`` style)."""
    from exonu.products.combined import limits_figure

    docs = [json.loads(Path(p).read_text()) for p in fits]
    limits_figure(docs, outputs, params["style"])
