"""Rules `external_table_figure`, `external_comparison_figure`: a table document as a figure."""

from exonu.stages import external
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
external.table_figure(snakemake.params.cfg, snakemake.input[0], list(snakemake.output))
