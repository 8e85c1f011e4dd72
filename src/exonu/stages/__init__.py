"""The workflow stages as plain functions of (params, input paths, output paths).

Each Snakemake rule runs a thin script in ``scripts/`` that calls exactly one function of
this package with ``snakemake.params`` / ``input`` / ``output``; the same functions are
importable and tested without Snakemake. ``params`` are always the config subtree the stage
depends on (nothing else), so a change of an unrelated config key reruns nothing.

One module per stage of the workflow:

* :mod:`~exonu.stages.runtime` -- what every job shares: the atomic writing of outputs
  (:func:`~exonu.stages.runtime.atomic_output`), logging, seeds, provenance sidecars;
* :mod:`~exonu.stages.events` -- simulation, input checks, selection, merging, cut flows;
* :mod:`~exonu.stages.model` -- signal spectra, background model, response, workspace;
* :mod:`~exonu.stages.fit` -- fits and limits of the configured signals, expected limits;
* :mod:`~exonu.stages.scans` -- the sharded limit scans;
* :mod:`~exonu.stages.products` -- tables, figures, HEPData, pyhf;
* :mod:`~exonu.stages.external` -- the external published-release mode.

Only this package writes the outputs of the workflow: the modules below it compute and write
to the path they are given, the stage gives them a temporary one and renames it when complete.
"""
