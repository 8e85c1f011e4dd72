"""Benchmark of the synthetic detector Monte Carlo (exonu.sim).

Run as ``python benchmarks/bench_sim.py [--events 4000000] [--workflow]
[--output benchmarks/records/sim.md]``. Measures, in one run:

1. generation: the Numba kernel (:func:`exonu.sim.kernels.generate_events` through
   :func:`exonu.sim.generate.generate`, in memory, one thread) for three samples of the
   default configuration -- the flat signal MC (volume events), copper ²¹⁰Pb (wall events,
   mis-reconstruction and dead-PMT distances) and ⁸⁵Kr -- in events per CPU-second;
2. writing: :func:`exonu.io.root.write_events` (ZSTD(1), the default) of the generated
   copper events, in events and MB per CPU-second, and its share of a chunk's time;
3. a whole chunk: :func:`exonu.sim.simulate_chunk` of copper ²¹⁰Pb (2.5 M decays, the
   default chunk) and of one data chunk, wall and CPU time, file size;
4. with ``--workflow``: the default simulation of the embedded analysis
   (``snakemake --cores 2 --until simulate`` in a scratch directory), wall and CPU time.

Each in-process measurement is repeated and the minimum CPU time taken (other processes
share the machine). The issue's targets: >= 5 M events/s per core generated; writing not
dominating; the default simulation under a minute.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

from exonu.config import load_config
from exonu.detector.response import DetectorResponse
from exonu.io.root import EventFileMeta, write_events
from exonu.sim import compile_kernels, simulate_chunk
from exonu.sim.generate import background_component, generate, quantize, signal_component

REPO = Path(__file__).resolve().parents[1]


def _best(fn, repeat: int) -> tuple[float, float, object]:
    """(min CPU seconds, wall seconds of that run, result) over ``repeat`` calls."""
    best = (np.inf, np.inf, None)
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        c, w = time.process_time() - c0, time.perf_counter() - w0
        if c < best[0]:
            best = (c, w, out)
    return best


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average at start {load[0]:.1f} (other jobs share the cores)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=4_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workflow", action="store_true", help="also time the default simulation")
    ap.add_argument("--output", type=Path, help="write the Markdown report here")
    args = ap.parse_args(argv)

    cfg = load_config(REPO / "config" / "config.yaml")
    sim, phys = cfg["simulation"], cfg["physics"]
    det = DetectorResponse.from_config(cfg["detector"])
    compile_kernels()
    e_max = sim["max_deposit_kev"]
    comps = {
        "signal_flat (volume, flat 0-250 keV)": signal_component(sim, det),
        "cu_pb210 (wall, mis-reconstruction)": background_component(
            "cu_pb210", sim["backgrounds"]["cu_pb210"], det, max_deposit_kev=e_max
        ),
        "xe_kr85 (volume, beta)": background_component(
            "xe_kr85", sim["backgrounds"]["xe_kr85"], det, max_deposit_kev=e_max
        ),
    }
    n = args.events
    lines = [
        "# Benchmark: synthetic detector Monte Carlo (exonu.sim)",
        "",
        f"* date: {datetime.datetime.now().isoformat(timespec='minutes')}",
        f"* machine: {machine()}",
        f"* command: `python benchmarks/bench_sim.py {' '.join(argv or sys.argv[1:])}`".rstrip(),
        f"* events per measurement: {n:,}; minimum CPU time of {args.repeat} repetitions",
        "",
        "## Generation (in memory, one thread)",
        "",
        "| sample | M events / CPU-s | M events / wall-s | triggered |",
        "|---|---:|---:|---:|",
    ]
    cu_events = None
    gen_rate = {}
    for name, comp in comps.items():
        cpu, wall, ev = _best(lambda c=comp: generate(c, det, 7, 0, n), args.repeat)
        gen_rate[name] = n / cpu
        lines.append(
            f"| {name} | {n / cpu / 1e6:.2f} | {n / wall / 1e6:.2f} | {len(ev['npe']) / n:.3f} |"
        )
        if name.startswith("cu_pb210"):
            cu_events = ev
    ev = {k: v for k, v in cu_events.items() if not k.startswith("_")}
    m = len(ev["npe"])
    meta = EventFileMeta("background", "cu_pb210", n, 1.0, 1.0, 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.root"
        cpu_w, _wall_w, _ = _best(lambda: write_events(path, quantize(ev), meta), args.repeat)
        size = path.stat().st_size
    gen_cu = n / gen_rate["cu_pb210 (wall, mis-reconstruction)"]
    lines += [
        "",
        "## Writing (quantize + exonu.io.root.write_events, ZSTD(1), 13 branches)",
        "",
        "| events | file MB | M events / CPU-s | MB / CPU-s | write / (generate + write) |",
        "|---:|---:|---:|---:|---:|",
        f"| {m:,} | {size / 1e6:.1f} | {m / cpu_w / 1e6:.2f} | {size / cpu_w / 1e6:.0f} | "
        f"{cpu_w / (cpu_w + gen_cu):.2f} |",
        "",
        "## Whole chunks (exonu.sim.simulate_chunk, default configuration)",
        "",
        "| sample, chunk 0 of 2 | generated | written | CPU s | wall s | file MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for kind, sample in (("background", "cu_pb210"), ("data", "data")):
            path = Path(tmp) / f"{sample}.root"

            def run(kind=kind, sample=sample, path=path):
                return simulate_chunk(sim, cfg["detector"], kind, sample, 0, path, physics=phys)

            cpu, wall, meta = _best(run, 1)
            import uproot

            with uproot.open(path) as f:
                written = f["events"].num_entries
            lines.append(
                f"| {kind}/{sample} | {meta.n_generated:,} | {written:,} | {cpu:.1f} | "
                f"{wall:.1f} | {path.stat().st_size / 1e6:.0f} |"
            )
    if args.workflow:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [
                sys.executable,
                "-m",
                "snakemake",
                "--snakefile",
                str(REPO / "Snakefile"),
                "--directory",
                tmp,
                "--configfile",
                str(REPO / "config" / "config.yaml"),
                "--cores",
                "2",
                "--until",
                "simulate",
                "--quiet",
            ]
            c0, w0 = _children_cpu(), time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall, cpu = time.perf_counter() - w0, _children_cpu() - c0
            if proc.returncode:
                print(proc.stderr[-3000:], file=sys.stderr)
                return 1
            du = sum(p.stat().st_size for p in Path(tmp).rglob("*.root"))
            n_jobs = len(list(Path(tmp).rglob("events/**/*.root")))
        lines += [
            "",
            "## Default simulation of the embedded analysis",
            "",
            "`snakemake --cores 2 --until simulate` (fresh directory, Numba cache warm):",
            "",
            f"* {n_jobs} event files, {du / 1e9:.2f} GB",
            f"* wall {wall:.0f} s, CPU (all processes) {cpu:.0f} s",
        ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
