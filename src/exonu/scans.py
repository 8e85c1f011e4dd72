"""Scans of hypotheses: which (model, flavour, mediator mass) to fit, in shards.

A scan (config ``scans.<name>``) expands into an ordered list of
:class:`Hypothesis`. Shard ``i`` of ``n`` takes hypotheses ``i, i+n, i+2n, ...``;
each hypothesis is computed independently (physics spectrum on the true-energy
bins -> folded with the detector response -> one signal in the workspace ->
fit and limit), so the merged result is identical for any number of shards.

The response file (``response.json``) is the common interface of the two modes:
the signal Monte Carlo's S(T, E_rec) in events mode, efficiency x resolution in
the external-release mode (XMASS-I eq. 3).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from exonu.templates.build import Response, bin_average, signal_workspace_entry

#: Columns of the limit tables, in order.
TABLE_COLUMNS = (
    "hypothesis",
    "model",
    "flavour",
    "mediator_mass_mev",
    "parameter",
    "unit",
    "method",
    "cl",
    "best_fit",
    "lower_limit",
    "upper_limit",
    "chi2_best",
    "chi2_zero",
    "ndof",
    "fit_valid",
    "warnings",
)


#: Keys of a ``signals`` or ``scans`` entry that override the ``physics`` block for that
#: signal alone (e.g. XMASS-I: the equivalent-photon response for the millicharge, the stepping
#: approximation for μ_ν and B−L; Khan's oscillated composition for per-flavour limits).
PHYSICS_OVERRIDES = ("atomic_model", "flavour_composition")


class ScanError(ValueError):
    """Bad scan configuration or inputs; the message names the key or file."""


@dataclass(frozen=True)
class Hypothesis:
    """One signal hypothesis of a scan."""

    scan: str
    model: str
    flavour: str
    mediator_mass_mev: float | None
    treatment: str | None
    scale: float | str  # "auto": chosen from the expected signal (see :func:`auto_scale`)
    fit_window_kev: tuple[float, float]
    free_backgrounds: tuple[str, ...]
    #: per-scan overrides of the ``physics`` block (:data:`PHYSICS_OVERRIDES`); None = inherit
    atomic_model: str | None = None
    flavour_composition: str | None = None

    @property
    def name(self) -> str:
        """``<model>[_<flavour>][_m<mass>]``: the limit file name (no suffix)."""
        parts = [self.scan]
        if self.flavour != "all":
            parts.append(self.flavour)
        if self.mediator_mass_mev is not None:
            parts.append(f"m{self.mediator_mass_mev:.4g}MeV".replace("+", ""))
        return "_".join(parts)

    def spec(self) -> dict[str, Any]:
        """The config-style signal entry (as in ``signals:``)."""
        out: dict[str, Any] = {
            "name": self.name,
            "model": self.model,
            "flavour": self.flavour,
            "scale": self.scale,
            "fit_window_kev": list(self.fit_window_kev),
            "free_backgrounds": list(self.free_backgrounds),
        }
        if self.mediator_mass_mev is not None:
            out["mediator_mass_mev"] = self.mediator_mass_mev
        if self.treatment is not None:
            out["treatment"] = self.treatment
        for key in PHYSICS_OVERRIDES:
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


def mass_grid(spec: Mapping[str, Any] | Sequence[float] | None) -> list[float | None]:
    """Mediator masses (MeV) from a list or ``{log10_min, log10_max, n}``."""
    if spec is None:
        return [None]
    if isinstance(spec, Mapping):
        lo, hi, n = float(spec["log10_min"]), float(spec["log10_max"]), int(spec["n"])
        return [float(v) for v in np.logspace(lo, hi, n)]
    return [float(v) for v in spec]


def hypotheses(name: str, scan: Mapping[str, Any]) -> list[Hypothesis]:
    """Expand one ``scans.<name>`` entry (flavour-major, then mass)."""
    out = []
    for flavour in scan["flavours"]:
        for mass in mass_grid(scan.get("masses_mev")):
            out.append(
                Hypothesis(
                    scan=name,
                    model=scan["model"],
                    flavour=flavour,
                    mediator_mass_mev=mass,
                    treatment=scan.get("treatment"),
                    scale=scan.get("scale", "auto"),
                    fit_window_kev=(
                        float(scan["fit_window_kev"][0]),
                        float(scan["fit_window_kev"][1]),
                    ),
                    free_backgrounds=tuple(scan.get("free_backgrounds", ())),
                    atomic_model=scan.get("atomic_model"),
                    flavour_composition=scan.get("flavour_composition"),
                )
            )
    names = [h.name for h in out]
    if len(set(names)) != len(names):
        raise ScanError(f"config key 'scans.{name}': hypotheses with identical names {names}")
    return out


def shard_of(items: Sequence[Any], shard: int, n_shards: int) -> list[Any]:
    """Items of shard ``shard`` (0-based) of ``n_shards``: round robin."""
    if n_shards < 1 or not 0 <= shard < n_shards:
        raise ScanError(f"shard {shard} of {n_shards}: need 0 <= shard < n_shards")
    return list(items[shard::n_shards])


# --------------------------------------------------------------------------- physics


def signal_physics(spec: Mapping[str, Any], physics: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``physics`` block with the signal's own overrides (:data:`PHYSICS_OVERRIDES`).

    An ``atomic_model`` other than ``rrpa_table`` drops the block's ``rrpa_table`` path (it
    belongs to the block's model); ``rrpa_table`` without a path in the block is rejected by
    :class:`exonu.physics.PhysicsSettings` with a message naming the key.
    """
    out = dict(physics or {})
    for key in PHYSICS_OVERRIDES:
        if spec.get(key) is not None:
            out[key] = spec[key]
    if spec.get("atomic_model") not in (None, "rrpa_table"):
        out.pop("rrpa_table", None)
    return out


