"""Selection of one event file and merging of per-chunk results.

:func:`select_file` validates an event file, streams it with ``uproot`` in
blocks of ``step_size`` entries through the fused kernel of
:mod:`exonu.selection.kernels`, and returns a :class:`SelectionResult`:
energy histogram, cut flow, dead-PMT distance histogram, response matrix (Monte
Carlo with truth) and the file's metadata. Results of the chunks of a sample are
added with :func:`merge_results`; they are stored as ROOT histograms (written
from ``hist`` objects, with sums of squared weights) plus a JSON sidecar.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hist
import numpy as np
import uproot

from exonu.detector.geometry import dead_pmt_directions
from exonu.io.root import (
    REQUIRED_BRANCHES,
    EventFileError,
    EventFileMeta,
    inspect_file,
    iterate_events,
)
from exonu.selection.kernels import CUT_NAMES, N_CUTS, select_and_fill


class SelectionError(ValueError):
    """Bad selection input or configuration; the message names file or key."""


def edges_from_spec(spec: Mapping[str, Any] | Sequence[float], key: str) -> np.ndarray:
    """Bin edges from ``{start, stop, width}`` or an explicit increasing list."""
    if isinstance(spec, Mapping):
        start, stop, width = float(spec["start"]), float(spec["stop"]), float(spec["width"])
        if width <= 0 or stop <= start:
            raise SelectionError(f"{key}: need stop > start and width > 0, got {dict(spec)}")
        n = round((stop - start) / width)
        if abs(start + n * width - stop) > 1e-9 * max(1.0, abs(stop)):
            raise SelectionError(f"{key}: (stop - start) must be a multiple of width")
        return start + width * np.arange(n + 1, dtype=np.float64)
    edges = np.asarray(spec, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise SelectionError(f"{key}: bin edges must be a strictly increasing list of >= 2 numbers")
    return edges


@dataclass
class SelectionResult:
    """Histograms and counts of the selection of one sample (or chunk)."""

    sample: str
    kind: str
    energy_edges: np.ndarray
    true_edges: np.ndarray
    distance_edges_cm: np.ndarray
    region_edges_kev: np.ndarray
    energy: np.ndarray  # int64 (n_energy,)
    response: np.ndarray  # int64 (n_true, n_energy)
    dead_pmt: np.ndarray  # int64 (n_regions, n_distance)
    cutflow: np.ndarray  # int64 (N_CUTS,)
    n_generated: int
    livetime_s: float
    activity_bq: float
    files: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_invalid(self) -> int:
        return int(self.cutflow[0] - self.cutflow[1])

    def cutflow_table(self) -> list[dict[str, Any]]:
        rows = []
        for k, name in enumerate(CUT_NAMES):
            prev = self.cutflow[k - 1] if k else self.cutflow[0]
            rows.append(
                {
                    "cut": name,
                    "passed": int(self.cutflow[k]),
                    "efficiency_step": float(self.cutflow[k] / prev) if prev else 0.0,
                    "efficiency_total": float(self.cutflow[k] / self.cutflow[0])
                    if self.cutflow[0]
                    else 0.0,
                }
            )
        return rows


def selection_parameters(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The arrays the kernel needs, from the ``selection`` params block.

    ``cfg`` holds ``selection``, ``binning``, ``calibration`` and ``detector``
    sub-blocks (exactly what the selection rule passes as params).
    """
    sel, det, cal = cfg["selection"], cfg["detector"], cfg["calibration"]
    e_lo, e_hi = (float(v) for v in sel["energy_window_kev"])
    if not e_hi > e_lo:
        raise SelectionError(f"selection.energy_window_kev: empty window [{e_lo}, {e_hi}]")
    energy_edges = edges_from_spec(cfg["binning"]["energy_kev"], "binning.energy_kev")
    true_edges = edges_from_spec(cfg["binning"]["true_energy_kev"], "binning.true_energy_kev")
    dist = np.asarray(sel["dead_pmt"]["distance_edges_cm"], dtype=np.float64)
    regions = np.asarray(sel["dead_pmt"]["regions_kev"], dtype=np.float64)
    for key, arr in (("distance_edges_cm", dist), ("regions_kev", regions)):
        if len(arr) < 2 or np.any(np.diff(arr) <= 0):
            raise SelectionError(f"selection.dead_pmt.{key}: need a strictly increasing list")
    radius = float(det["radius_cm"])
    params = np.array(
        [
            float(cal["pe_per_kev"]),
            float(sel["r_timing_max_cm"]),
            float(sel["r_pe_max_cm"]),
            e_lo,
            e_hi,
            radius,
            1.0 if sel["od_veto"] else 0.0,
            1.0 if sel["afterpulse_cherenkov_veto"] else 0.0,
        ]
    )
    return {
        "params": params,
        "energy_edges": energy_edges,
        "true_edges": true_edges,
        "dead_dirs": np.ascontiguousarray(
            dead_pmt_directions(int(det["n_pmts"]), det["dead_pmts"])
        ),
        "distance_edges": dist,
        "cos_edges": np.cos(np.clip(dist / radius, 0.0, np.pi)),
        "region_edges": regions,
    }


