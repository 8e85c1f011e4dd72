"""Rule `background_figure`: the background model like XMASS Fig. 2."""

from exonu.stages.products import background_figure
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
background_figure(
    snakemake.params.cfg, snakemake.input.model, snakemake.input.data, list(snakemake.output)
)
