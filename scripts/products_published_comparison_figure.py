"""Rule `published_comparison_figure`: draw the comparison with the published numbers."""

import json
from pathlib import Path

from exonu.pipeline import setup_script_logging
from exonu.products.comparison import comparison_figure

setup_script_logging(snakemake)
comparison_figure(
    json.loads(Path(snakemake.input[0]).read_text()),
    list(snakemake.output),
    snakemake.params.cfg["plots"]["style"],
)
