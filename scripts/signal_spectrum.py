"""Rule `signal_spectrum`: coefficient spectra of one hypothesis."""

from exonu.pipeline import setup_script_logging, signal_spectrum

setup_script_logging(snakemake)
signal_spectrum(snakemake.params.cfg, snakemake.output[0])
