"""Limits on many hypotheses at once: Khan-style tables and the binning/likelihood comparison.

* :func:`table_entries` / :func:`compute_table` — one limit or interval per (model, flavour)
  of a table spec (``release.tables.<name>``), e.g. the analogue of A. N. Khan's Table I
  (arXiv:2006.12887: 90 % CL intervals per flavour of μ_ν, ⟨r²⟩, q_ν and the anapole) and
  Table II (vector, axial-vector, scalar and pseudoscalar couplings at a 10-keV mediator).
  Each entry is the shared signal stage's spectrum (:func:`~exonu.external.workspace.
  spectrum_document`) folded with the release's response, added to the release workspace,
  and one :func:`exonu.stats.plausibility.checked_limit` call (the limit, its plausibility
  warnings and the stability of the limit under a one-bin move of the window).
* :func:`compute_comparison` — the same signals with other reconstructed binnings and with the
  χ², Poisson and unbinned likelihoods, to show how the limits move with those choices (every
  row with its plausibility warnings).

Computation only; the tables and figures are written by :mod:`exonu.products.external_tables`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from exonu.detector.folding import Response
from exonu.external.checks import release_warnings
from exonu.external.errors import ReleaseError
from exonu.external.release import Release
from exonu.external.unbinned import checked_unbinned_limit
from exonu.external.workspace import external_workspace, response_for, spectrum_document
from exonu.physics import MODELS
from exonu.stats.plausibility import checked_limit, workspace_warnings
from exonu.stats.workspace import Workspace
from exonu.templates.signals import signal_workspace_entry

__all__ = ["clip_window", "compute_comparison", "compute_table", "entry_name", "table_entries"]

log = logging.getLogger("exonu")


def entry_name(model: str, flavour: str, treatment: str | None, mass_mev: float | None) -> str:
    """Signal name of a table entry, e.g. ``millicharge_full_e`` or ``vector_m0.01MeV_all``."""
    parts = [model]
    if treatment:
        parts.append(treatment)
    if mass_mev is not None:
        parts.append(f"m{mass_mev:g}MeV")
    parts.append(flavour)
    return "_".join(parts).replace("-", "m")


def table_entries(spec: Mapping[str, Any], window_kev: Sequence[float]) -> list[dict[str, Any]]:
    """Signal config entries of a table spec (models × flavours).

    ``spec``: ``models`` (list of ``{model, treatment?, scale?}``), ``flavours`` (default
    ``[all]``), ``mediator_mass_mev`` (for the mediator models). The scale (physical value of
    x = 1) defaults to the model's ``reference_value``.
    """
    entries = []
    mass = spec.get("mediator_mass_mev")
    for m in spec["models"]:
        info = MODELS[m["model"]]
        treatment = m.get("treatment") or info.default_treatment
        m_mass = float(mass) if (info.needs_mass and mass is not None) else None
        if info.needs_mass and m_mass is None:
            raise ReleaseError(
                f"table model {m['model']!r} needs mediator_mass_mev in its table spec"
            )
        for flavour in spec.get("flavours", ["all"]):
            entries.append(
                {
                    "name": entry_name(m["model"], flavour, treatment, m_mass),
                    "model": m["model"],
                    "flavour": flavour,
                    **({"treatment": treatment} if treatment else {}),
                    **({"mediator_mass_mev": m_mass} if m_mass is not None else {}),
                    "scale": float(m.get("scale") or info.reference_value or 1.0),
                    "fit_window_kev": [float(window_kev[0]), float(window_kev[1])],
                    "free_backgrounds": [],
                }
            )
    return entries


def clip_window(window: Sequence[float], edges: np.ndarray) -> list[float]:
    """The part of ``window`` covered by ``edges`` (whole bins only)."""
    lo = max(float(window[0]), float(edges[0]))
    hi = min(float(window[1]), float(edges[-1]))
    inside = edges[(edges >= lo - 1e-9) & (edges <= hi + 1e-9)]
    if inside.size < 2:
        raise ReleaseError(f"window {list(window)} keV contains no whole bin of {edges.tolist()}")
    return [float(inside[0]), float(inside[-1])]


def _result_row(res: Any, spec: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    d = res.to_dict()
    d["scale"] = spec["scale"]
    d["fit_window_kev"] = list(spec["fit_window_kev"])
    d["delta_chi2_zero"] = float(d["chi2_zero"] - d["chi2_best"])
    d.update(extra)
    return d


def compute_table(
    name: str,
    spec: Mapping[str, Any],
    workspace_doc: Mapping[str, Any],
    response: Response,
    physics: Mapping[str, Any],
    true_energy_kev: Any,
    fit: Mapping[str, Any],
    window_kev: Sequence[float] | None = None,
    *,
    window_check: bool = True,
) -> dict[str, Any]:
    """Every entry of one table (see the module docstring), with the plausibility checks.

    Parameters
    ----------
    name : str
        Table name.
    spec : mapping
        The table spec (``release.tables.<name>``).
    workspace_doc : mapping
        The release workspace (data and backgrounds are reused; its signals are replaced).
    response : Response
        The release response on the workspace's binning.
    physics, true_energy_kev
        ``physics`` config block and ``binning.true_energy_kev``.
    fit : mapping
        ``fit`` block: ``method``, ``likelihood``, ``cl``.
    window_kev : sequence, optional
        Fit window (default: the whole binning).
    window_check : bool
        Also recompute every entry with the window edges moved by one bin
        (:func:`exonu.stats.plausibility.checked_limit`; each row gets ``warnings``).
    """
    edges = np.asarray(workspace_doc["binning"]["edges_kev"], dtype=np.float64)
    window = clip_window(window_kev or [edges[0], edges[-1]], edges)
    entries = table_entries(spec, window)
    mass = float(workspace_doc["exposure"]["fiducial_mass_kg"])
    livetime = float(workspace_doc["exposure"]["livetime_s"])
    doc = dict(workspace_doc)
    doc["signals"] = [
        signal_workspace_entry(
            e, spectrum_document(e, physics, true_energy_kev), response, mass, livetime
        )
        for e in entries
    ]
    ws = Workspace.from_dict(doc, source=f"table {name}")
    rows = []
    for e in entries:
        res = checked_limit(ws, e["name"], fit, window_check=window_check)
        for w in res.warnings:
            log.warning("table %s: %s: %s", name, e["name"], w)
        log.info(
            "table %s: %s [%s, %s] %s", name, e["name"], res.lower_limit, res.upper_limit, res.unit
        )
        rows.append(_result_row(res, e, table=name))
    return {
        "table": name,
        "caption": spec.get("caption", ""),
        "mediator_mass_mev": spec.get("mediator_mass_mev"),
        "flavours": list(spec.get("flavours", ["all"])),
        "models": [dict(m) for m in spec["models"]],
        "method": fit["method"],
        "likelihood": fit["likelihood"],
        "cl": float(fit["cl"]),
        "fit_window_kev": window,
        "workspace_digest": ws.digest(),
        "rows": rows,
    }


def compute_comparison(
    analysis: str,
    release: Release,
    binnings: Sequence[tuple[str, np.ndarray]],
    signals: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    likelihoods: Sequence[str],
    methods: Sequence[str],
    cl: float,
    sm_true_rate: np.ndarray | None = None,
    *,
    window_check: bool = True,
) -> dict[str, Any]:
    """Limits of ``signals`` for every binning × likelihood × method (``unbinned`` once), each
    with its plausibility ``warnings`` (:mod:`exonu.stats.plausibility`; ``window_check``:
    also the limits with the window edges moved by one bin of that binning, of the nominal
    binning for the unbinned fit).

    Parameters
    ----------
    binnings : sequence of (name, edges)
        Reconstructed binnings; the first is the nominal one.
    signals : sequence of (config entry, spectrum document)
        Signals and their spectra on the true bins.
    likelihoods : sequence of str
        ``chi2``, ``poisson`` (binned) and/or ``unbinned``.
    methods : sequence of str
        ``profile`` and/or ``bayesian``.
    """
    rows: list[dict[str, Any]] = []
    binned = [lk for lk in likelihoods if lk != "unbinned"]
    for bname, edges in binnings:
        if not binned:
            break
        t_edges = np.asarray(signals[0][1]["true_edges_kev"], dtype=np.float64)
        resp = response_for(release, t_edges, edges)
        specs = []
        for spec, spectrum in signals:
            s = dict(spec)
            s["fit_window_kev"] = clip_window(spec["fit_window_kev"], edges)
            specs.append((s, spectrum))
        ws = Workspace.from_dict(
            external_workspace(analysis, release, edges, resp, specs, sm_true_rate),
            source=f"comparison {bname}",
        )
        ws = ws.with_warnings([*release_warnings(release, edges), *workspace_warnings(ws)])
        for s, _ in specs:
            for lik in binned:
                for method in methods:
                    fit = {"method": method, "cl": cl, "likelihood": lik}
                    res = checked_limit(ws, s["name"], fit, window_check=window_check)
                    rows.append(
                        _result_row(
                            res,
                            s,
                            binning=bname,
                            bin_width_kev=_width(edges),
                            n_bins_total=ws.n_bins,
                        )
                    )
    if "unbinned" in likelihoods:
        for spec, spectrum in signals:
            window = (float(spec["fit_window_kev"][0]), float(spec["fit_window_kev"][1]))
            for method in methods:
                res = checked_unbinned_limit(
                    release,
                    spec,
                    spectrum,
                    window,
                    method,
                    cl,
                    sm_true_rate,
                    analysis,
                    edges_kev=binnings[0][1],
                    window_check=window_check,
                )
                rows.append(_result_row(res, spec, binning="unbinned", bin_width_kev=None))
    return {
        "analysis": analysis,
        "binnings": [{"name": n, "edges_kev": e.tolist()} for n, e in binnings],
        "likelihoods": list(likelihoods),
        "methods": list(methods),
        "cl": cl,
        "rows": rows,
    }


def _width(edges: np.ndarray) -> float | str:
    w = np.diff(edges)
    return float(w[0]) if np.allclose(w, w[0]) else "variable"
