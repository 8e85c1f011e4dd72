"""The products of a combined analysis (``workflow/rules/combined_products.smk``): overlaid
profile curves, pulls and impacts, the multi-channel pyhf export and the HEPData entries.

The channel models are built exactly as the joint fit builds them
(:func:`exonu.stages.combined.combined_limit`: each channel's workspace with the flux
systematics of the combination, a :class:`~exonu.stats.model.BinnedModel` with the channel's
likelihood; the combination a :class:`~exonu.stats.combined.CombinedModel`), so the curves'
minima and the impacts' best fit are those of ``fits/<signal>.json``. The pyhf export and its
reference use every channel's Poisson likelihood (HistFactory's). Computation steps write
JSON; the figure steps only read it (:mod:`exonu.products.combined_exports`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from exonu.stages.runtime import atomic_output, write_json, write_text

__all__ = [
    "combined_curves",
    "combined_curves_figure",
    "combined_hepdata",
    "combined_impacts",
    "combined_impacts_figure",
    "combined_pyhf",
    "combined_pyhf_patchset",
]

log = logging.getLogger("exonu")


def _read(path: str) -> Any:
    return json.loads(Path(path).read_text())


def _workspaces(
    params: Mapping[str, Any], workspaces: Sequence[str], responses: Sequence[str], signal: str
) -> list[tuple[dict[str, Any], Any]]:
    """Per channel (its summary in ``params``, its workspace with the flux systematics of the
    combination on ``signal``), as the joint fit has them."""
    from exonu.stages.combined import _flux_workspace, _signal_spec
    from exonu.stats.workspace import load_workspace
    from exonu.templates.hypotheses import load_response

    channels = params["channels"]
    if not len(channels) == len(workspaces) == len(responses):
        raise ValueError("one workspace and one response per channel expected")
    spec = _signal_spec(params, signal)
    out = []
    for ch, ws_path, resp_path in zip(channels, workspaces, responses, strict=True):
        response = load_response(resp_path, 1.0, 1.0).response
        ws = _flux_workspace(
            load_workspace(ws_path),
            response,
            {**spec, "name": signal},
            params["physics"],
            list(params["fluxes"]),
            ch["sm_background"],
        )
        out.append((ch, ws))
    return out


def _models(
    params: Mapping[str, Any],
    channel_ws: Sequence[tuple[Mapping[str, Any], Any]],
    signal: str,
    *,
    likelihood: str | None = None,
    mc_statistics: str | None = None,
) -> tuple[list[tuple[str, Any]], Any, Any | None]:
    """(channel models, the combination as configured, the other flux correlation or None)."""
    from exonu.stats.combined import CombinedModel
    from exonu.stats.model import BinnedModel

    kwargs = {} if mc_statistics is None else {"mc_statistics": mc_statistics}
    models = [
        (ch["name"], BinnedModel(ws, signal, likelihood or ch["likelihood"], **kwargs))
        for ch, ws in channel_ws
    ]
    fluxes = list(params["fluxes"])
    correlate = bool(params["correlate_fluxes"])

    def combine(corr: bool) -> Any:
        return CombinedModel(
            models, fluxes=fluxes, correlate_fluxes=corr, analysis=params["analysis"]
        )

    other = combine(not correlate) if params.get("compare_decorrelated") and fluxes else None
    return models, combine(correlate), other


def _flux_label(correlate: bool) -> str:
    return "shared fluxes" if correlate else "per-channel fluxes"


def _inputs(channel_ws: Sequence[tuple[Mapping[str, Any], Any]]) -> list[dict[str, Any]]:
    return [
        {"channel": ch["name"], "analysis": ch["analysis"], "workspace_digest": ws.digest()}
        for ch, ws in channel_ws
    ]


# --------------------------------------------------------------------------- computation


def combined_curves(
    params: Mapping[str, Any],
    workspaces: Sequence[str],
    responses: Sequence[str],
    fit: str,
    signal: str,
    output: str,
) -> None:
    """Rule ``combined_curves``: the profiled Δχ² of ``signal`` per channel and combined
    (both flux correlations), with each curve's minimum next to the joint fit's
    (``fits/<signal>.json``). ``params``: the combination (:func:`combined_params` of
    :mod:`exonu.stages.combined`) and ``n_points``."""
    from exonu.products.combined_exports import profile_curves

    channel_ws = _workspaces(params, workspaces, responses, signal)
    models, comb, other = _models(params, channel_ws, signal)
    correlate = bool(params["correlate_fluxes"])
    entries = [(name, "channel", m) for name, m in models]
    entries.append((f"combined ({_flux_label(correlate)})", "combined", comb))
    if other is not None:
        entries.append((f"combined ({_flux_label(not correlate)})", "alternative", other))
    cl = float(params["fit"]["cl"])
    doc = profile_curves(entries, signal, cl=cl, n_points=int(params["n_points"]))
    fitdoc = _read(fit)
    reference = {name: fitdoc["channels"][name]["best_fit"] for name, _ in models}
    reference["combined"] = fitdoc["best_fit"]
    if fitdoc.get("alternative"):
        reference["alternative"] = fitdoc["alternative"]["best_fit"]
    for c in doc["curves"]:
        c["fit_best_fit"] = reference.get(c["label"] if c["kind"] == "channel" else c["kind"])
        c["correlate_fluxes"] = (
            None if c["kind"] == "channel" else (c["kind"] == "combined") == (correlate)
        )
        log.info(
            "%s: curve %s: minimum at %.4g (joint fit: %s), %d points",
            signal,
            c["label"],
            c["best_fit"],
            c["fit_best_fit"],
            len(c["values"]),
        )
    doc.update(analysis=params["analysis"], channels=_inputs(channel_ws))
    write_json(doc, output, one_line_arrays=True)


def combined_impacts(
    params: Mapping[str, Any],
    workspaces: Sequence[str],
    responses: Sequence[str],
    signal: str,
    output: str,
    md: str,
    csv: str,
) -> None:
    """Rule ``combined_impacts``: pull, constraint and impact on the best fit of every
    constrained nuisance of the joint fit (configured flux correlation), and the table of the
    top ``params["top"]``."""
    from exonu.products.combined_exports import impacts, impacts_table

    channel_ws = _workspaces(params, workspaces, responses, signal)
    _, comb, _ = _models(params, channel_ws, signal)
    doc = impacts(comb, signal, cl=float(params["fit"]["cl"]))
    doc.update(
        analysis=params["analysis"],
        correlate_fluxes=bool(params["correlate_fluxes"]),
        channels=_inputs(channel_ws),
    )
    write_json(doc, output)
    text_md, text_csv = impacts_table(doc, int(params["top"]))
    write_text(text_md, md)
    write_text(text_csv, csv)
    if doc["nuisances"]:
        first = doc["nuisances"][0]
        log.info(
            "%s: largest impact on the limit: %s (%.3g %s)",
            signal,
            first["name"],
            first["impact"],
            doc["unit"],
        )


def _export_models(
    params: Mapping[str, Any], workspaces: Sequence[str], responses: Sequence[str], signal: str
) -> tuple[list[tuple[str, Any]], Any]:
    from exonu.products.pyhf_export import _mc_statistics

    channel_ws = _workspaces(params, workspaces, responses, signal)
    _, comb, _ = _models(
        params, channel_ws, signal, likelihood="poisson", mc_statistics=_mc_statistics(None)
    )
    return [(ch["name"], ws) for ch, ws in channel_ws], comb


def _pyhf_metadata(
    params: Mapping[str, Any],
    channels: Sequence[tuple[str, Any]],
    comb: Any,
    signal: str,
    reference: Mapping[str, Any],
    kind: str,
) -> dict[str, Any]:
    from exonu.products.pyhf_export import _mc_statistics

    sig = comb.signals[comb.poi_index(signal)]
    poi = f"mu_{signal}"
    if kind == "workspace":
        poi_def = f"{poi} = ({sig.parameter} / {sig.scale:g} {sig.unit})^{sig.leading_power}"
    else:
        poi_def = f"{poi} multiplies the signal at the patch's {sig.parameter} in every channel"
    return {
        "analysis": params["analysis"],
        "signal": signal,
        "model": sig.model,
        "parameter": sig.parameter,
        "unit": sig.unit,
        "kind": kind,
        "poi": poi,
        "poi_definition": poi_def,
        "scale": sig.scale,
        "channels": [
            {
                "channel": name,
                "pyhf_channel": "".join(c if c.isalnum() or c == "_" else "_" for c in name),
                "analysis": ws.analysis,
                "scale": ws.signal(signal).scale,
                "factor": sig.scale / ws.signal(signal).scale,
                "edges_kev": _window_edges(ws, signal),
                "workspace_digest": ws.digest(),
            }
            for name, ws in channels
        ],
        "fluxes": list(params["fluxes"]),
        "correlate_fluxes": bool(params["correlate_fluxes"]),
        "naming": (
            "parameters are named as in exonu's CombinedModel with '/' written '__' (pyhf "
            "reserves '/'): <channel>__<name> for a channel's own, flux_<src> for a shared "
            "solar flux (histosys of that name in every channel: one parameter, one "
            "constraint); the activity constraints of channel c are the "
            "auxiliary channel <c>_activity_constraints"
        ),
        "likelihood": "poisson (HistFactory) in every channel: exonu's likelihood 'poisson'",
        "mc_statistics": _mc_statistics(None),
        "exonu_reference": dict(reference),
    }


def _window_edges(ws: Any, signal: str) -> list[float]:
    import numpy as np

    idx = np.flatnonzero(np.asarray(ws.signal(signal).fit_mask))
    return [float(v) for v in np.asarray(ws.edges_kev)[idx[0] : idx[-1] + 2]]


def combined_pyhf(
    params: Mapping[str, Any],
    workspaces: Sequence[str],
    responses: Sequence[str],
    signal: str,
    output: str,
    metadata_output: str,
) -> None:
    """Rule ``combined_pyhf``: the combination of a single-power signal as one pyhf workspace
    (one pyhf channel per channel, shared flux modifiers), validated by pyhf, and its sidecar
    with exonu's Poisson profile result on the same model."""
    import pyhf

    from exonu.products.combined_exports import combined_pyhf_workspace, combined_reference

    channels, comb = _export_models(params, workspaces, responses, signal)
    cl = float(params["fit"]["cl"])
    reference = combined_reference(comb, signal, cl=cl)
    mu_max = max(1e4, 100.0 * abs(reference["upper_limit_poi"]))
    spec = combined_pyhf_workspace(
        channels,
        signal,
        fluxes=params["fluxes"],
        correlate_fluxes=bool(params["correlate_fluxes"]),
        scale=comb.signals[comb.poi_index(signal)].scale,
        mu_max=mu_max,
    )
    pyhf.Workspace(spec).model()  # schema validation and a model pyhf can build
    write_json(spec, output, one_line_arrays=True)
    meta = _pyhf_metadata(params, channels, comb, signal, reference, "workspace")
    write_json(meta, metadata_output, one_line_arrays=True)
    log.info(
        "combined pyhf workspace of %s: %d channels -> %s (exonu: limit %.4g %s)",
        signal,
        len(channels),
        output,
        reference["upper_limit"],
        reference["unit"],
    )


