"""Rule `external_response`: efficiency x resolution of a published release."""

from exonu.external.stages import response_stage
from exonu.pipeline import setup_script_logging

setup_script_logging(snakemake)
response_stage(snakemake.params.cfg, snakemake.output[0])
