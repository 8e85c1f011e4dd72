"""Rule `combined_impacts`: pulls, constraints and impacts of the joint fit's nuisances."""

from exonu.stages.combined_products import combined_impacts
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
combined_impacts(
    snakemake.params.cfg,
    list(snakemake.input.workspaces),
    list(snakemake.input.responses),
    snakemake.wildcards.signal,
    snakemake.output.doc,
    snakemake.output.md,
    snakemake.output.csv,
)
