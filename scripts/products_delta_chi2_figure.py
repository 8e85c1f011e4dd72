"""Rule `delta_chi2_figure`: draw the document of its computation rule."""

from exonu.stages.products import delta_chi2_figure
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
delta_chi2_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
