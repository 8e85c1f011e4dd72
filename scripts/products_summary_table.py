"""Rule `summary_table`: limits and best fits of every fit and scan (CSV, Markdown, LaTeX)."""

from pathlib import Path

from exonu.stages.products import summary_table
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
o = snakemake.output
summary_table(
    {Path(p).stem: p for p in snakemake.input.fits}, list(snakemake.input.scans), o.csv, o.md, o.tex
)
