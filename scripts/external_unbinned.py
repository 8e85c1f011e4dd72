"""Rule `external_unbinned_limit`: extended unbinned-likelihood limit of one signal."""

from exonu.stages import external
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
external.unbinned(
    snakemake.params.cfg,
    snakemake.input.spectrum,
    snakemake.output[0],
    strict=bool(snakemake.params.strict),
)
