"""Rule `published_comparison_figure`: draw the comparison with the published numbers."""

from exonu.stages.products import published_comparison_figure
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
published_comparison_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
