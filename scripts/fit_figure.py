"""Rule `fit_figure`: data vs background + signal at the limit."""

from exonu.pipeline import setup_script_logging
from exonu.products.figures import fit_figure

setup_script_logging(snakemake)
fit_figure(
    snakemake.input.workspace,
    snakemake.input.limit,
    snakemake.wildcards.signal,
    list(snakemake.output),
    snakemake.params.cfg["plots"],
)
