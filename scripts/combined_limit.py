"""Rule `combined_limit`: joint fit and limit of one combined signal."""

from exonu.stages.combined import combined_limit
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
combined_limit(
    snakemake.params.cfg,
    list(snakemake.input.workspaces),
    list(snakemake.input.responses),
    snakemake.wildcards.signal,
    snakemake.output[0],
    strict=bool(snakemake.params.strict),
    expected_paths=list(snakemake.input.expected),
)
