"""Publication products: figures, tables, HEPData, pyhf workspaces (rules).

Computation rules write JSON documents to results/<analysis>/products/; figure rules only
draw them (their params: plots.style and plots.formats, nothing else, so a style change
reruns exactly the figure rules). Figures go to figures/, tables to tables/. Which products
a configuration asks for, their paths and params: exonu.products.plan.
"""

from exonu.products.plan import (
    PlanError,
    canonical,
    compute_params,
    figure_paths,
    one_of,
    plot_params,
    product_plan,
)
from exonu.products.report import REPORT_KEY, category_of_model, front_matter

try:
    PLAN = product_plan(config)
except PlanError as err:
    raise SystemExit(f"exonu: invalid configuration: {err}")
PRODUCTS = f"{RESULTS}/products"
PLOT_FORMATS = config["plots"]["formats"]
PLOT_PARAMS = plot_params(config)
# all_products() (common.smk) adds these to `rule all`
PRODUCTS_TARGETS = PLAN.targets(RESULTS, PLOT_FORMATS)
# the front page of `snakemake --report` (workflow/report/workflow.rst) reads these from the
# raw workflow config; the validated `config` that params come from is not touched
workflow.config[REPORT_KEY] = front_matter(config, list(_resolved.files))


# --------------------------------------------------------------------------- XMASS-I Fig. 1


rule model_spectra:
    """SM recoil spectrum and the benchmark exotic spectra, no detector (XMASS-I Fig. 1)."""
    output:
        f"{PRODUCTS}/model_spectra.json",
    log:
        f"{RESULTS}/logs/products/model_spectra.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=canonical(
            {
                "physics": config["physics"],
                "model_spectra": config["plots"]["model_spectra"],
            }
        ),
    script:
        "../../scripts/products_model_spectra.py"


rule model_spectra_figure:
    """Draw the SM and benchmark spectra (XMASS-I Fig. 1)."""
    input:
        f"{PRODUCTS}/model_spectra.json",
    output:
        report(
            figure_paths(RESULTS, "model_spectra", PLOT_FORMATS),
            caption="../report/model_spectra.rst",
            category="Overview",
            subcategory="Model spectra",
        ),
    log:
        f"{RESULTS}/logs/products/model_spectra_figure.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=PLOT_PARAMS,
    script:
        "../../scripts/products_model_spectra_figure.py"


# --------------------------------------------------------------------------- XMASS-I Figs. 3, 5


rule fit_spectrum:
    """Best fit of one configured signal: per-component background, ±1σ band, signal at the
    limit, in the bins of its fit window (the numbers behind XMASS-I Figs. 3 and 5)."""
    input:
        workspace=f"{RESULTS}/workspace.json",
        limit=f"{RESULTS}/fits/{{signal}}.json",
    output:
        f"{PRODUCTS}/spectra/{{signal}}.json",
    log:
        f"{RESULTS}/logs/products/spectra_{{signal}}.log",
    wildcard_constraints:
        signal=one_of(PLAN.signals),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg={"likelihood": config["fit"]["likelihood"]},
    script:
        "../../scripts/products_fit_spectrum.py"


rule fit_figure:
    """Data, best fit ±1σ and the signal at its 90 % CL limit, with a ratio panel."""
    input:
        f"{PRODUCTS}/spectra/{{signal}}.json",
    output:
        report(
            figure_paths(RESULTS, "{signal}_fit", PLOT_FORMATS),
            caption="../report/fit_figure.rst",
            category=lambda w: category_of_model(PLAN.model_of_signal[w.signal]),
            subcategory="Fit and limit",
        ),
    log:
        f"{RESULTS}/logs/figures/{{signal}}_fit.log",
    wildcard_constraints:
        signal=one_of(PLAN.signals),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=PLOT_PARAMS,
    script:
        "../../scripts/products_fit_figure.py"


# --------------------------------------------------------------------------- XMASS-I Figs. 4, 6


rule millicharge_figure:
    """Millicharge limits per flavour next to other experiments (XMASS-I Fig. 4)."""
    input:
        f"{RESULTS}/scans/{PLAN.millicharge_scan}.json",
    output:
        report(
            figure_paths(RESULTS, "millicharge_limits", PLOT_FORMATS),
            caption="../report/millicharge_figure.rst",
            category=category_of_model("millicharge"),
            subcategory="Limits",
        ),
    log:
        f"{RESULTS}/logs/figures/millicharge_limits.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=PLOT_PARAMS,
    script:
        "../../scripts/products_millicharge_figure.py"


