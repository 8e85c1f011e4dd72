"""Rule `background_figure`: the background model like XMASS Fig. 2."""

from exonu.pipeline import setup_script_logging
from exonu.products.background_figure import background_figure
from exonu.selection.run import read_result

setup_script_logging(snakemake)
data = read_result(snakemake.input.data)
background_figure(
    snakemake.input.model, list(snakemake.output), snakemake.params.cfg["plots"], data.energy
)
