"""Events mode, from event files to selected histograms: simulation, input checks, selection,
merging of the chunks, cut flows (``workflow/rules/simulate.smk`` and ``select.smk``)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from exonu.stages.runtime import atomic_output, write_json, write_text

__all__ = [
    "check_inputs",
    "cutflow",
    "merge",
    "select",
    "simulate",
    "warm_numba",
    "warm_simulation",
    "write_histograms",
]

log = logging.getLogger("exonu")


def write_histograms(result: Any, output: str | os.PathLike[str]) -> None:
    """A selection result as ``output`` (ROOT histograms) and its sidecar ``<output>.json``,
    both atomically (:func:`exonu.selection.run.write_result`)."""
    from exonu.selection.run import write_result

    root = Path(output)
    with atomic_output(root.with_suffix(".json")) as side, atomic_output(root) as tmp:
        write_result(result, tmp, sidecar=side)


# --------------------------------------------------------------------------- simulate


def simulate(params: Mapping[str, Any], kind: str, sample: str, chunk: int, output: str) -> None:
    """Generate one chunk of one sample.

    ``params``: the ``simulation`` entries the sample depends on, the ``detector`` block
    and, for data and solar neutrinos, the ``physics`` block (common.smk
    ``simulation_params``).
    """
    from exonu.sim import simulate_chunk

    start = time.perf_counter()
    timing: dict[str, float] = {}
    with atomic_output(output) as tmp:
        meta = simulate_chunk(
            params["simulation"],
            params["detector"],
            kind,
            sample,
            chunk,
            tmp,
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


def warm_simulation(output: str) -> None:
    """Compile the simulation kernel once, before parallel jobs race for the cache."""
    from exonu.sim import compile_kernels

    write_text("compiled: " + " ".join(compile_kernels()) + "\n", output)


# --------------------------------------------------------------------------- select


def warm_numba(output: str) -> None:
    """Compile the selection kernel once, before parallel jobs race for the cache."""
    from exonu.selection.warm import compile_kernels

    sig = compile_kernels()
    write_text(f"compiled: {sig}\n", output)


def check_inputs(sample: str, kind: str, paths: Sequence[str], output: str) -> None:
    """Check the metadata of the user's event files of one sample; write its manifest."""
    from exonu.io.inputs import check_sample_files

    manifest = check_sample_files(sample, kind, list(paths))
    write_json(manifest, output)
    n_gen = sum(f["n_generated"] for f in manifest["files"])
    log.info("%s: %d event files checked (%d generated/recorded events)", sample, len(paths), n_gen)


def select(params: Mapping[str, Any], kind: str, event_file: str, output: str) -> None:
    """Select one event file; writes ``output`` (ROOT histograms) and its JSON sidecar.

    ``params``: ``selection``, ``binning``, ``calibration``, ``detector`` blocks.
    """
    from exonu.selection.run import select_file

    result = select_file(event_file, params, expected_kind=kind)
    write_histograms(result, output)
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
    )

    result = merge_results([read_result(p) for p in inputs])
    write_histograms(result, output)
    if cutflow_md:
        write_text(
            f"# Cut flow: {result.sample} ({result.kind})\n\n" + cutflow_markdown([result]),
            cutflow_md,
        )
    if cutflow_json:
        write_json(cutflow_document(result), cutflow_json)


def cutflow(inputs: Sequence[str], output_md: str, output_json: str) -> None:
    """Cut-flow tables (Markdown + JSON) of all samples."""
    from exonu.selection.run import cutflow_document, cutflow_markdown, read_result

    results = [read_result(p) for p in inputs]
    write_text(cutflow_markdown(results), output_md)
    write_json({r.sample: cutflow_document(r) for r in results}, output_json)
