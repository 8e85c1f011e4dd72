"""Rule `template_closure`: half-split closure test of every background template."""

from exonu.pipeline import setup_script_logging, template_closure

setup_script_logging(snakemake)
chunks = {name: list(paths) for name, paths in snakemake.input.items()}
template_closure(snakemake.params.cfg, chunks, snakemake.output.md, snakemake.output.json)
