"""Rule `published_comparison`: exonu vs the published XMASS-I numbers (tables + JSON)."""

from pathlib import Path

from exonu.stages.products import published_comparison
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
i, o = snakemake.input, snakemake.output
published_comparison(
    snakemake.params.cfg,
    {Path(p).stem: p for p in i.fits},
    list(i.expected),
    list(i.scans),
    i.dead_pmt[0] if len(i.dead_pmt) else None,
    o.doc,
    o.csv,
    o.md,
)
