"""Rule `workspace`: assemble the binned model."""

from exonu.pipeline import setup_script_logging, workspace

setup_script_logging(snakemake)
i = snakemake.input
workspace(
    snakemake.params.cfg,
    i.data,
    list(i.backgrounds),
    i.signal_mc,
    list(i.spectra),
    snakemake.output[0],
)
