"""Rules `simulate` (one chunk of one sample, exonu.pipeline.simulate) and
`warm_simulation` (compile the simulation kernel once, exonu.sim.compile_kernels)."""

from exonu.pipeline import setup_script_logging, simulate

setup_script_logging(snakemake)
if snakemake.rule == "warm_simulation":
    from pathlib import Path

    from exonu.sim import compile_kernels

    Path(snakemake.output[0]).write_text("compiled: " + " ".join(compile_kernels()) + "\n")
else:
    w = snakemake.wildcards
    simulate(snakemake.params.cfg, w.kind, w.sample, int(w.chunk), snakemake.output[0])
