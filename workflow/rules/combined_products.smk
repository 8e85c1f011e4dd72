"""Products of mode combined beyond its limit table (included at the end of combined.smk):
overlaid profile curves, pulls and impacts, the multi-channel pyhf export, HEPData.

The channel models are rebuilt as the joint fit builds them (exonu.stages.combined_products);
figures only read the JSON the computation rules write.
"""

from exonu.physics import MODELS
from exonu.products.pyhf_export import expressible_powers

COMBINED_PRODUCTS_DIR = f"{RESULTS}/products"
# signals with one power of their coupling (one pyhf workspace), the others (a PatchSet)
COMBINED_PYHF = [
    s["name"]
    for s in config["signals"]
    if expressible_powers(MODELS[s["model"]].powers(s.get("treatment")))
]
COMBINED_PATCHSETS = [s for s in SIGNALS if s not in COMBINED_PYHF]
# the nuisances shown in the impact table and figure
COMBINED_IMPACTS_TOP = 20
COMBINED_CFG = combined_params(config, CHANNELS)


def _combined_one_of(names):
    return "|".join(names) if names else "^$"


rule combined_curves:
    """Profiled Δχ² of one combined signal per channel and combined (shared and per-channel
    fluxes)."""
    input:
        workspaces=WORKSPACES,
        responses=RESPONSES,
        fit=f"{RESULTS}/fits/{{signal}}.json",
    output:
        f"{COMBINED_PRODUCTS_DIR}/combined_curves_{{signal}}.json",
    log:
        f"{RESULTS}/logs/products/combined_curves_{{signal}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        cfg={**COMBINED_CFG, "n_points": 41},
    script:
        "../../scripts/combined_export_curves.py"


rule combined_curves_figure:
    """The curves of one signal overlaid with the CL threshold."""
    input:
        f"{COMBINED_PRODUCTS_DIR}/combined_curves_{{signal}}.json",
    output:
        expand(f"{RESULTS}/figures/combined_curves_{{{{signal}}}}.{{fmt}}", fmt=FORMATS),
    log:
        f"{RESULTS}/logs/figures/combined_curves_{{signal}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        cfg={"style": config["plots"]["style"]},
    script:
        "../../scripts/combined_export_curves_figure.py"


rule combined_impacts:
    """Pull, constraint and impact on the best fit of every nuisance of the joint fit."""
    input:
        workspaces=WORKSPACES,
        responses=RESPONSES,
    output:
        doc=f"{COMBINED_PRODUCTS_DIR}/combined_impacts_{{signal}}.json",
        md=f"{RESULTS}/tables/combined_impacts_{{signal}}.md",
        csv=f"{RESULTS}/tables/combined_impacts_{{signal}}.csv",
    log:
        f"{RESULTS}/logs/products/combined_impacts_{{signal}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        cfg={**COMBINED_CFG, "top": COMBINED_IMPACTS_TOP},
    script:
        "../../scripts/combined_export_impacts.py"


rule combined_impacts_figure:
    """Ranking plot of the nuisances with the largest impact."""
    input:
        f"{COMBINED_PRODUCTS_DIR}/combined_impacts_{{signal}}.json",
    output:
        expand(
            f"{RESULTS}/figures/combined_impacts_{{{{signal}}}}.{{fmt}}", fmt=FORMATS
        ),
    log:
        f"{RESULTS}/logs/figures/combined_impacts_{{signal}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        cfg={"style": config["plots"]["style"], "top": COMBINED_IMPACTS_TOP},
    script:
        "../../scripts/combined_export_impacts_figure.py"


rule combined_pyhf:
    """The combination of a single-power signal as one pyhf workspace, one channel each."""
    input:
        workspaces=WORKSPACES,
        responses=RESPONSES,
    output:
        workspace=f"{COMBINED_PRODUCTS_DIR}/pyhf_{{signal}}.json",
        metadata=f"{COMBINED_PRODUCTS_DIR}/pyhf_{{signal}}.meta.json",
    log:
        f"{RESULTS}/logs/products/combined_pyhf_{{signal}}.log",
    wildcard_constraints:
        signal=_combined_one_of(COMBINED_PYHF),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        cfg=COMBINED_CFG,
    script:
        "../../scripts/combined_export_pyhf.py"


rule combined_pyhf_patchset:
    """The combination of a signal with several powers as a pyhf PatchSet over its coupling."""
    input:
        workspaces=WORKSPACES,
        responses=RESPONSES,
    output:
        patchset=f"{COMBINED_PRODUCTS_DIR}/pyhf_{{signal}}_patchset.json",
        background=f"{COMBINED_PRODUCTS_DIR}/pyhf_{{signal}}_bkgonly.json",
        metadata=f"{COMBINED_PRODUCTS_DIR}/pyhf_{{signal}}.meta.json",
    log:
        f"{RESULTS}/logs/products/combined_pyhf_{{signal}}.log",
    wildcard_constraints:
        signal=_combined_one_of(COMBINED_PATCHSETS),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        cfg=COMBINED_CFG,
    script:
        "../../scripts/combined_export_pyhf_patchset.py"


rule combined_hepdata:
    """HEPData submission of the combination: limits per channel and combined, curves."""
    input:
        fits=expand(f"{RESULTS}/fits/{{signal}}.json", signal=SIGNALS),
        curves=expand(
            f"{COMBINED_PRODUCTS_DIR}/combined_curves_{{signal}}.json", signal=SIGNALS
        ),
    output:
        archive=f"{COMBINED_PRODUCTS_DIR}/hepdata/submission.tar.gz",
        record=f"{COMBINED_PRODUCTS_DIR}/hepdata/submission.json",
    log:
        f"{RESULTS}/logs/products/combined_hepdata.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    params:
        cfg=COMBINED_CFG,
    script:
        "../../scripts/combined_export_hepdata.py"


# added to the default target of mode combined (COMBINED_PRODUCTS of combined.smk)
COMBINED_PRODUCTS.extend(
    [
        *expand(
            f"{RESULTS}/figures/combined_{{kind}}_{{signal}}.{{fmt}}",
            kind=["curves", "impacts"],
            signal=SIGNALS,
            fmt=FORMATS,
        ),
        *expand(
            f"{RESULTS}/tables/combined_impacts_{{signal}}.{{ext}}",
            signal=SIGNALS,
            ext=["md", "csv"],
        ),
        *expand(f"{COMBINED_PRODUCTS_DIR}/pyhf_{{signal}}.json", signal=COMBINED_PYHF),
        *expand(
            f"{COMBINED_PRODUCTS_DIR}/pyhf_{{signal}}_patchset.json",
            signal=COMBINED_PATCHSETS,
        ),
        *rules.combined_hepdata.output,
    ]
)
