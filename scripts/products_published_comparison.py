"""Rule `published_comparison`: exonu vs the published XMASS-I numbers (tables + JSON)."""

from pathlib import Path

from exonu.pipeline import setup_script_logging
from exonu.products.comparison import write_comparison

setup_script_logging(snakemake)
i, o = snakemake.input, snakemake.output
write_comparison(
    {Path(p).stem: p for p in i.fits},
    list(i.expected),
    list(i.scans),
    snakemake.params.cfg,
    i.dead_pmt[0] if len(i.dead_pmt) else None,
    o.doc,
    o.csv,
    o.md,
)