def combined_pyhf_patchset(
    params: Mapping[str, Any],
    workspaces: Sequence[str],
    responses: Sequence[str],
    signal: str,
    patchset_output: str,
    base_output: str,
    metadata_output: str,
) -> None:
    """Rule ``combined_pyhf_patchset``: a signal with several powers as a pyhf PatchSet over
    its coupling on the background-only combined workspace (validated: schema, digest, every
    patch built), with exonu's profiled χ² at every grid point."""
    import pyhf

    from exonu.products.combined_exports import combined_pyhf_patchset as build
    from exonu.products.combined_exports import combined_reference
    from exonu.products.pyhf_export import coupling_grid

    channels, comb = _export_models(params, workspaces, responses, signal)
    cl = float(params["fit"]["cl"])
    sig = comb.signals[comb.poi_index(signal)]
    first = combined_reference(comb, signal, cl=cl)
    two_sided = comb.parameters[comb.poi_index(signal)].lower is None
    grid = coupling_grid(first, sig.leading_power, two_sided=two_sided)
    reference = combined_reference(comb, signal, cl=cl, couplings=grid)
    spec, base = build(
        channels,
        signal,
        grid,
        fluxes=params["fluxes"],
        correlate_fluxes=bool(params["correlate_fluxes"]),
    )
    patchset = pyhf.PatchSet(spec)
    patchset.verify(base)
    for patch in patchset:
        pyhf.Workspace(patch.apply(base)).model()
    write_json(spec, patchset_output, one_line_arrays=True)
    write_json(base, base_output, one_line_arrays=True)
    meta = _pyhf_metadata(params, channels, comb, signal, reference, "patchset")
    write_json(meta, metadata_output, one_line_arrays=True)
    log.info("combined pyhf PatchSet of %s: %d patches -> %s", signal, len(grid), patchset_output)


