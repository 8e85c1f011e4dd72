"""Plausibility checks: well-formed but implausible inputs or results never pass in silence.

A release whose energies are in eV instead of keV, or an all-zero background model, is valid
JSON and valid numbers; the fits converge and the limits look like limits. The checks here
turn such cases into one-line **warnings** that travel with the numbers (the workspace's
``warnings``, every :class:`~exonu.stats.limits.LimitResult`'s ``warnings``, the tables and
figures), or into **errors** where nothing sensible can follow. With the config key
``strict: true`` every warning becomes an error (:func:`enforce_strict`).

Input warnings, common to both modes (:func:`workspace_warnings`, from the workspace):

* no observed event in a fit window;
* zero background expectation in fitted bins (how many, and where).

Input warnings of a published release (:func:`energy_warnings`, called by
:func:`exonu.external.checks.release_warnings`):

* most (> 50 %) of the data outside the binning, with the counts;
* an energy scale that looks like eV or MeV: the median data energy more than 10 times the
  upper end of the binning, or less than a tenth of its lower end.

Input error (:func:`check_background`): the total background expectation is zero in every
bin of a fit window — an all-zero background model turns any excess into a "detection".

Result warnings (:func:`result_warnings`, applied by :func:`checked_limit`, the one entry point
of every binned limit of the workflow; the unbinned limits use the same functions):

* a fit at a parameter bound: a nuisance parameter (activity scale, pull) of the best fit on a
  bound, or the signal on a bound other than its physical limit 0 (a best fit at 0 for a
  non-negative coupling is the ordinary outcome of a null search and is not flagged);
* a background-only discrepancy above 3σ: Z = √(χ²(0) − χ²_best), the local one-sided
  significance of a one-parameter signal (p = Φ̄(Z)). Reported as a discrepancy, not a failure;
* a limit that moves by more than a factor 10 when the fit window moves by one bin: the limit
  is recomputed with each window edge moved one bin inward (if two bins remain) and outward
  (if the binning extends that far); :func:`window_variants`, :func:`stability_warning`.
  It costs up to four more limits per entry and is done everywhere the workflow computes a
  limit: ``fits/``, every scan point (``limits/``, scan tables), the release tables, the
  comparison rows and the unbinned limits (``window_check`` of :func:`checked_limit` turns it
  off). Measured on the embedded default run: the scans (91 hypotheses) take 33 s of CPU
  without it and 70 s with it in one process; in the workflow the ``scan_shard`` jobs went
  from 63 to 83 CPU-seconds of 350-360 in all (about 5 % of the run); a configured fit costs
  about 0.5 s more.

Every warning is one line; the thresholds are module constants.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from exonu.stats.errors import WorkspaceError
from exonu.stats.limits import LimitResult, upper_limit
from exonu.stats.workspace import Workspace

__all__ = [
    "OUTSIDE_FRACTION",
    "SCALE_RATIO",
    "WINDOW_FACTOR",
    "Z_DISCREPANCY",
    "StrictError",
    "bound_warnings",
    "check_background",
    "checked_limit",
    "discrepancy_warning",
    "energy_warnings",
    "enforce_strict",
    "merge_warnings",
    "result_warnings",
    "stability_warning",
    "window_variants",
    "window_warnings",
    "with_window",
    "workspace_warnings",
]

log = logging.getLogger("exonu")

#: Background-only discrepancy reported above this local significance [σ].
Z_DISCREPANCY = 3.0
#: A limit that changes by more than this factor under a one-bin window move is unstable.
WINDOW_FACTOR = 10.0
#: Fraction of the data outside the binning above which the inputs are suspicious.
OUTSIDE_FRACTION = 0.5
#: Median data energy more than this factor above (below) the binning: eV (MeV)?
SCALE_RATIO = 10.0
#: At most this many zero-background bin ranges are listed in a warning.
_MAX_RANGES = 4
# Relative tolerance on bin edges (as exonu.stats.workspace).
_EDGE_RTOL = 1e-9


class StrictError(ValueError):
    """A plausibility warning turned into an error by ``strict: true`` (message: one line)."""


def merge_warnings(*groups: Iterable[str]) -> tuple[str, ...]:
    """The warnings of all groups, duplicates dropped, first occurrence order kept."""
    return tuple(dict.fromkeys(str(w) for g in groups for w in g))


def enforce_strict(warnings: Sequence[str], strict: bool, context: str = "") -> None:
    """Raise :class:`StrictError` ``strict: <first warning>`` if ``strict`` and any warning.

    ``context`` (e.g. the signal or table entry) is appended in brackets; further warnings
    are counted, so the message stays one line.
    """
    if not strict or not warnings:
        return
    more = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
    where = f" [{context}]" if context else ""
    raise StrictError(f"strict: {warnings[0]}{where}{more}")


# --------------------------------------------------------------------------- inputs


def _window_text(window: Sequence[float]) -> str:
    return f"[{float(window[0]):g}, {float(window[1]):g}] keV"


def _window_mask(edges: npt.NDArray[np.float64], window: Sequence[float]) -> Any:
    """Bins whose both edges lie in ``window`` (as :class:`~exonu.stats.workspace.Signal`)."""
    lo, hi = float(window[0]), float(window[1])
    tol = _EDGE_RTOL * max(abs(edges[0]), abs(edges[-1]), 1.0)
    return (edges[:-1] >= lo - tol) & (edges[1:] <= hi + tol)


def _ranges(edges: npt.NDArray[np.float64], flags: npt.NDArray[np.bool_]) -> str:
    """Consecutive flagged bins as ``a-b keV`` ranges (at most :data:`_MAX_RANGES`)."""
    idx = np.flatnonzero(flags)
    runs: list[tuple[int, int]] = []
    for i in idx:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], int(i))
        else:
            runs.append((int(i), int(i)))
    text = [f"{edges[a]:g}-{edges[b + 1]:g}" for a, b in runs[:_MAX_RANGES]]
    more = f" and {len(runs) - _MAX_RANGES} more ranges" if len(runs) > _MAX_RANGES else ""
    return ", ".join(text) + " keV" + more


def total_background(ws: Workspace) -> npt.NDArray[np.float64]:
    """Nominal total background expectation per bin (all activity scales p_j = 1) [counts]."""
    return np.asarray(np.sum([np.asarray(b.expected) for b in ws.backgrounds], axis=0))


def window_warnings(ws: Workspace, window: Sequence[float]) -> list[str]:
    """Input warnings of one fit window: no observed event; zero background in fitted bins."""
    edges = np.asarray(ws.edges_kev)
    mask = _window_mask(edges, window)
    n = int(mask.sum())
    if n == 0:
        return []
    out = []
    if int(np.asarray(ws.observed)[mask].sum()) == 0:
        out.append(
            f"no observed event in the fit window {_window_text(window)} ({n} bins): "
            "the data do not overlap the fitted energies"
        )
    zero = (total_background(ws) <= 0) & mask
    k = int(zero.sum())
    if 0 < k < n:  # all bins zero is an error (check_background)
        out.append(
            f"zero background expectation in {k} of {n} fitted bins of the fit window "
            f"{_window_text(window)}: {_ranges(edges, zero)}"
        )
    return out


def workspace_warnings(ws: Workspace) -> list[str]:
    """Input warnings of every distinct fit window of the workspace's signals."""
    windows = list(dict.fromkeys(tuple(s.fit_window_kev) for s in ws.signals))
    return list(merge_warnings(*(window_warnings(ws, w) for w in windows)))