def hypothesis_spectrum(
    spec: Mapping[str, Any], physics: Mapping[str, Any], true_edges: np.ndarray
) -> dict[str, Any]:
    """Coefficient spectra of a signal hypothesis, bin-averaged on ``true_edges``.

    Rates in events/(tonne*year*keV) per unit parameter**power (exonu.physics). The signal's
    ``atomic_model``/``flavour_composition`` override the ``physics`` block
    (:func:`signal_physics`); the recorded ``atomic_model`` is the one used.
    """
    from exonu.physics import MODELS, PhysicsSettings, signal_basis, standard_model_rate

    settings = PhysicsSettings.from_mapping(signal_physics(spec, physics))
    kwargs: dict[str, Any] = {"flavour": spec.get("flavour", "all")}
    if spec.get("mediator_mass_mev") is not None:
        kwargs["mediator_mass_mev"] = float(spec["mediator_mass_mev"])
    if spec.get("treatment") is not None:
        kwargs["treatment"] = spec["treatment"]
    # rates vanish below the lowest binding energy; keep T > 0 for the bin averages
    floor = 1e-3

    def coefficients(t: np.ndarray) -> np.ndarray:
        return signal_basis(spec["model"], np.maximum(t, floor), settings, **kwargs).coefficients

    def sm(t: np.ndarray) -> np.ndarray:
        return standard_model_rate(np.maximum(t, floor), settings)

    probe = signal_basis(spec["model"], np.array([10.0]), settings, **kwargs)
    return {
        "name": spec["name"],
        "model": spec["model"],
        "parameter": probe.parameter,
        "unit": probe.unit,
        "flavour": probe.flavour,
        "mediator_mass_mev": probe.mediator_mass_mev,
        "treatment": probe.treatment,
        "atomic_model": settings.atomic_model,
        "flavour_composition": settings.flavour_composition,
        "sign_matters": bool(MODELS[spec["model"]].sign_matters(probe.treatment)),
        "powers": list(probe.powers),
        "true_edges_kev": np.asarray(true_edges).tolist(),
        "coefficients": bin_average(coefficients, np.asarray(true_edges)).tolist(),
        "standard_model": bin_average(sm, np.asarray(true_edges)).tolist(),
        "units": "events/(tonne*year*keV) per unit parameter**power",
    }


# --------------------------------------------------------------------------- response


@dataclass(frozen=True)
class ResponseFile:
    """A response with the exposure it applies to (``response.json``)."""

    response: Response
    target_mass_kg: float
    livetime_s: float
    source: str


def write_response(
    path: str | Path, response: Response, target_mass_kg: float, livetime_s: float, source: str
) -> None:
    from exonu.stats.workspace import dump_json_atomic

    dump_json_atomic(
        {
            "true_edges_kev": response.true_edges.tolist(),
            "energy_edges_kev": response.energy_edges.tolist(),
            "matrix": response.matrix.tolist(),
            "variance": response.variance.tolist(),
            "target_mass_kg": float(target_mass_kg),
            "livetime_s": float(livetime_s),
            "source": source,
        },
        path,
    )


