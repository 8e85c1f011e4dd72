"""Rule `millicharge_figure`: draw a merged scan."""

from exonu.pipeline import setup_script_logging
from exonu.products.steps import millicharge_figure

setup_script_logging(snakemake)
millicharge_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
