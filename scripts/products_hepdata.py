"""Rule `hepdata`: the HEPData submission, built with hepdata_lib and validated."""

from pathlib import Path

from exonu.stages.products import hepdata
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
i = snakemake.input
hepdata(
    snakemake.params.cfg,
    spectra=list(i.spectra),
    fits={Path(p).stem: p for p in i.fits},
    scans=list(i.scans),
    exclusion_scans=list(i.exclusion_scans),
    curves=list(i.curves),
    contours=list(i.contours),
    archive=snakemake.output.archive,
    record=snakemake.output.record,
)
