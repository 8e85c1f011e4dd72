"""Rule `combined_pyhf`: the combination of one signal as a multi-channel pyhf workspace."""

from exonu.stages.combined_products import combined_pyhf
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
combined_pyhf(
    snakemake.params.cfg,
    list(snakemake.input.workspaces),
    list(snakemake.input.responses),
    snakemake.wildcards.signal,
    snakemake.output.workspace,
    snakemake.output.metadata,
)
