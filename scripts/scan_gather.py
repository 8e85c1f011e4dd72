"""Rule `scan_gather_<scan>`: merge the shards of a scan (and the fits of the hypotheses that
are configured signals) into limit files and tables."""

from exonu.stages.runtime import setup_script_logging
from exonu.stages.scans import scan_gather

setup_script_logging(snakemake)
i, o = snakemake.input, snakemake.output
scan_gather(
    snakemake.params.cfg,
    list(i.shards),
    o.merged,
    o.csv,
    o.md,
    o.tex,
    list(o.limits),
    list(i.fits),
)
