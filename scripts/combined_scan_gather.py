"""Rule `combined_scan_gather_<scan>`: merge the shards of a combined scan."""

from exonu.stages.combined import combined_scan_gather
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
combined_scan_gather(
    snakemake.params.cfg,
    list(snakemake.input),
    snakemake.output.merged,
    snakemake.output.csv,
    snakemake.output.md,
    snakemake.output.channels_csv,
    list(snakemake.output.limits),
)
