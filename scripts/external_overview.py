"""Rule `external_overview_figure`: data, background model and detection probability."""

from exonu.stages import external
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
external.overview_figure(
    snakemake.params.cfg,
    snakemake.input.workspace,
    snakemake.input.response,
    list(snakemake.output),
)
