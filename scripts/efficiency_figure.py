"""Rule `efficiency_figure`: signal efficiency vs energy (XMASS Fig. 3, bottom)."""

from exonu.pipeline import setup_script_logging
from exonu.products.response_figure import efficiency_figure

setup_script_logging(snakemake)
cfg = snakemake.params.cfg
efficiency_figure(snakemake.input[0], cfg["windows"], list(snakemake.output), cfg["plots"])