def check_background(ws: Workspace, what: str) -> None:
    """Raise if the total background is zero in every bin of a signal's fit window.

    ``what`` names the background-model file (or config key) in the message.

    Raises
    ------
    WorkspaceError
        One line: the file, the window and what was expected.
    """
    total = total_background(ws)
    for s in ws.signals:
        mask = np.asarray(s.fit_mask)
        if not np.any(total[mask] > 0):
            raise WorkspaceError(
                f"{what}: the background model is zero in every bin of the fit window "
                f"{_window_text(s.fit_window_kev)} (signal {s.name!r}), expected a background "
                "expectation > 0 (an all-zero background model turns any excess into a "
                "detection)"
            )


def energy_warnings(
    energies_kev: npt.ArrayLike,
    binning_kev: Sequence[float],
    what: str,
    weights: npt.ArrayLike | None = None,
) -> list[str]:
    """Warnings on the energies of the data against the binning [lo, hi] keV.

    Parameters
    ----------
    energies_kev : array_like
        Event energies [keV] (or bin centres of binned data, with ``weights`` = counts).
    binning_kev : (lo, hi)
        Range of the analysis binning [keV].
    what : str
        Names the data in the message (e.g. the release file).
    weights : array_like, optional
        Counts per energy (binned data).
    """
    e = np.asarray(energies_kev, dtype=np.float64)
    w = np.ones_like(e) if weights is None else np.asarray(weights, dtype=np.float64)
    n = float(w.sum())
    if e.size == 0 or n <= 0:
        return []
    lo, hi = float(binning_kev[0]), float(binning_kev[1])
    below, above = float(w[e < lo].sum()), float(w[e > hi].sum())
    out = []  # the energy scale first: it names the likely cause
    order = np.argsort(e, kind="stable")
    cum = np.cumsum(w[order])
    median = float(e[order][np.searchsorted(cum, 0.5 * n)])
    low_ref = lo if lo > 0 else hi / 100.0
    if median > SCALE_RATIO * hi:
        out.append(
            f"{what}: median energy {median:.4g} keV is {median / hi:.3g} times the upper end "
            f"of the binning {_window_text((lo, hi))}: are the energies in eV instead of keV?"
        )
    elif median < low_ref / SCALE_RATIO:
        out.append(
            f"{what}: median energy {median:.4g} keV is {low_ref / max(median, 1e-300):.3g} "
            f"times below the binning {_window_text((lo, hi))}: are the energies in MeV "
            "instead of keV?"
        )
    if (below + above) / n > OUTSIDE_FRACTION:
        out.append(
            f"{what}: {below + above:.0f} of {n:.0f} events "
            f"({100 * (below + above) / n:.0f} %) are outside the binning "
            f"{_window_text((lo, hi))} ({below:.0f} below, {above:.0f} above)"
        )
    return out


