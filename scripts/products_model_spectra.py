"""Rule `model_spectra`: SM and benchmark recoil spectra (XMASS-I Fig. 1)."""

from exonu.pipeline import setup_script_logging
from exonu.products.steps import model_spectra

setup_script_logging(snakemake)
model_spectra(snakemake.params.cfg, snakemake.output[0])
