"""Rule `external_workspace`: the workspace of a published release."""

from exonu.stages import external
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
i = snakemake.input
external.workspace(
    snakemake.params.cfg,
    i.response,
    list(i.spectra),
    snakemake.output[0],
    strict=bool(snakemake.params.strict),
)
