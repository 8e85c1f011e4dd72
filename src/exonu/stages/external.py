"""The external published-release mode (``workflow/rules/external.smk``): response, workspace,
unbinned limits, limit tables, the binning/likelihood comparison and their figures.

``params`` always carry the config subtree the stage depends on (``release_dir`` and the
relevant part of ``release``, ``binning``, ``physics``, ``fit``, ...).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from exonu.external.release import ReleaseSettings, read_efficiency, read_release
from exonu.external.response import build_response, response_from_dict, response_to_dict
from exonu.external.survey import compute_comparison, compute_table
from exonu.external.workspace import external_workspace, standard_model_true
from exonu.stages.runtime import write_json, write_text

__all__ = [
    "comparison",
    "khan_comparison",
    "overview_figure",
    "response",
    "significance",
    "table",
    "table_figure",
    "unbinned",
    "workspace",
]

log = logging.getLogger("exonu")


def _edges(spec: Any, key: str) -> np.ndarray:
    from exonu.selection.run import edges_from_spec

    return edges_from_spec(spec, key)


def _settings(params: Mapping[str, Any]) -> ReleaseSettings:
    return ReleaseSettings.from_config(params["release"], params["release_dir"])


def _sm(params: Mapping[str, Any], true_edges: np.ndarray) -> np.ndarray | None:
    if not params["release"].get("solar_nu", {}).get("replace", False):
        return None
    return standard_model_true(params["physics"], true_edges)


def _load(path: str) -> dict[str, Any]:
    return dict(json.loads(Path(path).read_text()))


def response(params: Mapping[str, Any], output: str) -> None:
    """Rule ``external_response``: ``response.json``, efficiency × resolution on (true,
    reconstructed) bins.

    ``params``: ``release_dir``, ``release`` (efficiency, resolution, exposure), ``binning``.
    """
    from exonu.external.checks import check_efficiency

    s = _settings(params)
    eff = read_efficiency(s)
    t_edges = _edges(params["binning"]["true_energy_kev"], "binning.true_energy_kev")
    e_edges = _edges(params["binning"]["energy_kev"], "binning.energy_kev")
    check_efficiency(eff, e_edges)
    resp = build_response(t_edges, e_edges, eff, s.resolution, s.efficiency_applies_to)
    source = (
        f"release {s.directory} ({s.efficiency_file}; efficiency at the "
        f"{s.efficiency_applies_to} energy; {s.resolution.describe()})"
    )
    doc = response_to_dict(resp, s.fiducial_mass_kg, s.livetime_s, source)
    write_json(doc, output, one_line_arrays=True)
    log.info("response %s: detection probability max %.3f", output, resp.efficiency.max())


def workspace(
    params: Mapping[str, Any],
    response_path: str,
    spectra: Sequence[str],
    output: str,
    strict: bool = False,
) -> None:
    """Rule ``external_workspace``: ``workspace.json`` of the release with the configured
    signals.

    ``params``: ``analysis``, ``release_dir``, ``release``, ``binning.energy_kev`` (as
    ``energy_kev``), ``signals``, ``physics`` (only with ``solar_nu.replace``). The
    plausibility warnings of the release and of the workspace (:mod:`exonu.stats.plausibility`)
    are stored in its ``warnings``; with ``strict`` the first one stops the job instead
    (nothing is written).
    """
    from exonu.external.checks import analysis_windows, check_release_model, release_warnings
    from exonu.stats.plausibility import check_background, enforce_strict, workspace_warnings
    from exonu.stats.workspace import Workspace

    release = read_release(_settings(params))
    resp_doc = _load(response_path)
    resp = response_from_dict(resp_doc, response_path)
    edges = _edges(params["energy_kev"], "binning.energy_kev")
    check_release_model(release, edges, analysis_windows(params["signals"]))
    by_name = {s["name"]: s for s in params["signals"]}
    sigs = []
    for path in spectra:
        spectrum = _load(path)
        sigs.append((by_name[spectrum["name"]], spectrum))
    doc = external_workspace(
        params["analysis"],
        release,
        edges,
        resp,
        sigs,
        _sm(params, resp.true_edges),
        metadata={"response": resp_doc["source"]},
    )
    ws = Workspace.from_dict(doc, source=output)
    files = [str(release.settings.directory / b.file) for b in release.settings.backgrounds]
    check_background(ws, f"release background model {', '.join(files)} (release.backgrounds)")
    ws = ws.with_warnings([*release_warnings(release, edges), *workspace_warnings(ws)])
    for w in ws.warnings:
        log.warning("workspace %s: %s", output, w)
    enforce_strict(ws.warnings, strict)
    write_json(ws.to_dict(), output, one_line_arrays=True)
    log.info(
        "workspace %s: %d events in %d bins, backgrounds %s",
        output,
        int(ws.observed.sum()),
        ws.n_bins,
        {b.name: round(float(np.sum(b.expected)), 2) for b in ws.backgrounds},
    )


def unbinned(
    params: Mapping[str, Any], spectrum_path: str, output: str, strict: bool = False
) -> None:
    """Rule ``external_unbinned_limit``: unbinned extended-likelihood limit of one signal, with
    the plausibility checks.

    ``params``: ``analysis``, ``release_dir``, ``release``, ``signal`` (config entry), ``fit``
    (``method``; ``neyman`` falls back to ``profile``), ``energy_kev`` (``binning.energy_kev``:
    the data checks and the one-bin moves of the window), ``physics`` (with
    ``solar_nu.replace``). With ``strict`` a warning stops the job (nothing is written).
    """
    from exonu.external.unbinned import checked_unbinned_limit
    from exonu.stats.plausibility import enforce_strict

    release = read_release(_settings(params))
    spectrum = _load(spectrum_path)
    spec = params["signal"]
    method = params["fit"]["method"]
    if method not in ("bayesian", "profile"):
        log.warning("method %r is not available unbinned: using 'profile'", method)
        method = "profile"
    t_edges = np.asarray(spectrum["true_edges_kev"], dtype=np.float64)
    edges = _edges(params["energy_kev"], "binning.energy_kev") if "energy_kev" in params else None
    res = checked_unbinned_limit(
        release,
        spec,
        spectrum,
        tuple(spec["fit_window_kev"]),
        method,
        float(params["fit"]["cl"]),
        _sm(params, t_edges),
        params["analysis"],
        edges_kev=edges,
    )
    for w in res.warnings:
        log.warning("%s (unbinned): %s", spec["name"], w)
    enforce_strict(res.warnings, strict, spec["name"])
    write_json(res.to_dict(), output, one_line_arrays=True)
    log.info("%s (unbinned): [%s, %s]", spec["name"], res.lower_limit, res.upper_limit)


def _strict_rows(rows: Sequence[Mapping[str, Any]], strict: bool) -> None:
    from exonu.stats.plausibility import enforce_strict

    for r in rows:
        enforce_strict(r.get("warnings", ()), strict, str(r.get("signal")))


def table(
    params: Mapping[str, Any],
    workspace_path: str,
    response_path: str,
    outputs: Mapping[str, str],
    strict: bool = False,
) -> None:
    """Rule ``external_table``: one limits table (``outputs``: ``json``, ``csv``, ``md``,
    ``tex`` paths).

    ``params``: ``name``, ``table`` (spec), ``physics``, ``true_energy_kev``, ``fit``,
    ``fit_window_kev`` (``release.fit_window_kev``). Every entry carries its plausibility
    warnings (with the one-bin window check); with ``strict`` a warning stops the job before
    anything is written.
    """
    from exonu.products.external_tables import rows_csv, table_latex, table_markdown

    ws_doc = _load(workspace_path)
    resp = response_from_dict(_load(response_path), response_path)
    doc = compute_table(
        params["name"],
        params["table"],
        ws_doc,
        resp,
        params["physics"],
        params["true_energy_kev"],
        params["fit"],
        params.get("fit_window_kev"),
    )
    _strict_rows(doc["rows"], strict)
    write_json(doc, outputs["json"], one_line_arrays=True)
    write_text(rows_csv(doc["rows"]), outputs["csv"])
    write_text(table_markdown(doc), outputs["md"])
    write_text(table_latex(doc), outputs["tex"])


def comparison(
    params: Mapping[str, Any],
    spectra: Sequence[str],
    outputs: Mapping[str, str],
    strict: bool = False,
) -> None:
    """Rule ``external_comparison``: limits per binning × likelihood × method (``outputs``:
    json, csv, md, tex).

    ``params``: ``analysis``, ``release_dir``, ``release`` (with ``comparison``),
    ``energy_kev`` (nominal binning), ``signals`` (the compared entries), ``cl``, ``physics``.
    Every row carries its plausibility warnings (with the one-bin window check); with
    ``strict`` a warning stops the job before anything is written.
    """
    from exonu.products.external_tables import comparison_latex, comparison_markdown, rows_csv

    release = read_release(_settings(params))
    comp = params["release"]["comparison"]
    binnings = [("nominal", _edges(params["energy_kev"], "binning.energy_kev"))]
    for i, b in enumerate(comp.get("binnings", [])):
        key = f"release.comparison.binnings[{i}].energy_kev"
        binnings.append((b["name"], _edges(b["energy_kev"], key)))
    by_name = {s["name"]: s for s in params["signals"]}
    sigs = []
    for path in spectra:
        spectrum = _load(path)
        sigs.append((by_name[spectrum["name"]], spectrum))
    t_edges = np.asarray(sigs[0][1]["true_edges_kev"], dtype=np.float64)
    doc = compute_comparison(
        params["analysis"],
        release,
        binnings,
        sigs,
        comp.get("likelihoods", ["chi2", "poisson", "unbinned"]),
        comp.get("methods", ["profile", "bayesian"]),
        float(params["cl"]),
        _sm(params, t_edges),
    )
    _strict_rows(doc["rows"], strict)
    write_json(doc, outputs["json"], one_line_arrays=True)
    write_text(rows_csv(doc["rows"]), outputs["csv"])
    write_text(comparison_markdown(doc), outputs["md"])
    write_text(comparison_latex(doc), outputs["tex"])


def khan_comparison(
    params: Mapping[str, Any], tables: Mapping[str, str], outputs: Mapping[str, str]
) -> None:
    """Rule ``external_khan_comparison``: A. N. Khan's Tables I and II (arXiv:2006.12887; the
    package data file ``khan_published.yaml``) next to the entries of the release tables
    (``tables``: table name -> ``tables/<name>.json``; ``outputs``: json, csv, md).

    ``params``: ``analysis`` (for the log).
    """
    from exonu.products.khan import khan_csv, khan_document, khan_markdown

    doc = khan_document({name: _load(path) for name, path in tables.items()})
    doc["analysis"] = params.get("analysis")
    missing = [r["quantity"] + "/" + r["flavour"] for r in doc["rows"] if not r["exonu_entry"]]
    if missing:
        log.warning("khan comparison: no release.tables entry for %s", ", ".join(missing))
    write_json(doc, outputs["json"])
    write_text(khan_csv(doc), outputs["csv"])
    write_text(khan_markdown(doc), outputs["md"])


def significance(
    params: Mapping[str, Any],
    response_path: str,
    spectra: Sequence[str],
    outputs: Mapping[str, str],
) -> None:
    """Rule ``external_significance``: interval and local significance Z = √(χ²(0) − χ²_min)
    of the headline signals under the nominal background model and every
    ``release.background_variants`` entry (``outputs``: json, csv, md;
    :mod:`exonu.products.significance`).

    ``params``: ``analysis``, ``release_dir``, ``release`` (the model keys,
    ``background_variants`` and ``significance``), ``energy_kev``, ``signals`` (the config
    entries of ``release.significance.signals``), ``fit``, ``physics`` (with
    ``solar_nu.replace``). The plausibility warnings are not enforced here: the table is about
    the background-only discrepancy they would flag.
    """
    from exonu.products.significance import (
        load_published,
        significance_csv,
        significance_document,
        significance_markdown,
        variant_release_blocks,
    )
    from exonu.stats.limits import upper_limit
    from exonu.stats.workspace import Workspace

    rel_cfg = dict(params["release"])
    variants_cfg = dict(rel_cfg.pop("background_variants", None) or {})
    sig_cfg = dict(rel_cfg.pop("significance", None) or {})
    resp = response_from_dict(_load(response_path), response_path)
    edges = _edges(params["energy_kev"], "binning.energy_kev")
    by_name = {s["name"]: s for s in params["signals"]}
    sigs = []
    for path in spectra:
        spectrum = _load(path)
        sigs.append((by_name[spectrum["name"]], spectrum))
    sm = _sm(params, resp.true_edges)
    fit = params["fit"]
    method = fit["method"] if fit["method"] in ("profile", "bayesian") else "profile"
    variants = []
    for name, desc, block in variant_release_blocks(rel_cfg, variants_cfg):
        release = read_release(ReleaseSettings.from_config(block, params["release_dir"]))
        doc = external_workspace(params["analysis"], release, edges, resp, sigs, sm)
        ws = Workspace.from_dict(doc, source=f"significance {name}")
        results = []
        for spec, _ in sigs:
            res = upper_limit(
                ws, spec["name"], method=method, cl=float(fit["cl"]), likelihood=fit["likelihood"]
            )
            d = res.to_dict()
            results.append(d)
            log.info(
                "significance %s (%s): [%s, %s], chi2(0) - chi2_min = %.3f",
                spec["name"],
                name,
                res.lower_limit,
                res.upper_limit,
                d["chi2_zero"] - d["chi2_best"],
            )
        norm = {str(k): str(v) for k, v in dict(block.get("normalisation") or {}).items()}
        variants.append((name, desc, norm, results))
    pub_file = sig_cfg.get("published")
    doc = significance_document(
        params["analysis"], variants, load_published(pub_file) if pub_file else None, pub_file
    )
    write_json(doc, outputs["json"])
    write_text(significance_csv(doc), outputs["csv"])
    write_text(significance_markdown(doc), outputs["md"])


# --------------------------------------------------------------------------- figures


def table_figure(params: Mapping[str, Any], doc: str, outputs: Sequence[str]) -> None:
    """Rules ``external_table_figure`` and ``external_comparison_figure``: a table document
    (``tables/<name>.json`` or ``tables/comparison.json``) as a figure (``params``: ``plots``)."""
    from exonu.products.external_tables import comparison_figure
    from exonu.products.external_tables import table_figure as draw_table

    data = _load(doc)
    draw = draw_table if "table" in data else comparison_figure
    draw(data, outputs, params["plots"])


def overview_figure(
    params: Mapping[str, Any], workspace_path: str, response_path: str, outputs: Sequence[str]
) -> None:
    """Rule ``external_overview_figure``: data, background model and detection probability of
    the release (``params``: ``plots``)."""
    from exonu.products.external_tables import overview_figure as draw

    draw(workspace_path, response_path, outputs, params["plots"])
