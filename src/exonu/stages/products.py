"""The products: tables, figures, HEPData and pyhf exports (``workflow/rules/products.smk``;
the figures of the binned model of ``templates.smk``).

Computation steps write JSON documents; figure steps only read them (plotting kept apart
from computation).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from exonu.stages.runtime import atomic_output, write_json, write_text

__all__ = [
    "background_figure",
    "contour",
    "contour_figure",
    "delta_chi2_curves",
    "delta_chi2_figure",
    "efficiency_figure",
    "exclusion_figure",
    "fit_figure",
    "fit_spectrum",
    "hepdata",
    "millicharge_figure",
    "model_spectra",
    "model_spectra_figure",
    "published_comparison",
    "published_comparison_figure",
    "pyhf_export",
    "pyhf_patchset_export",
    "summary_table",
]

log = logging.getLogger("exonu")


def _read(path: str | os.PathLike[str]) -> Any:
    return json.loads(Path(path).read_text())


def _response(params: Mapping[str, Any], response_path: str, ws: Any) -> Any:
    from exonu.templates.hypotheses import load_response

    return load_response(response_path, params.get("target_mass_kg"), float(ws.livetime_s))


# --------------------------------------------------------------------------- computation


def model_spectra(params: Mapping[str, Any], output: str) -> None:
    """Rule ``model_spectra``: SM and benchmark spectra (XMASS-I Fig. 1).

    ``params``: ``physics`` block and ``model_spectra`` (``plots.model_spectra``).
    """
    from exonu.products import spectra

    cfg = params["model_spectra"]
    doc = spectra.model_spectra(
        params["physics"], cfg["benchmarks"], spectra.energy_grid(cfg["energy_kev"])
    )
    write_json(doc, output, one_line_arrays=True)
    log.info("model spectra: SM and %d benchmarks -> %s", len(doc["benchmarks"]), output)


def fit_spectrum(
    params: Mapping[str, Any], workspace_path: str, limit_path: str, signal: str, output: str
) -> None:
    """Rule ``fit_spectrum``: best fit and spectra of one signal (XMASS-I Figs. 3, 5).

    ``params``: ``likelihood`` (config ``fit.likelihood``).
    """
    from exonu.products.spectra import fit_spectrum as compute
    from exonu.stats import load_workspace

    doc = compute(load_workspace(workspace_path), signal, _read(limit_path), params["likelihood"])
    write_json(doc, output, one_line_arrays=True)
    log.info(
        "%s: best fit %.4g %s, chi2/ndof %.2f/%d",
        signal,
        doc["best_fit"],
        doc["unit"],
        doc["chi2_best"],
        doc["ndof"],
    )


def delta_chi2_curves(
    params: Mapping[str, Any], workspace_path: str, response_path: str, output: str
) -> None:
    """Rule ``delta_chi2_curves``: Δχ² curves of every hypothesis of one scan (Khan Fig. 3).

    ``params``: ``scan_name``, ``scan``, ``curves`` (``plots.curves``), ``physics``,
    ``likelihood``, ``target_mass_kg``, ``systematic_regions_kev``.
    """
    from exonu.products.curves import scan_curves
    from exonu.stats import load_workspace

    ws = load_workspace(workspace_path)
    cfg = params["curves"]
    doc = scan_curves(
        ws,
        _response(params, response_path, ws),
        params["physics"],
        params["scan_name"],
        params["scan"],
        n_points=int(cfg["n_points"]),
        levels=[float(v) for v in cfg["levels"]],
        likelihood=params["likelihood"],
        systematic_regions_kev=params.get("systematic_regions_kev"),
    )
    doc["analysis"] = ws.analysis
    write_json(doc, output, one_line_arrays=True)


def contour(
    params: Mapping[str, Any], workspace_path: str, response_path: str, output: str
) -> None:
    """Rule ``contour``: Δχ² of two flavour couplings on a grid (Khan Fig. 5).

    ``params``: ``contour`` (one entry of ``plots.contours``), ``physics``, ``likelihood``,
    ``target_mass_kg``, ``systematic_regions_kev``.
    """
    from exonu.products.curves import flavour_contour
    from exonu.stats import load_workspace

    ws = load_workspace(workspace_path)
    spec = dict(params["contour"])
    doc = flavour_contour(
        ws,
        _response(params, response_path, ws),
        params["physics"],
        spec.pop("name"),
        spec,
        likelihood=params["likelihood"],
        systematic_regions_kev=params.get("systematic_regions_kev"),
    )
    doc["analysis"] = ws.analysis
    write_json(doc, output, one_line_arrays=True)
    log.info(
        "contour %s: best fit %s, %d failed fits", doc["name"], doc["best_fit"], doc["n_failed"]
    )


def summary_table(
    fit_paths: Mapping[str, str], scan_paths: Sequence[str], csv: str, md: str, tex: str
) -> None:
    """Rule ``summary_table``: limits and best fits of all fits and scans (XMASS-I §4); entries
    with plausibility warnings are marked (:mod:`exonu.products.tables`)."""
    from exonu.products import tables

    rows = tables.summary_rows(
        {name: _read(p) for name, p in fit_paths.items()}, [_read(p) for p in scan_paths]
    )
    cls = {r["cl"] for r in rows if r.get("cl") is not None}
    cl = cls.pop() if len(cls) == 1 else None
    write_text(tables.summary_csv(rows), csv)
    write_text(tables.summary_markdown(rows, cl), md)
    caption = "Best fits, $\\chi^2$/dof at the best fit and at zero coupling, and limits"
    if cl is not None:
        caption += f" at {100 * cl:g}\\% CL"
    write_text(tables.summary_latex(rows, caption), tex)
    log.info("summary table: %d rows", len(rows))
    flagged = [r["hypothesis"] for r in rows if r.get("warnings")]
    if flagged:
        log.warning(
            "summary table: %d of %d entries carry plausibility warnings (marked †): %s",
            len(flagged),
            len(rows),
            ", ".join(flagged),
        )


def hepdata(
    params: Mapping[str, Any],
    *,
    spectra: Sequence[str],
    fits: Mapping[str, str],
    scans: Sequence[str],
    exclusion_scans: Sequence[str],
    curves: Sequence[str],
    contours: Sequence[str],
    archive: str,
    record: str,
) -> None:
    """Rule ``hepdata``: the validated HEPData submission archive (and a JSON record of it).

    ``params``: ``analysis``.
    """
    from exonu.products.hepdata import build_submission, write_submission
    from exonu.products.tables import summary_rows

    rows = summary_rows({k: _read(p) for k, p in fits.items()}, [_read(p) for p in scans])
    sub = build_submission(
        analysis=params["analysis"],
        spectra=[_read(p) for p in spectra],
        summary_rows=rows,
        exclusion_scans=[_read(p) for p in exclusion_scans],
        curves=[_read(p) for p in curves],
        contours=[_read(p) for p in contours],
    )
    with atomic_output(archive) as tmp:
        result = write_submission(sub, tmp)
    write_json(result, record, one_line_arrays=True)
    log.info("HEPData submission with %d tables validated -> %s", len(result["tables"]), archive)


def pyhf_export(workspace_path: str, signal: str, output: str, metadata_output: str) -> None:
    """Rule ``pyhf_workspace``: the HistFactory JSON of a single-power signal, validated by
    pyhf, and its sidecar with exonu's own Poisson profile result (``exonu_reference``)."""
    import pyhf

    from exonu.products.pyhf_export import exonu_reference, pyhf_metadata, pyhf_workspace
    from exonu.stats import load_workspace

    ws = load_workspace(workspace_path)
    spec = pyhf_workspace(ws, signal)
    pyhf.Workspace(spec).model()  # schema validation and a model pyhf can build
    reference = exonu_reference(ws, signal)
    write_json(spec, output, one_line_arrays=True)
    write_json(
        pyhf_metadata(ws, signal, reference=reference), metadata_output, one_line_arrays=True
    )
    log.info(
        "pyhf workspace of %s -> %s (exonu Poisson profile: best fit %.4g, limit %.4g %s)",
        signal,
        output,
        reference["best_fit"],
        reference["upper_limit"],
        reference["unit"],
    )


