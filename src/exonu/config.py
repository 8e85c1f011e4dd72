"""Analysis configuration: schema validation with defaults, and semantic checks.

The schema (package data ``exonu/resources/config.schema.yaml``, read by :func:`load_schema`,
which adds the model and treatment names of the registry :data:`exonu.physics.MODELS`) is
JSON Schema draft 7. :func:`validate_config` fills in its defaults, validates, runs the checks a
schema cannot express (windows inside the binning, names that must exist, ...)
and raises :class:`ConfigError` with one line naming the key and what was
expected. The Snakefile calls it before any job is scheduled.

Layering (:func:`resolve_config`): a config file given on the command line is the whole
configuration, the schema filling in what it omits; a file builds on another only by saying so
(``extends: other.yaml``, relative to the file, or ``extends: exonu:default``, the embedded
default analysis the package carries, :data:`DEFAULT_CONFIG`). Several files given together
are merged in order, later files winning key by key (lists are replaced). ``--config
KEY=VALUE`` overrides take typed YAML values (``fit='{cl: 0.95}'``). YAML is read by
:func:`load_yaml`, which refuses duplicate keys and aliases that expand beyond
:data:`MAX_YAML_NODES` nodes.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import yaml

from exonu import resources
from exonu.errors import ConfigError, TemplateError
from exonu.physics import PhysicsSettings, flux_uncertainties
from exonu.physics.models import FLAVOUR_CHOICES, get_model, model_names, treatment_names
from exonu.selection.run import SelectionError, edges_from_spec, selection_parameters
from exonu.templates.systematics import bin_regions

#: Prefix of the names of the configurations the package carries (``exonu:<name>``).
PACKAGED_PREFIX = "exonu:"
#: The embedded default analysis (used when no config file is given; ``extends: exonu:default``).
DEFAULT_CONFIG = "exonu:default"
#: Packaged configurations by name -> resource of :mod:`exonu.resources`.
PACKAGED_CONFIGS = {DEFAULT_CONFIG: resources.DEFAULT_CONFIG}

#: Largest YAML document accepted, counted in nodes after alias expansion (a config has ~2000).
MAX_YAML_NODES = 200_000
#: Largest config file accepted [bytes].
MAX_YAML_BYTES = 4 << 20
#: Key of the resolved config that records where it came from (added after validation).
SOURCES_KEY = "_sources"
#: Key of a channel's config resolved by a combined run (mode combined): the channel's name.
#: The Snakefile takes such a config as it is (a Snakemake module of the combined workflow).
CHANNEL_KEY = "_channel"


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
    """The config schema (the packaged one, or the file ``path``) with the names of the
    model registry filled in: ``definitions.model``, ``definitions.treatment`` and
    ``definitions.flavour`` get the enums of :data:`exonu.physics.MODELS` (so a model added
    by :func:`exonu.physics.register_model` is a valid config value in this process)."""
    if path is None:
        schema = yaml.safe_load(resources.read_text(resources.CONFIG_SCHEMA))
    else:
        with open(path) as fh:
            schema = yaml.safe_load(fh)
    definitions = schema.get("definitions", {})
    for name, values in (
        ("model", model_names()),
        ("treatment", treatment_names()),
        ("flavour", list(FLAVOUR_CHOICES)),
    ):
        if name in definitions:
            definitions[name] = {**definitions[name], "enum": values}
    return schema


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
    try:
        return edges_from_spec(spec, key)
    except SelectionError as err:
        raise ConfigError(f"config key '{key}': {str(err).split(': ', 1)[-1]}") from None


def _window(win: list[float], key: str) -> tuple[float, float]:
    lo, hi = float(win[0]), float(win[1])
    if not hi > lo:
        raise ConfigError(f"config key '{key}': empty window [{lo}, {hi}], need upper > lower")
    return lo, hi


#: Most cells of the (true x reconstructed energy) response matrix.
MAX_RESPONSE_CELLS = 4_000_000
#: Most events one simulation job may generate (memory: ~150 MB per million events).
MAX_EVENTS_PER_CHUNK = 20_000_000


def _check_analysis_name(cfg: Mapping[str, Any]) -> None:
    name = cfg.get("analysis", "")
    # JSON Schema's '$' also matches before a final newline: refuse any whitespace here
    if not isinstance(name, str) or any(c.isspace() for c in name):
        raise ConfigError(
            f"config key 'analysis': {name!r} must be letters, digits, '_' or '-' only "
            f"(it names the directory results/<analysis>/)"
        )


def _check_chunking(cfg: Mapping[str, Any]) -> None:
    """Every simulated chunk non-empty and small enough for one job's memory."""
    sim = cfg["simulation"]
    n_chunks = int(sim["n_chunks"])
    sizes = {
        f"simulation.backgrounds.{k}.n_mc": int(v["n_mc"]) for k, v in sim["backgrounds"].items()
    }
    sizes["simulation.signal_mc.n_events"] = int(sim["signal_mc"]["n_events"])
    for key, n in sizes.items():
        if n < n_chunks:
            raise ConfigError(
                f"config key '{key}': {n} events cannot fill simulation.n_chunks = {n_chunks} "
                f"chunks (every chunk needs at least one event); lower n_chunks or raise {key}"
            )
        if n / n_chunks > MAX_EVENTS_PER_CHUNK:
            raise ConfigError(
                f"config key '{key}': {n} events in {n_chunks} chunks is "
                f"{n / n_chunks:.3g} per job, above {MAX_EVENTS_PER_CHUNK:.0e}; raise "
                f"simulation.n_chunks to at least {-(-n // MAX_EVENTS_PER_CHUNK)}"
            )
    rates = [v.get("rate_per_day") or 0.0 for v in sim["backgrounds"].values()]
    n_data = float(sum(rates)) * float(sim["livetime_days"])
    if n_data / n_chunks > MAX_EVENTS_PER_CHUNK:
        raise ConfigError(
            f"config key 'simulation.n_chunks': the data sample ({n_data:.3g} decays in "
            f"simulation.livetime_days) is {n_data / n_chunks:.3g} per job, above "
            f"{MAX_EVENTS_PER_CHUNK:.0e}; raise simulation.n_chunks"
        )


