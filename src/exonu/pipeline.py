"""The stages of the workflow as plain functions of (params, input paths, output paths).

Each Snakemake rule runs a thin script in ``scripts/`` that calls exactly one
function here with ``snakemake.params`` / ``input`` / ``output``; the same
functions are importable and tested without Snakemake. ``params`` are always the
config subtree the stage depends on (nothing else), so a change of an unrelated
config key reruns nothing.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import resource
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("exonu")


def _write_json(obj: Any, path: str | os.PathLike[str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _write_text(text: str, path: str | os.PathLike[str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- simulate


def simulate(params: Mapping[str, Any], kind: str, sample: str, chunk: int, output: str) -> None:
    """Generate one chunk of one sample.

    ``params``: the ``simulation`` entries the sample depends on, the ``detector`` block
    and, for data and solar neutrinos, the ``physics`` block (common.smk
    ``simulation_params``).
    """
    import time

    from exonu.sim import simulate_chunk

    start = time.perf_counter()
    timing: dict[str, float] = {}
    meta = simulate_chunk(
        params["simulation"],
        params["detector"],
        kind,
        sample,
        chunk,
        output,
        physics=params.get("physics"),
        timing=timing,
    )
    log.info(
        "simulated %s/%s chunk %d/%d: %d generated in %.1f s (CPU: generate %.2f s, "
        "write %.2f s) -> %s (seed %d)",
        kind,
        sample,
        chunk,
        meta.n_chunks,
        meta.n_generated,
        time.perf_counter() - start,
        timing["generate_cpu_s"],
        timing["write_cpu_s"],
        output,
        meta.seed,
    )


# --------------------------------------------------------------------------- select


def warm_numba(output: str) -> None:
    """Compile the selection kernel once, before parallel jobs race for the cache."""
    from exonu.selection.warm import compile_kernels

    sig = compile_kernels()
    _write_text(f"compiled: {sig}\n", output)


def check_inputs(sample: str, kind: str, paths: Sequence[str], output: str) -> None:
    """Check the metadata of the user's event files of one sample; write its manifest."""
    from exonu.io.inputs import check_sample_files

    manifest = check_sample_files(sample, kind, list(paths))
    _write_json(manifest, output)
    n_gen = sum(f["n_generated"] for f in manifest["files"])
    log.info("%s: %d event files checked (%d generated/recorded events)", sample, len(paths), n_gen)


def select(params: Mapping[str, Any], kind: str, event_file: str, output: str) -> None:
    """Select one event file; writes ``output`` (ROOT histograms) and its JSON sidecar.

    ``params``: ``selection``, ``binning``, ``calibration``, ``detector`` blocks.
    """
    from exonu.selection.run import select_file, write_result

    result = select_file(event_file, params, expected_kind=kind)
    write_result(result, output)
    log.info(
        "selected %s: %d read, %d invalid, %d passed",
        event_file,
        result.cutflow[0],
        result.n_invalid,
        result.cutflow[-1],
    )
    if result.n_invalid:
        reasons = {k: v for k, v in result.invalid_table().items() if v}
        log.warning("%s: invalid events counted in the cut flow: %s", event_file, reasons)


def merge(
    inputs: Sequence[str],
    output: str,
    cutflow_md: str | None = None,
    cutflow_json: str | None = None,
) -> None:
    """Add the per-chunk selections of one sample; optionally its cut-flow tables."""
    from exonu.selection.run import (
        cutflow_document,
        cutflow_markdown,
        merge_results,
        read_result,
        write_result,
    )

    result = merge_results([read_result(p) for p in inputs])
    write_result(result, output)
    if cutflow_md:
        _write_text(
            f"# Cut flow: {result.sample} ({result.kind})\n\n" + cutflow_markdown([result]),
            cutflow_md,
        )
    if cutflow_json:
        _write_json(cutflow_document(result), cutflow_json)


def cutflow(inputs: Sequence[str], output_md: str, output_json: str) -> None:
    """Cut-flow tables (Markdown + JSON) of all samples."""
    from exonu.selection.run import cutflow_document, cutflow_markdown, read_result

    results = [read_result(p) for p in inputs]
    _write_text(cutflow_markdown(results), output_md)
    _write_json({r.sample: cutflow_document(r) for r in results}, output_json)


# --------------------------------------------------------------------------- physics


