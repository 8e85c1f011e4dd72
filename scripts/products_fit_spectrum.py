"""Rule `fit_spectrum`: best fit and spectra of one signal (XMASS-I Figs. 3 and 5)."""

from exonu.stages.products import fit_spectrum
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
fit_spectrum(
    snakemake.params.cfg,
    snakemake.input.workspace,
    snakemake.input.limit,
    snakemake.wildcards.signal,
    snakemake.output[0],
)
