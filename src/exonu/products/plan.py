"""Which publication products a configuration asks for, their paths and the rules' params.

Used by ``workflow/rules/products.smk`` at parse time (so the rule file holds rules only) and
by the tests. Everything here is a pure function of the validated config.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PlanError",
    "ProductPlan",
    "canonical",
    "compute_params",
    "figure_paths",
    "one_of",
    "plot_params",
    "product_plan",
]


class PlanError(ValueError):
    """The ``plots`` config names something that does not exist (message names the key)."""


def one_of(names: Sequence[str]) -> str:
    """Wildcard constraint (regular expression) matching exactly these names."""
    return "|".join(re.escape(n) for n in names) if names else "(?!)"


def figure_paths(results: str, stem: str, formats: Sequence[str]) -> list[str]:
    """``<results>/figures/<stem>.<fmt>`` for every format (``stem`` may hold wildcards)."""
    return [f"{results}/figures/{stem}.{fmt}" for fmt in formats]


def canonical(obj: Any) -> Any:
    """Plain JSON data with keys sorted at every level.

    Snakemake compares ``params`` including the order of dict keys; sorted keys make a
    rule's params independent of the order in which the config file lists them.
    """
    return json.loads(json.dumps(obj, sort_keys=True))


def plot_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """Params of every figure rule: the drawing style and the formats, nothing else."""
    return {
        "plots": {"style": config["plots"]["style"], "formats": list(config["plots"]["formats"])}
    }


def compute_params(
    config: Mapping[str, Any], target_mass_kg: float | None, events_mode: bool, **extra: Any
) -> dict[str, Any]:
    """Params of the Δχ² and contour computations: what folding a hypothesis depends on
    (as in rule ``scan_shard``) plus the likelihood, and ``extra``."""
    return {
        "physics": canonical(config["physics"]),
        "likelihood": config["fit"]["likelihood"],
        "target_mass_kg": target_mass_kg,
        "systematic_regions_kev": (
            canonical(config["binning"]["systematic_regions_kev"]) if events_mode else None
        ),
        **canonical(extra),
    }


@dataclass(frozen=True)
class ProductPlan:
    """The products of one configuration.

    Attributes
    ----------
    signals : tuple of str
        Configured signals (a fit figure and spectrum each).
    model_of_signal : dict
        Model of each configured signal (report categories).
    mass_scans : tuple of str
        Scans over several mediator masses (an exclusion figure each).
    millicharge_scan : str or None
        Scan drawn as XMASS-I Fig. 4 (``None`` if absent or not a millicharge scan).
    curve_scans : tuple of str
        Scans with Δχ² curves (``plots.curves.scans``).
    contours : dict
        ``plots.contours`` entries by name.
    pyhf_signals : tuple of str
        Configured signals with a single power of their coupling (a pyhf workspace each).
    pyhf_patchsets : tuple of str
        The other configured signals (interference): a pyhf PatchSet over the coupling each.
    """

    signals: tuple[str, ...]
    model_of_signal: dict[str, str]
    mass_scans: tuple[str, ...]
    millicharge_scan: str | None
    curve_scans: tuple[str, ...]
    contours: dict[str, dict[str, Any]]
    pyhf_signals: tuple[str, ...]
    published_comparison: bool = False
    pyhf_patchsets: tuple[str, ...] = ()

    def targets(self, results: str, formats: Sequence[str]) -> list[str]:
        """Every product file (for ``all_products()``)."""
        products = f"{results}/products"
        stems = [
            "model_spectra",
            *[f"{s}_fit" for s in self.signals],
            *(["millicharge_limits"] if self.millicharge_scan else []),
            *[f"exclusion_{s}" for s in self.mass_scans],
            *[f"delta_chi2_{s}" for s in self.curve_scans],
            *[f"contour_{c}" for c in self.contours],
            *(["published_comparison"] if self.published_comparison else []),
        ]
        return [
            *[p for stem in stems for p in figure_paths(results, stem, formats)],
            *[f"{results}/tables/summary.{ext}" for ext in ("csv", "md", "tex")],
            f"{products}/hepdata/submission.tar.gz",
            *[f"{products}/pyhf/{s}.json" for s in self.pyhf_signals],
            *[f"{products}/pyhf/{s}_patchset.json" for s in self.pyhf_patchsets],
            *(
                [f"{results}/tables/published_comparison.{ext}" for ext in ("md", "csv")]
                if self.published_comparison
                else []
            ),
        ]


def product_plan(config: Mapping[str, Any]) -> ProductPlan:
    """The :class:`ProductPlan` of a validated config.

    Raises
    ------
    PlanError
        If ``plots.curves.scans`` names a scan that is not configured.
    """
    from exonu.physics import MODELS
    from exonu.products.pyhf_export import expressible_powers
    from exonu.templates.hypotheses import mass_grid

    scans = config["scans"]
    names = sorted(scans)
    plots = config["plots"]
    mc = plots.get("millicharge_scan")
    if mc is not None and (mc not in scans or scans[mc]["model"] != "millicharge"):
        mc = None
    curve_scans = tuple(plots["curves"]["scans"])
    unknown = [s for s in curve_scans if s not in scans]
    if unknown:
        raise PlanError(f"config key 'plots.curves.scans': {unknown} name no scan (scans: {names})")
    contour_names = [c["name"] for c in plots["contours"]]
    if len(set(contour_names)) != len(contour_names):
        raise PlanError(f"config key 'plots.contours': names {contour_names} are not unique")
    signals = tuple(s["name"] for s in config["signals"])
    pyhf = tuple(
        s["name"]
        for s in config["signals"]
        if expressible_powers(MODELS[s["model"]].powers(s.get("treatment")))
    )
    return ProductPlan(
        signals=signals,
        model_of_signal={s["name"]: s["model"] for s in config["signals"]},
        mass_scans=tuple(s for s in names if len(mass_grid(scans[s].get("masses_mev"))) > 1),
        millicharge_scan=mc,
        curve_scans=curve_scans,
        contours={c["name"]: canonical(c) for c in plots["contours"]},
        pyhf_signals=pyhf,
        pyhf_patchsets=tuple(s for s in signals if s not in pyhf),
        published_comparison=bool(plots.get("published_comparison", False)),
    )
