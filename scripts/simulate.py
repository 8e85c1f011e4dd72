"""Rule `simulate`: one chunk of one sample (see exonu.pipeline.simulate)."""

from exonu.pipeline import setup_script_logging, simulate

setup_script_logging(snakemake)
w = snakemake.wildcards
simulate(snakemake.params.cfg, w.kind, w.sample, int(w.chunk), snakemake.output[0])
