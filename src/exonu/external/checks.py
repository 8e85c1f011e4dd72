"""Checks of an external-mode configuration that the schema cannot express.

:func:`check_external_config` runs when the workflow is parsed (``workflow/rules/external.smk``),
before any job: it reads the release (so a missing file, bad columns or non-monotonic energies
stop the run at once with one line naming the file) and cross-checks the ``release`` block
against ``binning``, ``signals`` and the table and comparison specs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from exonu.external.errors import ReleaseError
from exonu.external.release import Release, ReleaseSettings, read_release

__all__ = ["check_external_config", "unbinned_enabled"]


def _edges(spec: Any, key: str) -> np.ndarray:
    from exonu.selection.run import SelectionError, edges_from_spec

    try:
        return edges_from_spec(spec, key)
    except SelectionError as err:
        raise ReleaseError(f"config key '{key}': {str(err).split(': ', 1)[-1]}") from None


def _covered(release: Release, edges: np.ndarray) -> None:
    """The data can be binned and every background model covers ``edges`` (else raise)."""
    release.observed(edges)  # binned data: edges must be release edges
    for tab in release.backgrounds.values():
        tab.integrate(edges)
    if release.solar_nu_reference is not None:
        release.solar_nu_reference.integrate(edges)


def unbinned_enabled(cfg: Mapping[str, Any]) -> bool:
    """True if the unbinned fit runs: ``release.unbinned_fit`` and unbinned data."""
    rel = cfg.get("release") or {}
    fmt = (rel.get("data") or {}).get("format", "unbinned")
    return bool(rel.get("unbinned_fit", True)) and fmt == "unbinned"


def check_external_config(cfg: Mapping[str, Any]) -> Release:
    """Validate an external-mode config and return its release (read from disk).

    Raises
    ------
    ReleaseError
        One line naming the config key or release file.
    """
    from exonu.physics import MODELS

    settings = ReleaseSettings.from_config(cfg.get("release"), cfg.get("release_dir"))
    release = read_release(settings)
    edges = _edges(cfg["binning"]["energy_kev"], "binning.energy_kev")
    true = _edges(cfg["binning"]["true_energy_kev"], "binning.true_energy_kev")
    if true[0] > edges[0] or true[-1] < edges[-1]:
        raise ReleaseError(
            f"config key 'binning.true_energy_kev': [{true[0]:g}, {true[-1]:g}] keV must cover "
            f"binning.energy_kev [{edges[0]:g}, {edges[-1]:g}] keV (and a few sigma beyond)"
        )
    _covered(release, edges)
    names = set(settings.background_names)
    for i, sig in enumerate(cfg.get("signals", [])):
        bad = sorted(set(sig.get("free_backgrounds", [])) - names)
        if bad:
            raise ReleaseError(
                f"config key 'signals[{i}].free_backgrounds': {bad[0]!r} is not a release "
                f"background (known: {', '.join(sorted(names))})"
            )
    if unbinned_enabled(cfg) and settings.resolution.is_perfect:
        raise ReleaseError(
            "config key 'release.resolution': the unbinned fit needs a resolution > 0 "
            "(or set release.unbinned_fit: false)"
        )
    rel = cfg.get("release") or {}
    for tname, spec in (rel.get("tables") or {}).items():
        if tname in ("comparison", "release_overview"):
            raise ReleaseError(f"config key 'release.tables.{tname}': the name is reserved")
        for k, m in enumerate(spec.get("models", [])):
            key = f"release.tables.{tname}.models[{k}]"
            info = MODELS.get(m.get("model"))
            if info is None or info.parameter is None:
                raise ReleaseError(f"config key '{key}.model': {m.get('model')!r} is not a model")
            tr = m.get("treatment")
            if tr is not None and tr not in info.treatments:
                raise ReleaseError(
                    f"config key '{key}.treatment': {tr!r}, model {info.name} accepts "
                    f"{', '.join(info.treatments) or 'none'}"
                )
            if info.needs_mass and spec.get("mediator_mass_mev") is None:
                raise ReleaseError(
                    f"config key 'release.tables.{tname}.mediator_mass_mev': model "
                    f"{info.name} needs a mediator mass"
                )
    comp = rel.get("comparison") or {}
    known = {s["name"] for s in cfg.get("signals", [])}
    for i, name in enumerate(comp.get("signals", [])):
        if name not in known:
            raise ReleaseError(
                f"config key 'release.comparison.signals[{i}]': {name!r} is not a signal name"
            )
    bnames = [b["name"] for b in comp.get("binnings", [])]
    if "nominal" in bnames or len(set(bnames)) != len(bnames):
        raise ReleaseError(
            "config key 'release.comparison.binnings': names must be unique and not 'nominal'"
        )
    for i, b in enumerate(comp.get("binnings", [])):
        e = _edges(b["energy_kev"], f"release.comparison.binnings[{i}].energy_kev")
        _covered(release, e)
        if e[0] < true[0] or e[-1] > true[-1]:
            raise ReleaseError(
                f"config key 'release.comparison.binnings[{i}].energy_kev': outside "
                "binning.true_energy_kev"
            )
    if "unbinned" in comp.get("likelihoods", []) and comp.get("signals"):
        if settings.data_format != "unbinned":
            raise ReleaseError(
                "config key 'release.comparison.likelihoods': 'unbinned' needs unbinned data"
            )
        if settings.resolution.is_perfect:
            raise ReleaseError(
                "config key 'release.comparison.likelihoods': 'unbinned' needs a resolution > 0"
            )
    return release
