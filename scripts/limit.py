"""Rule `limit`: fit and upper limit of one signal."""

from exonu.pipeline import limit, setup_script_logging

setup_script_logging(snakemake)
limit(snakemake.params.cfg, snakemake.input[0], snakemake.wildcards.signal, snakemake.output[0])
