"""Rule `exclusion_figure`: draw a merged scan."""

from exonu.pipeline import setup_script_logging
from exonu.products.steps import exclusion_figure

setup_script_logging(snakemake)
exclusion_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
