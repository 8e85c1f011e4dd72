"""Event selection: Numba kernel per (sample, chunk), merge per sample, cut flow."""


rule warm_numba:
    """Compile the Numba kernels once before selection jobs fan out (cache races)."""
    output:
        f"{RESULTS}/.numba_warm",
    log:
        f"{RESULTS}/logs/warm_numba.log",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../../scripts/warm_numba.py"


rule select:
    """Apply the XMASS cuts to one event file and fill the histograms."""
    input:
        events=lambda w: event_file(KIND_OF[w.sample], w.sample, w.chunk),
        warm=rules.warm_numba.output[0],
    output:
        hist=f"{RESULTS}/selection/{{sample}}/chunk_{{chunk}}.root",
        sidecar=f"{RESULTS}/selection/{{sample}}/chunk_{{chunk}}.json",
    params:
        cfg=selection_params(),
        kind=lambda w: KIND_OF[w.sample],
    log:
        f"{RESULTS}/logs/select/{{sample}}_{{chunk}}.log",
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../../scripts/select.py"


rule merge:
    """Add the per-chunk histograms and cut flows of one sample."""
    input:
        lambda w: expand(f"{RESULTS}/selection/{w.sample}/chunk_{{chunk}}.root", chunk=CHUNKS),
    output:
        hist=f"{RESULTS}/hists/{{sample}}.root",
        sidecar=f"{RESULTS}/hists/{{sample}}.json",
    log:
        f"{RESULTS}/logs/merge/{{sample}}.log",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../../scripts/merge.py"


rule cutflow:
    """Cut-flow table of every sample (Markdown and JSON)."""
    input:
        [merged_hist(s) for s in ["data", *BACKGROUNDS, SIGNAL_MC]],
    output:
        md=f"{RESULTS}/tables/cutflow.md",
        json=f"{RESULTS}/tables/cutflow.json",
    log:
        f"{RESULTS}/logs/cutflow.log",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../../scripts/cutflow.py"
