"""Rule `merge`: add the chunks of one sample; its cut-flow tables."""

from exonu.stages.events import merge
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
out = snakemake.output
merge(list(snakemake.input), out.hist, out.cutflow_md, out.cutflow_json)
