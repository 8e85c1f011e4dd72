"""Publication products: figures, tables, HEPData, pyhf export, provenance.

Computation and drawing stay apart (as in cabinetry):

* computation, each writing a JSON document — :mod:`~exonu.products.spectra` (XMASS-I Fig. 1
  model spectra; best fit, ±1σ band and signal at the limit for Figs. 3 and 5),
  :mod:`~exonu.products.curves` (Δχ² curves and two-coupling contours, Khan Figs. 3-5),
  :mod:`~exonu.products.tables` (summary of limits and best fits, the scan tables, and the one
  CSV/Markdown/LaTeX table writer),
  :mod:`~exonu.products.hepdata` (HEPData submission, validated),
  :mod:`~exonu.products.pyhf_export` (HistFactory JSON workspace);
* drawing only — :mod:`~exonu.products.figures` (plus ``background_figure``,
  ``response_figure``), with the shared style of :mod:`~exonu.products.style`;
* data — :mod:`~exonu.products.published` (other experiments' numbers, docs/physics.md §G);
* workflow glue — :mod:`~exonu.products.plan` (which products a config asks for),
  :mod:`~exonu.stages.products` (what the rule scripts call), :mod:`~exonu.products.report`
  (report front page), :mod:`~exonu.products.provenance` (sidecars).
"""
