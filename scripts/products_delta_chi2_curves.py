"""Rule `delta_chi2_curves`: profiled Δχ² curves of the hypotheses of one scan (Khan Fig. 3)."""

from exonu.stages.products import delta_chi2_curves
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
delta_chi2_curves(
    snakemake.params.cfg, snakemake.input.workspace, snakemake.input.response, snakemake.output[0]
)
