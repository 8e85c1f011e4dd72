"""Benchmark of the event selection: the fused Numba kernel and reading + selection vs uproot.

Run as ``python benchmarks/bench_selection.py [--events 10000000] [--output
benchmarks/records/selection.md]``. Measures, in one run, on synthetic XMASS-like events
(:mod:`exonu.selection.testing`: 70 % surface events, exponential spectra, 30 % volume events):

1. the kernel alone on in-memory float32 arrays (events per CPU-second on one core), with the
   embedded default configuration ``exonu:default`` (5 selection variants, dead PMTs + 8 masked
   PMT sets, 198 energy bins) and with the nominal selection only;
2. per codec, the CPU time of :func:`exonu.selection.run.select_file` (validation, reading with
   ``uproot.iterate``, selection, every histogram and the dead-PMT distances) divided by the CPU
   time of ``uproot.iterate`` reading the same branches alone with the same step size.

Each measurement is repeated and the minimum taken (other processes share the CPU); the two
timings of a ratio alternate within each repetition. The issue's targets: >= 300 M events/s
per core for the kernel, ratio <= 1.10. Two design references are timed on the same arrays:
a plain sum over the six float branches (the memory-streaming speed of this machine at this
moment) and the nominal cuts written as early exits in one loop (what the two-pass kernel
replaces). The "Reading of the results" section is computed from these numbers.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np
import uproot
from benchinfo import cpu_model, git_commit
from numba import njit

from exonu.config import load_config
from exonu.io.root import REQUIRED_BRANCHES, EventFileMeta, write_events
from exonu.selection.kernels import TILE
from exonu.selection.run import Accumulator, select_arrays, select_file, selection_parameters
from exonu.selection.testing import concat, exponential_spectrum, make_events, selection_block

REPO = Path(__file__).resolve().parents[1]
#: Targets of issue 5.
TARGET_KERNEL = 300e6  # events per CPU-second per core, default configuration
TARGET_RATIO = 1.10  # select_file CPU / uproot.iterate CPU
CODECS = {
    "ZSTD(1) (exonu default)": lambda: uproot.ZSTD(1),
    "ZLIB(1) (uproot default)": lambda: uproot.ZLIB(1),
    "LZ4(1)": lambda: uproot.LZ4(1),
    "none": lambda: None,
}


#: Event mixes: fraction of events uniform in the volume (the rest are wall events).
#: XMASS-I triggers are dominated by wall / PMT events; after all cuts ~1e-3 remain, so
#: even the "XMASS-like" mix is pessimistic and "stress" very much so.
MIXES = {"XMASS-like (3 % volume events)": 0.03, "stress (30 % volume events)": 0.30}


def synthetic(n: int, volume_fraction: float = 0.3, seed: int = 1) -> dict[str, np.ndarray]:
    """Triggered events: wall events (exponential 30 keV) and volume events (80 keV)."""
    rng = np.random.default_rng(seed)
    blocks = []
    chunk = 1_000_000
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        n_surf = int((1.0 - volume_fraction) * m)
        blocks.append(make_events(n_surf, rng, exponential_spectrum(30.0), surface=True))
        blocks.append(make_events(m - n_surf, rng, exponential_spectrum(80.0)))
    ev = concat(blocks)
    order = rng.permutation(n)
    return {k: np.ascontiguousarray(ev[k][order]) for k in REQUIRED_BRANCHES}


def kernel_rate(arrays, cfg, repeats: int, step: int = 1_000_000) -> tuple[float, np.ndarray]:
    """Events per CPU-second of the kernel alone, and the cut flow (for the report)."""
    p = selection_parameters(cfg)
    n = len(arrays["npe"])
    blocks = [{k: v[s : s + step] for k, v in arrays.items()} for s in range(0, n, step)]
    best = np.inf
    cutflow = None
    for _ in range(repeats):
        acc = Accumulator(p, with_response=False)
        t0 = time.process_time()
        for b in blocks:
            acc.fill(b)
        best = min(best, time.process_time() - t0)
        cutflow = acc.cutflow
    return n / best, cutflow


@njit(fastmath=True, cache=False)
def _stream_sum(a, b, c, d, e, f):  # pragma: no cover - timed only
    s = 0.0
    for i in range(a.size):
        s += a[i] + b[i] + c[i] + d[i] + e[i] + f[i]
    return s


@njit(cache=False)
def _early_exit(q, rt, rp, od, ap, ck, prm, lo, inv_w, hist, cut):  # pragma: no cover
    """Nominal cuts as early exits, energy histogram on uniform bins, cut flow."""
    pe_per_kev, rt_max, rp_max, e_lo, e_hi, r_det = prm[0], prm[1], prm[2], prm[3], prm[4], prm[5]
    for i in range(q.size):
        if not (q[i] >= 0.0 and 0.0 <= rt[i] <= r_det and 0.0 <= rp[i] <= r_det):
            continue
        cut[0] += 1
        if od[i]:
            continue
        cut[1] += 1
        if ap[i] or ck[i]:
            continue
        cut[2] += 1
        if not rt[i] < rt_max:
            continue
        cut[3] += 1
        if not rp[i] < rp_max:
            continue
        cut[4] += 1
        energy = q[i] / pe_per_kev
        if energy < e_lo or energy >= e_hi:
            continue
        cut[5] += 1
        k = int((energy - lo) * inv_w)
        if 0 <= k < hist.size:
            hist[k] += 1


def design_references(arrays, cfg, repeats: int) -> dict[str, float]:
    """Events per CPU-second of the streaming sum and of the early-exit loop (one core)."""
    n = len(arrays["npe"])
    floats = [arrays[k] for k in ("npe", "r_timing_cm", "r_pe_cm", "x_pe_cm", "y_pe_cm", "z_pe_cm")]
    flags = [arrays[k] for k in ("od_trigger", "afterpulse", "cherenkov")]
    p = selection_parameters(cfg)
    edges = p["energy_edges"]
    args = (p["params"][:6].copy(), float(edges[0]), 1.0 / float(edges[1] - edges[0]))
    _stream_sum(*[f[:10] for f in floats])
    hist, cut = np.zeros(len(edges) - 1, np.int64), np.zeros(6, np.int64)
    _early_exit(*floats[:3], *flags, *args, hist, cut)
    t_sum, t_exit = np.inf, np.inf
    for _ in range(repeats):
        t0 = time.process_time()
        _stream_sum(*floats)
        t_sum = min(t_sum, time.process_time() - t0)
        hist[:], cut[:] = 0, 0
        t0 = time.process_time()
        _early_exit(*floats[:3], *flags, *args, hist, cut)
        t_exit = min(t_exit, time.process_time() - t0)
    return {"stream": n / t_sum, "early_exit": n / t_exit, "hist": hist.copy()}


def iterate_only(path: Path, step: int) -> int:
    n = 0
    with uproot.open(path) as fin:
        for block in fin["events"].iterate(list(REQUIRED_BRANCHES), step_size=step, library="np"):
            n += len(block["npe"])
    return n


def io_ratio(path: Path, cfg, repeats: int) -> tuple[float, float, float]:
    """(min CPU s of uproot.iterate, min CPU s of select_file, ratio)."""
    step = int(cfg["selection"]["step_size"])
    iterate_only(path, step)  # warm the page cache
    base, full = np.inf, np.inf
    for _ in range(repeats):
        t0 = time.process_time()
        iterate_only(path, step)
        base = min(base, time.process_time() - t0)
        t0 = time.process_time()
        select_file(path, cfg)
        full = min(full, time.process_time() - t0)
    return base, full, full / base


def machine() -> str:
    cpu = cpu_model()
    return f"{cpu}, {os.cpu_count()} logical cores, Python {platform.python_version()}"


def versions() -> str:
    import numba

    return f"numpy {np.__version__}, numba {numba.__version__}, uproot {uproot.__version__}"


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def reading(kernel_rows, io_rows, repeats: int) -> list[str]:
    """The "Reading of the results" and design sections, computed from the rows."""
    out = ["## Reading of the results", ""]
    k_parts = [
        f"{mix.split(' (')[0]} {full / 1e6:.0f} M/s {_met(full >= TARGET_KERNEL)}"
        for mix, full, *_ in kernel_rows
    ]
    out.append(
        f"- Kernel target (issue 5), >= {TARGET_KERNEL / 1e6:.0f} M events/s/core with the "
        "default configuration: " + "; ".join(k_parts) + "."
    )
    for mix in dict.fromkeys(r[0] for r in io_rows):
        rows = [r for r in io_rows if r[0] == mix]
        ok = [f"{r[1].split(' (')[0]} {r[7]:.3f}" for r in rows if r[7] <= TARGET_RATIO]
        bad = [f"{r[1].split(' (')[0]} {r[7]:.3f}" for r in rows if r[7] > TARGET_RATIO]
        out.append(
            f"- Reading + selection <= {TARGET_RATIO:.2f} x `uproot.iterate`, "
            f"{mix.split(' (')[0]} mix: "
            + (f"{_met(True)} for " + ", ".join(ok) if ok else "")
            + ("; " if ok and bad else "")
            + (f"{_met(False)} for " + ", ".join(bad) if bad else "")
            + "."
        )
    out.append(
        "- The cheaper the decompression, the larger the kernel's share of the ratio; "
        "`write_events` writes ZSTD(1)."
    )
    for mix, full, _nom, cut, refs in kernel_rows:
        out.append(
            f"- {mix}: {cut[-1] / cut[0]:.2%} of the events survive every cut (XMASS-I data "
            "keep far fewer, so both mixes are pessimistic for the kernel); memory-streaming "
            f"reference (a Numba sum of the 6 float branches) {refs['stream'] / 1e6:.0f} M "
            f"events/s, i.e. the default kernel runs at {full / refs['stream']:.0%} of the "
            "streaming speed measured at the same time."
        )
    out += [
        f"- Every number is the minimum CPU time of {repeats} repetitions on a machine shared "
        "with other jobs; contention slows memory streaming, which the streaming reference "
        "shows.",
        "",
        "## Design reference: early exits vs the two-pass kernel",
        "",
        "| event mix | early-exit loop, nominal cuts + energy histogram M ev / CPU-s "
        "| kernel, nominal only (+ dead PMTs, invalid counts) M ev / CPU-s | kernel / early exit "
        "| same nominal histogram |",
        "|---|---:|---:|---:|---|",
    ]
    for mix, _full, nom, _cut, refs in kernel_rows:
        out.append(
            f"| {mix} | {refs['early_exit'] / 1e6:.0f} | {nom / 1e6:.0f} | "
            f"{nom / refs['early_exit']:.1f}x | {'yes' if refs['same_hist'] else '**no**'} |"
        )
    out += [
        "",
        "Cuts with data-dependent outcomes cost a branch misprediction each when written as "
        "early exits (the loop above, timed on the same arrays); the kernel therefore evaluates "
        "the cheap cuts without branches in a first pass (which LLVM vectorises), counting "
        "the survivors of each step and marking survivors of "
        "R(Timing) and a loose R(PE) cut (and invalid events) in a byte mask, in tiles of "
        f"{TILE} events so that the second pass finds the events in the cache. Further "
        "alternatives (index compaction, trailing-zero scan of the mask, branch-free dead-PMT "
        "bins, knot counting for the energy scale) were measured once while the kernel was "
        "written and are not re-measured here; that record is "
        "`git show bfbb01f:benchmarks/records/selection.md`.",
        "",
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--codecs", nargs="*", default=list(CODECS), choices=list(CODECS))
    parser.add_argument("--output", help="write the Markdown report to this file")
    args = parser.parse_args(argv)

    cfg = selection_block(load_config(REPO / "src" / "exonu" / "resources" / "default.yaml"))
    nominal = copy.deepcopy(cfg)
    nominal["selection"]["systematics"] = {
        "energy_scale": {"knots_kev": [0.0], "relative_sigma": [0.0]},
        "fiducial_volume": {"r_pe_relative_sigma": 0.0},
    }
    nominal["selection"]["dead_pmt"]["n_masked_sets"] = 0

    load0 = _load()
    kernel_rows, io_rows = [], []
    with tempfile.TemporaryDirectory(prefix="bench_selection_") as tmp:
        for mix, vol in MIXES.items():
            t0 = time.perf_counter()
            arrays = synthetic(args.events, vol)
            print(f"{mix}: generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            kernel_rate({k: v[:1000] for k, v in arrays.items()}, cfg, 1)  # load the cache
            rate_full, cutflow = kernel_rate(arrays, cfg, args.repeats)
            rate_nominal, _ = kernel_rate(arrays, nominal, args.repeats)
            refs = design_references(arrays, nominal, args.repeats)
            nom_hist = select_arrays(
                arrays, nominal, EventFileMeta("data", "data", args.events, 1.0, 0.0, 1)
            ).energy_by_variant[0]
            refs["same_hist"] = bool(np.array_equal(refs.pop("hist"), nom_hist))
            kernel_rows.append((mix, rate_full, rate_nominal, cutflow, refs))
            print(
                f"{mix}: kernel {rate_full / 1e6:.0f} M/s, nominal {rate_nominal / 1e6:.0f} M/s, "
                f"stream {refs['stream'] / 1e6:.0f} M/s, early exit {refs['early_exit'] / 1e6:.0f}"
            )
            meta = EventFileMeta("data", "data", args.events, 1.0, 0.0, 1)
            for name in args.codecs:
                path = Path(tmp) / "events.root"
                t0 = time.perf_counter()
                write_events(path, arrays, meta, compression=CODECS[name]())
                t_write = time.perf_counter() - t0
                size = path.stat().st_size / 1e6
                base, full, ratio = io_ratio(path, cfg, args.repeats)
                io_rows.append(
                    (mix, name, size, t_write, args.events / base / 1e6, base, full, ratio)
                )
                print(f"  {name}: iterate {base:.2f} s, select_file {full:.2f} s, {ratio:.3f}")
                path.unlink()
            del arrays

    lines = [
        "# Selection benchmark",
        "",
        f"- date: {datetime.date.today().isoformat()}, commit {git_commit()}",
        f"- machine: {machine()}; {versions()}; shared with other jobs "
        f"(load average at start / end {load0} / {_load()})",
        "- command: `OPENBLAS_NUM_THREADS=1 python benchmarks/bench_selection.py "
        f"{shlex.join(sys.argv[1:] if argv is None else argv)}`",
        f"- events: {args.events} synthetic triggers per mix (`exonu.selection.testing`): wall "
        "events (exponential 30 keV, mis-reconstructed into the volume at low energy) and "
        "volume events (exponential 80 keV); 6 float32 + 3 bool branches; step size "
        f"{cfg['selection']['step_size']} entries; files written by "
        "`exonu.io.root.write_events` (baskets of 500k entries)",
        "- selection: the embedded default `exonu:default` (5 variants: nominal, energy scale "
        "+-1 sigma, fiducial volume +-1 sigma; dead PMTs + 8 masked PMT sets; 198 energy bins)",
        f"- minimum CPU time (`time.process_time`) of {args.repeats} repetitions, one core",
        "",
        "## Kernel alone (in-memory arrays)",
        "",
        "| event mix | survivors: valid, OD, AP/CK, R(T), R(PE), window | default config "
        "M ev / CPU-s | ns / event | nominal only, dead PMTs only M ev / CPU-s |",
        "|---|---|---:|---:|---:|",
    ]
    for mix, full, nom, cut, _refs in kernel_rows:
        fr = ", ".join(f"{c / cut[0]:.3g}" for c in cut[1:])
        lines.append(
            f"| {mix} | {fr} | **{full / 1e6:.0f}** | {1e9 / full:.2f} | {nom / 1e6:.0f} |"
        )
    lines += [
        "",
        f"Target: >= {TARGET_KERNEL / 1e6:.0f} M events / s / core.",
        "",
        "## Reading + selection vs `uproot.iterate` alone (same branches, same step size)",
        "",
        "| event mix | codec | file MB | write s | iterate M ev / CPU-s | iterate CPU s "
        "| select_file CPU s | ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mix, name, size, tw, rate, base, full, ratio in io_rows:
        lines.append(
            f"| {mix} | {name} | {size:.0f} | {tw:.1f} | {rate:.1f} | {base:.3f} | "
            f"{full:.3f} | **{ratio:.3f}** |"
        )
    lines += [
        "",
        "`select_file` = validation of the file (metadata, kind, branches, types) + "
        "`uproot.iterate` + fused kernel (cuts, cut flow, invalid-value counts, energy "
        "histograms of 5 variants, dead-PMT distance histograms of 9 PMT sets). Target: ratio "
        f"<= {TARGET_RATIO:.2f}.",
        "",
        *reading(kernel_rows, io_rows, args.repeats),
    ]
    text = "\n".join(lines)
    print(text)
    if args.output:
        Path(args.output).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
