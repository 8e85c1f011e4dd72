"""Rule `combined_curves`: profiled Δχ² of one combined signal per channel and combined."""

from exonu.stages.combined_products import combined_curves
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
combined_curves(
    snakemake.params.cfg,
    list(snakemake.input.workspaces),
    list(snakemake.input.responses),
    snakemake.input.fit,
    snakemake.wildcards.signal,
    snakemake.output[0],
)
