"""Rule `pyhf_workspace`: the binned model of one signal as a pyhf JSON workspace."""

from exonu.pipeline import setup_script_logging
from exonu.products.steps import pyhf_export

setup_script_logging(snakemake)
pyhf_export(
    snakemake.input.workspace,
    snakemake.wildcards.signal,
    snakemake.output.workspace,
    snakemake.output.metadata,
)
