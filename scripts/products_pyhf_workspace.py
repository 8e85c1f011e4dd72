"""Rule `pyhf_workspace`: the binned model of one signal as a pyhf JSON workspace."""

from exonu.stages.products import pyhf_export
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
pyhf_export(
    snakemake.input.workspace,
    snakemake.wildcards.signal,
    snakemake.output.workspace,
    snakemake.output.metadata,
)
