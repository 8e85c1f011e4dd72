"""Rule `merge`: add the chunks of one sample."""

from exonu.pipeline import merge, setup_script_logging

setup_script_logging(snakemake)
merge(list(snakemake.input), snakemake.output.hist)
