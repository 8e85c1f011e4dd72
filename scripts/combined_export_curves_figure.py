"""Rule `combined_curves_figure`: the curves of one combined signal overlaid."""

from exonu.stages.combined_products import combined_curves_figure
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
combined_curves_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