def check_semantics(cfg: Mapping[str, Any]) -> None:
    """Checks the schema cannot express (raise :class:`ConfigError`)."""
    _check_analysis_name(cfg)
    edges = _edges(cfg["binning"]["energy_kev"], "binning.energy_kev")
    true_edges = _edges(cfg["binning"]["true_energy_kev"], "binning.true_energy_kev")
    cells = (len(edges) - 1) * (len(true_edges) - 1)
    if cells > MAX_RESPONSE_CELLS:
        raise ConfigError(
            f"config key 'binning.true_energy_kev': {len(true_edges) - 1} true x "
            f"{len(edges) - 1} reconstructed bins make a {cells:.3g}-cell response matrix, "
            f"more than {MAX_RESPONSE_CELLS:.0e}; use wider bins"
        )
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
    if cfg.get("mode") == "combined":
        combination_channels(cfg)  # every channel resolves, with the combination imposed
        return
    if cfg.get("mode", "events") != "events":
        _check_signals(cfg, edges, None)
        return
    _check_chunking(cfg)
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
        model = get_model(scan["model"])
        if model.needs_mass and "masses_mev" not in scan:
            example = model.mass_scan_example()
            raise ConfigError(
                f"config key '{key}.masses_mev': model {scan['model']!r} needs mediator masses"
                + (f", e.g. masses_mev: {example}" if example else "")
            )
        if not model.needs_mass and "masses_mev" in scan:
            raise ConfigError(
                f"config key '{key}.masses_mev': model {scan['model']!r} has no mediator"
            )