rule exclusion_figure:
    """Upper limit on the coupling versus the mediator mass (XMASS-I Fig. 6)."""
    input:
        f"{RESULTS}/scans/{{scan}}.json",
    output:
        report(
            figure_paths(RESULTS, "exclusion_{scan}", PLOT_FORMATS),
            caption="../report/exclusion_figure.rst",
            category=lambda w: category_of_model(config["scans"][w.scan]["model"]),
            subcategory="Limits",
        ),
    log:
        f"{RESULTS}/logs/figures/exclusion_{{scan}}.log",
    wildcard_constraints:
        scan=one_of(PLAN.mass_scans),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=PLOT_PARAMS,
    script:
        "../../scripts/products_exclusion_figure.py"


# --------------------------------------------------------------------------- Khan Figs. 3-5


rule delta_chi2_curves:
    """Profiled Δχ² versus the coupling for every hypothesis of one scan (Khan Figs. 3-4)."""
    input:
        workspace=f"{RESULTS}/workspace.json",
        response=RESPONSE_FILE,
    output:
        f"{PRODUCTS}/curves/{{scan}}.json",
    log:
        f"{RESULTS}/logs/products/curves_{{scan}}.log",
    wildcard_constraints:
        scan=one_of(PLAN.curve_scans),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        cfg=lambda w: compute_params(
            config,
            TARGET_MASS_KG,
            EVENTS_MODE,
            scan_name=w.scan,
            scan=config["scans"][w.scan],
            curves=config["plots"]["curves"],
        ),
    script:
        "../../scripts/products_delta_chi2_curves.py"


rule delta_chi2_figure:
    """Draw the Δχ² curves of one scan with the 90 % and 99 % CL thresholds (Khan Fig. 3)."""
    input:
        f"{PRODUCTS}/curves/{{scan}}.json",
    output:
        report(
            figure_paths(RESULTS, "delta_chi2_{scan}", PLOT_FORMATS),
            caption="../report/delta_chi2_figure.rst",
            category=lambda w: category_of_model(config["scans"][w.scan]["model"]),
            subcategory="Delta chi2",
        ),
    log:
        f"{RESULTS}/logs/figures/delta_chi2_{{scan}}.log",
    wildcard_constraints:
        scan=one_of(PLAN.curve_scans),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=PLOT_PARAMS,
    script:
        "../../scripts/products_delta_chi2_figure.py"


rule contour:
    """Profiled Δχ² of two flavour couplings fitted together, on a grid (Khan Fig. 5)."""
    input:
        workspace=f"{RESULTS}/workspace.json",
        response=RESPONSE_FILE,
    output:
        f"{PRODUCTS}/contours/{{contour}}.json",
    log:
        f"{RESULTS}/logs/products/contour_{{contour}}.log",
    wildcard_constraints:
        contour=one_of(list(PLAN.contours)),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        cfg=lambda w: compute_params(
            config, TARGET_MASS_KG, EVENTS_MODE, contour=PLAN.contours[w.contour]
        ),
    script:
        "../../scripts/products_contour.py"


rule contour_figure:
    """Draw the 90 % and 99 % CL contours of two flavour couplings (Khan Fig. 5)."""
    input:
        f"{PRODUCTS}/contours/{{contour}}.json",
    output:
        report(
            figure_paths(RESULTS, "contour_{contour}", PLOT_FORMATS),
            caption="../report/contour_figure.rst",
            category=lambda w: category_of_model(PLAN.contours[w.contour]["model"]),
            subcategory="Contours",
        ),
    log:
        f"{RESULTS}/logs/figures/contour_{{contour}}.log",
    wildcard_constraints:
        contour=one_of(list(PLAN.contours)),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=PLOT_PARAMS,
    script:
        "../../scripts/products_contour_figure.py"


# --------------------------------------------------------------------------- tables, HEPData, pyhf


rule summary_table:
    """Best fit, χ²/dof at the best fit and at zero, and the limit of every configured fit and
    scan hypothesis (the numbers of XMASS-I §4), as CSV, Markdown and LaTeX."""
    input:
        fits=expand(f"{RESULTS}/fits/{{signal}}.json", signal=PLAN.signals),
        scans=expand(f"{RESULTS}/scans/{{scan}}.json", scan=SCANS),
    output:
        csv=report(
            f"{RESULTS}/tables/summary.csv",
            caption="../report/summary_table.rst",
            category="Overview",
            subcategory="Limits and best fits",
        ),
        md=f"{RESULTS}/tables/summary.md",
        tex=f"{RESULTS}/tables/summary.tex",
    log:
        f"{RESULTS}/logs/products/summary_table.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/products_summary_table.py"


