"""Checks of an external-mode configuration that the schema cannot express.

:func:`check_external_config` runs when the workflow is parsed (``workflow/rules/external.smk``),
before any job: it reads the release (so a missing file, bad columns, non-monotonic energies,
NaN/inf, negative values or an efficiency that is zero or looks like a percentage stop the run
at once with one line naming the file) and cross-checks the ``release`` block against
``binning``, ``signals`` and the table and comparison specs, including
:func:`check_release_model`: a background-model file that is zero in every fit window, or an
efficiency that is zero in the whole binning. The jobs that read the files repeat these checks.

:func:`release_warnings` gives the plausibility warnings of the data (most events outside the
binning; energies that look like eV or MeV); the workspace stage stores them in the workspace
(:mod:`exonu.stats.plausibility`). With ``strict: true`` they stop the run already here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from exonu.external.errors import ReleaseError
from exonu.external.release import Release, ReleaseSettings, read_release
from exonu.external.tabulation import Tabulation
from exonu.physics import MODELS
from exonu.selection.run import SelectionError, edges_from_spec

__all__ = [
    "analysis_windows",
    "check_efficiency",
    "check_external_config",
    "check_release_model",
    "release_warnings",
    "unbinned_enabled",
]


def _edges(spec: Any, key: str) -> np.ndarray:
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


def analysis_windows(
    signals: Sequence[Mapping[str, Any]], table_window: Sequence[float] | None = None
) -> list[tuple[float, float]]:
    """The fit windows [keV] of the signals and of the tables (``release.fit_window_kev``)."""
    wins = [(float(s["fit_window_kev"][0]), float(s["fit_window_kev"][1])) for s in signals]
    if table_window is not None:
        wins.append((float(table_window[0]), float(table_window[1])))
    return list(dict.fromkeys(wins))


def check_release_model(
    release: Release, edges_kev: npt.ArrayLike, windows: Sequence[Sequence[float]]
) -> None:
    """Raise if a background-model file is zero in every fit window, or the efficiency is zero
    in the whole binning ``edges_kev`` [keV] (implausible inputs that still give a "limit").

    ``windows`` are the fit windows [keV] (:func:`analysis_windows`; empty: the binning).

    Raises
    ------
    ReleaseError
        One line naming the file and its config key.
    """
    edges = np.asarray(edges_kev, dtype=np.float64)
    wins = list(windows) or [(float(edges[0]), float(edges[-1]))]
    tol = 1e-9 * max(abs(edges[0]), abs(edges[-1]), 1.0)
    used = np.zeros(edges.size - 1, dtype=bool)
    for lo, hi in wins:
        used |= (edges[:-1] >= float(lo) - tol) & (edges[1:] <= float(hi) + tol)
    if not used.any():
        used[:] = True
    text = ", ".join(f"[{float(lo):g}, {float(hi):g}]" for lo, hi in wins)
    s = release.settings
    for b in s.backgrounds:
        counts = release.backgrounds[b.name].integrate(edges)
        if not np.any(counts[used] > 0):
            raise ReleaseError(
                f"release file {str(s.directory / b.file)!r} ({s.background_key(b.name)}): the "
                f"background rate is 0 everywhere in the fit window(s) {text} keV, expected a "
                "background model with a rate > 0 there (an all-zero background model)"
            )
    check_efficiency(release.efficiency, edges)


def check_efficiency(efficiency: Tabulation, edges_kev: npt.ArrayLike) -> None:
    """Raise if ``efficiency`` is zero everywhere in the binning ``edges_kev`` [keV].

    Raises
    ------
    ReleaseError
        Naming the efficiency file (the tabulation's source).
    """
    edges = np.asarray(edges_kev, dtype=np.float64)
    lo, hi = float(edges[0]), float(edges[-1])
    if efficiency.outside == "error":
        r_lo, r_hi = efficiency.range_kev
        lo, hi = max(lo, r_lo), min(hi, r_hi)
    grid = np.linspace(lo, hi, 4001) if hi > lo else np.array([lo])
    if not np.any(efficiency(grid) > 0):
        raise ReleaseError(
            f"{efficiency.source}: the efficiency is 0 everywhere in the binning "
            f"[{edges[0]:g}, {edges[-1]:g}] keV (binning.energy_kev), expected a detection "
            "efficiency > 0 there"
        )


def release_warnings(release: Release, edges_kev: npt.ArrayLike) -> list[str]:
    """Plausibility warnings of the release data against the binning ``edges_kev`` [keV].

    Most events outside the binning, or a median energy that looks like eV or MeV
    (:func:`exonu.stats.plausibility.energy_warnings`).
    """
    # lazy: the workflow imports this module to parse its rules (external_common.smk), and
    # exonu.stats loads scipy.stats (~2 s)
    from exonu.stats.plausibility import energy_warnings

    edges = np.asarray(edges_kev, dtype=np.float64)
    what = f"release data {release.settings.data_file!r} (release.data.file)"
    binning = (float(edges[0]), float(edges[-1]))
    if release.events_kev is not None:
        return energy_warnings(release.events_kev, binning, what)
    assert release.data_edges_kev is not None and release.data_counts is not None
    e = release.data_edges_kev
    return energy_warnings(0.5 * (e[1:] + e[:-1]), binning, what, release.data_counts)


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
    rel_block = cfg.get("release") or {}
    check_release_model(
        release, edges, analysis_windows(cfg.get("signals", []), rel_block.get("fit_window_kev"))
    )
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
    if cfg.get("strict"):
        # strict: the data warnings are errors, and they can be told before any job
        # (imported here, not at the top: see release_warnings)
        from exonu.stats.plausibility import StrictError, enforce_strict

        try:
            enforce_strict(release_warnings(release, edges), True)
        except StrictError as err:
            raise ReleaseError(str(err)) from None
    return release