def pyhf_patchset_export(
    workspace_path: str, signal: str, patchset_output: str, base_output: str, metadata_output: str
) -> None:
    """Rule ``pyhf_patchset``: a polynomial (interference) signal as a pyhf PatchSet over a
    grid of its coupling on the background-only workspace, validated by pyhf (schema, digest,
    every patch applied and built), with exonu's profiled χ² at every grid point."""
    import pyhf

    from exonu.products.pyhf_export import (
        coupling_grid,
        exonu_reference,
        pyhf_metadata,
        pyhf_patchset,
    )
    from exonu.stats import load_workspace

    ws = load_workspace(workspace_path)
    sig = ws.signal(signal)
    first = exonu_reference(ws, signal)
    grid = coupling_grid(first, sig.leading_power, two_sided=sig.two_sided)
    reference = exonu_reference(ws, signal, couplings=grid)
    spec, base = pyhf_patchset(ws, signal, grid)
    patchset = pyhf.PatchSet(spec)  # schema validation
    patchset.verify(base)  # the digest is that of the background-only workspace
    for patch in patchset:
        pyhf.Workspace(patch.apply(base)).model()
    write_json(spec, patchset_output, one_line_arrays=True)
    write_json(base, base_output, one_line_arrays=True)
    write_json(
        pyhf_metadata(ws, signal, reference=reference, patchset=True),
        metadata_output,
        one_line_arrays=True,
    )
    log.info("pyhf PatchSet of %s: %d patches -> %s", signal, len(grid), patchset_output)