rule hepdata:
    """The HEPData submission (spectra, limits, exclusion curves, Δχ² curves, contours), built
    with hepdata_lib and validated with the hepdata-validator."""
    input:
        spectra=expand(f"{PRODUCTS}/spectra/{{signal}}.json", signal=PLAN.signals),
        fits=expand(f"{RESULTS}/fits/{{signal}}.json", signal=PLAN.signals),
        scans=expand(f"{RESULTS}/scans/{{scan}}.json", scan=SCANS),
        exclusion_scans=expand(f"{RESULTS}/scans/{{scan}}.json", scan=PLAN.mass_scans),
        curves=expand(f"{PRODUCTS}/curves/{{scan}}.json", scan=PLAN.curve_scans),
        contours=expand(
            f"{PRODUCTS}/contours/{{contour}}.json", contour=list(PLAN.contours)
        ),
    output:
        archive=report(
            f"{PRODUCTS}/hepdata/submission.tar.gz",
            caption="../report/hepdata.rst",
            category="Overview",
            subcategory="Data products",
        ),
        record=f"{PRODUCTS}/hepdata/submission.json",
    log:
        f"{RESULTS}/logs/products/hepdata.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    params:
        cfg={"analysis": config["analysis"]},
    script:
        "../../scripts/products_hepdata.py"


rule pyhf_workspace:
    """The binned model of one single-power signal as a pyhf (HistFactory) JSON workspace."""
    input:
        workspace=f"{RESULTS}/workspace.json",
    output:
        workspace=report(
            f"{PRODUCTS}/pyhf/{{signal}}.json",
            caption="../report/pyhf_workspace.rst",
            category=lambda w: category_of_model(PLAN.model_of_signal[w.signal]),
            subcategory="Data products",
        ),
        metadata=f"{PRODUCTS}/pyhf/{{signal}}.meta.json",
    log:
        f"{RESULTS}/logs/products/pyhf_{{signal}}.log",
    wildcard_constraints:
        signal=one_of(PLAN.pyhf_signals),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/products_pyhf_workspace.py"


rule pyhf_patchset:
    """A signal with interference (several powers of its coupling) as a pyhf PatchSet over a
    grid of the coupling, on the background-only workspace of its fit."""
    input:
        workspace=f"{RESULTS}/workspace.json",
    output:
        patchset=report(
            f"{PRODUCTS}/pyhf/{{signal}}_patchset.json",
            caption="../report/pyhf_patchset.rst",
            category=lambda w: category_of_model(PLAN.model_of_signal[w.signal]),
            subcategory="Data products",
        ),
        background=f"{PRODUCTS}/pyhf/{{signal}}_bkgonly.json",
        metadata=f"{PRODUCTS}/pyhf/{{signal}}.meta.json",
    log:
        f"{RESULTS}/logs/products/pyhf_{{signal}}.log",
    wildcard_constraints:
        signal=one_of(PLAN.pyhf_patchsets),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/products_pyhf_patchset.py"


# --------------------------------------------------------------------------- XMASS-I comparison


rule published_comparison:
    """exonu vs the published XMASS-I limits, like with like: headlines with expected bands,
    per-flavour millicharge, dark-photon points, dead-PMT correction per band."""
    input:
        fits=expand(f"{RESULTS}/fits/{{signal}}.json", signal=PLAN.signals),
        expected=expand(
            f"{RESULTS}/expected/{{signal}}/shard_{{shard}}.json",
            signal=PLAN.signals,
            shard=EXPECTED_SHARDS,
        ),
        scans=expand(f"{RESULTS}/scans/{{scan}}.json", scan=SCANS),
        dead_pmt=(
            [f"{RESULTS}/templates/dead_pmt_correction.json"] if EVENTS_MODE else []
        ),
    output:
        doc=f"{PRODUCTS}/published_comparison.json",
        md=f"{RESULTS}/tables/published_comparison.md",
        csv=report(
            f"{RESULTS}/tables/published_comparison.csv",
            caption="../report/published_comparison.rst",
            category="Overview",
            subcategory="Published comparison",
        ),
    log:
        f"{RESULTS}/logs/products/published_comparison.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=canonical(
            {
                "signals": config["signals"],
                "scans": config["scans"],
                "physics": config["physics"],
            }
        ),
    script:
        "../../scripts/products_published_comparison.py"


rule published_comparison_figure:
    """Draw the comparison with the published XMASS-I numbers."""
    input:
        f"{PRODUCTS}/published_comparison.json",
    output:
        report(
            figure_paths(RESULTS, "published_comparison", PLOT_FORMATS),
            caption="../report/published_comparison.rst",
            category="Overview",
            subcategory="Published comparison",
        ),
    log:
        f"{RESULTS}/logs/products/published_comparison_figure.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=PLOT_PARAMS,
    script:
        "../../scripts/products_published_comparison_figure.py"
