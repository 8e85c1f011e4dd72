"""Rule `pyhf_patchset`: a signal with interference as a pyhf PatchSet over its coupling."""

from exonu.pipeline import setup_script_logging
from exonu.products.steps import pyhf_patchset_export

setup_script_logging(snakemake)
pyhf_patchset_export(
    snakemake.input.workspace,
    snakemake.wildcards.signal,
    snakemake.output.patchset,
    snakemake.output.background,
    snakemake.output.metadata,
)
