"""Rule `external_table`: every entry of one limits table."""

from exonu.stages import external
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
o = snakemake.output
external.table(
    snakemake.params.cfg,
    snakemake.input.workspace,
    snakemake.input.response,
    {"json": o.json, "csv": o.csv, "md": o.md, "tex": o.tex},
    strict=bool(snakemake.params.strict),
)