# --------------------------------------------------------------------------- YAML reading


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (naming the key and both lines)."""

    source = "<string>"

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # unhashable key: let the base class report it
                continue
            if first is not None:
                raise ConfigError(
                    f"{self.source}: line {line}: duplicate key {key!r} "
                    f"(first defined at line {first}); a key may appear once per mapping"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, source: str) -> int:
    """Number of nodes of ``node`` with every alias expanded (memoised, cycle-safe)."""
    memo: dict[int, int] = {}
    active: set[int] = set()

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in memo:
            return memo[key]
        if key in active:
            raise ConfigError(f"{source}: a YAML alias refers to itself (recursive structure)")
        active.add(key)
        total = 1
        if isinstance(n, yaml.SequenceNode):
            for child in n.value:
                total += size(child)
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                total += size(k) + size(v)
        active.discard(key)
        memo[key] = total
        return total

    return size(node)


def load_yaml(text: str, source: str = "<string>") -> Any:
    """Parse YAML text safely: duplicate keys and alias bombs are :class:`ConfigError`.

    The node graph is composed first and its size with aliases expanded is checked against
    :data:`MAX_YAML_NODES` before any Python object is built.
    """
    if len(text) > MAX_YAML_BYTES:
        raise ConfigError(f"{source}: {len(text)} bytes, larger than {MAX_YAML_BYTES} bytes")
    loader = _StrictLoader(text)
    loader.source = source
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        n = _expanded_size(node, source)
        if n > MAX_YAML_NODES:
            raise ConfigError(
                f"{source}: the YAML expands to {n:.3g} nodes through aliases/anchors "
                f"(limit {MAX_YAML_NODES}); write the values out instead"
            )
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(f"{source}: {where}not valid YAML ({err.problem or err})") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: not valid YAML ({err})") from None
    finally:
        loader.dispose()


def packaged_config(name: str | Path) -> str | None:
    """The resource of a packaged configuration name (``exonu:default``), ``None`` for a path.

    Raises
    ------
    ConfigError
        ``exonu:<name>`` that the package does not carry.
    """
    text = str(name)
    if not text.startswith(PACKAGED_PREFIX):
        return None
    if text not in PACKAGED_CONFIGS:
        raise ConfigError(
            f"config {text!r}: no such configuration in the package "
            f"(packaged: {', '.join(PACKAGED_CONFIGS)})"
        )
    return PACKAGED_CONFIGS[text]


def read_config_file(path: str | Path) -> dict[str, Any]:
    """One config file (or packaged configuration, ``exonu:default``) as a mapping (not
    validated, ``extends`` not followed)."""
    resource = packaged_config(path)
    if resource is not None:
        return _config_mapping(load_yaml(resources.read_text(resource), str(path)), str(path))
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"config file {str(path)!r} is a directory, expected a YAML file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except OSError as err:
        raise ConfigError(f"config file {str(path)!r}: cannot read ({err.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"config file {str(path)!r} is not UTF-8 text") from None
    return _config_mapping(load_yaml(text, str(path)), str(path))


def _config_mapping(doc: Any, source: str) -> dict[str, Any]:
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(
            f"config file {source!r}: expected a mapping of config keys at the top level, "
            f"got a {type(doc).__name__}"
        )
    return doc


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` merged into a copy of ``base``: mappings recursively, everything else replaced."""
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _display(path: Path | str) -> str:
    if packaged_config(path) is not None:
        return str(path)
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_layers(path: str | Path, _chain: tuple[Path | str, ...] = ()) -> list[tuple[str, dict]]:
    """The layers of one config file, base first: ``[(name, mapping), ...]`` following
    ``extends`` (a path relative to the file that names it, or a packaged configuration
    ``exonu:<name>``)."""
    packaged = packaged_config(path) is not None
    path = str(path) if packaged else Path(path)
    real = path if isinstance(path, str) else path.resolve()
    if real in _chain:
        names = " -> ".join(_display(p) for p in (*_chain, real))
        raise ConfigError(f"config file {str(path)!r}: 'extends' forms a cycle ({names})")
    doc = read_config_file(path)
    base = doc.pop("extends", None)
    layers: list[tuple[str, dict]] = []
    if base is not None:
        if not isinstance(base, str) or not base.strip():
            raise ConfigError(
                f"config file {str(path)!r}: 'extends' must be a file name, got {base!r}"
            )
        if packaged_config(base) is not None:
            target: Path | str = base
        elif isinstance(path, str):
            raise ConfigError(
                f"config {path!r}: a packaged configuration extends only packaged ones "
                f"({PACKAGED_PREFIX}<name>), got 'extends: {base}'"
            )
        else:
            target = path.parent / base
        if isinstance(target, Path) and not target.is_file():
            raise ConfigError(
                f"config file {str(path)!r}: 'extends: {base}' names {str(target)!r}, "
                f"which does not exist (the path is relative to the file)"
            )
        layers = load_layers(target, (*_chain, real))
    layers.append((_display(path), doc))
    return layers


