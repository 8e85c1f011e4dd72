"""Workflow-level benchmarks (issue 9): DAG and scheduling overhead, the embedded default end
to end, peak memory of jobs, event-processing scaling from 1 to 2 processes, the Numba kernel
against its NumPy reference, and a projection of a full XMASS-scale analysis on a farm.

Run from the repository root with the virtual environment (about 10 minutes on 2 cores)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_workflow.py \
        --output benchmarks/records/workflow.md [--quick]

Measures, in one run, every Snakemake invocation in a fresh scratch directory:

1. dry runs (DAG construction + scheduling, no job executed) of the embedded default, of the
   full-scale configuration (``config/full.yaml``, extending the embedded default) and of the
   full-scale configuration with more chunks (thousands of jobs); a linear fit gives the cost
   per 1000 jobs; plus the start-up of Snakemake itself (a one-job dry run), which every farm
   job pays;
2. the embedded default end to end (``snakemake --cores 2``): wall time, CPU of all processes,
   CPU and peak resident memory of every job from its provenance sidecar (``<output>.prov.json``,
   key ``job``), the critical path through the rule graph;
3. the largest chunks of the full-scale configuration (simulate + select of ``signal_flat``
   and ``cu_pb210`` chunk 0, the size a farm job processes): CPU and peak memory per job;
4. event processing (read + select + histograms, :func:`exonu.selection.run.select_file`) of
   the largest event files of the default, one process after the other vs two processes;
5. the fused Numba kernel vs the NumPy reference (:func:`exonu.selection.kernels.reference_fill`)
   on the same in-memory events, same configuration, identical histograms checked;
6. a projection of the core-hours and wall time of an XMASS-scale analysis (1e8 data events,
   1e9 Monte-Carlo events) on a 500-core farm, computed from the numbers above.
"""

from __future__ import annotations

import argparse
import copy
import graphlib
import json
import math
import multiprocessing as mp
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import yaml
from benchinfo import cpu_model, git_commit

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
CONFIG = REPO / "src" / "exonu" / "resources" / "default.yaml"  # the embedded default
FULL = REPO / "config" / "full.yaml"
sys.path.insert(0, str(REPO / "benchmarks"))

#: Rules whose work grows with the number of events (the rest work on binned histograms).
EVENT_RULES = ("simulate", "select")
#: Full-scale chunks measured (the largest signal-MC and background chunks of full.yaml).
CHUNK_SAMPLES = (("signal", "signal_flat"), ("background", "cu_pb210"))


# --------------------------------------------------------------------------- helpers


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def snakemake(workdir: Path, *args: str) -> tuple[float, float, str]:
    """(wall s, CPU s of Snakemake and every process it started, stdout + stderr)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), *args]
    c0, t0 = children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=workdir)
    wall, cpu = time.perf_counter() - t0, children_cpu() - c0
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return wall, cpu, proc.stdout + proc.stderr


def job_stats(output: str) -> dict[str, int]:
    """The "Job stats" table of a Snakemake run or dry run: rule -> jobs (and "total")."""
    block = output.split("Job stats:", 1)[1]
    stats = {}
    for line in block.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)\s*$", line)
        if not m:
            break
        stats[m.group(1)] = int(m.group(2))
    return stats


def declared_mem_mb(output: str) -> dict[str, int]:
    """mem_mb each rule declares, from the job descriptions of a dry run."""
    mem: dict[str, int] = {}
    for m in re.finditer(
        r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", output, re.M
    ):
        r = re.search(r"\bmem_mb=(\d+)", m.group(2))
        if r:
            mem.setdefault(m.group(1), int(r.group(1)))
    return mem


def job_usage(results: Path) -> list[dict[str, Any]]:
    """One entry per job with provenance: rule, wildcards, CPU s and peak RSS MB.

    A job with several outputs writes several sidecars, each with the usage so far: the
    largest values are the job's.
    """
    jobs: dict[str, dict[str, Any]] = {}
    for side in results.rglob("*.prov.json"):
        doc = json.loads(side.read_text())
        use = doc.get("job")
        if not use:
            continue
        wc = doc.get("wildcards", {})
        key = doc["rule"] + json.dumps(wc, sort_keys=True)
        job = jobs.setdefault(
            key, {"rule": doc["rule"], "wc": wc, "cpu": 0.0, "rss": 0.0, "outputs": 0}
        )
        job["outputs"] += 1
        job["cpu"] = max(job["cpu"], float(use["cpu_s"]))
        job["rss"] = max(job["rss"], float(use["max_rss_mb"]))
    return list(jobs.values())


def by_rule(jobs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for j in jobs:
        r = out.setdefault(j["rule"], {"n": 0, "cpu": 0.0, "max_cpu": 0.0, "rss": 0.0})
        r["n"] += 1
        r["cpu"] += j["cpu"]
        r["max_cpu"] = max(r["max_cpu"], j["cpu"])
        r["rss"] = max(r["rss"], j["rss"])
    return out


def merged_config(files: list[Path], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The validated configuration Snakemake sees for ``--configfile files...``."""
    from exonu.config import validate_config

    def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(a)
        for k, v in b.items():
            out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        return out

    cfg: dict[str, Any] = {}
    for f in files:
        cfg = merge(cfg, yaml.safe_load(Path(f).read_text()) or {})
    return validate_config(merge(cfg, extra or {}))


