"""Rule `check_inputs`: metadata of the user's event files of one sample."""

from exonu.stages.events import check_inputs
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
check_inputs(
    snakemake.wildcards.sample, snakemake.params.kind, list(snakemake.input), snakemake.output[0]
)
