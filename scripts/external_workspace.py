"""Rule `external_workspace`: the workspace of a published release."""

from exonu.external.stages import workspace_stage
from exonu.pipeline import setup_script_logging

setup_script_logging(snakemake)
i = snakemake.input
workspace_stage(
    snakemake.params.cfg,
    i.response,
    list(i.spectra),
    snakemake.output[0],
    strict=bool(snakemake.params.strict),
)
