"""Rule `cutflow`: cut-flow tables of all samples."""

from exonu.pipeline import cutflow, setup_script_logging

setup_script_logging(snakemake)
cutflow(list(snakemake.input), snakemake.output.md, snakemake.output.json)
