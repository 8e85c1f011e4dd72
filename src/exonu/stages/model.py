"""The binned model of the events mode: signal spectra, dead-PMT correction, background
model, signal response, template closure and the workspace (``workflow/rules/signal.smk``,
``templates.smk``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from exonu.stages.runtime import atomic_output, write_json, write_text

__all__ = [
    "background_model",
    "dead_pmt_correction",
    "response",
    "signal_spectrum",
    "template_closure",
    "workspace",
]

log = logging.getLogger("exonu")


# --------------------------------------------------------------------------- physics


def signal_spectrum(params: Mapping[str, Any], output: str) -> None:
    """Coefficient spectra of one signal hypothesis on the true-energy bins.

    ``params``: ``physics`` block, the ``signal`` entry and ``true_energy_kev`` binning.
    """
    from exonu.selection.run import edges_from_spec
    from exonu.templates.hypotheses import hypothesis_spectrum

    edges = edges_from_spec(params["true_energy_kev"], "binning.true_energy_kev")
    write_json(hypothesis_spectrum(params["signal"], params["physics"], edges), output)


# --------------------------------------------------------------------------- workspace


def dead_pmt_correction(
    params: Mapping[str, Any],
    data_hist: str,
    background_hists: Sequence[str],
    output: str,
    variation_hists: Sequence[str] = (),
) -> None:
    """Data-driven dead-PMT correction per energy region (XMASS §3.3).

    ``params``: ``dead_pmt_correction`` (the ``backgrounds.dead_pmt_correction`` block);
    ``variation_hists``: systematic-variation samples (the dead-PMT model uncertainty).
    """
    from exonu.selection.run import read_result
    from exonu.templates.dead_pmt import TRUTH_KEY, closure, estimate_dead_pmt_correction

    data = read_result(data_hist)
    corr = estimate_dead_pmt_correction(
        data,
        [read_result(p) for p in background_hists],
        float(params["dead_pmt_correction"]["near_distance_cm"]),
        [read_result(p) for p in variation_hists],
    )
    for name, c, st, mk in zip(
        corr.region_names, corr.factor, corr.stat, corr.masking, strict=True
    ):
        log.info("%s: correction %.3f +- %.3f (stat) +- %.3f (masking)", name, c, st, mk)
    log.info("method systematic (binning, sample, dead-PMT model): %s", corr.method.round(3))
    doc = corr.to_dict()
    if TRUTH_KEY in data.extra:  # simulated data that records the injected difference
        doc["closure"] = closure(corr, data.extra[TRUTH_KEY])
        log.info("closure vs injected factors: pulls %s", doc["closure"]["pulls"])
        if not doc["closure"]["closes"]:
            log.warning("dead-PMT correction does not recover the injected factors (|pull| > 3)")
    write_json(doc, output)


def background_model(
    params: Mapping[str, Any],
    data_hist: str,
    background_hists: Sequence[str],
    variation_hists: Sequence[str],
    correction: str | None,
    output: str,
) -> None:
    """Background templates with constraints, dead-PMT correction and systematic shifts.

    ``params``: ``backgrounds`` block and ``systematic_regions_kev``.
    """
    from exonu.selection.run import read_result
    from exonu.templates.build import build_background_model

    apply = bool(params["backgrounds"]["dead_pmt_correction"]["apply"])
    doc = build_background_model(
        read_result(data_hist),
        [read_result(p) for p in background_hists],
        [read_result(p) for p in variation_hists],
        params["backgrounds"]["relative_uncertainty"],
        params["systematic_regions_kev"],
        json.loads(Path(correction).read_text()) if (correction and apply) else None,
    )
    log.info(
        "background model: %d components, systematics %s",
        len(doc["components"]),
        [s["name"] for s in doc["systematics"]],
    )
    write_json(doc, output)


def response(signal_hist: str, variation_hists: Sequence[str], output: str) -> None:
    """Signal response S(T, E_rec) with its shifted versions (XMASS eq. 3): ``output``
    (ROOT) and its sidecar ``<output>.json``."""
    from exonu.detector.folding import write_response
    from exonu.selection.run import read_result
    from exonu.templates.signals import response_from_signal_mc

    resp = response_from_signal_mc(
        read_result(signal_hist), [read_result(p) for p in variation_hists]
    )
    root = Path(output)
    with atomic_output(root.with_suffix(".json")) as side, atomic_output(root) as tmp:
        write_response(resp, tmp, sidecar=side)
    log.info("response: systematics %s", [s.name for s in resp.systematics])


def template_closure(
    params: Mapping[str, Any],
    chunk_hists: Mapping[str, Sequence[str]],
    output_md: str,
    output_json: str,
) -> None:
    """Half-split closure of every background template (even vs odd chunks).

    ``params``: ``closure`` block (``min_count``, ``alpha``).
    """
    from exonu.selection.run import read_result
    from exonu.templates.closure import closure_markdown, half_split_closure

    cfg = params["closure"]
    rows = [
        half_split_closure([read_result(p) for p in paths], int(cfg["min_count"]))
        for _name, paths in sorted(chunk_hists.items())
    ]
    alpha = float(cfg["alpha"])
    failed = [r["sample"] for r in rows if r["p_value"] < alpha]
    head = (
        "# Half-split closure of the background templates\n\n"
        "Template from the even chunks vs the counts of the odd chunks (binomial chi2, "
        f"bins merged to >= {int(cfg['min_count'])} events); closes if p >= {alpha:g}.\n\n"
    )
    write_text(head + closure_markdown(rows, alpha), output_md)
    write_json({"alpha": alpha, "components": rows, "failed": failed}, output_json)
    if failed:
        log.warning("template closure fails (p < %g) for %s", alpha, failed)


def workspace(
    params: Mapping[str, Any],
    data_hist: str,
    background_model_json: str,
    response_root: str,
    spectra: Sequence[str],
    output: str,
    strict: bool = False,
) -> None:
    """Assemble the workspace JSON from the background model, response and signal spectra.

    ``params``: ``analysis``, ``signals`` list, ``detector`` (active mass),
    ``r_pe_max_cm`` (fiducial mass) and ``systematic_regions_kev``. A background model that
    is zero in a whole fit window stops the job; the input warnings
    (:func:`exonu.stats.plausibility.workspace_warnings`) go into the workspace, or with
    ``strict`` stop the job (nothing is written).
    """
    from exonu.detector.folding import read_response
    from exonu.detector.geometry import fiducial_mass_kg
    from exonu.selection.run import read_result
    from exonu.stats.plausibility import check_background, enforce_strict, workspace_warnings
    from exonu.stats.workspace import Workspace
    from exonu.templates.build import assemble_workspace
    from exonu.templates.signals import signal_workspace_entry

    data = read_result(data_hist)
    model = json.loads(Path(background_model_json).read_text())
    resp = read_response(response_root)
    active_mass = fiducial_mass_kg(float(params["detector"]["radius_cm"]))
    by_name = {s["name"]: s for s in params["signals"]}
    entries = []
    for path in spectra:
        spectrum = json.loads(Path(path).read_text())
        entries.append(
            signal_workspace_entry(
                by_name[spectrum["name"]],
                spectrum,
                resp,
                active_mass,
                data.livetime_s,
                params["systematic_regions_kev"],
            )
        )
    doc = assemble_workspace(
        params["analysis"],
        data,
        model,
        None,
        entries,
        fiducial_mass_kg(float(params["r_pe_max_cm"])),
    )
    ws = Workspace.from_dict(doc, source=output)
    check_background(ws, f"background model {background_model_json!r}")
    ws = ws.with_warnings(workspace_warnings(ws))
    for w in ws.warnings:
        log.warning("workspace %s: %s", output, w)
    enforce_strict(ws.warnings, strict)
    write_json(ws.to_dict(), output, one_line_arrays=True)
