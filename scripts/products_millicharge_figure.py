"""Rule `millicharge_figure`: draw a merged scan."""

from exonu.stages.products import millicharge_figure
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
millicharge_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
