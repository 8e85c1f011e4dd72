"""Rule `background_model`: templates, constraints, dead-PMT correction, systematics."""

from exonu.stages.model import background_model
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
i = snakemake.input
background_model(
    snakemake.params.cfg,
    i.data,
    list(i.backgrounds),
    list(i.variations),
    i.correction,
    snakemake.output[0],
)
