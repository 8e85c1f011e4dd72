"""Binned model: dead-PMT correction, background templates with systematics, signal
response, the workspace, and the figures and closure test of the model."""


rule dead_pmt_correction:
    """Data vs background MC around dead and masked PMTs: correction per energy region."""
    input:
        data=merged_hist("data"),
        backgrounds=[merged_hist(b) for b in BACKGROUNDS],
        # variation samples of the backgrounds: the dead-PMT model uncertainty
        variations=[
            merged_hist(v) for v in VARIATIONS if v.split("__")[0] in BACKGROUNDS
        ],
    output:
        f"{RESULTS}/templates/dead_pmt_correction.json",
    log:
        f"{RESULTS}/logs/templates/dead_pmt_correction.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg={"dead_pmt_correction": subtree("backgrounds", "dead_pmt_correction")},
    script:
        "../../scripts/dead_pmt_correction.py"


rule background_model:
    """Per-component templates, sigma(B_RI) constraints, dead-PMT correction, sigma(Bsys)."""
    input:
        data=merged_hist("data"),
        backgrounds=[merged_hist(b) for b in BACKGROUNDS],
        variations=[merged_hist(v) for v in VARIATIONS],
        correction=rules.dead_pmt_correction.output[0],
    output:
        f"{RESULTS}/templates/backgrounds.json",
    log:
        f"{RESULTS}/logs/templates/background_model.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cfg={
            "backgrounds": {
                k: subtree("backgrounds", k)
                for k in ("relative_uncertainty", "dead_pmt_correction")
            },
            "systematic_regions_kev": subtree("binning", "systematic_regions_kev"),
        },
    script:
        "../../scripts/background_model.py"


rule response:
    """Signal response S(T, E_rec) from the flat signal MC, with its shifted versions."""
    input:
        signal_mc=merged_hist(SIGNAL_MC),
        variations=[merged_hist(v) for v in VARIATIONS],
    output:
        root=f"{RESULTS}/templates/response.root",
        sidecar=f"{RESULTS}/templates/response.json",
    log:
        f"{RESULTS}/logs/templates/response.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/response.py"


rule template_closure:
    """Half-split closure: templates from the even chunks describe the odd chunks."""
    input:
        unpack(
            lambda w: {
                b: expand(
                    f"{RESULTS}/selection/{b}/chunk_{{chunk}}.root",
                    chunk=sample_chunks(b),
                )
                for b in closure_backgrounds()
            }
        ),
    output:
        md=f"{RESULTS}/tables/template_closure.md",
        json=f"{RESULTS}/tables/template_closure.json",
    log:
        f"{RESULTS}/logs/templates/template_closure.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cfg={"closure": subtree("backgrounds", "closure")},
    script:
        "../../scripts/template_closure.py"


rule workspace:
    """Data, background model and response-folded signals into one workspace JSON."""
    input:
        data=merged_hist("data"),
        backgrounds=rules.background_model.output[0],
        response=rules.response.output.root,
        spectra=expand(f"{RESULTS}/signals/{{signal}}.json", signal=SIGNALS),
    output:
        f"{RESULTS}/workspace.json",
    log:
        f"{RESULTS}/logs/workspace.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cfg={
            "analysis": config["analysis"],
            "signals": subtree("signals"),
            "detector": {"radius_cm": config["detector"]["radius_cm"]},
            "r_pe_max_cm": config["selection"]["r_pe_max_cm"],
            "systematic_regions_kev": subtree("binning", "systematic_regions_kev"),
        },
        # plausibility warnings of the workspace become errors (exonu.stats.plausibility)
        strict=config["strict"],
    script:
        "../../scripts/workspace.py"


rule background_figure:
    """Background model like XMASS Fig. 2: stacked components, systematic band, dead-PMT inset."""
    input:
        model=rules.background_model.output[0],
        data=merged_hist("data"),
    output:
        report(
            expand(
                f"{RESULTS}/figures/backgrounds.{{fmt}}",
                fmt=config["plots"]["formats"],
            ),
            caption="../report/background_figure.rst",
            category="Model",
        ),
    log:
        f"{RESULTS}/logs/figures/backgrounds.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=plot_subtree(),
    script:
        "../../scripts/background_figure.py"


rule efficiency_figure:
    """Signal efficiency vs energy per fit window, like the bottom panel of XMASS Fig. 3."""
    input:
        rules.response.output.root,
    output:
        report(
            expand(
                f"{RESULTS}/figures/efficiency.{{fmt}}", fmt=config["plots"]["formats"]
            ),
            caption="../report/efficiency_figure.rst",
            category="Model",
        ),
    log:
        f"{RESULTS}/logs/figures/efficiency.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg={
            **plot_subtree(),
            "windows": [s["fit_window_kev"] for s in subtree("signals")],
        },
    script:
        "../../scripts/efficiency_figure.py"
