"""Binned model: background templates, signal response and the workspace."""


rule workspace:
    """Background templates + response-folded signals + data into one workspace JSON."""
    input:
        data=merged_hist("data"),
        backgrounds=[merged_hist(b) for b in BACKGROUNDS],
        signal_mc=merged_hist(SIGNAL_MC),
        spectra=expand(f"{RESULTS}/signals/{{signal}}.json", signal=SIGNALS),
    output:
        f"{RESULTS}/workspace.json",
    params:
        cfg={
            "analysis": config["analysis"],
            "backgrounds": subtree("backgrounds"),
            "signals": subtree("signals"),
            "detector": {"radius_cm": config["detector"]["radius_cm"]},
            "r_pe_max_cm": config["selection"]["r_pe_max_cm"],
        },
    log:
        f"{RESULTS}/logs/workspace.log",
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../../scripts/workspace.py"