def signal_spectrum(params: Mapping[str, Any], output: str) -> None:
    """Coefficient spectra of one signal hypothesis on the true-energy bins.

    ``params``: ``physics`` block, the ``signal`` entry and ``true_energy_kev`` binning.
    """
    from exonu.scans import hypothesis_spectrum
    from exonu.selection.run import edges_from_spec

    edges = edges_from_spec(params["true_energy_kev"], "binning.true_energy_kev")
    _write_json(hypothesis_spectrum(params["signal"], params["physics"], edges), output)


# --------------------------------------------------------------------------- workspace


def dead_pmt_correction(
    params: Mapping[str, Any],
    data_hist: str,
    background_hists: Sequence[str],
    output: str,
    variation_hists: Sequence[str] = (),
) -> None:
    """Data-driven dead-PMT correction per energy region (XMASS §3.3).

    ``params``: ``dead_pmt_correction`` (the ``backgrounds.dead_pmt_correction`` block);
    ``variation_hists``: systematic-variation samples (the dead-PMT model uncertainty).
    """
    from exonu.selection.run import read_result
    from exonu.templates.dead_pmt import TRUTH_KEY, closure, estimate_dead_pmt_correction

    data = read_result(data_hist)
    corr = estimate_dead_pmt_correction(
        data,
        [read_result(p) for p in background_hists],
        float(params["dead_pmt_correction"]["near_distance_cm"]),
        [read_result(p) for p in variation_hists],
    )
    for name, c, st, mk in zip(
        corr.region_names, corr.factor, corr.stat, corr.masking, strict=True
    ):
        log.info("%s: correction %.3f +- %.3f (stat) +- %.3f (masking)", name, c, st, mk)
    log.info("method systematic (binning, sample, dead-PMT model): %s", corr.method.round(3))
    doc = corr.to_dict()
    if TRUTH_KEY in data.extra:  # simulated data that records the injected difference
        doc["closure"] = closure(corr, data.extra[TRUTH_KEY])
        log.info("closure vs injected factors: pulls %s", doc["closure"]["pulls"])
        if not doc["closure"]["closes"]:
            log.warning("dead-PMT correction does not recover the injected factors (|pull| > 3)")
    _write_json(doc, output)


def background_model(
    params: Mapping[str, Any],
    data_hist: str,
    background_hists: Sequence[str],
    variation_hists: Sequence[str],
    correction: str | None,
    output: str,
) -> None:
    """Background templates with constraints, dead-PMT correction and systematic shifts.

    ``params``: ``backgrounds`` block and ``systematic_regions_kev``.
    """
    from exonu.selection.run import read_result
    from exonu.templates.build import build_background_model

    apply = bool(params["backgrounds"]["dead_pmt_correction"]["apply"])
    doc = build_background_model(
        read_result(data_hist),
        [read_result(p) for p in background_hists],
        [read_result(p) for p in variation_hists],
        params["backgrounds"]["relative_uncertainty"],
        params["systematic_regions_kev"],
        json.loads(Path(correction).read_text()) if (correction and apply) else None,
    )
    log.info(
        "background model: %d components, systematics %s",
        len(doc["components"]),
        [s["name"] for s in doc["systematics"]],
    )
    _write_json(doc, output)


def response(signal_hist: str, variation_hists: Sequence[str], output: str) -> None:
    """Signal response S(T, E_rec) with its shifted versions (XMASS eq. 3)."""
    from exonu.selection.run import read_result
    from exonu.templates.build import response_from_signal_mc, write_response

    resp = response_from_signal_mc(
        read_result(signal_hist), [read_result(p) for p in variation_hists]
    )
    write_response(resp, output)
    log.info("response: systematics %s", [s.name for s in resp.systematics])


def template_closure(
    params: Mapping[str, Any],
    chunk_hists: Mapping[str, Sequence[str]],
    output_md: str,
    output_json: str,
) -> None:
    """Half-split closure of every background template (even vs odd chunks).

    ``params``: ``closure`` block (``min_count``, ``alpha``).
    """
    from exonu.selection.run import read_result
    from exonu.templates.closure import closure_markdown, half_split_closure

    cfg = params["closure"]
    rows = [
        half_split_closure([read_result(p) for p in paths], int(cfg["min_count"]))
        for _name, paths in sorted(chunk_hists.items())
    ]
    alpha = float(cfg["alpha"])
    failed = [r["sample"] for r in rows if r["p_value"] < alpha]
    head = (
        "# Half-split closure of the background templates\n\n"
        "Template from the even chunks vs the counts of the odd chunks (binomial chi2, "
        f"bins merged to >= {int(cfg['min_count'])} events); closes if p >= {alpha:g}.\n\n"
    )
    _write_text(head + closure_markdown(rows, alpha), output_md)
    _write_json({"alpha": alpha, "components": rows, "failed": failed}, output_json)
    if failed:
        log.warning("template closure fails (p < %g) for %s", alpha, failed)


