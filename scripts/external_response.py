"""Rule `external_response`: efficiency x resolution of a published release."""

from exonu.stages import external
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
external.response(snakemake.params.cfg, snakemake.output[0])
