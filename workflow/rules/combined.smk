"""Mode combined: several analyses ("channels") fitted together (exonu.stats.combined).

Every channel is a Snakemake module of this workflow (the Snakefile with the channel's
config, resolved here by exonu.config.combination_channels with the combined signals and
physics imposed; rules renamed <channel>_*), so its workspace is built under
results/<channel analysis>/ by its own rules and a change of one channel's config reruns that
channel's jobs and the combination only. Then: channel workspaces + responses -> the joint
fit of each combined signal (fits/<signal>.json) -> tables, figure, pull summary.
"""

from exonu.config import ConfigError, combination_channels
from exonu.stages.combined import channel_files, combined_params

try:
    CHANNELS = combination_channels(config)
except ConfigError as err:
    raise SystemExit(f"exonu: invalid configuration: {err}")

RESULTS = f"results/{config['analysis']}"
SIGNALS = [s["name"] for s in config["signals"]]
FORMATS = config["plots"]["formats"]
# per channel: (workspace.json, the response its signals are folded with)
WORKSPACES, RESPONSES = channel_files(CHANNELS)
CONDA_ENV = "../../envs/exonu.yaml"


wildcard_constraints:
    signal="|".join(SIGNALS),


for _channel, _channel_config in CHANNELS.items():
    _prefix = f"{_channel}_"

    module:
        name: _channel
        snakefile:
            "../../Snakefile"
        config:
            _channel_config

    use rule * from _channel exclude all as _prefix*


rule combined_limit:
    """Joint fit and 90 % CL limit of one combined signal, per-channel limits from the same
    channel models, the other flux correlation, and each nuisance's post-fit pull."""
    input:
        workspaces=WORKSPACES,
        responses=RESPONSES,
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


# the default target of mode combined (rule all of the Snakefile)
COMBINED_PRODUCTS = [
    *expand(f"{RESULTS}/fits/{{signal}}.json", signal=SIGNALS),
    *rules.combined_tables.output,
    *rules.combined_figure.output,
]
