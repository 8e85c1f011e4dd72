"""Rule `fit_figure`: draw the document of its computation rule."""

from exonu.pipeline import setup_script_logging
from exonu.products.steps import fit_figure

setup_script_logging(snakemake)
fit_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
