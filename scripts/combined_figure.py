"""Rule `combined_figure`: per-channel and combined limits of each signal."""

from exonu.stages.combined import combined_figure
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
combined_figure(snakemake.params.cfg, list(snakemake.input), list(snakemake.output))
