"""Rule `efficiency_figure`: signal efficiency vs energy (XMASS Fig. 3, bottom)."""

from exonu.stages.products import efficiency_figure
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
efficiency_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