def select_file(
    path: str | os.PathLike[str],
    cfg: Mapping[str, Any],
    *,
    expected_kind: str | tuple[str, ...] | None = None,
) -> SelectionResult:
    """Validate and select one event file (see module docstring)."""
    sel = cfg["selection"]
    bmap = dict(sel.get("branches") or {})
    info = inspect_file(path, branch_map=bmap, expected_kind=expected_kind)
    meta: EventFileMeta = info.meta
    p = selection_parameters(cfg)
    branches = list(REQUIRED_BRANCHES)
    truth = meta.is_mc
    if truth:
        branches.append("true_energy_kev")
    n_e, n_t = len(p["energy_edges"]) - 1, len(p["true_edges"]) - 1
    energy = np.zeros(n_e, np.int64)
    response = np.zeros((n_t, n_e), np.int64)
    dead = np.zeros((len(p["region_edges"]) - 1, len(p["distance_edges"]) - 1), np.int64)
    cutflow = np.zeros(N_CUTS, np.int64)
    no_truth = np.zeros(0, np.float32)
    for _start, _stop, block in iterate_events(
        path, branches, branch_map=bmap, step_size=int(sel["step_size"])
    ):
        select_and_fill(
            block["npe"],
            block["r_timing_cm"],
            block["r_pe_cm"],
            block["x_pe_cm"],
            block["y_pe_cm"],
            block["z_pe_cm"],
            block["od_trigger"].astype(np.bool_, copy=False),
            block["afterpulse"].astype(np.bool_, copy=False),
            block["cherenkov"].astype(np.bool_, copy=False),
            block["true_energy_kev"] if truth else no_truth,
            p["params"],
            p["energy_edges"],
            p["true_edges"],
            p["dead_dirs"],
            p["cos_edges"],
            p["region_edges"],
            energy,
            response,
            dead,
            cutflow,
        )
    result = SelectionResult(
        sample=meta.sample,
        kind=meta.kind,
        energy_edges=p["energy_edges"],
        true_edges=p["true_edges"],
        distance_edges_cm=p["distance_edges"],
        region_edges_kev=p["region_edges"],
        energy=energy,
        response=response,
        dead_pmt=dead,
        cutflow=cutflow,
        n_generated=meta.n_generated,
        livetime_s=meta.livetime_s,
        activity_bq=meta.activity_bq,
        files=[str(path)],
        seeds=[meta.seed],
        extra=dict(meta.extra),
    )
    limit = float(sel.get("max_invalid_fraction", 0.0))
    if cutflow[0] and result.n_invalid / cutflow[0] > limit:
        raise SelectionError(
            f"{path}: {result.n_invalid} of {cutflow[0]} events have NaN/inf or unphysical values "
            f"(> selection.max_invalid_fraction = {limit})"
        )
    return result


def merge_results(results: Sequence[SelectionResult]) -> SelectionResult:
    """Add the results of the chunks of one sample (checks they are compatible)."""
    if not results:
        raise SelectionError("nothing to merge")
    first = results[0]
    seen: dict[int, str] = {}
    for r in results:
        if (r.sample, r.kind) != (first.sample, first.kind):
            raise SelectionError(
                f"cannot merge sample {r.sample!r} ({r.kind}) into {first.sample!r} ({first.kind})"
            )
        for seed, f in zip(r.seeds, r.files, strict=True):
            if seed in seen:
                raise SelectionError(
                    f"{f}: same sample {r.sample!r} and seed {seed} as {seen[seed]} "
                    "(duplicate input)"
                )
            seen[seed] = f
        for name in ("energy_edges", "true_edges", "distance_edges_cm", "region_edges_kev"):
            if not np.array_equal(getattr(r, name), getattr(first, name)):
                raise SelectionError(f"cannot merge {r.files}: different {name}")
    livetime = sum(r.livetime_s for r in results) if first.kind in ("data", "background") else 0.0
    return SelectionResult(
        sample=first.sample,
        kind=first.kind,
        energy_edges=first.energy_edges,
        true_edges=first.true_edges,
        distance_edges_cm=first.distance_edges_cm,
        region_edges_kev=first.region_edges_kev,
        energy=sum((r.energy for r in results), np.zeros_like(first.energy)),
        response=sum((r.response for r in results), np.zeros_like(first.response)),
        dead_pmt=sum((r.dead_pmt for r in results), np.zeros_like(first.dead_pmt)),
        cutflow=sum((r.cutflow for r in results), np.zeros_like(first.cutflow)),
        n_generated=sum(r.n_generated for r in results),
        livetime_s=livetime,
        activity_bq=first.activity_bq,
        files=[f for r in results for f in r.files],
        seeds=[s for r in results for s in r.seeds],
        extra=first.extra,
    )