def workspace(
    params: Mapping[str, Any],
    data_hist: str,
    background_model_json: str,
    response_root: str,
    spectra: Sequence[str],
    output: str,
    strict: bool = False,
) -> None:
    """Assemble the workspace JSON from the background model, response and signal spectra.

    ``params``: ``analysis``, ``signals`` list, ``detector`` (active mass),
    ``r_pe_max_cm`` (fiducial mass) and ``systematic_regions_kev``. A background model that
    is zero in a whole fit window stops the job; the input warnings
    (:func:`exonu.stats.plausibility.workspace_warnings`) go into the workspace, or with
    ``strict`` stop the job (nothing is written).
    """
    from exonu.detector.geometry import fiducial_mass_kg
    from exonu.selection.run import read_result
    from exonu.stats.plausibility import check_background, enforce_strict, workspace_warnings
    from exonu.stats.workspace import Workspace, dump_workspace
    from exonu.templates.build import assemble_workspace, read_response, signal_workspace_entry

    data = read_result(data_hist)
    model = json.loads(Path(background_model_json).read_text())
    resp = read_response(response_root)
    active_mass = fiducial_mass_kg(float(params["detector"]["radius_cm"]))
    by_name = {s["name"]: s for s in params["signals"]}
    entries = []
    for path in spectra:
        spectrum = json.loads(Path(path).read_text())
        entries.append(
            signal_workspace_entry(
                by_name[spectrum["name"]],
                spectrum,
                resp,
                active_mass,
                data.livetime_s,
                params["systematic_regions_kev"],
            )
        )
    doc = assemble_workspace(
        params["analysis"],
        data,
        model,
        None,
        entries,
        fiducial_mass_kg(float(params["r_pe_max_cm"])),
    )
    ws = Workspace.from_dict(doc, source=output)
    check_background(ws, f"background model {background_model_json!r}")
    ws = ws.with_warnings(workspace_warnings(ws))
    for w in ws.warnings:
        log.warning("workspace %s: %s", output, w)
    enforce_strict(ws.warnings, strict)
    dump_workspace(ws, output)


# --------------------------------------------------------------------------- fit


def limit(
    params: Mapping[str, Any],
    workspace_path: str,
    signal: str,
    output: str,
    expected_paths: Sequence[str] = (),
    strict: bool = False,
) -> None:
    """Fit and 90 % CL limit of one signal (``params``: ``fit`` block).

    With ``expected_paths`` (shards of background-only toy limits), the result also
    carries the expected limit: median and ±1σ/±2σ quantiles. The result carries its
    plausibility ``warnings`` (:func:`exonu.stats.plausibility.checked_limit`, with the
    one-bin window check); with ``strict`` a warning stops the job (nothing is written).
    """
    from exonu.stats.expected import ExpectedLimits, combine_expected
    from exonu.stats.plausibility import checked_limit, enforce_strict
    from exonu.stats.workspace import load_workspace

    ws = load_workspace(workspace_path)
    result = checked_limit(ws, signal, params["fit"], window_check=True)
    for w in result.warnings:
        log.warning("%s: %s", signal, w)
    enforce_strict(result.warnings, strict, signal)
    if expected_paths:
        parts = [ExpectedLimits.from_dict(json.loads(Path(p).read_text())) for p in expected_paths]
        exp = combine_expected(parts)
        record_seed(exp.seed)
        result = result.with_expected(exp.summary())
        log.info(
            "%s: expected %.3g (+1σ %.3g, -1σ %.3g)", signal, exp.median, exp.plus1, exp.minus1
        )
    result = result.to_dict()
    _write_json(result, output)
    log.info("%s: 90%% CL upper limit %s", signal, result["upper_limit"])