def load_response(
    path: str | Path, target_mass_kg: float | None = None, livetime_s: float | None = None
) -> ResponseFile:
    """A response for folding hypotheses, from either mode's response file.

    Events mode: the signal-MC response (``templates/response.root``, with its
    systematic variations) applies to ``target_mass_kg`` (the active mass the
    signal MC fills) and the data live time ``livetime_s``. External mode: a
    ``response.json`` that carries its own exposure.
    """
    path = Path(path)
    if path.suffix == ".root":
        from exonu.templates.build import read_response as read_mc_response

        if target_mass_kg is None or livetime_s is None:
            raise ScanError(f"{path}: a Monte-Carlo response needs target mass and live time")
        return ResponseFile(read_mc_response(path), target_mass_kg, livetime_s, str(path))
    return read_response(path)


def read_response(path: str | Path) -> ResponseFile:
    try:
        doc = json.loads(Path(path).read_text())
        response = Response(
            true_edges=np.asarray(doc["true_edges_kev"], dtype=np.float64),
            energy_edges=np.asarray(doc["energy_edges_kev"], dtype=np.float64),
            matrix=np.asarray(doc["matrix"], dtype=np.float64),
            variance=np.asarray(doc["variance"], dtype=np.float64),
        )
        out = ResponseFile(
            response, float(doc["target_mass_kg"]), float(doc["livetime_s"]), str(doc["source"])
        )
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise ScanError(f"{path}: not a valid response file ({err})") from None
    shape = (len(response.true_edges) - 1, len(response.energy_edges) - 1)
    if response.matrix.shape != shape or response.variance.shape != shape:
        raise ScanError(f"{path}: matrix shape {response.matrix.shape}, expected {shape}")
    return out


# --------------------------------------------------------------------------- limits


def hypothesis_workspace(base: Any, entry: Mapping[str, Any]) -> Any:
    """The base workspace with its signals replaced by one signal entry."""
    from exonu.stats.workspace import Workspace

    doc = base.to_dict()
    doc["signals"] = [dict(entry)]
    return Workspace.from_dict(doc, source=f"{base.source}#{entry['name']}")


def auto_scale(
    spectrum: Mapping[str, Any],
    response: ResponseFile,
    window: Sequence[float],
    target_events: float = 10.0,
) -> float:
    """A round parameter unit: the highest-power term gives ~``target_events`` in the window.

    Keeps the fitted coupling x = θ/scale of order one for every hypothesis of a scan
    (couplings of the B−L scan span 10⁻⁶ … 10⁻², for instance).
    """
    from exonu.templates.build import fold_polynomial

    terms, _var = fold_polynomial(
        response.response,
        np.asarray(spectrum["coefficients"]),
        response.target_mass_kg,
        response.livetime_s,
    )
    edges = response.response.energy_edges
    inside = (edges[:-1] >= window[0] - 1e-9) & (edges[1:] <= window[1] + 1e-9)
    power = max(spectrum["powers"])
    k = list(spectrum["powers"]).index(power)
    total = float(np.abs(terms[k][inside]).sum())
    if not total > 0:
        raise ScanError(f"{spectrum['name']}: no expected signal in the fit window {window}")
    raw = (target_events / total) ** (1.0 / power)
    return float(10.0 ** round(math.log10(raw)))


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
    import logging

    from exonu.stats.plausibility import checked_limit

    log = logging.getLogger("exonu")
    out = []
    edges = response.response.true_edges
    for k, hyp in enumerate(hyps):
        spec = hyp.spec()
        spectrum = hypothesis_spectrum(spec, physics, edges)
        if spec["scale"] == "auto":
            spec["scale"] = auto_scale(spectrum, response, hyp.fit_window_kev)
        entry = signal_workspace_entry(
            spec,
            spectrum,
            response.response,
            response.target_mass_kg,
            response.livetime_s,
            systematic_regions_kev,
        )
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