def rule_graph(workdir: Path, files: list[Path]) -> dict[str, set[str]]:
    """Rule -> rules it depends on (``snakemake --rulegraph``)."""
    _, _, out = snakemake(workdir, "--rulegraph", "--configfile", *map(str, files))
    names = dict(re.findall(r"^\s*(\d+)\[label = \"(\w+)\"", out, re.M))
    deps: dict[str, set[str]] = {n: set() for n in names.values()}
    for a, b in re.findall(r"^\s*(\d+) -> (\d+)", out, re.M):
        deps[names[b]].add(names[a])
    return deps


def critical_path(deps: dict[str, set[str]], cost: dict[str, float]) -> tuple[float, list[str]]:
    """Longest chain of rule costs through the rule graph (each rule after all it needs)."""
    finish: dict[str, tuple[float, list[str]]] = {}
    for rule in graphlib.TopologicalSorter(deps).static_order():
        before = max((finish[d] for d in deps.get(rule, ())), default=(0.0, []))
        c = cost.get(rule, 0.0)
        finish[rule] = (before[0] + c, [*before[1], rule] if c > 0 else before[1])
    return max(finish.values())


def machine() -> str:
    cpu = cpu_model()
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024**2:.1f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}, {platform.platform()}, "
        f"Python {platform.python_version()} (shared with other users' jobs)"
    )


def versions() -> str:
    from importlib import metadata

    pkgs = ("snakemake", "numpy", "numba", "uproot")
    return ", ".join(f"{p} {metadata.version(p)}" for p in pkgs)


def sci(x: float) -> str:
    """1e+09 -> 1e9, 1.1e+09 -> 1.1e9."""
    mant, exp = f"{x:.1e}".split("e")
    return f"{mant.rstrip('0').rstrip('.')}e{int(exp)}"


def load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


# --------------------------------------------------------------------------- measurements


def dag_overhead(tmp: Path, quick: bool) -> dict[str, Any]:
    """Dry runs of growing configurations: jobs and best wall time of ``repeats`` runs."""
    repeats = 1 if quick else 2
    cases: list[tuple[str, list[Path], int | None]] = [
        ("embedded default (config.yaml)", [CONFIG], None),
        ("full scale (config.yaml + full.yaml)", [CONFIG, FULL], None),
        ("full scale, simulation.n_chunks = 100", [CONFIG, FULL], 100),
    ]
    if not quick:
        cases.append(("full scale, simulation.n_chunks = 200", [CONFIG, FULL], 200))
    rows = []
    full_out = ""
    for k, (label, files, n_chunks) in enumerate(cases):
        args = [str(f) for f in files]
        if n_chunks:
            over = tmp / f"chunks_{n_chunks}.yaml"
            over.write_text(yaml.safe_dump({"simulation": {"n_chunks": n_chunks}}))
            args.append(str(over))
        best, out = math.inf, ""
        for r in range(repeats):
            wall, _, out = snakemake(
                tmp / f"dag{k}_{r}", "--dry-run", "--cores", "2", "--configfile", *args
            )
            best = min(best, wall)
        stats = job_stats(out)
        rows.append({"label": label, "jobs": stats["total"], "wall": best, "stats": stats})
        if files == [CONFIG, FULL] and not n_chunks:
            full_out = out
        print(f"dry run, {label}: {stats['total']} jobs, {best:.1f} s", flush=True)
    jobs = np.array([r["jobs"] for r in rows], float)
    walls = np.array([r["wall"] for r in rows])
    slope, intercept = np.polyfit(jobs, walls, 1)
    # Snakemake start-up: parse the Snakefile, validate the config, a one-job DAG
    start = math.inf
    for r in range(repeats + 1):
        wall, _, _ = snakemake(
            tmp / f"one_{r}",
            "--dry-run",
            "--cores",
            "1",
            "--configfile",
            str(CONFIG),
            "--",
            "results/default/.numba_warm_sim",
        )
        start = min(start, wall)
    print(f"Snakemake start-up (one-job dry run): {start:.2f} s", flush=True)
    return {
        "rows": rows,
        "slope": slope,
        "intercept": intercept,
        "startup": start,
        "repeats": repeats,
        "full_stats": rows[1]["stats"],
        "full_mem": declared_mem_mb(full_out),
    }


def end_to_end(tmp: Path, files: list[Path], cores: int) -> dict[str, Any]:
    """``snakemake --cores N`` in a fresh directory: wall, CPU, per-job usage."""
    work = tmp / "e2e"
    load0 = load()
    wall, cpu, out = snakemake(work, "--cores", str(cores), "--configfile", *map(str, files))
    jobs = job_usage(work / "results")
    print(f"end to end: {wall:.0f} s wall, {cpu:.0f} CPU-s, {len(jobs)} jobs", flush=True)
    return {
        "wall": wall,
        "cpu_all": cpu,
        "cores": cores,
        "snakemake_jobs": job_stats(out).get("total", 0),
        "jobs": jobs,
        "rules": by_rule(jobs),
        "workdir": work,
        "load": (load0, load()),
        "files": files,
    }


