"""Where the millicharge gap to XMASS-I comes from: expected limits of analysis variants.

Takes the default's workspace (``results/default/workspace.json``, the millicharge signal with
XMASS's atomic response as its public stand-in, EPA) and recomputes the expected limit
(median of background-only toys, the same toys for every variant, XMASS's Bayesian method).

*Cumulative decomposition* (``cumulative:`` rows): from statistics alone (no nuisance
parameter, no Monte-Carlo variance) the parts of the fit model are added one at a time in the
order MC variance, background normalisations σ(B_RI), background shape systematics σ(Bsys)
(energy scale, fiducial volume, optical, dead-PMT bands) and signal systematics σ(Ssys) — the
last row is the nominal model. Each row's ratio to the previous one is what that part costs.

*Single variants* (choices that are not the detector): 1-keV bins (``--rebin1`` workspaces
only), fit windows 2-10 and 3-16 keV, without each group of nuisances, the background MC
variance divided by 5 (five times the MC statistics), the energy-scale shift templates smoothed
over 5 bins (MC noise in the shift), the signal scaled by RRPA/EPA at 5 keV (5 / 4.64), and
``efficiency bound``: the response rows below 5 keV true energy raised to the 5-keV row's
efficiency (the most any threshold-efficiency change could give; XMASS publishes no number
below 5 keVee: its Fig. 3 draws the curve).

    python benchmarks/millicharge_gap.py [--workspace results/default/workspace.json]
        [--signal millicharge] [--toys 100] [--output benchmarks/records/millicharge_gap.md]

The response file ``templates/response.root`` beside the workspace is needed for the
``efficiency bound`` variant (skipped, and said so, when absent).
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from exonu.stats.expected import expected_limits
from exonu.stats.toys import seed_from_name
from exonu.stats.workspace import Workspace

PUBLISHED = 5.4e-12  # XMASS-I §4.2 (exonu/resources/xmass_published.yaml)


def _one_signal(doc: dict[str, Any], signal: str) -> dict[str, Any]:
    d = copy.deepcopy(doc)
    d["signals"] = [s for s in d["signals"] if s["name"] == signal]
    return d


def _jsonable(entry: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(entry, default=lambda a: np.asarray(a).tolist()))


def efficiency_bound(doc: dict[str, Any], signal: str, results: Path, below_kev: float) -> dict:
    """The workspace with ``signal`` refolded through a response whose rows below
    ``below_kev`` true energy are scaled up to the efficiency of the row at ``below_kev``
    (their migration to reconstructed energies kept)."""
    from exonu.detector.folding import Response
    from exonu.detector.geometry import fiducial_mass_kg
    from exonu.templates.hypotheses import hypothesis_spectrum, load_response
    from exonu.templates.signals import signal_workspace_entry

    d = copy.deepcopy(doc)
    old = next(s for s in d["signals"] if s["name"] == signal)
    loaded = load_response(
        results / "templates" / "response.root",
        fiducial_mass_kg(40.96),
        float(d["exposure"]["livetime_s"]),
    )
    r = loaded.response
    centres = 0.5 * (r.true_edges[:-1] + r.true_edges[1:])
    eff = r.matrix.sum(axis=1)
    ref = eff[np.searchsorted(r.true_edges, below_kev, side="right") - 1]
    rows = (centres < below_kev) & (centres > 1.0) & (eff > 0)
    factor = np.ones_like(eff)
    factor[rows] = np.maximum(ref / eff[rows], 1.0)
    scaled = Response(
        true_edges=r.true_edges,
        energy_edges=r.energy_edges,
        matrix=r.matrix * factor[:, None],
        variance=r.variance * (factor**2)[:, None],
        systematics=(),
    )
    spec = {
        k: old[k]
        for k in ("name", "model", "flavour", "treatment", "atomic_model", "scale")
        if k in old
    }
    spec.update(fit_window_kev=old["fit_window_kev"], free_backgrounds=old["free_backgrounds"])
    spectrum = hypothesis_spectrum(spec, {"flux_set": "xmass"}, r.true_edges)
    entry = _jsonable(
        signal_workspace_entry(spec, spectrum, scaled, loaded.target_mass_kg, loaded.livetime_s)
    )
    entry["systematics"] = old["systematics"]  # the nominal relative shifts
    d["signals"] = [entry]
    return d


def rebin2(doc: dict[str, Any]) -> dict[str, Any]:
    """Merge pairs of bins (every per-bin array; relative signal shifts signal-weighted)."""
    d = copy.deepcopy(doc)

    def pair(a):
        a = np.asarray(a, float)
        return (a[0::2] + a[1::2]).tolist()

    d["binning"]["edges_kev"] = d["binning"]["edges_kev"][0::2]
    d["observed"] = [int(v) for v in pair(d["observed"])]
    for b in d["backgrounds"]:
        b["expected"], b["mc_variance"] = pair(b["expected"]), pair(b["mc_variance"])
    for s in d["background_systematics"]:
        s["shifts"] = {k: pair(v) for k, v in s["shifts"].items()}
    for sig in d["signals"]:
        top = np.asarray(sig["terms"][-1]["expected"], float)
        for t in sig["terms"]:
            t["expected"] = pair(t["expected"])
        for t in sig["variance_terms"]:
            t["values"] = pair(t["values"])
        w = np.where(top[0::2] + top[1::2] > 0, top[0::2] + top[1::2], 1.0)
        for sy in sig["systematics"]:
            r = np.asarray(sy["relative_shifts"], float)
            sy["relative_shifts"] = ((r[0::2] * top[0::2] + r[1::2] * top[1::2]) / w).tolist()
    return d


# --- the parts of the fit model, removed or changed one at a time ---------------------------


def no_mc_variance(d: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(d)
    for b in d["backgrounds"]:
        b["mc_variance"] = [0.0] * len(b["mc_variance"])
    for s in d["signals"]:
        for t in s["variance_terms"]:
            t["values"] = [0.0] * len(t["values"])
    return d


def scale_mc_variance(d: dict[str, Any], factor: float) -> dict[str, Any]:
    d = copy.deepcopy(d)
    for b in d["backgrounds"]:
        b["mc_variance"] = (np.asarray(b["mc_variance"], float) * factor).tolist()
    return d


def fixed_normalisations(d: dict[str, Any]) -> dict[str, Any]:
    """σ(B_RI) → 0.1 % (the activities at their nominal values)."""
    d = copy.deepcopy(d)
    for b in d["backgrounds"]:
        b["relative_uncertainty"] = 0.001
    for s in d["signals"]:
        s["free_backgrounds"] = []
    return d


def keep_shapes(d: dict[str, Any], prefixes: tuple[str, ...]) -> dict[str, Any]:
    d = copy.deepcopy(d)
    d["background_systematics"] = [
        s for s in d["background_systematics"] if s["name"].startswith(prefixes)
    ]
    return d


def without_shapes(d: dict[str, Any], prefixes: tuple[str, ...]) -> dict[str, Any]:
    d = copy.deepcopy(d)
    d["background_systematics"] = [
        s for s in d["background_systematics"] if not s["name"].startswith(prefixes)
    ]
    return d


def no_signal_systematics(d: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(d)
    for s in d["signals"]:
        s["systematics"] = []
    return d


def smooth_shape(d: dict[str, Any], name: str, width: int = 5) -> dict[str, Any]:
    d = copy.deepcopy(d)
    kernel = np.ones(width) / width
    for s in d["background_systematics"]:
        if s["name"] == name:
            for b, v in s["shifts"].items():
                padded = np.pad(np.asarray(v, float), (width // 2, width // 2), mode="edge")
                s["shifts"][b] = np.convolve(padded, kernel, mode="valid").tolist()
    return d


SHAPE_GROUPS = (
    ("energy scale", ("energy_scale",)),
    ("fiducial volume", ("fiducial_volume",)),
    ("optical", ("optical",)),
    ("dead-PMT bands", ("dead_pmt",)),
)


def cumulative(base: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Statistics only, then the fit model's parts added one at a time (last = nominal)."""
    out: dict[str, dict[str, Any]] = {}
    core = no_signal_systematics(fixed_normalisations(keep_shapes(no_mc_variance(base), ())))
    out["cumulative: statistics only"] = core
    step = no_signal_systematics(fixed_normalisations(keep_shapes(base, ())))
    out["cumulative: + MC variance"] = step
    step = no_signal_systematics(keep_shapes(base, ()))
    out["cumulative: + background normalisations"] = step
    kept: tuple[str, ...] = ()
    for label, prefixes in SHAPE_GROUPS:
        kept += prefixes
        out[f"cumulative: + {label} shapes"] = no_signal_systematics(keep_shapes(base, kept))
    out["cumulative: + signal systematics (nominal)"] = base
    return out


