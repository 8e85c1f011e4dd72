"""Rule `model_spectra_figure`: draw the document of its computation rule."""

from exonu.stages.products import model_spectra_figure
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
model_spectra_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
