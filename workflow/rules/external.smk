"""External published-spectrum mode: the workspace and products from a public data release.

release files -> response (efficiency x resolution) -> workspace (data, background model,
SM, signals) -> the shared limit/figure rules; plus unbinned limits, Khan-style tables, the
binning/likelihood comparison and an overview figure. Helpers: external_common.smk.
"""


include: "external_common.smk"


wildcard_constraints:
    # only the configured tables (figures/<table>.png must not match <signal>_fit.png)
    table="|".join(TABLES) if TABLES else "(?!)",


rule external_response:
    """Efficiency x Gaussian resolution on (true, reconstructed) bins: response.json."""
    input:
        EFFICIENCY_FILE,
    output:
        f"{RESULTS}/response.json",
    log:
        f"{RESULTS}/logs/external/response.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        cfg={
            **release_params("efficiency", "exposure", "resolution"),
            "binning": subtree("binning"),
        },
    script:
        "../../scripts/external_response.py"


rule external_workspace:
    """Release data, background model (and SM) and the folded signals: workspace.json."""
    input:
        release=RELEASE_FILES,
        response=f"{RESULTS}/response.json",
        spectra=expand(f"{RESULTS}/signals/{{signal}}.json", signal=SIGNALS),
    output:
        f"{RESULTS}/workspace.json",
    log:
        f"{RESULTS}/logs/external/workspace.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        cfg={
            "analysis": config["analysis"],
            **release_params(),
            "energy_kev": subtree("binning", "energy_kev"),
            "signals": subtree("signals"),
            **physics_if_replaced(),
        },
        # plausibility warnings become errors (exonu.stats.plausibility)
        strict=config["strict"],
    script:
        "../../scripts/external_workspace.py"


rule external_unbinned_limit:
    """Extended unbinned-likelihood limit of one signal (unbinned releases)."""
    input:
        release=RELEASE_FILES,
        spectrum=f"{RESULTS}/signals/{{signal}}.json",
    output:
        f"{RESULTS}/limits_unbinned/{{signal}}.json",
    log:
        f"{RESULTS}/logs/external/unbinned_{{signal}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=lambda w: {
            "analysis": config["analysis"],
            **release_params(),
            "signal": signal_entry(w.signal),
            "fit": subtree("fit"),
            "energy_kev": subtree("binning", "energy_kev"),
            **physics_if_replaced(),
        },
        strict=config["strict"],
    script:
        "../../scripts/external_unbinned.py"


rule external_table:
    """All entries of one limits table (e.g. Khan's Table I/II analogue): JSON, CSV, MD, TeX."""
    input:
        workspace=f"{RESULTS}/workspace.json",
        response=f"{RESULTS}/response.json",
    output:
        json=f"{RESULTS}/tables/{{table}}.json",
        csv=f"{RESULTS}/tables/{{table}}.csv",
        md=f"{RESULTS}/tables/{{table}}.md",
        tex=f"{RESULTS}/tables/{{table}}.tex",
    log:
        f"{RESULTS}/logs/external/table_{{table}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1500,
        runtime=20,
    params:
        cfg=lambda w: {
            "name": w.table,
            "table": subtree("release", "tables", w.table),
            "fit_window_kev": subtree("release", "fit_window_kev"),
            "physics": subtree("physics"),
            "true_energy_kev": subtree("binning", "true_energy_kev"),
            "fit": subtree("fit"),
        },
        strict=config["strict"],
    script:
        "../../scripts/external_table.py"


rule external_table_figure:
    """Intervals of one limits table."""
    input:
        f"{RESULTS}/tables/{{table}}.json",
    output:
        expand(f"{RESULTS}/figures/{{{{table}}}}.{{fmt}}", fmt=FORMATS),
    log:
        f"{RESULTS}/logs/external/table_figure_{{table}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        cfg=plot_subtree(),
    script:
        "../../scripts/external_table_figure.py"


rule external_comparison:
    """Limits of some signals per binning x likelihood (chi2, Poisson, unbinned) x method."""
    input:
        release=RELEASE_FILES,
        spectra=expand(f"{RESULTS}/signals/{{signal}}.json", signal=COMPARED),
    output:
        json=f"{RESULTS}/tables/comparison.json",
        csv=f"{RESULTS}/tables/comparison.csv",
        md=f"{RESULTS}/tables/comparison.md",
        tex=f"{RESULTS}/tables/comparison.tex",
    log:
        f"{RESULTS}/logs/external/comparison.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1500,
        runtime=20,
    params:
        cfg={
            "analysis": config["analysis"],
            **release_params(*MODEL_KEYS, "comparison"),
            "energy_kev": subtree("binning", "energy_kev"),
            "signals": [signal_entry(s) for s in COMPARED],
            "cl": config["fit"]["cl"],
            **physics_if_replaced(),
        },
        strict=config["strict"],
    script:
        "../../scripts/external_comparison.py"


rule external_comparison_figure:
    """The comparison table as a figure."""
    input:
        f"{RESULTS}/tables/comparison.json",
    output:
        expand(f"{RESULTS}/figures/comparison.{{fmt}}", fmt=FORMATS),
    log:
        f"{RESULTS}/logs/external/comparison_figure.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        cfg=plot_subtree(),
    script:
        "../../scripts/external_table_figure.py"


rule external_overview_figure:
    """The release in exonu's binning: data, background components, detection probability."""
    input:
        workspace=f"{RESULTS}/workspace.json",
        response=f"{RESULTS}/response.json",
    output:
        expand(f"{RESULTS}/figures/release_overview.{{fmt}}", fmt=FORMATS),
    log:
        f"{RESULTS}/logs/external/overview_figure.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        cfg=plot_subtree(),
    script:
        "../../scripts/external_overview.py"


rule external_khan_comparison:
    """A. N. Khan's Tables I and II next to the release tables (release.khan_comparison)."""
    input:
        **{t: f"{RESULTS}/tables/{t}.json" for t in TABLES},
    output:
        json=f"{RESULTS}/tables/khan_comparison.json",
        csv=f"{RESULTS}/tables/khan_comparison.csv",
        md=f"{RESULTS}/tables/khan_comparison.md",
    log:
        f"{RESULTS}/logs/external/khan_comparison.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        cfg={"analysis": config["analysis"]},
        tables=TABLES,
    script:
        "../../scripts/external_khan.py"


rule external_significance:
    """Interval and local significance of the headline signals per background model."""
    input:
        release=RELEASE_FILES,
        response=f"{RESULTS}/response.json",
        spectra=expand(f"{RESULTS}/signals/{{signal}}.json", signal=SIGNIFICANT),
    output:
        json=f"{RESULTS}/tables/significance.json",
        csv=f"{RESULTS}/tables/significance.csv",
        md=f"{RESULTS}/tables/significance.md",
    log:
        f"{RESULTS}/logs/external/significance.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1500,
        runtime=20,
    params:
        cfg={
            "analysis": config["analysis"],
            **release_params(*MODEL_KEYS, "background_variants", "significance"),
            "energy_kev": subtree("binning", "energy_kev"),
            "signals": [signal_entry(s) for s in SIGNIFICANT],
            "fit": subtree("fit"),
            **physics_if_replaced(),
        },
    script:
        "../../scripts/external_significance.py"
