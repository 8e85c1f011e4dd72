"""Rule `model_spectra_figure`: draw the document of its computation rule."""

from exonu.pipeline import setup_script_logging
from exonu.products.steps import model_spectra_figure

setup_script_logging(snakemake)
model_spectra_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
