"""Rule `contour`: Δχ² of two flavour couplings on a grid (Khan Fig. 5)."""

from exonu.stages.products import contour
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
contour(
    snakemake.params.cfg, snakemake.input.workspace, snakemake.input.response, snakemake.output[0]
)
