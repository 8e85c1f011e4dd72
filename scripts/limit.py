"""Rule `fit_signal`: fit and upper limit of one signal (with its expected limit)."""

from exonu.stages.fit import limit
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
limit(
    snakemake.params.cfg,
    snakemake.input.workspace,
    snakemake.wildcards.signal,
    snakemake.output[0],
    list(snakemake.input.expected),
    strict=bool(snakemake.params.strict),
)
