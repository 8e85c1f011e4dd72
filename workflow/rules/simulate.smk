"""Synthetic detector Monte Carlo: one job per (sample, chunk).

Samples (exonu.sim.samples, KIND_OF of common.smk): data, one per background component, the
flat signal MC and the systematic-variation samples <nominal>__<source>_up|down (kind
"variation").
"""


rule warm_simulation:
    """Compile the simulation kernel once before the simulation jobs fan out (cache races)."""
    output:
        f"{RESULTS}/.numba_warm_sim",
    log:
        f"{RESULTS}/logs/warm_simulation.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/simulate.py"


rule simulate:
    """Generate one chunk of data, background MC, signal MC or a variation as a ROOT event file."""
    input:
        warm=rules.warm_simulation.output[0],
    output:
        f"{RESULTS}/events/{{kind}}/{{sample}}/chunk_{{chunk}}.root",
    log:
        f"{RESULTS}/logs/simulate/{{kind}}_{{sample}}_{{chunk}}.log",
    wildcard_constraints:
        kind="data|background|signal|variation",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        cfg=simulation_params,
    script:
        "../../scripts/simulate.py"
