"""Analysis configuration: schema validation with defaults, and semantic checks.

The schema (``workflow/schemas/config.schema.yaml``) is JSON Schema draft 7.
:func:`validate_config` fills in its defaults, validates, runs the checks a
schema cannot express (windows inside the binning, names that must exist, ...)
and raises :class:`ConfigError` with one line naming the key and what was
expected. The Snakefile calls it before any job is scheduled.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import yaml

#: The schema in the source tree (the workflow passes its own path explicitly).
DEFAULT_SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key."""


def _with_defaults(cls: type) -> type:
    validate_props = cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_props(validator, properties, instance, schema)

    return jsonschema.validators.extend(cls, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft7Validator)


def _key(path: Any) -> str:
    parts = []
    for p in path:
        parts.append(f"[{p}]" if isinstance(p, int) else ("." if parts else "") + str(p))
    return "".join(parts) or "<top level>"


def _describe(err: jsonschema.ValidationError) -> str:
    key = _key(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed))
        where = f" in '{key}'" if err.absolute_path else ""
        return (
            f"unknown config key '{'.'.join([*map(str, err.absolute_path), extra[0]])}'{where}; "
            f"allowed keys: {', '.join(allowed)}"
        )
    if err.validator == "oneOf" and err.context:
        err = jsonschema.exceptions.best_match(err.context)
        return f"config key '{key}': {err.message}"
    return f"config key '{key}': {err.message}"


def load_schema(path: str | Path | None = None) -> dict[str, Any]:
    with open(path or DEFAULT_SCHEMA) as fh:
        return yaml.safe_load(fh)