# --------------------------------------------------------------------------- results


def bound_warnings(result: LimitResult) -> list[str]:
    """A best fit on a parameter bound (the signal at its physical limit 0 excepted)."""
    out = []
    nuisances = [n for n in result.parameters_at_bound if n != result.signal]
    if nuisances:
        out.append(
            f"best fit at a parameter bound: {', '.join(nuisances)} (a nuisance parameter "
            "pinned at its limit: background model or fit window implausible?)"
        )
    if result.best_fit_at_bound and result.best_fit != 0:
        unit = "" if result.unit in ("", "1") else f" {result.unit}"
        out.append(
            f"best fit at a parameter bound: {result.parameter} = {result.best_fit:.3g}{unit} "
            "is at the edge of its allowed range"
        )
    return out


def discrepancy_warning(result: LimitResult) -> str | None:
    """Background-only hypothesis disfavoured above :data:`Z_DISCREPANCY` (local, one-sided)."""
    delta = float(result.chi2_zero) - float(result.chi2_best)
    if not math.isfinite(delta) or delta <= Z_DISCREPANCY**2:
        return None
    z = math.sqrt(delta)
    p = float(stats.norm.sf(z))
    unit = "" if result.unit in ("", "1") else f" {result.unit}"
    return (
        f"background-only hypothesis disfavoured: Z = {z:.1f}σ local (p = {p:.2g}), best fit "
        f"{result.parameter} = {result.best_fit:.3g}{unit}"
    )


def _magnitude(result: LimitResult) -> float:
    lo = abs(result.lower_limit) if result.lower_limit is not None else 0.0
    return max(abs(result.upper_limit), lo)


def window_variants(edges_kev: npt.ArrayLike, window: Sequence[float]) -> list[tuple[float, float]]:
    """The fit window with one edge moved by one bin of ``edges_kev``.

    Inward moves need two bins left in the window; outward moves need the binning to extend
    that far. Returns up to four (lo, hi) windows [keV].
    """
    edges = np.asarray(edges_kev, dtype=np.float64)
    idx = np.flatnonzero(_window_mask(edges, window))
    if idx.size == 0:
        return []
    i0, i1 = int(idx[0]), int(idx[-1])
    lo, hi = float(edges[i0]), float(edges[i1 + 1])
    out = []
    if idx.size >= 3:
        out += [(float(edges[i0 + 1]), hi), (lo, float(edges[i1]))]
    if i0 > 0:
        out.append((float(edges[i0 - 1]), hi))
    if i1 + 2 < edges.size:
        out.append((lo, float(edges[i1 + 2])))
    return out


