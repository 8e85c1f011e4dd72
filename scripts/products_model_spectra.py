"""Rule `model_spectra`: SM and benchmark recoil spectra (XMASS-I Fig. 1)."""

from exonu.stages.products import model_spectra
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
model_spectra(snakemake.params.cfg, snakemake.output[0])
