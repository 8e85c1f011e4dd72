"""Rule `combined_pyhf_patchset`: a combined interference signal as a pyhf PatchSet."""

from exonu.stages.combined_products import combined_pyhf_patchset
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
combined_pyhf_patchset(
    snakemake.params.cfg,
    list(snakemake.input.workspaces),
    list(snakemake.input.responses),
    snakemake.wildcards.signal,
    snakemake.output.patchset,
    snakemake.output.background,
    snakemake.output.metadata,
)