def parse_override(entry: str) -> dict[str, Any]:
    """``KEY=VALUE`` (``--config``) as a nested mapping with a typed YAML value.

    ``KEY`` may be dotted (``fit.cl=0.95``); ``VALUE`` is YAML (``fit={cl: 0.95}``,
    ``signals=[...]``, ``strict=true``); an empty value is null.
    """
    key, sep, value = entry.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--config {entry!r}: expected KEY=VALUE, e.g. fit={{cl: 0.95}}")
    parts = key.split(".")
    if any(not p for p in parts):
        raise ConfigError(f"--config {entry!r}: empty component in the key {key!r}")
    parsed = load_yaml(value, f"--config {key}") if value.strip() else None
    node: Any = parsed
    for p in reversed(parts):
        node = {p: node}
    return node


@dataclass(frozen=True)
class ResolvedConfig:
    """A validated configuration and where each top-level key came from."""

    config: dict[str, Any]
    files: tuple[str, ...]
    overrides: tuple[str, ...]
    origin: dict[str, str]

    def provenance(self) -> dict[str, Any]:
        return {"files": list(self.files), "overrides": list(self.overrides)}


def resolve_config(
    files: Sequence[str | Path] = (),
    overrides: Sequence[str] = (),
    *,
    default: str | Path | None = None,
    schema: str | Path | Mapping[str, Any] | None = None,
) -> ResolvedConfig:
    """The configuration of a run: ``files`` (or ``default`` when none) layered in order with
    their ``extends`` bases, then ``overrides`` (``KEY=VALUE``), validated with defaults.

    Raises
    ------
    ConfigError
        one line naming the file, line or key.
    """
    paths = list(files) or [default or DEFAULT_CONFIG]
    merged: dict[str, Any] = {}
    origin: dict[str, list[str]] = {}
    names: list[str] = []

    def layer(name: str, doc: Mapping[str, Any]) -> None:
        nonlocal merged
        for k, v in doc.items():
            merges = isinstance(v, Mapping) and isinstance(merged.get(k), Mapping)
            origin[k] = [*origin.get(k, []), name] if merges else [name]
        merged = merge(merged, doc)

    for path in paths:
        for name, doc in load_layers(path):
            names.append(name)
            layer(name, doc)
    for entry in overrides:
        layer(f"--config {entry}", parse_override(str(entry)))
    cfg = validate_config(merged, schema)
    where = {k: " + ".join(origin.get(k, ["schema default"])) for k in cfg}
    return ResolvedConfig(cfg, tuple(names), tuple(str(o) for o in overrides), where)


def format_resolved(res: ResolvedConfig) -> str:
    """The resolved configuration as YAML, each top-level key preceded by its origin."""
    lines = [
        "# exonu configuration, resolved",
        f"#   files (base first): {', '.join(res.files) or '(none)'}",
        f"#   --config overrides: {', '.join(res.overrides) or '(none)'}",
    ]
    for key, value in res.config.items():
        if key == SOURCES_KEY:
            continue
        lines.append(f"# {key}: from {res.origin.get(key, 'schema default')}")
        lines.append(yaml.safe_dump({key: value}, sort_keys=False).rstrip("\n"))
    return "\n".join(lines) + "\n"


def load_config(path: str | Path, schema: str | Path | None = None) -> dict[str, Any]:
    """Read a YAML config file (following ``extends``) and validate it (defaults filled in)."""
    return resolve_config([path], schema=schema).config


