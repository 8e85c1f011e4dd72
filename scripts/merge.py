"""Rule `merge`: add the chunks of one sample; its cut-flow tables."""

from exonu.pipeline import merge, setup_script_logging

setup_script_logging(snakemake)
out = snakemake.output
merge(list(snakemake.input), out.hist, out.cutflow_md, out.cutflow_json)
