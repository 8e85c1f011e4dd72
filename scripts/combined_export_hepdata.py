"""Rule `combined_hepdata`: the HEPData submission of a combination."""

from exonu.stages.combined_products import combined_hepdata
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
combined_hepdata(
    snakemake.params.cfg,
    list(snakemake.input.fits),
    list(snakemake.input.curves),
    snakemake.output.archive,
    snakemake.output.record,
)
