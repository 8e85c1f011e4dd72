"""Rule `check_inputs`: metadata of the user's event files of one sample."""

from exonu.pipeline import check_inputs, setup_script_logging

setup_script_logging(snakemake)
check_inputs(
    snakemake.wildcards.sample, snakemake.params.kind, list(snakemake.input), snakemake.output[0]
)
