"""Rule `scan_shard`: limits of one shard of a scan."""

from exonu.stages.runtime import setup_script_logging
from exonu.stages.scans import scan_shard

setup_script_logging(snakemake)
scan_shard(
    snakemake.params.cfg,
    snakemake.input.workspace,
    snakemake.input.response,
    int(snakemake.wildcards.shard),
    snakemake.output[0],
    strict=bool(snakemake.params.strict),
)
