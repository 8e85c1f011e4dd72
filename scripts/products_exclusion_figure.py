"""Rule `exclusion_figure`: draw a merged scan."""

from exonu.stages.products import exclusion_figure
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
exclusion_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
