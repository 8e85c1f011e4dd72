"""Rule `template_closure`: half-split closure test of every background template."""

from exonu.stages.model import template_closure
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
chunks = {name: list(paths) for name, paths in snakemake.input.items()}
template_closure(snakemake.params.cfg, chunks, snakemake.output.md, snakemake.output.json)
