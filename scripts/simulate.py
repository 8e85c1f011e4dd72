"""Rules `simulate` (one chunk of one sample) and `warm_simulation` (compile the simulation
kernel once)."""

from exonu.stages.events import simulate, warm_simulation
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
if snakemake.rule.endswith("warm_simulation"):  # <channel>_warm_simulation in a combination
    warm_simulation(snakemake.output[0])
else:
    w = snakemake.wildcards
    simulate(snakemake.params.cfg, w.kind, w.sample, int(w.chunk), snakemake.output[0])
