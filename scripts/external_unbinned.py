"""Rule `external_unbinned_limit`: extended unbinned-likelihood limit of one signal."""

from exonu.external.stages import unbinned_stage
from exonu.pipeline import setup_script_logging

setup_script_logging(snakemake)
unbinned_stage(
    snakemake.params.cfg,
    snakemake.input.spectrum,
    snakemake.output[0],
    strict=bool(snakemake.params.strict),
)
