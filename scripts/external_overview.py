"""Rule `external_overview_figure`: data, background model and detection probability."""

from exonu.pipeline import setup_script_logging
from exonu.products.external_tables import overview_figure

setup_script_logging(snakemake)
overview_figure(
    snakemake.input.workspace,
    snakemake.input.response,
    list(snakemake.output),
    snakemake.params.cfg["plots"],
)
