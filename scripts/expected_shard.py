"""Rule `expected_shard`: background-only toy limits of one shard."""

from exonu.stages.fit import expected_shard
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
expected_shard(
    snakemake.params.cfg,
    snakemake.input[0],
    snakemake.wildcards.signal,
    int(snakemake.wildcards.shard),
    snakemake.output[0],
)
