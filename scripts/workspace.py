"""Rule `workspace`: assemble the binned model."""

from exonu.pipeline import setup_script_logging, workspace

setup_script_logging(snakemake)
i = snakemake.input
workspace(
    snakemake.params.cfg,
    i.data,
    i.backgrounds,
    i.response,
    list(i.spectra),
    snakemake.output[0],
    strict=bool(snakemake.params.strict),
)
