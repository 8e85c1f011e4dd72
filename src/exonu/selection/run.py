"""Selection of one event file and merging of per-chunk results.

:func:`select_file` validates an event file, streams it with ``uproot`` in
blocks of ``step_size`` entries through the fused kernel of
:mod:`exonu.selection.kernels`, and returns a :class:`SelectionResult`: energy
histograms of the nominal selection and of its systematic variants (energy-scale
and fiducial-volume shifts applied at selection time), the cut flow with invalid
events per reason, the dead-PMT distance histograms (dead PMTs and masked sets of
normal PMTs, XMASS-I §3.3), the response matrix (signal Monte Carlo, XMASS eq. 3)
and the file's metadata. Results of the chunks of a sample are added with
:func:`merge_results`; they are stored as ROOT histograms (written from ``hist``
objects, with sums of squared weights) plus a JSON sidecar.
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

from exonu.detector.geometry import GeometryError, dead_pmt_directions
from exonu.io.root import (
    REQUIRED_BRANCHES,
    EventFileError,
    EventFileMeta,
    open_events,
)
from exonu.selection.dead_pmt import (
    PmtSetError,
    distance_cos_edges,
    masked_pmt_sets,
    pmt_set_directions,
)
from exonu.selection.kernels import (
    CUT_NAMES,
    INVALID_REASONS,
    N_CUTS,
    N_INVALID,
    fill_selection,
)


class SelectionError(ValueError):
    """Bad selection input or configuration; the message names file or key."""


#: Most bins of one binning (energy or true energy); the response matrix is their product.
MAX_BINS = 20_000


def edges_from_spec(spec: Mapping[str, Any] | Sequence[float], key: str) -> np.ndarray:
    """Bin edges from ``{start, stop, width}`` or an explicit increasing list."""
    if isinstance(spec, Mapping):
        start, stop, width = float(spec["start"]), float(spec["stop"]), float(spec["width"])
        if width <= 0 or stop <= start:
            raise SelectionError(f"{key}: need stop > start and width > 0, got {dict(spec)}")
        n_float = (stop - start) / width
        if not n_float <= MAX_BINS:
            raise SelectionError(
                f"{key}: {n_float:.3g} bins of width {width:g} from {start:g} to {stop:g}, "
                f"more than {MAX_BINS}; use wider bins"
            )
        n = round(n_float)
        if abs(start + n * width - stop) > 1e-9 * max(1.0, abs(stop)):
            raise SelectionError(f"{key}: (stop - start) must be a multiple of width")
        return start + width * np.arange(n + 1, dtype=np.float64)
    if len(spec) > MAX_BINS + 1:
        raise SelectionError(f"{key}: {len(spec) - 1} bins, more than {MAX_BINS}")
    edges = np.asarray(spec, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or not np.all(np.isfinite(edges)):
        raise SelectionError(f"{key}: bin edges must be a list of >= 2 finite numbers")
    if np.any(np.diff(edges) <= 0):
        raise SelectionError(f"{key}: bin edges must be a strictly increasing list of >= 2 numbers")
    return edges


#: Name of the nominal selection variant (index 0 of every per-variant array).
NOMINAL = "nominal"


@dataclass(frozen=True)
class Variant:
    """One selection variant: energy-scale shift and R(PE) scale (see kernels)."""

    name: str
    energy_sign: float = 0.0
    radius_scale: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "energy_sign": self.energy_sign,
            "radius_scale": self.radius_scale,
        }


@dataclass
class SelectionResult:
    """Histograms and counts of the selection of one sample (or chunk).

    Per-variant arrays have the nominal selection at index 0; per-set arrays
    have the dead PMTs at index 0 and the masked normal-PMT sets after it.
    """

    sample: str
    kind: str
    energy_edges: np.ndarray
    true_edges: np.ndarray
    distance_edges_cm: np.ndarray
    region_edges_kev: np.ndarray
    variants: tuple[Variant, ...]
    energy_by_variant: np.ndarray  # int64 (n_var, n_energy)
    response_by_variant: np.ndarray  # int64 (n_var, n_true, n_energy)
    dead_pmt_by_set: np.ndarray  # int64 (1 + n_masked, n_regions, n_distance)
    cutflow: np.ndarray  # int64 (N_CUTS,)
    invalid: np.ndarray  # int64 (N_INVALID,)
    n_generated: int
    livetime_s: float
    activity_bq: float
    has_response: bool = False
    files: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    masked_pmts: list[list[int]] = field(default_factory=list)

    @property
    def energy(self) -> np.ndarray:
        """Nominal reconstructed-energy histogram, int64 (n_energy,)."""
        return self.energy_by_variant[0]

    @property
    def response(self) -> np.ndarray:
        """Nominal response counts (true x reconstructed energy), int64."""
        return self.response_by_variant[0]

    @property
    def dead_pmt(self) -> np.ndarray:
        """Distance to the nearest dead PMT per energy region, int64 (n_reg, n_dist)."""
        return self.dead_pmt_by_set[0]

    @property
    def dead_pmt_masked(self) -> np.ndarray:
        """Distance to the nearest PMT of each masked set, (n_masked, n_reg, n_dist)."""
        return self.dead_pmt_by_set[1:]

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variants)

    def variant_energy(self, name: str) -> np.ndarray:
        """Energy histogram of the variant ``name``."""
        return self.energy_by_variant[self._variant_index(name)]

    def variant_response(self, name: str) -> np.ndarray:
        """Response counts of the variant ``name``."""
        return self.response_by_variant[self._variant_index(name)]

    def _variant_index(self, name: str) -> int:
        names = self.variant_names
        if name not in names:
            raise SelectionError(
                f"sample {self.sample!r}: no selection variant {name!r} (have {', '.join(names)})"
            )
        return names.index(name)

    @property
    def n_invalid(self) -> int:
        return int(self.cutflow[0] - self.cutflow[1])

    def invalid_table(self) -> dict[str, int]:
        """Invalid events per reason (:data:`~exonu.selection.kernels.INVALID_REASONS`)."""
        return {r: int(c) for r, c in zip(INVALID_REASONS, self.invalid, strict=True)}

    def cutflow_table(self) -> list[dict[str, Any]]:
        """One row per cut: survivors, step and total efficiencies."""
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


# --------------------------------------------------------------------------- parameters


def selection_variants(sel: Mapping[str, Any]) -> tuple[Variant, ...]:
    """The nominal selection plus the systematic variants of ``selection.systematics``.

    * ``energy_scale_up/down``: E -> E (1 +- sigma(E)), sigma(E) from
      ``systematics.energy_scale`` (XMASS §3.1: the energy-calibration / scintillation
      efficiency uncertainty, +-4 % at 1.65 keV);
    * ``fiducial_volume_up/down``: R(PE) -> R(PE) (1 -+ s) before the R(PE) cut, s from
      ``systematics.fiducial_volume.r_pe_relative_sigma`` (XMASS §3.3: ~6 % of the
      fiducial mass from the data/MC difference of reconstructed positions).

    A variant whose sigma is zero everywhere is left out.
    """
    syst = sel.get("systematics") or {}
    out = [Variant(NOMINAL)]
    es = syst.get("energy_scale") or {}
    if any(float(v) != 0.0 for v in es.get("relative_sigma", [])):
        out += [Variant("energy_scale_up", 1.0), Variant("energy_scale_down", -1.0)]
    fv = float((syst.get("fiducial_volume") or {}).get("r_pe_relative_sigma", 0.0))
    if fv:
        if not 0.0 < fv < 1.0:
            raise SelectionError(
                "selection.systematics.fiducial_volume.r_pe_relative_sigma: need 0 < s < 1, "
                f"got {fv}"
            )
        out += [
            Variant("fiducial_volume_up", 0.0, 1.0 - fv),
            Variant("fiducial_volume_down", 0.0, 1.0 + fv),
        ]
    return tuple(out)


def _energy_scale_table(sel: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    es = (sel.get("systematics") or {}).get("energy_scale") or {}
    knots = np.asarray(es.get("knots_kev", [0.0, 1.0]), np.float64)
    sigma = np.asarray(es.get("relative_sigma", [0.0, 0.0]), np.float64)
    key = "selection.systematics.energy_scale"
    if knots.shape != sigma.shape or knots.ndim != 1 or len(knots) < 1:
        raise SelectionError(f"{key}: knots_kev and relative_sigma need the same length >= 1")
    if np.any(np.diff(knots) <= 0):
        raise SelectionError(f"{key}.knots_kev: need a strictly increasing list")
    if np.any(sigma < 0) or np.any(sigma >= 1):
        raise SelectionError(f"{key}.relative_sigma: need values in [0, 1)")
    return knots, sigma


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
    dp = sel["dead_pmt"]
    dist = np.asarray(dp["distance_edges_cm"], dtype=np.float64)
    regions = np.asarray(dp["regions_kev"], dtype=np.float64)
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
            # masked sets see only events farther than half the separation from dead PMTs
            np.cos(min(0.5 * float(dp.get("mask_min_separation_cm", 30.0)) / radius, np.pi)),
        ]
    )
    variants = selection_variants(sel)
    knots, sigma = _energy_scale_table(sel)
    n_pmts, dead = int(det["n_pmts"]), [int(d) for d in det["dead_pmts"]]
    try:
        dead_pmt_directions(n_pmts, dead)  # checks the indices
        masked = masked_pmt_sets(
            n_pmts,
            dead,
            int(dp.get("n_masked_sets", 0)),
            int(dp.get("mask_seed", 0)),
            float(dp.get("mask_min_separation_cm", 30.0)),
            radius,
        )
        cos_edges = distance_cos_edges(dist, radius)
    except (GeometryError, PmtSetError) as err:
        raise SelectionError(str(err)) from None
    sets = np.concatenate([np.asarray(dead, np.int64)[None, :], masked], axis=0)
    return {
        "params": params,
        "energy_edges": energy_edges,
        "true_edges": true_edges,
        "variants": variants,
        "variant_sign": np.array([v.energy_sign for v in variants]),
        "variant_radius_scale": np.array([v.radius_scale for v in variants]),
        "scale_knots_kev": knots,
        "scale_sigma": sigma,
        "pmt_sets": pmt_set_directions(n_pmts, sets),
        "masked_pmts": masked.tolist(),
        "distance_edges": dist,
        "cos_edges": cos_edges,
        "region_edges": regions,
    }


# --------------------------------------------------------------------------- selection


class Accumulator:
    """Histograms being filled by the kernel, block after block."""

    def __init__(self, p: Mapping[str, Any], with_response: bool) -> None:
        self.p = p
        n_var = len(p["variants"])
        n_e, n_t = len(p["energy_edges"]) - 1, len(p["true_edges"]) - 1
        self.energy = np.zeros((n_var, n_e), np.int64)
        self.response = np.zeros((n_var, n_t if with_response else 0, n_e), np.int64)
        n_sets = p["pmt_sets"].shape[0]
        n_reg, n_dist = len(p["region_edges"]) - 1, len(p["distance_edges"]) - 1
        self.dead = np.zeros((n_sets, n_reg, n_dist), np.int64)
        self.cutflow = np.zeros(N_CUTS, np.int64)
        self.invalid = np.zeros(N_INVALID, np.int64)

    def fill(self, block: Mapping[str, np.ndarray]) -> None:
        """Run the fused kernel on one block of canonical branches.

        Float branches of mixed types (float and double in one file) are all read
        as float64, so that the kernel only ever sees the two signatures compiled
        by :func:`exonu.selection.warm.compile_kernels` (no compilation, hence no
        Numba-cache race, in parallel jobs).
        """
        p = self.p
        names = [*_FLOAT_BRANCHES, *(["true_energy_kev"] if "true_energy_kev" in block else [])]
        dtypes = {np.dtype(block[k].dtype) for k in names}
        ftype = dtypes.pop() if len(dtypes) == 1 else np.dtype(np.float64)
        if ftype not in (np.dtype(np.float32), np.dtype(np.float64)):
            ftype = np.dtype(np.float64)
        f = {k: np.ascontiguousarray(block[k], dtype=ftype) for k in names}
        flags = {k: np.ascontiguousarray(block[k], dtype=np.bool_) for k in _FLAG_BRANCHES}
        fill_selection(
            f["npe"],
            f["r_timing_cm"],
            f["r_pe_cm"],
            f["x_pe_cm"],
            f["y_pe_cm"],
            f["z_pe_cm"],
            flags["od_trigger"],
            flags["afterpulse"],
            flags["cherenkov"],
            f.get("true_energy_kev", _NO_TRUTH.astype(ftype)),
            p["params"],
            p["energy_edges"],
            p["true_edges"],
            p["variant_sign"],
            p["variant_radius_scale"],
            p["scale_knots_kev"],
            p["scale_sigma"],
            p["pmt_sets"],
            p["cos_edges"],
            p["region_edges"],
            self.energy,
            self.response,
            self.dead,
            self.cutflow,
            self.invalid,
        )


_NO_TRUTH = np.zeros(0, np.float32)
_FLOAT_BRANCHES = ("npe", "r_timing_cm", "r_pe_cm", "x_pe_cm", "y_pe_cm", "z_pe_cm")
_FLAG_BRANCHES = ("od_trigger", "afterpulse", "cherenkov")


def select_file(
    path: str | os.PathLike[str],
    cfg: Mapping[str, Any],
    *,
    expected_kind: str | tuple[str, ...] | None = None,
) -> SelectionResult:
    """Validate and select one event file (see module docstring).

    The file is checked first (:func:`~exonu.io.root.inspect_file`: ROOT, metadata,
    kind, branches and their types), then read with ``uproot.iterate`` in blocks of
    ``selection.step_size`` entries, only the branches the selection needs (through
    the ``selection.branches`` mapping). Raises :class:`SelectionError` if more than
    ``selection.max_invalid_fraction`` of the events are invalid.
    """
    sel = cfg["selection"]
    bmap = dict(sel.get("branches") or {})
    p = selection_parameters(cfg)
    with open_events(path, branch_map=bmap, expected_kind=expected_kind) as (info, blocks):
        meta: EventFileMeta = info.meta
        branches = list(REQUIRED_BRANCHES)
        if meta.is_mc:
            branches.append("true_energy_kev")
        acc = Accumulator(p, meta.kind in RESPONSE_KINDS)
        for _start, _stop, block in blocks(branches, int(sel["step_size"])):
            acc.fill(block)
    result = _result(meta, p, acc, [str(path)])
    _check_invalid(result, sel, str(path))
    return result


def select_arrays(
    arrays: Mapping[str, np.ndarray],
    cfg: Mapping[str, Any],
    meta: EventFileMeta,
    *,
    step_size: int | None = None,
) -> SelectionResult:
    """Select in-memory canonical branches as if they were a file with ``meta``.

    The same kernel and result as :func:`select_file` without the reading (tests,
    benchmarks); ``step_size`` splits the arrays into blocks like the reader does.
    """
    p = selection_parameters(cfg)
    acc = Accumulator(p, meta.kind in RESPONSE_KINDS)
    n = len(arrays["npe"])
    step = int(step_size or max(n, 1))
    names = list(REQUIRED_BRANCHES) + (["true_energy_kev"] if meta.is_mc else [])
    for start in range(0, n, step):
        acc.fill({k: np.asarray(arrays[k])[start : start + step] for k in names})
    result = _result(meta, p, acc, ["<memory>"])
    _check_invalid(result, cfg["selection"], "<memory>")
    return result


def _result(
    meta: EventFileMeta, p: Mapping[str, Any], acc: Accumulator, files: list[str]
) -> SelectionResult:
    return SelectionResult(
        sample=meta.sample,
        kind=meta.kind,
        energy_edges=p["energy_edges"],
        true_edges=p["true_edges"],
        distance_edges_cm=p["distance_edges"],
        region_edges_kev=p["region_edges"],
        variants=p["variants"],
        energy_by_variant=acc.energy,
        response_by_variant=_full_response(acc.response, p),
        dead_pmt_by_set=acc.dead,
        cutflow=acc.cutflow,
        invalid=acc.invalid,
        n_generated=meta.n_generated,
        livetime_s=meta.livetime_s,
        activity_bq=meta.activity_bq,
        has_response=meta.kind in RESPONSE_KINDS,
        files=files,
        seeds=[meta.seed],
        extra=dict(meta.extra),
        masked_pmts=p["masked_pmts"],
    )


def _check_invalid(result: SelectionResult, sel: Mapping[str, Any], where: str) -> None:
    limit = float(sel.get("max_invalid_fraction", 0.0))
    n = int(result.cutflow[0])
    if n and result.n_invalid / n > limit:
        reasons = ", ".join(f"{k} {v}" for k, v in result.invalid_table().items() if v)
        raise SelectionError(
            f"{where}: {result.n_invalid} of {n} events have NaN/inf or unphysical values "
            f"({reasons}) > selection.max_invalid_fraction = {limit}"
        )


#: Kinds whose files fill the response matrix (signal MC and its variations).
RESPONSE_KINDS = ("signal", "variation")


def _full_response(resp: np.ndarray, p: Mapping[str, Any]) -> np.ndarray:
    if resp.shape[1]:
        return resp
    n_t, n_e = len(p["true_edges"]) - 1, len(p["energy_edges"]) - 1
    return np.zeros((resp.shape[0], n_t, n_e), np.int64)


def merge_results(results: Sequence[SelectionResult]) -> SelectionResult:
    """Add the results of the chunks of one sample (checks they are compatible).

    Live times add for data and background Monte Carlo (each chunk's live time is
    that of its own events); duplicate inputs (same seed twice) are refused.
    """
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
        if r.variants != first.variants or r.masked_pmts != first.masked_pmts:
            raise SelectionError(f"cannot merge {r.files}: selected with different variants")
    additive = first.kind in ("data", "background", "variation")
    return SelectionResult(
        sample=first.sample,
        kind=first.kind,
        energy_edges=first.energy_edges,
        true_edges=first.true_edges,
        distance_edges_cm=first.distance_edges_cm,
        region_edges_kev=first.region_edges_kev,
        variants=first.variants,
        energy_by_variant=np.sum([r.energy_by_variant for r in results], axis=0),
        response_by_variant=np.sum([r.response_by_variant for r in results], axis=0),
        dead_pmt_by_set=np.sum([r.dead_pmt_by_set for r in results], axis=0),
        cutflow=np.sum([r.cutflow for r in results], axis=0),
        invalid=np.sum([r.invalid for r in results], axis=0),
        n_generated=sum(r.n_generated for r in results),
        livetime_s=sum(r.livetime_s for r in results) if additive else 0.0,
        activity_bq=first.activity_bq,
        has_response=first.has_response,
        files=[f for r in results for f in r.files],
        seeds=[s for r in results for s in r.seeds],
        extra=first.extra,
        masked_pmts=first.masked_pmts,
    )


# --------------------------------------------------------------------------- storage


def _hist1(edges: np.ndarray, counts: np.ndarray, name: str, label: str) -> hist.Hist:
    h = hist.Hist(hist.axis.Variable(edges, name=name, label=label), storage=hist.storage.Weight())
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


def _key(base: str, suffix: str) -> str:
    return base if suffix == NOMINAL else f"{base}__{suffix}"


def _sidecar(result: SelectionResult) -> dict[str, Any]:
    return {
        "sample": result.sample,
        "kind": result.kind,
        "n_generated": result.n_generated,
        "livetime_s": result.livetime_s,
        "activity_bq": result.activity_bq,
        "n_invalid": result.n_invalid,
        "invalid": result.invalid_table(),
        "cutflow": result.cutflow_table(),
        "variants": [v.to_dict() for v in result.variants],
        "has_response": result.has_response,
        "true_edges_kev": result.true_edges.tolist(),
        "masked_pmts": result.masked_pmts,
        "files": result.files,
        "seeds": result.seeds,
        "extra": result.extra,
    }


def write_result(
    result: SelectionResult,
    root_path: str | os.PathLike[str],
    sidecar: str | os.PathLike[str] | None = None,
) -> None:
    """Write histograms (ROOT TH1D/TH2D with sum of squared weights) and their JSON sidecar
    (``sidecar``, default ``<root>.json``, where :func:`read_result` looks for it).

    Objects: ``energy`` (nominal) and ``energy__<variant>``; for signal-like samples
    ``response`` and ``response__<variant>``; ``dead_pmt_distance`` (energy region x
    distance to the nearest dead PMT, cm) and ``dead_pmt_distance__masked_<m>``. Both
    files are written in place (the workflow stage gives temporary paths,
    :func:`exonu.stages.events.write_histograms`).
    """
    root_path = Path(root_path)
    side = root_path.with_suffix(".json") if sidecar is None else Path(sidecar)
    root_path.parent.mkdir(parents=True, exist_ok=True)
    with uproot.recreate(root_path) as fout:
        for k, v in enumerate(result.variants):
            fout[_key("energy", v.name)] = _hist1(
                result.energy_edges,
                result.energy_by_variant[k],
                "energy",
                "reconstructed energy [keV]",
            )
            if result.has_response:
                fout[_key("response", v.name)] = _hist2(
                    result.true_edges,
                    result.energy_edges,
                    result.response_by_variant[k],
                    "true_energy",
                    "energy",
                )
        for s in range(result.dead_pmt_by_set.shape[0]):
            fout[_key("dead_pmt_distance", f"masked_{s:02d}" if s else NOMINAL)] = _hist2(
                result.region_edges_kev,
                result.distance_edges_cm,
                result.dead_pmt_by_set[s],
                "energy_region",
                "distance_cm",
            )
    side.write_text(json.dumps(_sidecar(result), indent=1, sort_keys=True))


def read_result(root_path: str | os.PathLike[str]) -> SelectionResult:
    """Read what :func:`write_result` wrote."""
    root_path = Path(root_path)
    side = root_path.with_suffix(".json")
    try:
        doc = json.loads(side.read_text())
        variants = tuple(Variant(**v) for v in doc.get("variants", [{"name": NOMINAL}]))
        has_response = bool(doc.get("has_response", True))
        n_masked = len(doc.get("masked_pmts", []))
        with uproot.open(root_path) as fin:
            energy = [fin[_key("energy", v.name)].to_hist() for v in variants]
            dead = [fin["dead_pmt_distance"].to_hist()]
            for m in range(1, n_masked + 1):
                dead.append(fin[f"dead_pmt_distance__masked_{m:02d}"].to_hist())
            response = (
                [fin[_key("response", v.name)].to_hist() for v in variants]
                if has_response
                else None
            )
    except (OSError, KeyError, ValueError, TypeError, EventFileError) as err:
        raise SelectionError(f"{root_path}: cannot read selection result ({err})") from None
    energy_edges = energy[0].axes[0].edges
    if response is not None:
        true_edges = response[0].axes[0].edges
        resp = np.stack([np.rint(h.values()).astype(np.int64) for h in response])
    else:
        true_edges = np.asarray(doc["true_edges_kev"], np.float64)
        resp = np.zeros((len(variants), len(true_edges) - 1, len(energy_edges) - 1), np.int64)
    return SelectionResult(
        sample=doc["sample"],
        kind=doc["kind"],
        energy_edges=energy_edges,
        true_edges=true_edges,
        distance_edges_cm=dead[0].axes[1].edges,
        region_edges_kev=dead[0].axes[0].edges,
        variants=variants,
        energy_by_variant=np.stack([np.rint(h.values()).astype(np.int64) for h in energy]),
        response_by_variant=resp,
        dead_pmt_by_set=np.stack([np.rint(h.values()).astype(np.int64) for h in dead]),
        cutflow=np.array([row["passed"] for row in doc["cutflow"]], dtype=np.int64),
        invalid=np.array(
            [doc.get("invalid", {}).get(r, 0) for r in INVALID_REASONS], dtype=np.int64
        ),
        n_generated=int(doc["n_generated"]),
        livetime_s=float(doc["livetime_s"]),
        activity_bq=float(doc["activity_bq"]),
        has_response=has_response,
        files=list(doc["files"]),
        seeds=list(doc["seeds"]),
        extra=dict(doc["extra"]),
        masked_pmts=[list(m) for m in doc.get("masked_pmts", [])],
    )


# --------------------------------------------------------------------------- cut flow


def cutflow_markdown(results: Sequence[SelectionResult]) -> str:
    """A Markdown cut-flow table, one column per sample, with invalid events per reason."""
    head = "| cut | " + " | ".join(r.sample for r in results) + " |"
    sep = "|---|" + "---:|" * len(results)
    lines = [head, sep]
    for k, name in enumerate(CUT_NAMES):
        cells = []
        for r in results:
            frac = r.cutflow[k] / r.cutflow[0] if r.cutflow[0] else 0.0
            cells.append(f"{int(r.cutflow[k])} ({frac:.3g})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Invalid events (NaN/inf or unphysical values), counted in `valid`:")
    lines.append("")
    lines.append("| reason | " + " | ".join(r.sample for r in results) + " |")
    lines.append(sep)
    for k, reason in enumerate(INVALID_REASONS):
        lines.append(f"| {reason} | " + " | ".join(str(int(r.invalid[k])) for r in results) + " |")
    return "\n".join(lines) + "\n"


def cutflow_document(result: SelectionResult) -> dict[str, Any]:
    """The cut flow of one sample as a JSON-ready document."""
    return {
        "sample": result.sample,
        "kind": result.kind,
        "cutflow": result.cutflow_table(),
        "invalid": result.invalid_table(),
        "files": result.files,
    }
