"""Rule `contour`: Δχ² of two flavour couplings on a grid (Khan Fig. 5)."""

from exonu.pipeline import setup_script_logging
from exonu.products.steps import contour

setup_script_logging(snakemake)
contour(
    snakemake.params.cfg, snakemake.input.workspace, snakemake.input.response, snakemake.output[0]
)
