"""Systematic shifts shared by the background model, the dead-PMT correction and the signal.

Shifts come either from the selection-time variants of the same events (energy scale,
fiducial volume: :data:`SELECTION_SYSTEMATICS`, per bin by
:func:`exonu.detector.folding.one_sigma_shift`) or from variation samples (optical,
decay time, ...: independent Monte Carlo, grouped by :func:`group_variations`), whose
ratio to the nominal sample is taken in coarse energy regions (:func:`bin_regions`,
:func:`regional_relative_shift`) to keep its statistical noise out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from exonu.detector.folding import one_sigma_shift
from exonu.errors import TemplateError
from exonu.selection.run import SelectionResult

#: Selection-time variants that form a systematic: name -> (up variant, down variant).
SELECTION_SYSTEMATICS = {
    "energy_scale": ("energy_scale_up", "energy_scale_down"),
    "fiducial_volume": ("fiducial_volume_up", "fiducial_volume_down"),
}


def bin_regions(edges: np.ndarray, region_edges: np.ndarray, key: str) -> np.ndarray:
    """Index of the region holding each bin centre; the regions must cover the bins."""
    edges = np.asarray(edges, float)
    regions = np.asarray(region_edges, float)
    if len(regions) < 2 or np.any(np.diff(regions) <= 0):
        raise TemplateError(f"{key}: need a strictly increasing list of >= 2 edges")
    if regions[0] > edges[0] + 1e-9 or regions[-1] < edges[-1] - 1e-9:
        raise TemplateError(
            f"{key}: regions [{regions[0]:g}, {regions[-1]:g}] keV must cover the energy "
            f"binning [{edges[0]:g}, {edges[-1]:g}] keV"
        )
    centres = 0.5 * (edges[1:] + edges[:-1])
    return np.clip(np.searchsorted(regions, centres, side="right") - 1, 0, len(regions) - 2)


def regional_relative_shift(
    nominal: np.ndarray,
    shifted: Sequence[tuple[float, np.ndarray]],
    regions: np.ndarray,
) -> np.ndarray:
    """Relative 1-sigma shift per bin from ratios of sums over coarse regions.

    For variation samples simulated independently of the nominal sample: the
    ratio shifted / nominal is taken per region (``regions`` maps bins to region
    indices), turned into a 1-sigma slope by :func:`one_sigma_shift` and assigned
    to every bin of the region. Regions without nominal events get no shift.
    """
    n_reg = int(regions.max()) + 1 if len(regions) else 0
    nom = np.bincount(regions, weights=np.asarray(nominal, float), minlength=n_reg)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = [
            (s, np.where(nom > 0, np.bincount(regions, weights=h, minlength=n_reg) / nom, 1.0))
            for s, h in shifted
        ]
    rel = one_sigma_shift(np.ones(n_reg), ratios)
    return np.where(nom > 0, rel, 0.0)[regions]


def group_variations(
    variations: Sequence[SelectionResult],
) -> dict[str, dict[str, list[SelectionResult]]]:
    """Variation samples as {nominal sample: {source: [results]}} (metadata ``extra``)."""
    out: dict[str, dict[str, list[SelectionResult]]] = {}
    for v in variations:
        if v.kind != "variation":
            raise TemplateError(f"sample {v.sample!r} is {v.kind}, expected variation")
        try:
            source, nominal = str(v.extra["variation"]), str(v.extra["nominal"])
            float(v.extra["shift_sigma"])
        except (KeyError, TypeError, ValueError):
            raise TemplateError(
                f"variation sample {v.sample!r}: metadata extra lacks variation/nominal/shift_sigma"
            ) from None
        out.setdefault(nominal, {}).setdefault(source, []).append(v)
    return out


__all__ = [
    "SELECTION_SYSTEMATICS",
    "bin_regions",
    "group_variations",
    "regional_relative_shift",
]
