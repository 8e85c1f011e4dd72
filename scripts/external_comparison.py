"""Rule `external_comparison`: limits per binning x likelihood x method."""

from exonu.stages import external
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
o = snakemake.output
external.comparison(
    snakemake.params.cfg,
    list(snakemake.input.spectra),
    {"json": o.json, "csv": o.csv, "md": o.md, "tex": o.tex},
    strict=bool(snakemake.params.strict),
)