def digest(obj: Any) -> str:
    """sha256 of the canonical JSON form of a config subtree."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- combination

#: Keys of a combined signal that are the channel's own (its binning and backgrounds).
CHANNEL_SIGNAL_KEYS = ("fit_window_kev", "free_backgrounds")


def _channel_local(
    model: str,
    entry: Mapping[str, Any],
    own_signals: Sequence[Mapping[str, Any]],
    own_scans: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The channel's own fit window and free backgrounds for a combined hypothesis of
    ``model``: the channel entry's keys if given, else those of the channel's own scan of
    that model (for scans), else of its own signal of that model, else of its first signal —
    so that e.g. the XMASS-like channel fits μ_ν in 2-200 keV and q_ν in 2-16 keV as alone."""
    candidates: list[Mapping[str, Any]] = []
    candidates += [s for s in (own_scans or {}).values() if s.get("model") == model]
    candidates += [s for s in own_signals if s.get("model") == model]
    candidates += list(own_signals[:1])
    local = {}
    for k in CHANNEL_SIGNAL_KEYS:
        if entry.get(k) is not None:
            local[k] = entry[k]
            continue
        for c in candidates:
            if c.get(k) is not None:
                local[k] = c[k]
                break
    return local


def _channel_signals(
    combined: Sequence[Mapping[str, Any]], own: Sequence[Mapping[str, Any]], entry: Mapping
) -> list[dict[str, Any]]:
    """The combined signals as a channel's ``signals``: everything from the combined config
    but the fit window and free backgrounds (:func:`_channel_local`)."""
    out = []
    for sig in combined:
        spec = {k: copy.deepcopy(v) for k, v in sig.items() if k not in CHANNEL_SIGNAL_KEYS}
        local = _channel_local(sig["model"], entry, own)
        spec.update({k: copy.deepcopy(v) for k, v in local.items()})
        out.append(spec)
    return out


