"""Rule `signal_spectrum`: coefficient spectra of one hypothesis."""

from exonu.stages.model import signal_spectrum
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
signal_spectrum(snakemake.params.cfg, snakemake.output[0])
