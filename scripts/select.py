"""Rule `select`: cuts and histograms of one event file."""

from exonu.pipeline import select, setup_script_logging

setup_script_logging(snakemake)
select(snakemake.params.cfg, snakemake.params.kind, snakemake.input.events, snakemake.output.hist)