def published_comparison(
    params: Mapping[str, Any],
    fit_paths: Mapping[str, str],
    expected_paths: Sequence[str],
    scan_paths: Sequence[str],
    dead_pmt_path: str | None,
    out_json: str,
    out_csv: str,
    out_md: str,
) -> None:
    """Rule ``published_comparison``: exonu vs the published XMASS-I numbers (JSON, CSV and
    Markdown; :mod:`exonu.products.comparison`). ``params``: the config subtree of
    :func:`exonu.products.comparison.comparison_document`."""
    from exonu.products.comparison import (
        comparison_csv,
        comparison_document,
        comparison_markdown,
    )

    fits = {name: _read(p) for name, p in fit_paths.items()}
    shards: dict[str, list[Any]] = {}
    for p in expected_paths:
        shards.setdefault(Path(p).parent.name, []).append(_read(p))
    doc = comparison_document(
        fits,
        shards,
        [_read(p) for p in scan_paths],
        params,
        _read(dead_pmt_path) if dead_pmt_path else None,
    )
    write_json(doc, out_json)
    write_text(comparison_csv(doc), out_csv)
    write_text(comparison_markdown(doc), out_md)


# --------------------------------------------------------------------------- figures


def model_spectra_figure(params: Mapping[str, Any], doc: str, outputs: Sequence[str]) -> None:
    """Rule ``model_spectra_figure`` (``params``: ``plots`` style and formats)."""
    from exonu.products import figures

    figures.model_spectra_figure(_read(doc), outputs, params["plots"])


def fit_figure(params: Mapping[str, Any], doc: str, outputs: Sequence[str]) -> None:
    """Rule ``fit_figure`` (``params``: ``plots`` style and formats)."""
    from exonu.products import figures

    figures.fit_figure(_read(doc), outputs, params["plots"])


def millicharge_figure(params: Mapping[str, Any], scan: str, outputs: Sequence[str]) -> None:
    """Rule ``millicharge_figure`` (``params``: ``plots`` style and formats)."""
    from exonu.products import figures

    figures.millicharge_figure(_read(scan), outputs, params["plots"])


def exclusion_figure(params: Mapping[str, Any], scan: str, outputs: Sequence[str]) -> None:
    """Rule ``exclusion_figure`` (``params``: ``plots`` style and formats)."""
    from exonu.products import figures

    figures.exclusion_figure(_read(scan), outputs, params["plots"])


def delta_chi2_figure(params: Mapping[str, Any], doc: str, outputs: Sequence[str]) -> None:
    """Rule ``delta_chi2_figure`` (``params``: ``plots`` style and formats)."""
    from exonu.products import figures

    figures.delta_chi2_figure(_read(doc), outputs, params["plots"])


def contour_figure(params: Mapping[str, Any], doc: str, outputs: Sequence[str]) -> None:
    """Rule ``contour_figure`` (``params``: ``plots`` style and formats)."""
    from exonu.products import figures

    figures.contour_figure(_read(doc), outputs, params["plots"])


def published_comparison_figure(
    params: Mapping[str, Any], doc: str, outputs: Sequence[str]
) -> None:
    """Rule ``published_comparison_figure`` (``params``: ``plots`` style and formats)."""
    from exonu.products.comparison import comparison_figure

    comparison_figure(_read(doc), outputs, params["plots"]["style"])


def background_figure(
    params: Mapping[str, Any], model: str, data_hist: str, outputs: Sequence[str]
) -> None:
    """Rule ``background_figure``: the background model with the data, like XMASS Fig. 2
    (``params``: ``plots`` style and formats)."""
    from exonu.products.background_figure import background_figure as draw
    from exonu.selection.run import read_result

    draw(model, outputs, params["plots"], read_result(data_hist).energy)


def efficiency_figure(params: Mapping[str, Any], response: str, outputs: Sequence[str]) -> None:
    """Rule ``efficiency_figure``: signal efficiency per fit window, like XMASS Fig. 3 (bottom)
    (``params``: ``plots`` and the fit ``windows``)."""
    from exonu.products.response_figure import efficiency_figure as draw

    draw(response, params["windows"], outputs, params["plots"])