def combined_hepdata(
    params: Mapping[str, Any], fits: Sequence[str], curves: Sequence[str], archive: str, record: str
) -> None:
    """Rule ``combined_hepdata``: the validated HEPData submission of the combination (limits
    per channel and combined, overlaid curves) and a JSON record of it with the digests of its
    inputs."""
    from exonu import __version__
    from exonu.products.combined_exports import combined_submission
    from exonu.products.hepdata import write_submission
    from exonu.products.provenance import sha256_file

    digests = {p: sha256_file(p) for p in [*fits, *curves]}
    channels = ", ".join(f"{c['name']} ({c['analysis']})" for c in params["channels"])
    provenance = (
        f"Produced by exonu {__version__} (mode combined, analysis {params['analysis']}) from "
        f"the channels {channels}; input digests in submission.json."
    )
    sub = combined_submission(
        params["analysis"], [_read(p) for p in fits], [_read(p) for p in curves], provenance
    )
    with atomic_output(archive) as tmp:
        result = write_submission(sub, tmp)
    result["inputs"] = [{"path": p, "sha256": d} for p, d in digests.items()]
    result["exonu_version"] = __version__
    write_json(result, record, one_line_arrays=True)
    log.info("combined HEPData submission, %d tables -> %s", len(result["tables"]), archive)


# --------------------------------------------------------------------------- figures


def combined_curves_figure(params: Mapping[str, Any], doc: str, outputs: Sequence[str]) -> None:
    """Rule ``combined_curves_figure`` (``params``: ``style``)."""
    from exonu.products.combined_exports import curves_figure

    curves_figure(_read(doc), outputs, params["style"])


def combined_impacts_figure(params: Mapping[str, Any], doc: str, outputs: Sequence[str]) -> None:
    """Rule ``combined_impacts_figure`` (``params``: ``style``, ``top``)."""
    from exonu.products.combined_exports import impacts_figure

    impacts_figure(_read(doc), outputs, params["style"], int(params["top"]))
