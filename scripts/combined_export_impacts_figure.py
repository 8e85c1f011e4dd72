"""Rule `combined_impacts_figure`: ranking plot of the nuisances of the joint fit."""

from exonu.stages.combined_products import combined_impacts_figure
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
combined_impacts_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
