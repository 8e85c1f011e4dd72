"""Δχ² curves and two-coupling contours of scan hypotheses (no plotting here).

* :func:`scan_curves` — profiled Δχ² versus the coupling for every hypothesis of a scan
  (A. N. Khan, arXiv:2006.12887, Fig. 3: one curve per parameter and flavour; Fig. 4: one
  per mediator mass), over a range reaching Δχ² ≈ 1.5 × the 99 % CL threshold on each
  allowed side of the best fit.
* :func:`flavour_contour` — profiled Δχ² of two flavour-specific couplings fitted together,
  on a grid, with the 90 % and 99 % CL (2 dof) thresholds (Khan Fig. 5: (q_e, q_μ) and
  (q_e, q_τ)).
* :func:`contour_lines` — the iso-Δχ² lines of a grid, as (x, y) polylines (for HEPData).

A hypothesis is folded exactly as in the limit scans (:mod:`exonu.stages.scans`): coefficient
spectra from :mod:`exonu.physics` on the response's true-energy bins, folded with the
detector response into one workspace signal (XMASS-I eq. 3), the backgrounds of the analysis
workspace unchanged.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from exonu.stats import BinnedModel, contour_2d, delta_chi2_curve
from exonu.stats.limits import Profile
from exonu.stats.workspace import Workspace
from exonu.templates.hypotheses import hypotheses, hypothesis_entry

__all__ = [
    "contour_lines",
    "curve_range",
    "flavour_contour",
    "scan_curves",
    "workspace_with_signals",
]

log = logging.getLogger("exonu")


def workspace_with_signals(base: Any, entries: Sequence[Mapping[str, Any]]) -> Any:
    """The base workspace with its signals replaced by ``entries``."""

    doc = base.to_dict()
    doc["signals"] = [dict(e) for e in entries]
    names = "+".join(e["name"] for e in entries)
    return Workspace.from_dict(doc, source=f"{base.source}#{names}")


def curve_range(prof: Any, level: float) -> tuple[float, float]:
    """x range (model units) from the Δχ² = ``level`` crossing below to the one above."""
    hi = prof.crossing(level, +1)
    hi = prof.upper if hi is None else hi
    if prof.lower < prof.x_hat:
        lo = prof.crossing(level, -1)
        lo = prof.lower if lo is None else lo
    else:
        lo = prof.lower
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"signal {prof.signal!r}: Δχ² stays below {level:g} up to infinity")
    return float(lo), float(hi)


def scan_curves(
    base: Any,
    response: Any,
    physics: Mapping[str, Any],
    scan_name: str,
    scan: Mapping[str, Any],
    *,
    n_points: int = 41,
    levels: Sequence[float] = (0.90, 0.99),
    likelihood: str = "chi2",
    systematic_regions_kev: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Profiled Δχ² curve of every hypothesis of scan ``scan_name``.

    Parameters
    ----------
    base : exonu.stats.Workspace
        The analysis workspace (its signals are ignored).
    response : exonu.templates.hypotheses.ResponseFile
        The detector response with its exposure.
    physics : mapping
        The ``physics`` config block.
    scan_name, scan : str, mapping
        The scan (config ``scans.<name>``).
    n_points : int
        Points per curve, evenly spaced in the coupling.
    levels : sequence of float
        Confidence levels whose 1-dof thresholds are stored (and drawn).
    likelihood : {"chi2", "poisson"}
        Cost function (config ``fit.likelihood``).
    systematic_regions_kev : sequence of float, optional
        Coarse regions of the signal systematics (events mode).

    Returns
    -------
    dict
        ``{"scan", "levels", "thresholds", "curves": [DeltaChi2Curve dict + hypothesis,
        model, mediator_mass_mev, scale]}``.
    """

    thresholds = [float(stats.chi2.ppf(cl, 1)) for cl in levels]
    reach = 1.5 * max(thresholds)
    curves = []
    for hyp in hypotheses(scan_name, scan):
        entry = hypothesis_entry(hyp.spec(), response, physics, systematic_regions_kev)
        ws = workspace_with_signals(base, [entry])
        model = BinnedModel(ws, hyp.name, likelihood)  # type: ignore[arg-type]
        prof = Profile(model, hyp.name)
        lo, hi = curve_range(prof, reach)
        xs = np.linspace(lo, hi, n_points)
        if prof.lower < prof.x_hat < prof.upper:
            xs = np.unique(np.append(xs, prof.x_hat))
        curve = delta_chi2_curve(
            ws,
            hyp.name,
            xs * entry["scale"],
            likelihood,  # type: ignore[arg-type]
        ).to_dict()
        curve.update(
            hypothesis=hyp.name,
            model=hyp.model,
            mediator_mass_mev=hyp.mediator_mass_mev,
            treatment=entry.get("treatment"),
            scale=entry["scale"],
            fit_window_kev=list(hyp.fit_window_kev),
        )
        log.info(
            "%s: best fit %.3g %s, %d points in [%.3g, %.3g]",
            hyp.name,
            curve["best_fit"],
            curve["unit"],
            len(xs),
            lo * entry["scale"],
            hi * entry["scale"],
        )
        curves.append(curve)
    return {
        "scan": scan_name,
        "likelihood": likelihood,
        "levels": list(levels),
        "thresholds": thresholds,
        "curves": curves,
    }


