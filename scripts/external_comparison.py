"""Rule `external_comparison`: limits per binning x likelihood x method."""

from exonu.external.stages import comparison_stage
from exonu.pipeline import setup_script_logging

setup_script_logging(snakemake)
o = snakemake.output
comparison_stage(
    snakemake.params.cfg,
    list(snakemake.input.spectra),
    {"json": o.json, "csv": o.csv, "md": o.md, "tex": o.tex},
    strict=bool(snakemake.params.strict),
)
