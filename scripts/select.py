"""Rule `select`: cuts and histograms of one event file."""

from exonu.stages.events import select
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
select(snakemake.params.cfg, snakemake.params.kind, snakemake.input.events, snakemake.output.hist)
