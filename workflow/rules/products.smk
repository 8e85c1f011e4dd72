"""Publication products: figures."""


rule fit_figure:
    """Data, best-fit background and the signal at its 90 % CL upper limit."""
    input:
        workspace=f"{RESULTS}/workspace.json",
        limit=f"{RESULTS}/fits/{{signal}}.json",
    output:
        report(
            expand(
                f"{RESULTS}/figures/{{{{signal}}}}_fit.{{fmt}}", fmt=config["plots"]["formats"]
            ),
            caption="../report/fit_figure.rst",
            category="Fits",
        ),
    params:
        cfg={"plots": subtree("plots")},
    log:
        f"{RESULTS}/logs/figures/{{signal}}_fit.log",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../../scripts/fit_figure.py"
