"""Rule `scan_gather_<scan>`: merge the shards of a scan into limit files and tables."""

from exonu.pipeline import setup_script_logging
from exonu.scans import scan_gather

setup_script_logging(snakemake)
o = snakemake.output
scan_gather(
    snakemake.params.cfg, list(snakemake.input), o.merged, o.csv, o.md, o.tex, list(o.limits)
)
