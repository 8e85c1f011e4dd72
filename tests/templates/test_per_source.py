"""Per-source signal spectra (the input of the flux nuisances of a combined likelihood)."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.physics import flux_uncertainties
from exonu.stats.combined import source_fractions
from exonu.templates.hypotheses import hypothesis_spectrum, hypothesis_spectrum_by_source

EDGES = np.linspace(1.0, 31.0, 16)


@pytest.mark.parametrize(
    ("spec", "flux_set"),
    [
        ({"name": "mm", "model": "magnetic_moment"}, "xmass"),
        ({"name": "bl", "model": "dark_photon_bl", "mediator_mass_mev": 0.1}, "b16_gs98"),
    ],
)
def test_sources_add_up_to_the_total(spec, flux_set):
    physics = {"flux_set": flux_set}
    total = hypothesis_spectrum(spec, physics, EDGES)
    per = hypothesis_spectrum_by_source(spec, physics, EDGES)
    assert tuple(per) == tuple(flux_uncertainties(flux_set))
    for key in ("coefficients", "standard_model"):
        summed = sum(np.asarray(p[key]) for p in per.values())
        assert summed == pytest.approx(np.asarray(total[key]), rel=1e-12, abs=0.0)
    for p in per.values():  # labels unchanged
        assert (p["powers"], p["parameter"], p["unit"]) == (
            total["powers"],
            total["parameter"],
            total["unit"],
        )
    # the fractions of the flux nuisances: pp dominates at keV recoils, fractions add to 1
    frac = source_fractions({s: p["coefficients"] for s, p in per.items()})
    assert sum(frac.values()) == pytest.approx(np.ones(EDGES.size - 1), abs=1e-12)
    assert np.all(frac["pp"] > 0.8)
    assert np.all(frac["be7"] > 0.03)


def test_sources_follow_the_settings_subset():
    per = hypothesis_spectrum_by_source(
        {"name": "mm", "model": "magnetic_moment"},
        {"flux_set": "b16_gs98", "sources": ["pp", "be7"]},
        EDGES,
    )
    assert tuple(per) == ("pp", "be7")
