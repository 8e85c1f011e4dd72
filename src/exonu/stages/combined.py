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
    "combined_figure",
    "combined_limit",
    "combined_params",
    "combined_tables",
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
) -> Any:
    """``ws`` with the flux systematics of ``fluxes`` on its signal (and SM background)."""
    import numpy as np

    from exonu.detector.folding import fold_polynomial
    from exonu.physics import flux_uncertainties
    from exonu.stats.combined import add_flux_systematics, source_fractions
    from exonu.templates.hypotheses import hypothesis_spectrum_by_source

    if not fluxes:
        return ws
    sig = ws.signal(spec["name"])
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


def combined_limit(
    params: Mapping[str, Any],
    workspaces: Sequence[str],
    responses: Sequence[str],
    signal: str,
    output: str,
    strict: bool = False,
) -> None:
    """Joint fit and limit of one combined signal (``params``: the combination, see
    ``workflow/rules/combined.smk``), the per-channel limits of the same channel models, the
    combined limit with the other flux correlation, and each nuisance's post-fit pull."""
    from exonu.stats.combined import CombinedModel
    from exonu.stats.fit import Fitter
    from exonu.stats.limits import compute_limit
    from exonu.stats.model import BinnedModel
    from exonu.stats.plausibility import enforce_strict, window_warnings
    from exonu.stats.workspace import load_workspace
    from exonu.templates.hypotheses import load_response

    channels = params["channels"]
    if not len(channels) == len(workspaces) == len(responses):
        raise ValueError("one workspace and one response per channel expected")
    spec = _signal_spec(params, signal)
    method, cl = params["fit"]["method"], float(params["fit"]["cl"])
    fluxes = list(params["fluxes"])
    models: list[tuple[str, Any]] = []
    notes: list[str] = []
    input_warnings: list[str] = []
    per_channel: dict[str, Any] = {}
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
        model = BinnedModel(ws, signal, ch["likelihood"])
        models.append((ch["name"], model))
        input_warnings += [
            f"{ch['name']}: {w}" for w in window_warnings(ws, ws.signal(signal).fit_window_kev)
        ]
        if ch["binned_for_unbinned"]:
            notes.append(
                f"channel {ch['name']} ({ch['analysis']}): the release's data are unbinned and "
                f"its headline limit is the unbinned one (limits_unbinned/); the combination "
                f"uses its binned workspace ({ch['likelihood']} likelihood)"
            )
        res = compute_limit(model, signal, method, cl)
        per_channel[ch["name"]] = {
            **res.to_dict(),
            "channel_analysis": ch["analysis"],
            "workspace": ws_path,
        }
        log.info("%s: channel %s: limit %.4g", signal, ch["name"], res.upper_limit)

    def combine(correlate: bool) -> Any:
        return CombinedModel(
            models, fluxes=fluxes, correlate_fluxes=correlate, analysis=params["analysis"]
        )

    correlate = bool(params["correlate_fluxes"])
    comb = combine(correlate)
    result = compute_limit(comb, signal, method, cl).with_warnings(input_warnings)
    log.info("%s: combined limit %.4g (shared fluxes: %s)", signal, result.upper_limit, correlate)
    for w in result.warnings:
        log.warning("%s: %s", signal, w)
    enforce_strict(result.warnings, strict, signal)
    best = Fitter(comb).fit()
    alternative = None
    if params["compare_decorrelated"] and fluxes:
        other = compute_limit(combine(not correlate), signal, method, cl)
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
