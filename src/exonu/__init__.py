"""exonu: exotic neutrino-electron interactions of solar neutrinos in liquid xenon.

The package behind the exonu Snakemake workflow. Sub-packages follow the flow of
the analysis (see docs/architecture.md): :mod:`exonu.physics` (rates without a detector),
:mod:`exonu.detector` and :mod:`exonu.sim` (the synthetic XMASS-like detector),
:mod:`exonu.io` (ROOT files and metadata), :mod:`exonu.selection` (Numba event
loops), :mod:`exonu.templates` (binned background and signal models),
:mod:`exonu.stats` (workspace, fits, limits) and :mod:`exonu.products`
(figures, tables, provenance).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
