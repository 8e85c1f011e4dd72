"""Synthetic detector Monte Carlo: one job per (sample, chunk)."""


rule simulate:
    """Generate one chunk of data, background MC or signal MC as a ROOT event file."""
    output:
        f"{RESULTS}/events/{{kind}}/{{sample}}/chunk_{{chunk}}.root",
    params:
        cfg=simulation_params,
    log:
        f"{RESULTS}/logs/simulate/{{kind}}_{{sample}}_{{chunk}}.log",
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../../scripts/simulate.py"
