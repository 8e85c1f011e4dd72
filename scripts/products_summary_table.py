"""Rule `summary_table`: limits and best fits of every fit and scan (CSV, Markdown, LaTeX)."""

from pathlib import Path

from exonu.pipeline import setup_script_logging
from exonu.products.steps import summary_table

setup_script_logging(snakemake)
o = snakemake.output
summary_table(
    {Path(p).stem: p for p in snakemake.input.fits}, list(snakemake.input.scans), o.csv, o.md, o.tex
)
