"""Solar-neutrino electron-recoil physics in xenon, without a detector.

What to use when:

* :func:`standard_model_rate` — the SM rate dN/dT [events/(tonne·year·keV)];
* :func:`signal_basis` — the exotic excess of a model as coefficient spectra of a polynomial
  in its parameter (what the statistics engine scans), :class:`SignalBasis`;
* :func:`differential_rate` — SM + exotic rate computed directly for given parameter values;
* :data:`MODELS` — the model registry: parameters, units, powers, flavours, labels;
  :func:`register_model` adds a model (its entry and its cross section);
* :class:`PhysicsSettings` — flux set, oscillations, sin²θ_W, radiative corrections, atomic
  model; :func:`flux_uncertainties` for flux systematics.

Formulas, constants and validation numbers: docs/physics.md (sections cited in docstrings),
XMASS-I PLB 809 (2020) 135741 and A. N. Khan arXiv:2006.12887.
"""

from __future__ import annotations

from exonu.physics.errors import PhysicsError
from exonu.physics.fluxes import FLUX_SETS, SOURCES, flux_uncertainties, total_fluxes
from exonu.physics.models import (
    FLAVOUR_CHOICES,
    MODELS,
    UNITS,
    ExcessCrossSection,
    Labels,
    ModelInfo,
    UnitLabels,
    get_model,
    register_model,
    unregister_model,
)
from exonu.physics.rates import (
    RATE_UNIT,
    SignalBasis,
    differential_rate,
    signal_basis,
    standard_model_rate,
    standard_model_rate_by_source,
)
from exonu.physics.settings import PhysicsSettings

__all__ = [
    "FLAVOUR_CHOICES",
    "FLUX_SETS",
    "MODELS",
    "RATE_UNIT",
    "SOURCES",
    "UNITS",
    "ExcessCrossSection",
    "Labels",
    "ModelInfo",
    "PhysicsError",
    "PhysicsSettings",
    "SignalBasis",
    "UnitLabels",
    "differential_rate",
    "flux_uncertainties",
    "get_model",
    "register_model",
    "signal_basis",
    "standard_model_rate",
    "standard_model_rate_by_source",
    "total_fluxes",
    "unregister_model",
]
