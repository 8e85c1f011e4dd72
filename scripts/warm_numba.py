"""Rule `warm_numba`: compile the selection kernels once."""

from exonu.pipeline import setup_script_logging, warm_numba

setup_script_logging(snakemake)
warm_numba(snakemake.output[0])
