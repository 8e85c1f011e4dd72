"""Rule `external_khan_comparison`: Khan's Tables I and II next to the release tables."""

from exonu.stages import external
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
o = snakemake.output
external.khan_comparison(
    snakemake.params.cfg,
    {t: snakemake.input[t] for t in snakemake.params.tables},
    {"json": o.json, "csv": o.csv, "md": o.md},
)
