"""Rule `response`: signal response matrix with its systematic variants."""

from exonu.stages.model import response
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
response(snakemake.input.signal_mc, list(snakemake.input.variations), snakemake.output.root)
