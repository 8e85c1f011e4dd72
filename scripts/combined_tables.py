"""Rule `combined_tables`: limits per channel and combined, post-fit pulls."""

from exonu.stages.combined import combined_tables
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
combined_tables(
    snakemake.params.cfg,
    list(snakemake.input),
    snakemake.output.md,
    snakemake.output.csv,
    snakemake.output.pulls_json,
    snakemake.output.pulls_md,
)
