"""Limit scans, in shards (``workflow/rules/fit.smk``).

Shard ``i`` of ``n`` takes hypotheses ``i, i+n, i+2n, ...`` of the scan
(:func:`exonu.templates.hypotheses.hypotheses`); each hypothesis is computed independently
(physics spectrum on the true-energy bins -> folded with the detector response -> one signal
in the workspace -> fit and limit), so the merged result is identical for any number of
shards. A hypothesis that is a configured signal (``params["fitted"]``,
:func:`exonu.templates.hypotheses.fitted_signals`) is not fitted by the shards: the gather
takes its limit from ``fits/<signal>.json``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from exonu.stages.runtime import write_json, write_text
from exonu.templates.hypotheses import (
    Hypothesis,
    ResponseFile,
    ScanError,
    hypotheses,
    hypothesis_entry,
    hypothesis_workspace,
    load_response,
)

__all__ = ["fitted_result", "run_hypotheses", "scan_gather", "scan_shard", "shard_of"]

log = logging.getLogger("exonu")


def shard_of(items: Sequence[Any], shard: int, n_shards: int) -> list[Any]:
    """Items of shard ``shard`` (0-based) of ``n_shards``: round robin."""
    if n_shards < 1 or not 0 <= shard < n_shards:
        raise ScanError(f"shard {shard} of {n_shards}: need 0 <= shard < n_shards")
    return list(items[shard::n_shards])


def run_hypotheses(
    base_workspace: Any,
    response: ResponseFile,
    physics: Mapping[str, Any],
    hyps: Sequence[Hypothesis],
    fit: Mapping[str, Any],
    systematic_regions_kev: Sequence[float] | None = None,
    window_check: bool = True,
) -> list[dict[str, Any]]:
    """Limit of each hypothesis (a JSON-able dict each, in order), with its plausibility
    ``warnings`` (:func:`exonu.stats.plausibility.checked_limit`; ``window_check``: also the
    limits with the window edges moved by one bin, about twice the CPU time of the scan, some
    5 % of the default run)."""
    from exonu.stats.plausibility import checked_limit

    out = []
    for k, hyp in enumerate(hyps):
        entry = hypothesis_entry(hyp.spec(), response, physics, systematic_regions_kev)
        ws = hypothesis_workspace(base_workspace, entry)
        result = checked_limit(ws, hyp.name, fit, window_check=window_check).to_dict()
        for w in result["warnings"]:
            log.warning("%s: %s", hyp.name, w)
        result["hypothesis"] = hyp.name
        result["scan"] = hyp.scan
        out.append(result)
        log.info(
            "[%d/%d] %s: upper limit %s %s",
            k + 1,
            len(hyps),
            hyp.name,
            result.get("upper_limit"),
            result.get("unit"),
        )
    return out


def scan_shard(
    params: Mapping[str, Any],
    workspace_path: str,
    response_path: str,
    shard: int,
    output: str,
    strict: bool = False,
) -> None:
    """Rule ``scan_shard``: limits of the hypotheses of one shard (with their plausibility
    warnings; with ``strict`` a warning stops the job before anything is written). The
    hypotheses of ``params["fitted"]`` (hypothesis -> configured signal) are left to the
    gather, which takes the signal's fit."""
    from exonu.stats.plausibility import enforce_strict
    from exonu.stats.workspace import load_workspace

    name, scan = params["scan_name"], params["scan"]
    fitted = params.get("fitted") or {}
    hyps = [
        h
        for h in shard_of(hypotheses(name, scan), shard, int(scan["n_shards"]))
        if h.name not in fitted
    ]
    results: list[dict[str, Any]] = []
    if hyps:
        base = load_workspace(workspace_path)
        response = load_response(
            response_path, params.get("target_mass_kg"), float(base.livetime_s)
        )
        results = run_hypotheses(
            base,
            response,
            params["physics"],
            hyps,
            params["fit"],
            params.get("systematic_regions_kev"),
        )
    for r in results:
        enforce_strict(r["warnings"], strict, r["hypothesis"])
    write_json({"scan": name, "shard": shard, "results": results}, output, one_line_arrays=True)


def fitted_result(fit_doc: Mapping[str, Any], hypothesis: str, scan: str) -> dict[str, Any]:
    """The limit of a hypothesis that is a configured signal: the signal's fit result
    (``fits/<signal>.json``) named as the hypothesis of the scan."""
    return {**fit_doc, "hypothesis": hypothesis, "scan": scan}


def scan_gather(
    params: Mapping[str, Any],
    shard_paths: Sequence[str],
    merged: str,
    csv: str,
    md: str,
    tex: str,
    limit_paths: Sequence[str],
    fit_paths: Sequence[str] = (),
) -> None:
    """Rule ``scan_gather_<scan>``: merge shards in hypothesis order, write tables.

    The hypotheses of ``params["fitted"]`` (hypothesis -> configured signal) take the
    signal's result from ``fit_paths`` (``fits/<signal>.json``) instead of a shard.
    """
    from exonu.products.tables import scan_csv, scan_latex, scan_markdown, scan_rows

    name, scan = params["scan_name"], params["scan"]
    by_name: dict[str, dict[str, Any]] = {}
    for path in shard_paths:
        for r in json.loads(Path(path).read_text())["results"]:
            by_name[r["hypothesis"]] = r
    fits = {Path(p).stem: p for p in fit_paths}
    for hyp, signal in (params.get("fitted") or {}).items():
        if signal not in fits:
            raise ScanError(f"scan {name!r}: hypothesis {hyp!r} needs the fit of {signal!r}")
        doc = json.loads(Path(fits[signal]).read_text())
        by_name[hyp] = fitted_result(doc, hyp, name)
        log.info("%s: the limit of signal %s (%s)", hyp, signal, fits[signal])
    order = [h.name for h in hypotheses(name, scan)]
    missing = [h for h in order if h not in by_name]
    if missing:
        raise ScanError(f"scan {name!r}: shards lack hypotheses {missing}")
    results = [by_name[h] for h in order]
    wanted = {Path(p).stem: p for p in limit_paths}
    for r in results:
        write_json(r, wanted[r["hypothesis"]], one_line_arrays=True)
    rows = scan_rows(results)
    write_json(
        {"scan": name, "config": dict(scan), "results": results}, merged, one_line_arrays=True
    )
    write_text(scan_csv(rows), csv)
    write_text(scan_markdown(rows), md)
    write_text(scan_latex(rows, f"90\\% CL limits of the {name.replace('_', ' ')} scan"), tex)