def flavour_contour(
    base: Any,
    response: Any,
    physics: Mapping[str, Any],
    name: str,
    spec: Mapping[str, Any],
    *,
    likelihood: str = "chi2",
    systematic_regions_kev: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Profiled Δχ² of two flavour-specific couplings of one model, fitted together.

    Parameters
    ----------
    base, response, physics
        As in :func:`scan_curves`.
    name : str
        Name of the contour (file name).
    spec : mapping
        ``{model, flavours: [a, b], treatment?, fit_window_kev, free_backgrounds?, levels?,
        n_grid?}`` (config ``plots.contours.<name>``). The expected signal is
        S = S_a(θ_a) + S_b(θ_b): each flavour's excess over the SM enters separately, which
        is exact because the two flavours scatter incoherently (Khan, arXiv:2006.12887,
        eq. 8).
    likelihood, systematic_regions_kev
        As in :func:`scan_curves`.

    Returns
    -------
    dict
        :class:`exonu.stats.Contour2D` as a dict, plus ``name``, ``model``, ``flavours`` and
        the 2-dof contour lines at each level (:func:`contour_lines`).
    """

    flavours = list(spec["flavours"])
    if len(flavours) != 2 or flavours[0] == flavours[1]:
        raise ValueError(f"contour {name!r}: flavours {flavours}, expected two different ones")
    entries = []
    for fl in flavours:
        sub = {
            "name": f"{name}_{fl}",
            "model": spec["model"],
            "flavour": fl,
            "scale": spec.get("scale", "auto"),
            "fit_window_kev": list(spec["fit_window_kev"]),
            "free_backgrounds": list(spec.get("free_backgrounds", [])),
        }
        for key in ("treatment", "mediator_mass_mev"):
            if spec.get(key) is not None:
                sub[key] = spec[key]
        entries.append(hypothesis_entry(sub, response, physics, systematic_regions_kev))
    ws = workspace_with_signals(base, entries)
    levels = tuple(float(v) for v in spec.get("levels", (0.90, 0.99)))
    result = contour_2d(
        ws,
        (entries[0]["name"], entries[1]["name"]),
        levels,
        n_grid=int(spec.get("n_grid", 25)),
        likelihood=likelihood,  # type: ignore[arg-type]
    ).to_dict()
    if result["n_failed"]:
        log.warning("contour %s: %d grid fits failed", name, result["n_failed"])
    result.update(
        name=name,
        model=spec["model"],
        flavours=flavours,
        treatment=entries[0].get("treatment"),
        mediator_mass_mev=spec.get("mediator_mass_mev"),
        fit_window_kev=list(spec["fit_window_kev"]),
        lines=[
            contour_lines(result["values_a"], result["values_b"], result["delta_chi2"], thr)
            for thr in result["thresholds"]
        ],
    )
    return result


def contour_lines(
    values_a: npt.ArrayLike,
    values_b: npt.ArrayLike,
    delta_chi2: npt.ArrayLike,
    threshold: float,
) -> list[list[list[float]]]:
    """Polylines where the grid ``delta_chi2[i][j]`` (at ``values_a[i]``, ``values_b[j]``)
    crosses ``threshold``, by marching squares (contourpy, linear interpolation).

    Returns a list of lines, each a list of ``[a, b]`` points.
    """
    import contourpy

    z = np.asarray(delta_chi2, dtype=np.float64)
    xa = np.asarray(values_a, dtype=np.float64)
    xb = np.asarray(values_b, dtype=np.float64)
    # contourpy wants z[row=y, col=x]: x = b (columns of z), y = a (rows)
    gen = contourpy.contour_generator(x=xb, y=xa, z=np.ma.masked_invalid(z))
    return [[[float(p[1]), float(p[0])] for p in line] for line in gen.lines(threshold)]