def full_scale_chunks(tmp: Path, repeats: int) -> dict[str, Any]:
    """Simulate + select chunk 0 of the largest full-scale samples, one job at a time.

    Repeated in fresh directories: per job the minimum CPU and the maximum peak memory.
    """
    from exonu.products.provenance import sha256_file

    cfg = merged_config([CONFIG, FULL])
    res = f"results/{cfg['analysis']}"
    targets = [f"{res}/selection/{s}/chunk_000.root" for _, s in CHUNK_SAMPLES]
    out: dict[str, Any] = {"wall": math.inf, "repeats": repeats, "samples": {}}
    for rep in range(repeats):
        work = tmp / f"chunks{rep}"
        wall, _, _ = snakemake(
            work, "--cores", "1", "--configfile", str(CONFIG), str(FULL), "--", *targets
        )
        out["wall"] = min(out["wall"], wall)
        jobs = job_usage(work / "results")
        for kind, sample in CHUNK_SAMPLES:
            side = json.loads((work / res / "selection" / sample / "chunk_000.json").read_text())
            ev_file = work / res / "events" / kind / sample / "chunk_000.root"
            per = {j["rule"]: j for j in jobs if j["wc"].get("sample") == sample}
            hash_cpu = math.inf
            for _ in range(2):
                c0 = time.process_time()
                sha256_file(ev_file)
                hash_cpu = min(hash_cpu, time.process_time() - c0)
            prev = out["samples"].get(sample)
            if prev:
                for rule in EVENT_RULES:
                    prev[rule]["cpu"] = min(prev[rule]["cpu"], per[rule]["cpu"])
                    prev[rule]["rss"] = max(prev[rule]["rss"], per[rule]["rss"])
                prev["hash_cpu"] = min(prev["hash_cpu"], hash_cpu)
                continue
            out["samples"][sample] = {
                "generated": int(side["n_generated"]),
                "read": int(side["cutflow"][0]["passed"]),
                "bytes": ev_file.stat().st_size,
                "simulate": per["simulate"],
                "select": per["select"],
                "hash_cpu": hash_cpu,
            }
        shutil.rmtree(work)
    print("full-scale chunks:", json.dumps(out["samples"], default=str)[:400], flush=True)
    return out


def _selection_cfg() -> dict[str, Any]:
    """The params block of the ``select`` rule for the embedded default."""
    from exonu.config import load_config
    from exonu.selection.testing import selection_block

    return selection_block(load_config(CONFIG))


_WORKER_CFG: dict[str, Any] = {}


def _warm_worker(path: str) -> None:
    """Pool initializer: the configuration, imports and the Numba cache of the worker."""
    _WORKER_CFG.update(_selection_cfg())
    _select_one(path)


def _select_one(path: str) -> float:
    from exonu.selection.run import select_file

    t0 = time.process_time()
    select_file(path, _WORKER_CFG)
    return time.process_time() - t0


def process_scaling(events_dir: Path, n_files: int, repeats: int) -> dict[str, Any]:
    """select_file over the largest event files: one process, then a pool of two."""
    _WORKER_CFG.update(_selection_cfg())
    files = sorted(events_dir.rglob("chunk_*.root"), key=lambda p: -p.stat().st_size)[:n_files]
    paths = [str(p) for p in files]
    n_events = 0
    import uproot

    for p in paths:
        with uproot.open(p) as f:
            n_events += f["events"].num_entries
    _select_one(paths[-1])  # load the Numba cache, warm the page cache
    for p in paths:
        _select_one(p)
    load0 = load()
    serial, parallel = math.inf, math.inf
    cpu_serial, cpu_parallel = math.inf, math.inf
    with mp.get_context("spawn").Pool(2, initializer=_warm_worker, initargs=(paths[-1],)) as pool:
        pool.map(_select_one, [paths[-1]] * 4, chunksize=1)
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            for p in paths:
                _select_one(p)
            serial = min(serial, time.perf_counter() - t0)
            cpu_serial = min(cpu_serial, time.process_time() - c0)
            t0 = time.perf_counter()
            cpus = pool.map(_select_one, paths, chunksize=1)
            parallel = min(parallel, time.perf_counter() - t0)
            cpu_parallel = min(cpu_parallel, sum(cpus))
    print(f"scaling: 1 process {serial:.2f} s, 2 processes {parallel:.2f} s", flush=True)
    return {
        "files": len(paths),
        "events": n_events,
        "bytes": sum(p.stat().st_size for p in files),
        "serial": serial,
        "parallel": parallel,
        "cpu_serial": cpu_serial,
        "cpu_parallel": cpu_parallel,
        "repeats": repeats,
        "load": (load0, load()),
    }


