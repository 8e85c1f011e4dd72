"""Event selection: Numba kernel per (sample, chunk), merge per sample, cut flow."""

import importlib.util
from pathlib import Path

# variation samples (kind "variation" in KIND_OF)
VARIATIONS = sorted(s for s, k in KIND_OF.items() if k == "variation")
# the Numba kernels of the selection (their compiled cache depends on this file)
KERNEL_SOURCE = str(Path(importlib.util.find_spec("exonu.selection.kernels").origin))
SELECTED_SAMPLES = ["data", *BACKGROUNDS, SIGNAL_MC, *VARIATIONS]


rule warm_numba:
    """Compile the Numba kernels once before selection jobs fan out (cache races).

    The kernel source is an input: when it changes, the cache is rebuilt here, once, and
    every selection reruns."""
    input:
        KERNEL_SOURCE,
    output:
        f"{RESULTS}/.numba_warm",
    log:
        f"{RESULTS}/logs/warm_numba.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/warm_numba.py"


rule check_inputs:
    """Check the user's event files of one sample (inputs.event_files) before selecting any:
    readable and complete ROOT, metadata of the listed sample and kind, no seed twice.
    """
    input:
        lambda w: USER_EVENTS[w.sample],
    output:
        f"{RESULTS}/inputs/{{sample}}.json",
    log:
        f"{RESULTS}/logs/check_inputs/{{sample}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        kind=lambda w: KIND_OF[w.sample],
    script:
        "../../scripts/check_inputs.py"


rule select:
    """Apply the XMASS cuts to one event file and fill the histograms of every variant."""
    input:
        events=lambda w: event_file(KIND_OF[w.sample], w.sample, w.chunk),
        checked=lambda w: (
            [f"{RESULTS}/inputs/{w.sample}.json"] if w.sample in USER_EVENTS else []
        ),
        warm=rules.warm_numba.output[0],
    output:
        hist=f"{RESULTS}/selection/{{sample}}/chunk_{{chunk}}.root",
        sidecar=f"{RESULTS}/selection/{{sample}}/chunk_{{chunk}}.json",
    log:
        f"{RESULTS}/logs/select/{{sample}}_{{chunk}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        cfg=selection_params(),
        kind=lambda w: KIND_OF[w.sample],
    script:
        "../../scripts/select.py"


rule merge:
    """Add the per-chunk histograms and cut flows of one sample; its cut-flow table."""
    input:
        lambda w: expand(
            f"{RESULTS}/selection/{w.sample}/chunk_{{chunk}}.root",
            chunk=sample_chunks(w.sample),
        ),
    output:
        hist=f"{RESULTS}/hists/{{sample}}.root",
        sidecar=f"{RESULTS}/hists/{{sample}}.json",
        cutflow_md=f"{RESULTS}/tables/cutflow/{{sample}}.md",
        cutflow_json=f"{RESULTS}/tables/cutflow/{{sample}}.json",
    log:
        f"{RESULTS}/logs/merge/{{sample}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/merge.py"


rule cutflow:
    """Cut-flow table of every sample (Markdown and JSON), invalid events per reason."""
    input:
        [merged_hist(s) for s in SELECTED_SAMPLES],
    output:
        md=f"{RESULTS}/tables/cutflow.md",
        json=f"{RESULTS}/tables/cutflow.json",
    log:
        f"{RESULTS}/logs/cutflow.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/cutflow.py"