def validate_config(
    config: Mapping[str, Any], schema: str | Path | Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return a validated copy of ``config`` with defaults filled in.

    Raises
    ------
    ConfigError
        one line naming the offending key and what was expected.
    """
    doc = json.loads(json.dumps(config))  # plain, mutable copy
    sch = schema if isinstance(schema, Mapping) else load_schema(schema)
    validator = _Validator(sch)
    errors = sorted(validator.iter_errors(doc), key=lambda e: (len(e.absolute_path), str(e.path)))
    if errors:
        raise ConfigError(_describe(jsonschema.exceptions.best_match(errors)))
    check_semantics(doc)
    return doc


def _edges(spec: Any, key: str) -> np.ndarray:
    from exonu.selection.run import SelectionError, edges_from_spec

    try:
        return edges_from_spec(spec, key)
    except SelectionError as err:
        raise ConfigError(f"config key '{key}': {str(err).split(': ', 1)[-1]}") from None


def _window(win: list[float], key: str) -> tuple[float, float]:
    lo, hi = float(win[0]), float(win[1])
    if not hi > lo:
        raise ConfigError(f"config key '{key}': empty window [{lo}, {hi}], need upper > lower")
    return lo, hi


def check_semantics(cfg: Mapping[str, Any]) -> None:
    """Checks the schema cannot express (raise :class:`ConfigError`)."""
    edges = _edges(cfg["binning"]["energy_kev"], "binning.energy_kev")
    _edges(cfg["binning"]["true_energy_kev"], "binning.true_energy_kev")
    lo, hi = _window(cfg["selection"]["energy_window_kev"], "selection.energy_window_kev")
    if hi <= edges[0] or lo >= edges[-1]:
        raise ConfigError(
            f"config key 'selection.energy_window_kev': [{lo}, {hi}] does not overlap "
            f"binning.energy_kev [{edges[0]}, {edges[-1]}]"
        )
    det = cfg["detector"]
    bad = [d for d in det["dead_pmts"] if d >= det["n_pmts"]]
    if bad:
        raise ConfigError(
            f"config key 'detector.dead_pmts': indices {bad} not below detector.n_pmts "
            f"= {det['n_pmts']}"
        )
    if cfg.get("mode", "events") != "events":
        _check_signals(cfg, edges, None)
        return
    _check_event_selection(cfg, edges)
    sim = cfg["simulation"]
    _window(sim["signal_mc"]["energy_range_kev"], "simulation.signal_mc.energy_range_kev")
    comps = set(sim["backgrounds"])
    _check_signals(cfg, edges, comps)
    for name in cfg["backgrounds"]["relative_uncertainty"]:
        if name not in comps:
            raise ConfigError(
                f"config key 'backgrounds.relative_uncertainty.{name}': no such background "
                f"sample in simulation.backgrounds"
            )


def _check_event_selection(cfg: Mapping[str, Any], edges: np.ndarray) -> None:
    """What the selection and template jobs would refuse, refused before any job runs:
    dead-PMT distance bins (0 to pi R), regions, energy-scale knots, masked PMT sets, the
    near/far boundary of the dead-PMT correction, the systematic regions."""
    from exonu.selection.run import SelectionError, selection_parameters
    from exonu.templates.build import TemplateError, bin_regions

    block = {k: cfg[k] for k in ("selection", "binning", "calibration", "detector")}
    try:
        params = selection_parameters(block)
    except SelectionError as err:
        raise ConfigError(_as_key_message(str(err))) from None
    try:
        bin_regions(
            edges,
            np.asarray(cfg["binning"]["systematic_regions_kev"], float),
            "binning.systematic_regions_kev",
        )
    except TemplateError as err:
        raise ConfigError(_as_key_message(str(err))) from None
    corr = cfg["backgrounds"].get("dead_pmt_correction") or {}
    if corr.get("apply", False):
        near = float(corr["near_distance_cm"])
        dist = params["distance_edges"]
        if not np.any(np.isclose(dist[1:-1], near)):
            raise ConfigError(
                f"config key 'backgrounds.dead_pmt_correction.near_distance_cm': {near:g} "
                f"must be an inner edge of selection.dead_pmt.distance_edges_cm {dist.tolist()}"
            )


def _as_key_message(message: str) -> str:
    """'selection.x: what' -> "config key 'selection.x': what" (one line)."""
    key, _, what = message.partition(": ")
    if what and " " not in key:
        return f"config key '{key}': {what}"
    return message


def _check_signals(cfg: Mapping[str, Any], edges: np.ndarray, comps: set[str] | None) -> None:
    names: set[str] = set()
    for i, sig in enumerate(cfg["signals"]):
        key = f"signals[{i}]"
        if sig["name"] in names:
            raise ConfigError(f"config key '{key}.name': duplicate signal name {sig['name']!r}")
        names.add(sig["name"])
        wlo, whi = _window(sig["fit_window_kev"], f"{key}.fit_window_kev")
        inside = (edges[:-1] >= wlo - 1e-9) & (edges[1:] <= whi + 1e-9)
        if wlo < edges[0] - 1e-9 or whi > edges[-1] + 1e-9 or not inside.any():
            raise ConfigError(
                f"config key '{key}.fit_window_kev': [{wlo}, {whi}] must lie inside "
                f"binning.energy_kev [{edges[0]}, {edges[-1]}] and contain a whole bin"
            )
        for b in sig["free_backgrounds"]:
            if comps is not None and b not in comps:
                raise ConfigError(
                    f"config key '{key}.free_backgrounds': {b!r} is not a background sample"
                )
    for name, scan in cfg.get("scans", {}).items():
        key = f"scans.{name}"
        wlo, whi = _window(scan["fit_window_kev"], f"{key}.fit_window_kev")
        inside = (edges[:-1] >= wlo - 1e-9) & (edges[1:] <= whi + 1e-9)
        if wlo < edges[0] - 1e-9 or whi > edges[-1] + 1e-9 or not inside.any():
            raise ConfigError(
                f"config key '{key}.fit_window_kev': [{wlo}, {whi}] must lie inside "
                f"binning.energy_kev [{edges[0]}, {edges[-1]}] and contain a whole bin"
            )
        for b in scan["free_backgrounds"]:
            if comps is not None and b not in comps:
                raise ConfigError(
                    f"config key '{key}.free_backgrounds': {b!r} is not a background sample"
                )
        needs_mass = scan["model"] in (
            "dark_photon_bl",
            "vector",
            "axial_vector",
            "scalar",
            "pseudoscalar",
        )
        if needs_mass and "masses_mev" not in scan:
            raise ConfigError(
                f"config key '{key}.masses_mev': model {scan['model']!r} needs mediator masses"
            )
        if not needs_mass and "masses_mev" in scan:
            raise ConfigError(
                f"config key '{key}.masses_mev': model {scan['model']!r} has no mediator"
            )


def load_config(path: str | Path, schema: str | Path | None = None) -> dict[str, Any]:
    """Read a YAML config file and validate it (defaults filled in)."""
    path = Path(path)
    try:
        with open(path) as fh:
            doc = yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: cannot read config ({err})") from None
    return validate_config(doc, schema)


def digest(obj: Any) -> str:
    """sha256 of the canonical JSON form of a config subtree."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
