"""Rule `pyhf_patchset`: a signal with interference as a pyhf PatchSet over its coupling."""

from exonu.stages.products import pyhf_patchset_export
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
pyhf_patchset_export(
    snakemake.input.workspace,
    snakemake.wildcards.signal,
    snakemake.output.patchset,
    snakemake.output.background,
    snakemake.output.metadata,
)
