"""Mode combined: several analyses ("channels") fitted together (exonu.stats.combined).

Every channel is a Snakemake module of this workflow (the Snakefile with the channel's
config, resolved here by exonu.config.combination_channels with the combined signals and
physics imposed; rules renamed <channel>_*), so its workspace is built under
results/<channel analysis>/ by its own rules and a change of one channel's config reruns that
channel's jobs and the combination only. Then: channel workspaces + responses -> the joint
fit of each combined signal (fits/<signal>.json, with the expected limits of the toy shards
expected/<signal>/shard_<k>.json when fit.expected_toys > 0) -> tables, figure, pull summary;
and the scans of the combined config (imposed on every channel): each hypothesis folded with
every channel's response and fitted jointly, in shards (scans/<scan>/shard_<k>.json) gathered
into scans/<scan>.json, limits/<hypothesis>.json and tables/<scan>{,_channels}.*.
"""

from exonu.config import ConfigError, combination_channels
from exonu.stages.combined import channel_files, combined_params, combined_scan_params
from exonu.templates.hypotheses import hypotheses as _hypotheses

try:
    CHANNELS = combination_channels(config)
except ConfigError as err:
    raise SystemExit(f"exonu: invalid configuration: {err}")

RESULTS = f"results/{config['analysis']}"
SIGNALS = [s["name"] for s in config["signals"]]
SCANS = sorted(config["scans"])
EXPECTED_SHARDS = (
    [f"{i:03d}" for i in range(config["fit"]["expected_shards"])]
    if config["fit"]["expected_toys"] > 0
    else []
)
FORMATS = config["plots"]["formats"]
# per channel: (workspace.json, the response its signals are folded with)
WORKSPACES, RESPONSES = channel_files(CHANNELS)
CONDA_ENV = "../../envs/exonu.yaml"


wildcard_constraints:
    signal="|".join(SIGNALS),
    scan="|".join(SCANS) if SCANS else "[a-z0-9_]+",
    shard=r"\d{3}",


def combined_scan_shards(scan):
    return [f"{i:03d}" for i in range(config["scans"][scan]["n_shards"])]


def combined_scan_hypotheses(scan):
    return [h.name for h in _hypotheses(scan, config["scans"][scan])]


for _channel, _channel_config in CHANNELS.items():
    _prefix = f"{_channel}_"

    module:
        name: _channel
        snakefile:
            "../../Snakefile"
        config:
            _channel_config

    use rule * from _channel exclude all as _prefix*


rule combined_expected_shard:
    """Background-only toy limits of one shard of toys, of the combination and of each
    channel's model in it (seeds from names)."""
    input:
        workspaces=WORKSPACES,
        responses=RESPONSES,
    output:
        f"{RESULTS}/expected/{{signal}}/shard_{{shard}}.json",
    log:
        f"{RESULTS}/logs/expected/{{signal}}_{{shard}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        cfg={
            **combined_params(config, CHANNELS),
            "fit": {
                k: config["fit"][k]
                for k in (
                    "method",
                    "cl",
                    "expected_toys",
                    "expected_shards",
                    "toy_seed",
                )
            },
        },
    script:
        "../../scripts/combined_expected_shard.py"


rule combined_limit:
    """Joint fit and 90 % CL limit of one combined signal, per-channel limits from the same
    channel models, the other flux correlation, each nuisance's post-fit pull, and the
    expected limits (combined and per channel) of the toy shards."""
    input:
        workspaces=WORKSPACES,
        responses=RESPONSES,
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
        mem_mb=2000,
        runtime=60,
    params:
        cfg=combined_params(config, CHANNELS),
        strict=config["strict"],
    script:
        "../../scripts/combined_limit.py"


rule combined_tables:
    """Limits per channel and combined (shared vs per-channel fluxes) and the pull summary."""
    input:
        expand(f"{RESULTS}/fits/{{signal}}.json", signal=SIGNALS),
    output:
        md=f"{RESULTS}/tables/combined_limits.md",
        csv=f"{RESULTS}/tables/combined_limits.csv",
        pulls_json=f"{RESULTS}/tables/combined_pulls.json",
        pulls_md=f"{RESULTS}/tables/combined_pulls.md",
    log:
        f"{RESULTS}/logs/combined_tables.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        cfg={"signals": SIGNALS},
    script:
        "../../scripts/combined_tables.py"


rule combined_figure:
    """Per-channel and combined limits of each signal."""
    input:
        expand(f"{RESULTS}/fits/{{signal}}.json", signal=SIGNALS),
    output:
        expand(f"{RESULTS}/figures/combined_limits.{{fmt}}", fmt=FORMATS),
    log:
        f"{RESULTS}/logs/combined_figure.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        cfg={"signals": SIGNALS, "style": config["plots"]["style"]},
    script:
        "../../scripts/combined_figure.py"


rule combined_scan_shard:
    """Combined and per-channel limits of the hypotheses of one shard of a combined scan
    (hypotheses i, i+n, i+2n, ...)."""
    input:
        workspaces=WORKSPACES,
        responses=RESPONSES,
    output:
        f"{RESULTS}/scans/{{scan}}/shard_{{shard}}.json",
    log:
        f"{RESULTS}/logs/scans/{{scan}}_{{shard}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        cfg=lambda w: combined_scan_params(config, CHANNELS, w.scan),
        strict=config["strict"],
    script:
        "../../scripts/combined_scan_shard.py"


for _scan in SCANS:

    rule:
        """Merge the shards of a combined scan: per-hypothesis limit files (combined, with the
        channels' limits) and the scan's tables."""
        name:
            f"combined_scan_gather_{_scan}"
        input:
            expand(
                f"{RESULTS}/scans/{_scan}/shard_{{shard}}.json",
                shard=combined_scan_shards(_scan),
            ),
        output:
            merged=f"{RESULTS}/scans/{_scan}.json",
            csv=f"{RESULTS}/tables/{_scan}.csv",
            md=f"{RESULTS}/tables/{_scan}.md",
            channels_csv=f"{RESULTS}/tables/{_scan}_channels.csv",
            limits=[
                f"{RESULTS}/limits/{h}.json" for h in combined_scan_hypotheses(_scan)
            ],
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
                "scan": config["scans"][_scan],
                "channels": [{"name": n} for n in CHANNELS],
            },
        script:
            "../../scripts/combined_scan_gather.py"


# the default target of mode combined (rule all of the Snakefile)
COMBINED_PRODUCTS = [
    *expand(f"{RESULTS}/fits/{{signal}}.json", signal=SIGNALS),
    *rules.combined_tables.output,
    *rules.combined_figure.output,
    *[f"{RESULTS}/scans/{s}.json" for s in SCANS],
]


# overlaid curves, pulls and impacts, multi-channel pyhf export, HEPData (adds to the above)
include: "combined_products.smk"
