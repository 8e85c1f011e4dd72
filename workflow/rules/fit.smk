"""Statistics: fit and 90 % CL upper limit per signal hypothesis."""


rule limit:
    """Fit with pull terms (XMASS eqs. 4-7) and the 90 % CL upper limit of one signal."""
    input:
        f"{RESULTS}/workspace.json",
    output:
        f"{RESULTS}/limits/{{signal}}.json",
    params:
        cfg={"fit": subtree("fit")},
    log:
        f"{RESULTS}/logs/limit/{{signal}}.log",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../../scripts/limit.py"