def stability_warning(
    reference: LimitResult, variants: Sequence[tuple[Sequence[float], LimitResult]]
) -> str | None:
    """Warn if a limit of ``variants`` (window, result) differs by > :data:`WINDOW_FACTOR`.

    Only valid variant limits are compared; the largest change is reported.
    """
    ref = _magnitude(reference)
    worst: tuple[float, Sequence[float], float] | None = None
    for window, res in variants:
        if not res.valid:
            continue
        other = _magnitude(res)
        hi, lo = max(ref, other), min(ref, other)
        ratio = hi / lo if lo > 0 else (math.inf if hi > 0 else 1.0)
        if worst is None or ratio > worst[0]:
            worst = (ratio, window, other)
    if worst is None or not worst[0] > WINDOW_FACTOR:
        return None
    ratio, window, other = worst
    unit = "" if reference.unit in ("", "1") else f" {reference.unit}"
    return (
        f"limit unstable under a one-bin move of the fit window: {ref:.3g} -> {other:.3g}"
        f"{unit} (x{ratio:.3g}) with the window {_window_text(window)}"
    )


def with_window(ws: Workspace, signal: str, window: Sequence[float]) -> Workspace:
    """The workspace with only ``signal``, its fit window set to ``window`` [keV].

    Raises
    ------
    WorkspaceError
        If ``window`` contains no whole bin of the binning.
    """
    lo, hi = float(window[0]), float(window[1])
    mask = np.asarray(_window_mask(np.asarray(ws.edges_kev), (lo, hi)), dtype=np.bool_)
    if not mask.any():
        raise WorkspaceError(f"workspace {ws.source!r}: window [{lo:g}, {hi:g}] keV has no bin")
    mask.setflags(write=False)
    sig = dataclasses.replace(ws.signal(signal), fit_window_kev=(lo, hi), fit_mask=mask)
    return dataclasses.replace(ws, signals=(sig,), source=f"{ws.source}#{signal}@{lo:g}-{hi:g}")


def result_warnings(
    result: LimitResult,
    refit: Callable[[Sequence[float]], LimitResult] | None = None,
    windows: Sequence[Sequence[float]] = (),
    reference: LimitResult | None = None,
) -> list[str]:
    """Result warnings of one limit (module docstring).

    Parameters
    ----------
    result : LimitResult
        The limit.
    refit : callable, optional
        ``refit(window)`` recomputes the limit with another fit window; without it the window
        stability is not checked.
    windows : sequence of (lo, hi)
        The moved windows (:func:`window_variants`).
    reference : LimitResult, optional
        The limit the moved-window limits are compared with (default ``result``; differs when
        the refits use a cheaper method than ``result``).
    """
    out = bound_warnings(result)
    disc = discrepancy_warning(result)
    if disc:
        out.append(disc)
    if refit is not None and windows:
        variants = []
        for w in windows:
            try:
                variants.append((w, refit(w)))
            except (ValueError, ArithmeticError) as err:  # a refit that fails is not compared
                log.info("%s: window %s not compared (%s)", result.signal, list(w), err)
        msg = stability_warning(reference or result, variants)
        if msg:
            out.append(msg)
    return out


def checked_limit(
    ws: Workspace,
    signal: str,
    fit: Mapping[str, Any],
    *,
    window_check: bool = True,
) -> LimitResult:
    """:func:`~exonu.stats.limits.upper_limit` of ``signal`` with every plausibility check.

    The result carries the workspace's input warnings, those of the signal's fit window and
    the result warnings (module docstring). ``fit`` is the ``fit`` config block (``method``,
    ``cl``, ``likelihood``). ``window_check`` recomputes the limit with moved windows (four
    more limits; the Neyman method is probed with the profile method).
    """
    method, cl, likelihood = fit["method"], float(fit["cl"]), fit["likelihood"]
    res = upper_limit(ws, signal, method=method, cl=cl, likelihood=likelihood)
    sig = ws.signal(signal)
    inputs = window_warnings(ws, sig.fit_window_kev)
    probe = method if method != "neyman" else "profile"

    def refit(window: Sequence[float]) -> LimitResult:
        moved = with_window(ws, signal, window)
        return upper_limit(moved, signal, method=probe, cl=cl, likelihood=likelihood)

    windows = window_variants(ws.edges_kev, sig.fit_window_kev) if window_check else []
    reference = res
    if probe != method and windows:
        reference = upper_limit(ws, signal, method=probe, cl=cl, likelihood=likelihood)
    found = result_warnings(res, refit if windows else None, windows, reference)
    return res.with_warnings([*inputs, *found])
