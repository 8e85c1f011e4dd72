"""Rule `combined_scan_shard`: combined and per-channel limits of one shard of a scan."""

from exonu.stages.combined import combined_scan_shard
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
combined_scan_shard(
    snakemake.params.cfg,
    list(snakemake.input.workspaces),
    list(snakemake.input.responses),
    int(snakemake.wildcards.shard),
    snakemake.output[0],
    strict=bool(snakemake.params.strict),
)
