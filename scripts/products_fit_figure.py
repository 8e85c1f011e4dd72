"""Rule `fit_figure`: draw the document of its computation rule."""

from exonu.stages.products import fit_figure
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
fit_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
