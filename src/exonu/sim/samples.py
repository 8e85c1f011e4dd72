"""Names and kinds of the simulated samples (what the workflow has to produce).

* ``data`` (kind ``data``): the synthetic data, all background components together;
* one sample per entry of ``simulation.backgrounds`` (kind ``background``);
* ``signal_flat`` (kind ``signal``): flat true-energy spectrum, uniform in the volume;
* systematic variations (kind ``variation``): for every entry ``<source>`` of
  ``simulation.variations`` and every nominal sample it lists, two samples
  ``<nominal>__<source>_up`` and ``<nominal>__<source>_down`` (shift +1 and -1 sigma).
  A variation sample re-uses the random numbers of its nominal sample event by event,
  so that it differs from it only by the varied detector parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DATA = "data"
SIGNAL_MC = "signal_flat"
#: separator between the nominal sample and the variation in a variation sample name
VARIATION_SEPARATOR = "__"
DIRECTIONS = {"up": 1.0, "down": -1.0}


@dataclass(frozen=True)
class VariationSample:
    """A systematic-variation sample."""

    name: str
    nominal: str
    nominal_kind: str
    source: str
    shift_sigma: float


def nominal_kind(sim: Mapping[str, Any], sample: str) -> str | None:
    """Kind of a nominal Monte-Carlo sample (``background`` or ``signal``), else None."""
    if sample == SIGNAL_MC:
        return "signal"
    if sample in sim.get("backgrounds", {}):
        return "background"
    return None


def variation_samples(sim: Mapping[str, Any]) -> list[VariationSample]:
    """Every variation sample of the ``simulation`` block, in a stable order."""
    out = []
    for source in sorted(sim.get("variations") or {}):
        entry = sim["variations"][source]
        for nominal in entry.get("samples", []):
            kind = nominal_kind(sim, nominal)
            if kind is None:
                continue  # reported by check_variations
            for direction, shift in DIRECTIONS.items():
                name = f"{nominal}{VARIATION_SEPARATOR}{source}_{direction}"
                out.append(VariationSample(name, nominal, kind, source, shift))
    return out


def find_variation(sim: Mapping[str, Any], sample: str) -> VariationSample | None:
    """The variation sample called ``sample``, or None."""
    return next((v for v in variation_samples(sim) if v.name == sample), None)


def sample_kinds(sim: Mapping[str, Any]) -> dict[str, str]:
    """Sample name -> kind for every sample the ``simulation`` block defines."""
    kinds = {DATA: "data", SIGNAL_MC: "signal"}
    kinds.update({b: "background" for b in sorted(sim.get("backgrounds", {}))})
    kinds.update({v.name: "variation" for v in variation_samples(sim)})
    return kinds
