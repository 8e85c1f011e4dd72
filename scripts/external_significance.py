"""Rule `external_significance`: interval and local significance per background model."""

from exonu.stages import external
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
o = snakemake.output
external.significance(
    snakemake.params.cfg,
    snakemake.input.response,
    list(snakemake.input.spectra),
    {"json": o.json, "csv": o.csv, "md": o.md},
)
