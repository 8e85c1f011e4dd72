"""Rule `delta_chi2_figure`: draw the document of its computation rule."""

from exonu.pipeline import setup_script_logging
from exonu.products.steps import delta_chi2_figure

setup_script_logging(snakemake)
delta_chi2_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