def numba_vs_numpy(n: int, repeats: int) -> dict[str, Any]:
    """Fused kernel (Accumulator.fill) vs reference_fill: same events, blocks, outputs."""
    from bench_selection import synthetic

    from exonu.selection.kernels import reference_fill
    from exonu.selection.run import Accumulator, selection_parameters

    cfg = _selection_cfg()
    nominal = copy.deepcopy(cfg)
    nominal["selection"]["systematics"] = {
        "energy_scale": {"knots_kev": [0.0], "relative_sigma": [0.0]},
        "fiducial_volume": {"r_pe_relative_sigma": 0.0},
    }
    nominal["selection"]["dead_pmt"]["n_masked_sets"] = 0
    arrays = synthetic(n, volume_fraction=0.03)
    step = int(cfg["selection"]["step_size"])
    blocks = [{k: v[s : s + step] for k, v in arrays.items()} for s in range(0, n, step)]
    rows = []
    for label, c in (
        ("default: 5 variants, dead PMTs + 8 masked sets", cfg),
        ("nominal only", nominal),
    ):
        p = selection_parameters(c)
        kw = {
            k: p[k]
            for k in (
                "variant_sign",
                "variant_radius_scale",
                "scale_knots_kev",
                "scale_sigma",
                "pmt_sets",
                "cos_edges",
                "region_edges",
            )
        }
        Accumulator(p, False).fill(blocks[0])  # Numba cache
        t_nb, t_np = math.inf, math.inf
        for _ in range(repeats):
            acc = Accumulator(p, False)
            t0 = time.process_time()
            for b in blocks:
                acc.fill(b)
            t_nb = min(t_nb, time.process_time() - t0)
            t0 = time.process_time()
            refs = [reference_fill(b, p["params"], p["energy_edges"], **kw) for b in blocks]
            t_np = min(t_np, time.process_time() - t0)
        same = np.array_equal(acc.energy, sum(r["energy"] for r in refs)) and np.array_equal(
            acc.dead, sum(r["dead_pmt"] for r in refs)
        )
        rows.append({"label": label, "numba": n / t_nb, "numpy": n / t_np, "identical": same})
        print(f"kernel {label}: numba {n / t_nb / 1e6:.0f} M/s, numpy {n / t_np / 1e6:.1f} M/s")
    return {"events": n, "repeats": repeats, "rows": rows}


# --------------------------------------------------------------------------- projection