def variants(
    doc: dict[str, Any], signal: str, results: Path | None = None
) -> dict[str, dict[str, Any]]:
    base = _one_signal(doc, signal)
    width = np.diff(base["binning"]["edges_kev"][:2])[0]
    out = cumulative(base)
    if abs(width - 1.0) < 1e-9:
        out["2-keV bins (XMASS poster)"] = rebin2(base)
    lo_edge = base["binning"]["edges_kev"][0]
    for lo, hi in ((lo_edge, 10.0), (lo_edge + width, base["signals"][0]["fit_window_kev"][1])):
        d = copy.deepcopy(base)
        d["signals"][0]["fit_window_kev"] = [lo, hi]
        out[f"fit window {lo:g}-{hi:g} keV"] = d
    for label, prefixes in SHAPE_GROUPS:
        out[f"without {label} shapes"] = without_shapes(base, prefixes)
    out["without background normalisations (σ(B_RI) → 0)"] = fixed_normalisations(base)
    d = copy.deepcopy(base)
    d["signals"][0]["free_backgrounds"] = ["cu_pb210"]
    out["cu_pb210 free"] = d
    out["background MC variance / 5 (5x MC statistics)"] = scale_mc_variance(base, 0.2)
    out["energy-scale shifts smoothed over 5 bins"] = smooth_shape(base, "energy_scale")
    d = copy.deepcopy(base)
    for t in d["signals"][0]["terms"]:
        t["expected"] = (np.asarray(t["expected"]) * 5.0 / 4.64).tolist()
    out["signal x 5/4.64 (RRPA/EPA at 5 keV)"] = d
    if results is not None and (results / "templates" / "response.root").is_file():
        out["efficiency bound: below 5 keV as at 5 keV (no published number)"] = efficiency_bound(
            base, signal, results, 5.0
        )
    else:
        print("efficiency bound: skipped (no templates/response.root beside the workspace)")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, default=Path("results/default/workspace.json"))
    ap.add_argument("--signal", default="millicharge")
    ap.add_argument("--toys", type=int, default=100)
    ap.add_argument("--output", type=Path, default=Path("benchmarks/records/millicharge_gap.md"))
    ap.add_argument("--label", default=None, help="how the record names the workspace")
    args = ap.parse_args()
    doc = json.loads(args.workspace.read_text())
    sig = next(s for s in doc["signals"] if s["name"] == args.signal)
    seed = seed_from_name("millicharge_gap", args.signal)
    rows = []
    for name, d in variants(doc, args.signal, args.workspace.parent).items():
        t0 = time.perf_counter()
        ws = Workspace.from_dict(d)
        try:
            e = expected_limits(ws, args.signal, args.toys, seed, method="bayesian", cl=0.9)
        except Exception as err:  # a failing variant is reported, not hidden
            print(f"{name}: failed ({type(err).__name__}: {err})", flush=True)
            continue
        rows.append((name, e, time.perf_counter() - t0))
        print(f"{name}: median {e.median:.3g} ({e.minus1:.3g}-{e.plus1:.3g})", flush=True)
    nominal = next(e.median for name, e, _ in rows if name.endswith("(nominal)"))
    lines = [
        "# Millicharge gap: expected limits of analysis variants",
        "",
        f"Workspace: {args.label or f'`{args.workspace}`'}, signal `{args.signal}` (atomic model "
        f"{sig.get('atomic_model')}, window {sig['fit_window_kev']}); {args.toys} "
        "background-only toys per variant, the same toys for all (XMASS Bayesian method, "
        f"90 % CL). Published: {PUBLISHED:g} e (XMASS-I §4.2). Written by "
        "`benchmarks/millicharge_gap.py`.",
        "",
        "| variant | expected median [e] | ±1σ | / previous | / nominal | / published |",
        "|---|---|---|---|---|---|",
    ]
    previous = None
    for name, e, _ in rows:
        step = f"{e.median / previous:.3f}" if name.startswith("cumulative") and previous else ""
        lines.append(
            f"| {name} | {e.median:.3g} | {e.minus1:.3g}–{e.plus1:.3g} | {step} | "
            f"{e.median / nominal:.3f} | {e.median / PUBLISHED:.2f} |"
        )
        previous = e.median if name.startswith("cumulative") else None
    args.output.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