def _channel_scans(
    combined: Mapping[str, Mapping[str, Any]],
    own: Sequence[Mapping[str, Any]],
    entry: Mapping,
    own_scans: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """The combined scans as a channel's ``scans`` (replacing its own): everything from the
    combined config but the fit window and free backgrounds (:func:`_channel_local`, the
    channel's own scan of the same model first)."""
    out = {}
    for name, scan in combined.items():
        spec = {k: copy.deepcopy(v) for k, v in scan.items() if k not in CHANNEL_SIGNAL_KEYS}
        local = _channel_local(scan["model"], entry, own, own_scans)
        spec.update({k: copy.deepcopy(v) for k, v in local.items()})
        out[name] = spec
    return out


def combination_channels(cfg: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The validated config of every channel of a combined config (``mode: combined``).

    Each channel is its config file(s) (with their ``extends``) and ``overrides``; a release
    channel without ``release_dir`` gets ``<release_root>/<release>``. The combined config's
    ``signals`` (fit window and free backgrounds: the channel's), ``scans`` and ``physics``
    block replace the channel's, so every channel computes the same physics. A channel's
    analysis (its ``results/<analysis>/``) is ``<combination>_<channel>`` unless the entry
    names one (``analysis``: e.g. the standalone analysis's, to share its results when the
    imposed physics is the same). The result carries
    :data:`SOURCES_KEY` (files and overrides of the channel) and :data:`CHANNEL_KEY`.

    Raises
    ------
    ConfigError
        one line naming ``combination.channels[i]`` and the channel's own key or file.
    """
    block = cfg["combination"]
    names = [c["name"] for c in block["channels"]]
    out: dict[str, dict[str, Any]] = {}
    analyses: dict[str, str] = {}
    for i, entry in enumerate(block["channels"]):
        key = f"combination.channels[{i}]"
        name = entry["name"]
        if names.count(name) > 1:
            raise ConfigError(f"config key '{key}.name': duplicate channel name {name!r}")
        files = [entry["config"]] if isinstance(entry["config"], str) else list(entry["config"])
        try:
            merged: dict[str, Any] = {}
            layer_names = []
            for path in files:
                for lname, doc in load_layers(path):
                    layer_names.append(lname)
                    merged = merge(merged, doc)
            merged = merge(merged, entry.get("overrides") or {})
            # results/<combined>_<channel>/ unless named: the imposed physics differs from
            # the standalone analysis's, whose results/<analysis>/ must not be overwritten
            merged["analysis"] = entry.get("analysis") or f"{cfg['analysis']}_{name}"
            if merged.get("mode") == "combined":
                raise ConfigError(f"config key '{key}.config': a channel cannot be a combination")
            own = validate_config(merged)
            if own["mode"] == "external" and not merged.get("release_dir"):
                if not (cfg.get("release_root") and entry.get("release")):
                    raise ConfigError(
                        f"config key '{key}': release analysis {own['analysis']!r} needs "
                        "release_dir in its overrides, or release_root and release"
                    )
                merged["release_dir"] = f"{cfg['release_root']}/{entry['release']}"
            merged["signals"] = _channel_signals(cfg["signals"], own["signals"], entry)
            merged["physics"] = copy.deepcopy(cfg["physics"])
            merged["scans"] = _channel_scans(
                cfg.get("scans") or {}, own["signals"], entry, own.get("scans") or {}
            )
            _drop_other_signals(merged, own, {s["name"] for s in merged["signals"]})
            _drop_other_scans(merged, own, set(merged["scans"]))
            if cfg.get("strict"):
                merged["strict"] = True
            channel = validate_config(merged)
        except ConfigError as err:
            raise ConfigError(f"config key '{key}' (channel {name!r}): {err}") from None
        analysis = channel["analysis"]
        if analysis == cfg["analysis"] or analysis in analyses:
            other = analyses.get(analysis, "the combination")
            raise ConfigError(
                f"config key '{key}.config': analysis {analysis!r} is also that of {other} "
                "(each channel writes results/<analysis>/)"
            )
        analyses[analysis] = f"channel {name!r}"
        channel[SOURCES_KEY] = {
            "files": layer_names,
            "overrides": [f"{key}.overrides={json.dumps(entry.get('overrides') or {})}"],
            "combination": cfg["analysis"],
        }
        channel[CHANNEL_KEY] = name
        out[name] = channel
    _check_fluxes(cfg)
    return out


def _drop_other_signals(merged: dict[str, Any], own: Mapping[str, Any], keep: set[str]) -> None:
    """References to the channel's own signals that the combined ones replace: every
    ``release.<block>.signals`` list of names (the comparison, the significance table, …)
    keeps only the combined signals (the combination builds no channel product)."""
    if own.get("mode") != "external":
        return
    for block, value in own.get("release", {}).items():
        if not isinstance(value, Mapping) or not isinstance(value.get("signals"), list):
            continue
        names = [s for s in value["signals"] if isinstance(s, str) and s in keep]
        if names != list(value["signals"]):
            release = merged.setdefault("release", {})
            release[block] = {**dict(release.get(block) or {}), "signals": names}


def _drop_other_scans(merged: dict[str, Any], own: Mapping[str, Any], keep: set[str]) -> None:
    """References of the channel's products to its own scans, which the combined ones
    replace (``plots.curves.scans``; the combination builds no channel product)."""
    curves = own.get("plots", {}).get("curves", {})
    names = [s for s in curves.get("scans", []) if s in keep]
    if names != list(curves.get("scans", [])):
        plots = merged.setdefault("plots", {})
        plots["curves"] = {**dict(plots.get("curves") or {}), "scans": names}


def _check_fluxes(cfg: Mapping[str, Any]) -> None:
    """combination.fluxes: sources of the flux set (with an uncertainty)."""
    fluxes = cfg["combination"]["fluxes"]
    if not fluxes:
        return
    physics = cfg["physics"]
    sigma = flux_uncertainties(physics["flux_set"])
    used = PhysicsSettings.from_mapping(physics).source_names
    missing = [s for s in fluxes if s not in sigma or s not in used]
    if missing:
        raise ConfigError(
            f"config key 'combination.fluxes': {missing} are not sources of physics.flux_set "
            f"{physics['flux_set']!r} (sources: {', '.join(used)})"
        )


def combination_fluxes(cfg: Mapping[str, Any]) -> list[str]:
    """The flux nuisances of a combined config (``combination.fluxes``, null = every source
    of the physics block)."""
    fluxes = cfg["combination"]["fluxes"]
    if fluxes is None:
        return list(PhysicsSettings.from_mapping(cfg["physics"]).source_names)
    return list(fluxes)