def expected_shard(
    params: Mapping[str, Any], workspace_path: str, signal: str, shard: int, output: str
) -> None:
    """Background-only toy limits of one shard of toys (seed derived from names)."""
    from exonu.stats.expected import expected_limits
    from exonu.stats.toys import seed_from_name
    from exonu.stats.workspace import load_workspace

    fit = params["fit"]
    seed = seed_from_name(params["analysis"], signal, "expected", str(params["seed"]))
    record_seed(seed)
    exp = expected_limits(
        load_workspace(workspace_path),
        signal,
        int(fit["expected_toys"]),
        seed,
        method=fit["method"],
        cl=float(fit["cl"]),
        likelihood=fit["likelihood"],
        shard=(shard, int(fit["expected_shards"])),
    )
    _write_json(exp.to_dict(), output)
    log.info(
        "%s: %d toy limits (shard %d), %d failed", signal, len(exp.limits), shard, exp.n_failed
    )


#: Seeds used by the current job, recorded in the provenance sidecars of its outputs.
_SEEDS: list[int] = []


def record_seed(seed: int) -> None:
    """Record a random seed used by this job (goes into every ``.prov.json`` it writes)."""
    _SEEDS.append(int(seed))


# --------------------------------------------------------------------------- scripts


def setup_script_logging(smk: Any) -> None:
    """Send the ``exonu`` logger of a rule script to the rule's log file and stderr."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if smk.log:
        Path(smk.log[0]).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(smk.log[0], mode="w"))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for h in handlers:
        h.setFormatter(fmt)
        log.addHandler(h)
    log.setLevel(logging.INFO)
    log.info("rule %s, wildcards %s", smk.rule, dict(smk.wildcards))
    _inject_fault(smk)

    # import now: modules cannot be imported safely from an atexit hook (threading shutdown)
    import exonu.io.root
    import exonu.products.provenance  # noqa: F401

    failed = []

    def excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        # one clear line in the rule's log; the traceback stays on stderr
        failed.append(kind)
        log.error("%s: %s", kind.__name__, value)
        sys.__excepthook__(kind, value, tb)

    sys.excepthook = excepthook

    def write_provenance() -> None:
        if not failed:
            _write_provenance(smk)

    atexit.register(write_provenance)


#: Fault injection for the fault-tolerance tests: ``EXONU_FAIL_ONCE=<rule>:<marker dir>``
#: makes the first attempt of every job of ``<rule>`` fail (a transient failure that
#: ``snakemake --retries 1`` must recover from). Unset in normal use.
FAIL_ONCE_ENV = "EXONU_FAIL_ONCE"


class InjectedFault(RuntimeError):
    """A deliberate, transient failure (see :data:`FAIL_ONCE_ENV`)."""


def _inject_fault(smk: Any) -> None:
    spec = os.environ.get(FAIL_ONCE_ENV)
    if not spec or ":" not in spec:
        return
    rule, marker_dir = spec.split(":", 1)
    if rule != smk.rule:
        return
    tag = "_".join(f"{k}-{v}" for k, v in sorted(dict(smk.wildcards).items())) or "job"
    marker = Path(marker_dir) / f"{rule}__{tag}"
    if marker.exists():
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    raise InjectedFault(f"injected transient failure of rule {rule} ({tag}); retry succeeds")


def job_usage() -> dict[str, float]:
    """Peak resident memory (MB) and CPU seconds of this job's process so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "max_rss_mb": round(own.ru_maxrss / 1024.0, 1),  # Linux reports kB
        "cpu_s": round(own.ru_utime + own.ru_stime, 3),
    }


def _write_provenance(smk: Any) -> None:
    """``<output>.prov.json`` for every output of a successful job."""
    from exonu.io.root import EventFileError, read_meta
    from exonu.products.provenance import build_record, write_sidecar

    inputs = [str(p) for p in smk.input]
    params = {k: v for k, v in dict(smk.params).items()}
    # seeds of the event files read (the user's files carry no sidecar of their own)
    input_seeds = []
    for p in inputs:
        if p.endswith(".root") and Path(p).is_file():
            try:
                input_seeds.append(read_meta(p).seed)
            except EventFileError:
                pass  # a histogram file
    for out in smk.output:
        path = Path(out)
        if not path.is_file():
            continue
        seeds = list(_SEEDS) + [s for s in input_seeds if s not in _SEEDS]
        if path.suffix == ".root":
            try:
                seeds.append(read_meta(path).seed)
            except EventFileError:
                pass  # a histogram file, not an event file
        record = build_record(
            path,
            rule=smk.rule,
            wildcards=dict(smk.wildcards),
            params=params,
            inputs=inputs,
            seeds=seeds,
        )
        record["job"] = job_usage()
        # the config files (base first) and --config overrides of the run (Snakefile)
        record["configuration"] = dict(smk.config).get("_sources")
        write_sidecar(path, record)