def projection(
    dag: dict[str, Any],
    e2e: dict[str, Any],
    chunks: dict[str, Any],
    deps: dict[str, set[str]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Core-hours and wall time of an XMASS-scale analysis on ``args.cores`` cores."""
    from exonu.templates.hypotheses import hypotheses

    default_cfg = merged_config(e2e["files"])
    full_cfg = merged_config([CONFIG, FULL])
    jobs, rules = e2e["jobs"], e2e["rules"]
    # per-job start-up: the smallest job of each event rule in the default run
    small = {
        r: min((j for j in jobs if j["rule"] == r), key=lambda j: j["cpu"]) for r in EVENT_RULES
    }
    b = {r: small[r]["cpu"] for r in EVENT_RULES}
    per_event = {r: {} for r in EVENT_RULES}
    for sample, s in chunks["samples"].items():
        per_event["simulate"][sample] = (s["simulate"]["cpu"] - b["simulate"]) / s["generated"]
        per_event["select"][sample] = (s["select"]["cpu"] - b["select"]) / s["read"]
    a = {r: max(per_event[r].values()) for r in EVENT_RULES}
    n_data, n_mc, chunk, p = args.data_events, args.mc_events, args.chunk_events, args.cores
    n_jobs = {"simulate": math.ceil(n_mc / chunk), "select": math.ceil((n_data + n_mc) / chunk)}
    n_events = {"simulate": n_mc, "select": n_data + n_mc}
    core_s: dict[str, float] = {}
    job_s: dict[str, float] = {}
    for r in EVENT_RULES:
        core_s[r] = n_events[r] * a[r] + n_jobs[r] * b[r]
        job_s[r] = b[r] + a[r] * chunk
    # statistics: per toy limit and per scan hypothesis, from the default run
    signals = [s["name"] for s in default_cfg["signals"]]
    toys_d, toys_f = default_cfg["fit"]["expected_toys"], full_cfg["fit"]["expected_toys"]
    shards_f = full_cfg["fit"]["expected_shards"]
    toy_cpu = defaultdict(float)
    for j in jobs:
        if j["rule"] == "expected_shard":
            toy_cpu[j["wc"]["signal"]] += j["cpu"]
    c_toy = {s: toy_cpu[s] / toys_d for s in signals if toys_d}
    core_s["expected_shard"] = sum(c * toys_f for c in c_toy.values())
    job_s["expected_shard"] = max(c_toy.values(), default=0.0) * math.ceil(toys_f / shards_f)
    n_jobs["expected_shard"] = dag["full_stats"].get("expected_shard", 0)
    scan_cpu = defaultdict(float)
    for j in jobs:
        if j["rule"] == "scan_shard":
            scan_cpu[j["wc"]["scan"]] += j["cpu"]
    n_hyp = {
        name: (len(hypotheses(name, default_cfg["scans"][name])), len(hypotheses(name, scan)))
        for name, scan in full_cfg["scans"].items()
        if name in default_cfg["scans"]
    }
    c_hyp = {name: scan_cpu[name] / nd for name, (nd, _) in n_hyp.items()}
    core_s["scan_shard"] = sum(c_hyp[name] * nf for name, (_, nf) in n_hyp.items())
    job_s["scan_shard"] = max(
        c_hyp[name] * math.ceil(nf / full_cfg["scans"][name]["n_shards"])
        for name, (_, nf) in n_hyp.items()
    )
    n_jobs["scan_shard"] = dag["full_stats"].get("scan_shard", 0)
    n_hyp_total = sum(nf for _, nf in n_hyp.values())
    # every other rule: the full-scale job count x the default's mean CPU per job
    other = 0.0
    for rule, n in dag["full_stats"].items():
        if rule in core_s or rule == "total":
            continue
        mean = rules[rule]["cpu"] / rules[rule]["n"] if rule in rules else 0.0
        other += n * mean
        n_jobs[rule] = n
        job_s[rule] = rules[rule]["max_cpu"] if rule in rules else 0.0
    core_s["other rules"] = other
    total_jobs = sum(n_jobs.values())
    smk_node = total_jobs * dag["startup"]  # one Snakemake process per farm job (no groups)
    core_s["Snakemake on the nodes"] = smk_node
    job_cpu_sum = sum(j["cpu"] for j in jobs)
    smk_head_per_job = max(e2e["cpu_all"] - job_cpu_sum, 0.0) / max(len(jobs), 1)
    head_dag = dag["intercept"] + dag["slope"] * total_jobs
    core_s["Snakemake on the head node"] = head_dag + smk_head_per_job * total_jobs
    total = sum(core_s.values())
    # wall: critical path of the rule graph, each rule in waves of p jobs
    cost = {
        r: (job_s[r] + dag["startup"]) * math.ceil(n_jobs[r] / p)
        for r in deps
        if job_s.get(r) and n_jobs.get(r)
    }
    path_s, path = critical_path(deps, cost)
    wall = head_dag + max(path_s, total / p)
    bytes_per_event = max(s["bytes"] / s["read"] for s in chunks["samples"].values())
    profile = yaml.safe_load((REPO / "config" / "profiles" / "slurm" / "config.yaml").read_text())
    group = dict(g.split("=") for g in profile.get("group-components", []))
    return {
        "a": a,
        "b": b,
        "small": small,
        "per_event": per_event,
        "n_jobs": n_jobs,
        "core_s": core_s,
        "job_s": job_s,
        "total": total,
        "total_jobs": total_jobs,
        "c_toy": c_toy,
        "toys": (toys_d, toys_f, shards_f, len(signals)),
        "c_hyp": c_hyp,
        "n_hyp_total": n_hyp_total,
        "smk_head_per_job": smk_head_per_job,
        "head_dag": head_dag,
        "path_s": path_s,
        "path": path,
        "cost": cost,
        "wall": wall,
        "bytes_per_event": bytes_per_event,
        "read_rate": p * bytes_per_event / a["select"],
        "profile_jobs": profile.get("jobs"),
        "profile_events_group": group.get("events"),
    }


# --------------------------------------------------------------------------- report


def render(
    args: argparse.Namespace,
    dag: dict[str, Any],
    e2e: dict[str, Any],
    chunks: dict[str, Any],
    scaling: dict[str, Any],
    kernel: dict[str, Any],
    proj: dict[str, Any],
    default_path: tuple[float, list[str]],
    loads: tuple[str, str],
    started: str,
) -> str:
    cmd = " ".join(
        ["OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_workflow.py", *args.argv]
    )
    e2e_name = " + ".join(f.name for f in e2e["files"])
    lines = [
        "# Workflow benchmarks",
        "",
        f"- date: {started}, commit {git_commit()}",
        f"- machine: {machine()}",
        f"- software: {versions()}",
        f"- command: `{cmd}`" + (" (**quick mode: smaller measurements**)" if args.quick else ""),
        f"- load average (1, 5, 15 min) at start / end: {loads[0]} / {loads[1]}; the cores are "
        "shared with other users' jobs, so wall times and parallel speed-ups carry that noise; "
        "ratios are measured within this one run",
        "",
        "## DAG construction and scheduling (dry run, no job executed)",
        "",
        f"`snakemake --dry-run --cores 2` in an empty directory; best of {dag['repeats']} runs "
        "(wall time; the dry run is single-threaded).",
        "",
        "| configuration | jobs | wall s | s per 1000 jobs |",
        "|---|---:|---:|---:|",
    ]
    for r in dag["rows"]:
        lines.append(
            f"| {r['label']} | {r['jobs']} | {r['wall']:.1f} | {1000 * r['wall'] / r['jobs']:.2f} |"
        )
    lines += [
        "",
        f"- linear fit: {dag['intercept']:.1f} s + **{1000 * dag['slope']:.2f} s per 1000 jobs**",
        f"- Snakemake start-up (parse the Snakefile, validate the config, a one-job DAG): "
        f"{dag['startup']:.2f} s — what every farm job pays once (each runs its own Snakemake)",
        "",
        f"## Embedded default end to end (`snakemake --cores {e2e['cores']}`, {e2e_name}, "
        "fresh directory)",
        "",
    ]
    cpu_jobs = sum(j["cpu"] for j in e2e["jobs"])
    cores = e2e["cores"]
    ideal = cpu_jobs / cores
    path_s, path = default_path
    big = max(e2e["jobs"], key=lambda j: j["rss"])
    smk_cpu = e2e["cpu_all"] - cpu_jobs
    lines += [
        f"- **wall {e2e['wall']:.0f} s**; {e2e['snakemake_jobs']} jobs ({len(e2e['jobs'])} with "
        "a provenance sidecar; the rest are target rules without output); load average at "
        f"start / end of this run {e2e['load'][0]} / {e2e['load'][1]}",
        f"- **CPU: {cpu_jobs:.0f} s in the jobs** (sum of `job.cpu_s` of the sidecars: each "
        f"job's own process), {e2e['cpu_all']:.0f} s in all processes (Snakemake and every "
        f"process it started, `getrusage(RUSAGE_CHILDREN)`) → {smk_cpu:.0f} s outside the "
        f"jobs' own accounting ({smk_cpu / max(len(e2e['jobs']), 1):.2f} s per job)",
        f"- **scheduling overhead = wall − (sum of job CPU) / cores = {e2e['wall']:.0f} − "
        f"{cpu_jobs:.0f} / {cores} = {e2e['wall'] - ideal:.0f} s** "
        f"({(e2e['wall'] - ideal) / e2e['wall']:.0%} of the wall time), of which "
        f"{smk_cpu / cores:.0f} s is the CPU outside the jobs' own accounting / {cores} cores "
        "(the Snakemake process, the shells starting the jobs, the jobs' subprocesses such as "
        "the `git` calls of the provenance, interpreter exit) and "
        f"{e2e['wall'] - ideal - smk_cpu / cores:.0f} s idle cores (serial parts of the DAG) "
        "or cores given to other users' processes; all processes used "
        f"{e2e['cpu_all'] / (cores * e2e['wall']):.0%} of {cores} cores × wall",
        f"- critical path (longest chain of per-rule maximum job CPU through the rule graph, "
        f"a lower bound on the wall time with unlimited cores): {path_s:.0f} s "
        f"({' → '.join(path)})",
        f"- **largest job: rule `{big['rule']}` "
        f"({', '.join(f'{k}={v}' for k, v in sorted(big['wc'].items()))}), peak resident "
        f"memory {big['rss']:.0f} MB**",
        "",
        "| rule | jobs | CPU s (sum) | CPU s (max job) | max RSS MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for rule, r in sorted(e2e["rules"].items(), key=lambda kv: -kv[1]["cpu"]):
        lines.append(
            f"| {rule} | {r['n']} | {r['cpu']:.1f} | {r['max_cpu']:.1f} | {r['rss']:.0f} |"
        )
    lines += [
        "",
        "## Full-scale chunks (config.yaml + full.yaml, chunk 0, `snakemake --cores 1`)",
        "",
        "CPU and peak resident memory of each job from its provenance sidecar (minimum CPU, "
        f"maximum memory of {chunks['repeats']} runs in fresh directories); declared memory "
        "from the rule's `resources: mem_mb`. A job's CPU includes its start-up, writing its "
        "outputs and their provenance sidecars, which hash the event file: simulate hashes its "
        "output once, select hashes its input once per output "
        f"({max(s['select']['outputs'] for s in chunks['samples'].values())} outputs); the "
        "last column is the CPU of one such sha256 pass, measured apart.",
        "",
        "| sample | events generated | events read | file MB | simulate CPU s | simulate RSS MB "
        "| select CPU s | select RSS MB | sha256 of the file, CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for sample, s in chunks["samples"].items():
        lines.append(
            f"| {sample} | {s['generated']:,} | {s['read']:,} | {s['bytes'] / 1e6:.0f} | "
            f"{s['simulate']['cpu']:.1f} | {s['simulate']['rss']:.0f} | "
            f"{s['select']['cpu']:.1f} | {s['select']['rss']:.0f} | {s['hash_cpu']:.2f} |"
        )
    peak = max(
        ((s[r]["rss"], r, name) for name, s in chunks["samples"].items() for r in EVENT_RULES),
    )
    mem = dag["full_mem"]
    lines += [
        "",
        f"- **largest full-scale job: `{peak[1]}` of {peak[2]}, peak resident memory "
        f"{peak[0]:.0f} MB** (rule declares mem_mb={mem.get(peak[1], '?')}); "
        f"the two chunks took {chunks['wall']:.0f} s wall including the warm-up jobs "
        "(best run)",
        "",
    ]
    sp = scaling["serial"] / scaling["parallel"]
    lines += [
        "## Event processing: 1 vs 2 processes",
        "",
        f"`select_file` (validation + `uproot.iterate` + fused kernel + histograms) of the "
        f"{scaling['files']} largest event files of the default run ({scaling['events']:,} "
        f"events, {scaling['bytes'] / 1e6:.0f} MB, page cache warm), one after the other in "
        "one process vs a pool of two processes (spawned and warmed beforehand); best of "
        f"{scaling['repeats']}, load average {scaling['load'][0]} → {scaling['load'][1]}.",
        "",
        "| processes | wall s | M events / wall-s | CPU s (sum) |",
        "|---:|---:|---:|---:|",
        f"| 1 | {scaling['serial']:.2f} | {scaling['events'] / scaling['serial'] / 1e6:.1f} | "
        f"{scaling['cpu_serial']:.2f} |",
        f"| 2 | {scaling['parallel']:.2f} | {scaling['events'] / scaling['parallel'] / 1e6:.1f} "
        f"| {scaling['cpu_parallel']:.2f} |",
        "",
        f"- **speed-up 1 → 2 processes: {sp:.2f}×** (parallel efficiency {sp / 2:.0%}); CPU "
        f"per event with two processes / one: {scaling['cpu_parallel'] / scaling['cpu_serial']:.2f}"
        " (above 1: the two processes slow each other, e.g. memory bandwidth, or other jobs)",
        "",
        "## Numba kernel vs NumPy reference (in memory, one core)",
        "",
        f"{kernel['events']:,} synthetic XMASS-like events (3 % volume events, "
        "`bench_selection.synthetic`), float32, blocks of `selection.step_size`; the fused kernel "
        "(`Accumulator.fill`) against `exonu.selection.kernels.reference_fill` (NumPy masks + "
        "`np.histogram`, the reference the tests compare with) computing the same histograms; "
        f"minimum CPU time of {kernel['repeats']}.",
        "",
        "| configuration | Numba M events / CPU-s | NumPy M events / CPU-s | ratio | identical "
        "histograms |",
        "|---|---:|---:|---:|---|",
    ]
    for r in kernel["rows"]:
        lines.append(
            f"| {r['label']} | {r['numba'] / 1e6:.0f} | {r['numpy'] / 1e6:.1f} | "
            f"**{r['numba'] / r['numpy']:.0f}×** | {'yes' if r['identical'] else '**no**'} |"
        )
    lines += ["", *render_projection(args, proj, dag), ""]
    return "\n".join(lines)


def render_projection(
    args: argparse.Namespace, pr: dict[str, Any], dag: dict[str, Any]
) -> list[str]:
    a, b, cs = pr["a"], pr["b"], pr["core_s"]
    toys_d, toys_f, shards_f, n_sig = pr["toys"]
    per = pr["per_event"]
    lines = [
        f"## Projection: XMASS scale ({sci(args.data_events)} data + {sci(args.mc_events)} "
        f"Monte-Carlo events) on {args.cores} cores",
        "",
        "Model (every input measured above in this run):",
        "",
        f"- event jobs: chunks of C = {sci(args.chunk_events)} events; per job CPU = b + a × "
        "events, with b the job start-up (CPU of the smallest job of the rule in the default "
        f"run: simulate {b['simulate']:.2f} s "
        f"({pr['small']['simulate']['wc'].get('sample')}), select {b['select']:.2f} s "
        f"({pr['small']['select']['wc'].get('sample')})) and a the CPU per event of the "
        "full-scale chunks above, (job CPU − b) / events, the larger of the two samples: "
        "generate + write "
        + ", ".join(f"{k} {1 / v / 1e6:.1f} M/s" for k, v in per["simulate"].items())
        + f" → a = {a['simulate'] * 1e9:.0f} ns; read + select "
        + ", ".join(f"{k} {1 / v / 1e6:.1f} M/s" for k, v in per["select"].items())
        + f" → a = {a['select'] * 1e9:.0f} ns;",
        f"- Monte Carlo generated by exonu.sim ({pr['n_jobs']['simulate']} simulate jobs); data "
        f"and Monte Carlo read and selected ({pr['n_jobs']['select']} select jobs) — Monte Carlo "
        "from Geant4 would be read only (drop the simulate row);",
        f"- statistics as configured in full.yaml: {toys_f} background-only toy limits for each "
        f"of {n_sig} signals in {shards_f} shards, at the CPU per toy of the default run "
        f"({toys_d} toys per signal: "
        + ", ".join(f"{s} {c:.2f} s" for s, c in pr["c_toy"].items())
        + f"); {pr['n_hyp_total']} scan hypotheses at the default's CPU per hypothesis of "
        "each scan (job start-up included in both, so slightly pessimistic);",
        "- every other rule (merges, templates, workspace, curves, figures, tables): its job "
        "count in the full-scale dry run × its mean job CPU in the default run (they work on "
        "histograms whose size does not grow with the number of events);",
        f"- Snakemake: {dag['startup']:.2f} s start-up per farm job on the nodes (one Snakemake "
        "per job; job groups of the SLURM profile divide it), on the head node the DAG "
        f"({dag['intercept']:.1f} s + {1000 * dag['slope']:.2f} s per 1000 jobs) and "
        f"{pr['smk_head_per_job']:.2f} s per job of CPU outside the jobs' own accounting, as "
        "in the default run;",
        "- event-job CPU includes the provenance hashing of the event files (see the "
        "full-scale chunks).",
        "",
        "| part | jobs | CPU per job s | core-hours |",
        "|---|---:|---:|---:|",
    ]
    labels = {
        "simulate": f"generate {sci(args.mc_events)} MC events (exonu.sim)",
        "select": f"read + select {sci(args.data_events + args.mc_events)} events",
        "expected_shard": f"expected limits: {n_sig} × {toys_f} toys",
        "scan_shard": f"scans: {pr['n_hyp_total']} hypotheses",
    }
    for key, label in labels.items():
        lines.append(
            f"| {label} | {pr['n_jobs'][key]} | {pr['job_s'][key]:.1f} | {cs[key] / 3600:.2f} |"
        )
    lines += [
        f"| other rules | {sum(n for r, n in pr['n_jobs'].items() if r not in labels)} | | "
        f"{cs['other rules'] / 3600:.2f} |",
        f"| Snakemake start-up on the nodes | {pr['total_jobs']} | {dag['startup']:.1f} | "
        f"{cs['Snakemake on the nodes'] / 3600:.2f} |",
        f"| Snakemake on the head node (DAG + per-job bookkeeping) | | | "
        f"{cs['Snakemake on the head node'] / 3600:.2f} |",
        f"| **total** | **{pr['total_jobs']}** | | **{pr['total'] / 3600:.1f}** |",
        "",
        f"**Wall time on {args.cores} cores ≈ {pr['wall'] / 60:.1f} min** = head-node DAG "
        f"{pr['head_dag']:.0f} s + max(critical path {pr['path_s']:.0f} s, core-seconds / "
        f"{args.cores} = {pr['total'] / args.cores:.0f} s). Critical path through the rule graph, "
        "each rule as one job's CPU + Snakemake start-up, times the number of waves of "
        f"{args.cores} jobs: "
        + " → ".join(f"{r} {pr['cost'][r]:.0f} s" for r in pr["path"])
        + ". Not included: waiting in the batch queue, submission and polling latency, shared "
        "file-system latency (site-dependent, not measured here).",
        "",
        f"Storage: {pr['bytes_per_event']:.0f} bytes per event (full-scale chunks) → "
        f"{(args.data_events + args.mc_events) * pr['bytes_per_event'] / 1e9:.0f} GB of event "
        f"files; to keep {args.cores} selection jobs CPU-bound the file system must deliver "
        f"{args.cores} × {pr['bytes_per_event']:.0f} B / {pr['a']['select'] * 1e9:.0f} ns = "
        f"{pr['read_rate'] / 1e9:.0f} GB/s, so the selection phase is limited by storage "
        "bandwidth, not CPU, on any realistic file system. The SLURM profile "
        f"(config/profiles/slurm) keeps at most {pr['profile_jobs']} jobs queued or running and "
        f"bundles {pr['profile_events_group']} simulate → select chains per batch job.",
    ]
    return lines


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", help="write the Markdown report here")
    parser.add_argument("--quick", action="store_true", help="tiny.yaml end to end, fewer runs")
    parser.add_argument("--kernel-events", type=int, default=5_000_000)
    parser.add_argument("--scaling-files", type=int, default=8)
    parser.add_argument("--data-events", type=float, default=1e8)
    parser.add_argument("--mc-events", type=float, default=1e9)
    parser.add_argument("--chunk-events", type=float, default=5e6)
    parser.add_argument("--cores", type=int, default=500, help="farm size of the projection")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = load()
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="exonu-bench-workflow-") as tmpdir:
        tmp = Path(tmpdir)
        dag = dag_overhead(tmp, args.quick)
        e2e_files = [CONFIG, REPO / "config" / "tiny.yaml"] if args.quick else [CONFIG]
        e2e = end_to_end(tmp, e2e_files, cores=2)
        deps_default = rule_graph(tmp / "rulegraph_default", e2e_files)
        default_path = critical_path(
            deps_default, {r: v["max_cpu"] for r, v in e2e["rules"].items()}
        )
        chunks = full_scale_chunks(tmp, repeats=1 if args.quick else 2)
        deps_full = rule_graph(tmp / "rulegraph_full", [CONFIG, FULL])
        analysis = merged_config(e2e_files)["analysis"]
        scaling = process_scaling(
            e2e["workdir"] / "results" / analysis / "events",
            args.scaling_files,
            repeats=1 if args.quick else 3,
        )
    kernel = numba_vs_numpy(1_000_000 if args.quick else args.kernel_events, 3)
    proj = projection(dag, e2e, chunks, deps_full, args)
    text = render(
        args, dag, e2e, chunks, scaling, kernel, proj, default_path, (load0, load()), started
    )
    text += f"\nTotal run time of this benchmark: {time.perf_counter() - t_start:.0f} s.\n"
    print(text)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
