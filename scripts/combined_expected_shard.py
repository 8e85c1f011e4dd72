"""Rule `combined_expected_shard`: background-only toy limits of one shard, combined and per
channel."""

from exonu.stages.combined import combined_expected_shard
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
combined_expected_shard(
    snakemake.params.cfg,
    list(snakemake.input.workspaces),
    list(snakemake.input.responses),
    snakemake.wildcards.signal,
    int(snakemake.wildcards.shard),
    snakemake.output[0],
)
