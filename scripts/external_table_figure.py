"""Rules `external_table_figure`, `external_comparison_figure`: a table document as a figure."""

import json
from pathlib import Path

from exonu.pipeline import setup_script_logging
from exonu.products.external_tables import comparison_figure, table_figure

setup_script_logging(snakemake)
doc = json.loads(Path(snakemake.input[0]).read_text())
draw = table_figure if "table" in doc else comparison_figure
draw(doc, list(snakemake.output), snakemake.params.cfg["plots"])