def table_rows(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Table rows: the :data:`TABLE_COLUMNS` (``warnings`` = their number) and the warning
    texts under ``warning_messages``."""
    rows = []
    for r in results:
        row = {c: r.get(c) for c in TABLE_COLUMNS}
        messages = list(r.get("warnings") or [])
        row["warnings"] = len(messages)
        row["warning_messages"] = messages
        rows.append(row)
    return rows


def _warning_notes(rows: Sequence[Mapping[str, Any]], dagger: str) -> list[str]:
    """One note per row with warnings: ``<dagger><k> <hypothesis>: <warning>; ...``."""
    notes = []
    k = 0
    for r in rows:
        if r.get("warning_messages"):
            k += 1
            notes.append(f"{dagger}{k} {r['hypothesis']}: " + "; ".join(r["warning_messages"]))
    return notes


def _marks(rows: Sequence[Mapping[str, Any]], dagger: str) -> list[str]:
    marks, k = [], 0
    for r in rows:
        if r.get("warning_messages"):
            k += 1
            marks.append(f" {dagger}{k}")
        else:
            marks.append("")
    return marks


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}"
    return str(value)


def table_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV of the :data:`TABLE_COLUMNS` and ``warning_messages`` (joined by `` | ``)."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*TABLE_COLUMNS, "warning_messages"])
    for r in rows:
        msgs = " | ".join(r.get("warning_messages") or [])
        w.writerow([*(_fmt(r[c]) for c in TABLE_COLUMNS), msgs])
    return buf.getvalue()


def table_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """Markdown table; a hypothesis with warnings is marked †k and listed below the table."""
    marks = _marks(rows, "†")
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + "---|" * len(TABLE_COLUMNS)]
    for r, mark in zip(rows, marks, strict=True):
        cells = [_fmt(r[c]) + (mark if c == "hypothesis" else "") for c in TABLE_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    notes = _warning_notes(rows, "†")
    if notes:
        lines += ["", "Warnings (plausibility checks, exonu.stats.plausibility):", ""]
        lines += [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def _tex_number(value: Any) -> str:
    if value is None:
        return "--"
    if isinstance(value, float):
        mant, _, exp = f"{value:.2e}".partition("e")
        exp_i = int(exp)
        return f"${mant}$" if exp_i == 0 else f"${mant}\\times10^{{{exp_i}}}$"
    return str(value).replace("_", "\\_")


def table_latex(rows: Sequence[Mapping[str, Any]], caption: str) -> str:
    cols = ("hypothesis", "best_fit", "upper_limit", "chi2_best", "chi2_zero", "ndof")
    head = [
        "hypothesis",
        "best fit",
        "upper limit",
        r"$\chi^2_\mathrm{best}$",
        r"$\chi^2_0$",
        "ndof",
    ]
    from exonu.products.tables import latex_notes, latex_table

    marks = _marks(rows, "")
    body = []
    for r, mark in zip(rows, marks, strict=True):
        cells = [_tex_number(r[c]) if c != "ndof" else str(r[c]) for c in cols]
        if mark:
            cells[0] += rf"$^{{\dagger{mark.strip()}}}$"
        body.append(cells)
    notes = latex_notes(_warning_notes(rows, ""))
    return latex_table(head, body, caption, notes)


# --------------------------------------------------------------------------- workflow steps


def scan_shard(
    params: Mapping[str, Any],
    workspace_path: str,
    response_path: str,
    shard: int,
    output: str,
    strict: bool = False,
) -> None:
    """Rule ``scan_shard``: limits of the hypotheses of one shard (with their plausibility
    warnings; with ``strict`` a warning stops the job before anything is written)."""
    from exonu.stats.plausibility import enforce_strict
    from exonu.stats.workspace import dump_json_atomic, load_workspace

    name, scan = params["scan_name"], params["scan"]
    base = load_workspace(workspace_path)
    response = load_response(response_path, params.get("target_mass_kg"), float(base.livetime_s))
    hyps = shard_of(hypotheses(name, scan), shard, int(scan["n_shards"]))
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
    dump_json_atomic({"scan": name, "shard": shard, "results": results}, output)


def scan_gather(
    params: Mapping[str, Any],
    shard_paths: Sequence[str],
    merged: str,
    csv: str,
    md: str,
    tex: str,
    limit_paths: Sequence[str],
) -> None:
    """Rule ``scan_gather_<scan>``: merge shards in hypothesis order, write tables."""
    from exonu.stats.workspace import dump_json_atomic

    name, scan = params["scan_name"], params["scan"]
    by_name: dict[str, dict[str, Any]] = {}
    for path in shard_paths:
        for r in json.loads(Path(path).read_text())["results"]:
            by_name[r["hypothesis"]] = r
    order = [h.name for h in hypotheses(name, scan)]
    missing = [h for h in order if h not in by_name]
    if missing:
        raise ScanError(f"scan {name!r}: shards lack hypotheses {missing}")
    results = [by_name[h] for h in order]
    wanted = {Path(p).stem: p for p in limit_paths}
    for r in results:
        dump_json_atomic(r, wanted[r["hypothesis"]])
    rows = table_rows(results)
    dump_json_atomic({"scan": name, "config": dict(scan), "results": results}, merged)
    for text, path in (
        (table_csv(rows), csv),
        (table_markdown(rows), md),
        (table_latex(rows, f"90\\% CL limits of the {name.replace('_', ' ')} scan"), tex),
    ):
        tmp = Path(path).with_name(Path(path).name + ".tmp")
        tmp.write_text(text)
        tmp.replace(path)
