"""Rule `dead_pmt_correction`: correction factor per energy region (XMASS §3.3)."""

from exonu.stages.model import dead_pmt_correction
from exonu.stages.runtime import setup_script_logging

setup_script_logging(snakemake)
i = snakemake.input
dead_pmt_correction(
    snakemake.params.cfg,
    i.data,
    list(i.backgrounds),
    snakemake.output[0],
    list(getattr(i, "variations", [])),
)