# --------------------------------------------------------------------------- storage


def _hist1(edges: np.ndarray, counts: np.ndarray, label: str) -> hist.Hist:
    h = hist.Hist(
        hist.axis.Variable(edges, name="energy", label=label), storage=hist.storage.Weight()
    )
    h.view().value[...] = counts
    h.view().variance[...] = counts
    return h


def _hist2(ex: np.ndarray, ey: np.ndarray, counts: np.ndarray, nx: str, ny: str) -> hist.Hist:
    h = hist.Hist(
        hist.axis.Variable(ex, name=nx, label=nx),
        hist.axis.Variable(ey, name=ny, label=ny),
        storage=hist.storage.Weight(),
    )
    h.view().value[...] = counts
    h.view().variance[...] = counts
    return h


def _sidecar(result: SelectionResult) -> dict[str, Any]:
    return {
        "sample": result.sample,
        "kind": result.kind,
        "n_generated": result.n_generated,
        "livetime_s": result.livetime_s,
        "activity_bq": result.activity_bq,
        "n_invalid": result.n_invalid,
        "cutflow": result.cutflow_table(),
        "files": result.files,
        "seeds": result.seeds,
        "extra": result.extra,
    }


def write_result(result: SelectionResult, root_path: str | os.PathLike[str]) -> None:
    """Write histograms (ROOT, from ``hist``) and the JSON sidecar ``<root>.json``.

    Both are written to temporary names first and renamed when complete.
    """
    root_path = Path(root_path)
    root_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = root_path.with_name(root_path.name + ".tmp")
    with uproot.recreate(tmp) as fout:
        fout["energy"] = _hist1(result.energy_edges, result.energy, "reconstructed energy [keV]")
        fout["response"] = _hist2(
            result.true_edges, result.energy_edges, result.response, "true_energy", "energy"
        )
        fout["dead_pmt_distance"] = _hist2(
            result.region_edges_kev,
            result.distance_edges_cm,
            result.dead_pmt,
            "energy_region",
            "distance_cm",
        )
    side = root_path.with_suffix(".json")
    side_tmp = side.with_name(side.name + ".tmp")
    side_tmp.write_text(json.dumps(_sidecar(result), indent=1, sort_keys=True))
    os.replace(tmp, root_path)
    os.replace(side_tmp, side)


def read_result(root_path: str | os.PathLike[str]) -> SelectionResult:
    """Read what :func:`write_result` wrote."""
    root_path = Path(root_path)
    side = root_path.with_suffix(".json")
    try:
        doc = json.loads(side.read_text())
        with uproot.open(root_path) as fin:
            energy = fin["energy"].to_hist()
            response = fin["response"].to_hist()
            dead = fin["dead_pmt_distance"].to_hist()
    except (OSError, KeyError, ValueError, EventFileError) as err:
        raise SelectionError(f"{root_path}: cannot read selection result ({err})") from None
    cut = np.array([row["passed"] for row in doc["cutflow"]], dtype=np.int64)
    return SelectionResult(
        sample=doc["sample"],
        kind=doc["kind"],
        energy_edges=energy.axes[0].edges,
        true_edges=response.axes[0].edges,
        distance_edges_cm=dead.axes[1].edges,
        region_edges_kev=dead.axes[0].edges,
        energy=np.rint(energy.values()).astype(np.int64),
        response=np.rint(response.values()).astype(np.int64),
        dead_pmt=np.rint(dead.values()).astype(np.int64),
        cutflow=cut,
        n_generated=int(doc["n_generated"]),
        livetime_s=float(doc["livetime_s"]),
        activity_bq=float(doc["activity_bq"]),
        files=list(doc["files"]),
        seeds=list(doc["seeds"]),
        extra=dict(doc["extra"]),
    )


def cutflow_markdown(results: Sequence[SelectionResult]) -> str:
    """A Markdown cut-flow table, one column per sample."""
    head = "| cut | " + " | ".join(r.sample for r in results) + " |"
    sep = "|---|" + "---:|" * len(results)
    lines = [head, sep]
    for k, name in enumerate(CUT_NAMES):
        cells = []
        for r in results:
            frac = r.cutflow[k] / r.cutflow[0] if r.cutflow[0] else 0.0
            cells.append(f"{int(r.cutflow[k])} ({frac:.3g})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
