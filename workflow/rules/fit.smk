"""Statistics: fits of the configured signals, and sharded limit scans.

A scan hypothesis that is a configured signal (scan_fitted) is fitted once, by fit_signal:
the shards skip it and the gather takes fits/<signal>.json.
"""


rule expected_shard:
    """Limits of one shard of background-only toys (expected limits), seeds from names."""
    input:
        f"{RESULTS}/workspace.json",
    output:
        f"{RESULTS}/expected/{{signal}}/shard_{{shard}}.json",
    log:
        f"{RESULTS}/logs/expected/{{signal}}_{{shard}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        cfg={
            "fit": subtree("fit"),
            "analysis": config["analysis"],
            "seed": config["fit"]["toy_seed"],
        },
    script:
        "../../scripts/expected_shard.py"


rule fit_signal:
    """Fit with pull terms (XMASS eqs. 4-7) and the 90 % CL limit of one configured signal,
    with the expected limit from the toy shards when fit.expected_toys > 0."""
    input:
        workspace=f"{RESULTS}/workspace.json",
        expected=lambda w: expand(
            f"{RESULTS}/expected/{w.signal}/shard_{{shard}}.json",
            shard=EXPECTED_SHARDS,
        ),
    output:
        f"{RESULTS}/fits/{{signal}}.json",
    log:
        f"{RESULTS}/logs/fit/{{signal}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg={"fit": subtree("fit")},
        # plausibility warnings become errors (exonu.stats.plausibility)
        strict=config["strict"],
    script:
        "../../scripts/limit.py"


rule scan_shard:
    """Limits of the hypotheses of one shard of a scan (hypotheses i, i+n, i+2n, ...)."""
    input:
        workspace=f"{RESULTS}/workspace.json",
        response=RESPONSE_FILE,
    output:
        f"{RESULTS}/scans/{{scan}}/shard_{{shard}}.json",
    log:
        f"{RESULTS}/logs/scans/{{scan}}_{{shard}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        cfg=lambda w: {
            "scan_name": w.scan,
            "scan": subtree("scans", w.scan),
            "fitted": scan_fitted(w.scan),
            "physics": subtree("physics"),
            "fit": subtree("fit"),
            "target_mass_kg": TARGET_MASS_KG,
            "systematic_regions_kev": (
                subtree("binning", "systematic_regions_kev") if EVENTS_MODE else None
            ),
        },
        strict=config["strict"],
    script:
        "../../scripts/scan_shard.py"


for _scan in SCANS:

    rule:
        """Merge the shards of a scan and the fits of its hypotheses that are configured
        signals: per-hypothesis limit files and the scan's tables."""
        name:
            f"scan_gather_{_scan}"
        input:
            shards=expand(
                f"{RESULTS}/scans/{_scan}/shard_{{shard}}.json",
                shard=scan_shards(_scan),
            ),
            fits=[
                f"{RESULTS}/fits/{s}.json"
                for s in sorted(set(scan_fitted(_scan).values()))
            ],
        output:
            merged=f"{RESULTS}/scans/{_scan}.json",
            csv=f"{RESULTS}/tables/{_scan}.csv",
            md=f"{RESULTS}/tables/{_scan}.md",
            tex=f"{RESULTS}/tables/{_scan}.tex",
            limits=[f"{RESULTS}/limits/{h}.json" for h in scan_hypothesis_names(_scan)],
        log:
            f"{RESULTS}/logs/scans/{_scan}_gather.log",
        conda:
            CONDA_ENV
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        params:
            cfg={
                "scan_name": _scan,
                "scan": subtree("scans", _scan),
                "fitted": scan_fitted(_scan),
            },
        script:
            "../../scripts/scan_gather.py"
