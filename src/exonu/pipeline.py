"""The stages of the workflow as plain functions of (params, input paths, output paths).

Each Snakemake rule runs a thin script in ``scripts/`` that calls exactly one
function here with ``snakemake.params`` / ``input`` / ``output``; the same
functions are importable and tested without Snakemake. ``params`` are always the
config subtree the stage depends on (nothing else), so a change of an unrelated
config key reruns nothing.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("exonu")


def _write_json(obj: Any, path: str | os.PathLike[str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _write_text(text: str, path: str | os.PathLike[str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- simulate


def simulate(params: Mapping[str, Any], kind: str, sample: str, chunk: int, output: str) -> None:
    """Generate one chunk of one sample (``params``: simulation + detector blocks)."""
    from exonu.sim import simulate_chunk

    meta = simulate_chunk(params["simulation"], params["detector"], kind, sample, chunk, output)
    log.info(
        "simulated %s/%s chunk %d: %d events -> %s", kind, sample, chunk, meta.n_generated, output
    )


# --------------------------------------------------------------------------- select


def warm_numba(output: str) -> None:
    """Compile the selection kernel once, before parallel jobs race for the cache."""
    from exonu.selection.warm import compile_kernels

    sig = compile_kernels()
    _write_text(f"compiled: {sig}\n", output)


def select(params: Mapping[str, Any], kind: str, event_file: str, output: str) -> None:
    """Select one event file; writes ``output`` (ROOT histograms) and its JSON sidecar."""
    from exonu.selection.run import select_file, write_result

    result = select_file(event_file, params, expected_kind=kind)
    write_result(result, output)
    log.info(
        "selected %s: %d read, %d invalid, %d passed",
        event_file,
        result.cutflow[0],
        result.n_invalid,
        result.cutflow[-1],
    )


def merge(inputs: Sequence[str], output: str) -> None:
    """Add the per-chunk selections of one sample."""
    from exonu.selection.run import merge_results, read_result, write_result

    write_result(merge_results([read_result(p) for p in inputs]), output)


def cutflow(inputs: Sequence[str], output_md: str, output_json: str) -> None:
    """Cut-flow tables (Markdown + JSON) of all samples."""
    from exonu.selection.run import cutflow_markdown, read_result

    results = [read_result(p) for p in inputs]
    _write_text(cutflow_markdown(results), output_md)
    _write_json({r.sample: r.cutflow_table() for r in results}, output_json)


# --------------------------------------------------------------------------- physics


def signal_spectrum(params: Mapping[str, Any], output: str) -> None:
    """Coefficient spectra of one signal hypothesis on the true-energy bins.

    ``params``: ``physics`` block, the ``signal`` entry and ``true_energy_kev`` binning.
    """
    from exonu.physics import PhysicsSettings, signal_basis, standard_model_rate
    from exonu.selection.run import edges_from_spec
    from exonu.templates.build import bin_average

    settings = PhysicsSettings.from_mapping(params["physics"])
    spec = params["signal"]
    edges = edges_from_spec(params["true_energy_kev"], "binning.true_energy_kev")
    kwargs = {"flavour": spec["flavour"]}
    if spec.get("mediator_mass_mev") is not None:
        kwargs["mediator_mass_mev"] = spec["mediator_mass_mev"]
    if spec.get("treatment") is not None:
        kwargs["treatment"] = spec["treatment"]

    # bin averages of rates that vanish below the lowest binding energy: keep T > 0
    def coefficients(t: np.ndarray) -> np.ndarray:
        return signal_basis(spec["model"], np.maximum(t, 1e-3), settings, **kwargs).coefficients

    def sm(t: np.ndarray) -> np.ndarray:
        return standard_model_rate(np.maximum(t, 1e-3), settings)

    basis = signal_basis(spec["model"], np.array([10.0]), settings, **kwargs)
    from exonu.physics import MODELS

    info = MODELS[spec["model"]]
    _write_json(
        {
            "name": spec["name"],
            "model": spec["model"],
            "parameter": basis.parameter,
            "unit": basis.unit,
            "flavour": basis.flavour,
            "mediator_mass_mev": basis.mediator_mass_mev,
            "treatment": basis.treatment,
            "atomic_model": settings.atomic_model,
            "sign_matters": bool(info.sign_matters(basis.treatment)),
            "powers": list(basis.powers),
            "true_edges_kev": edges.tolist(),
            "coefficients": bin_average(coefficients, edges).tolist(),
            "standard_model": bin_average(sm, edges).tolist(),
            "units": "events/(tonne*year*keV) per unit parameter**power",
        },
        output,
    )


# --------------------------------------------------------------------------- workspace


def workspace(
    params: Mapping[str, Any],
    data_hist: str,
    background_hists: Sequence[str],
    signal_hist: str,
    spectra: Sequence[str],
    output: str,
) -> None:
    """Assemble the workspace JSON from merged histograms and signal spectra.

    ``params``: ``analysis``, ``backgrounds`` block, ``signals`` list, ``detector``
    (active mass) and ``selection.r_pe_max_cm`` (fiducial mass).
    """
    from exonu.detector.geometry import fiducial_mass_kg
    from exonu.selection.run import read_result
    from exonu.stats.workspace import Workspace, dump_workspace
    from exonu.templates.build import (
        assemble_workspace,
        background_template,
        response_from_signal_mc,
        signal_workspace_entry,
    )

    data = read_result(data_hist)
    bkgs = [background_template(read_result(p), data.livetime_s) for p in background_hists]
    response = response_from_signal_mc(read_result(signal_hist))
    active_mass = fiducial_mass_kg(float(params["detector"]["radius_cm"]))
    by_name = {s["name"]: s for s in params["signals"]}
    entries = []
    for path in spectra:
        spectrum = json.loads(Path(path).read_text())
        entries.append(
            signal_workspace_entry(
                by_name[spectrum["name"]], spectrum, response, active_mass, data.livetime_s
            )
        )
    doc = assemble_workspace(
        params["analysis"],
        data,
        bkgs,
        params["backgrounds"]["relative_uncertainty"],
        entries,
        fiducial_mass_kg(float(params["r_pe_max_cm"])),
    )
    dump_workspace(Workspace.from_dict(doc, source=output), output)


# --------------------------------------------------------------------------- fit


def limit(params: Mapping[str, Any], workspace_path: str, signal: str, output: str) -> None:
    """Fit and 90 % CL limit of one signal hypothesis (``params``: ``fit`` block)."""
    from exonu.stats.limits import upper_limit
    from exonu.stats.workspace import load_workspace

    ws = load_workspace(workspace_path)
    fit = params["fit"]
    result = upper_limit(
        ws, signal, method=fit["method"], cl=float(fit["cl"]), likelihood=fit["likelihood"]
    )
    _write_json(result.to_dict(), output)
    log.info("%s: 90%% CL upper limit %s", signal, result.upper_limit)


# --------------------------------------------------------------------------- scripts


def setup_script_logging(smk: Any) -> None:
    """Send the ``exonu`` logger of a rule script to the rule's log file and stderr."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if smk.log:
        Path(smk.log[0]).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(smk.log[0], mode="w"))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for h in handlers:
        h.setFormatter(fmt)
        log.addHandler(h)
    log.setLevel(logging.INFO)
    log.info("rule %s, wildcards %s", smk.rule, dict(smk.wildcards))

    def excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        # one clear line in the rule's log; the traceback stays on stderr
        log.error("%s: %s", kind.__name__, value)
        sys.__excepthook__(kind, value, tb)

    sys.excepthook = excepthook
