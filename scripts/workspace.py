"""Rule `workspace`: assemble the binned model."""

from exonu.stages.model import workspace
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
i = snakemake.input
workspace(
    snakemake.params.cfg,
    i.data,
    i.backgrounds,
    i.response,
    list(i.spectra),
    snakemake.output[0],
    strict=bool(snakemake.params.strict),
)
