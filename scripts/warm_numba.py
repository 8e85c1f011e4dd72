"""Rule `warm_numba`: compile the selection kernels once."""

from exonu.stages.events import warm_numba
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
warm_numba(snakemake.output[0])
