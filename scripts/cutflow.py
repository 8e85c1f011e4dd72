"""Rule `cutflow`: cut-flow tables of all samples."""

from exonu.stages.events import cutflow
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
cutflow(list(snakemake.input), snakemake.output.md, snakemake.output.json)
