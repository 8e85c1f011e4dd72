"""Per-signal physics overrides (atomic model, flavour composition) and the θ₂₃ default."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.physics import PhysicsSettings
from exonu.templates.hypotheses import hypotheses, hypothesis_spectrum, signal_physics

EDGES = np.arange(0.0, 21.0, 1.0)
#: narrow bins around 2, 5 and 10 keV (bin averages = point values there)
NARROW = np.array([1.95, 2.05, 4.95, 5.05, 9.95, 10.05])


def _spectrum(spec, physics, edges=EDGES):
    base = {"name": "s", "flavour": "all", **spec}
    return np.asarray(hypothesis_spectrum(base, physics, edges)["coefficients"])[0]


def test_signal_atomic_model_overrides_the_physics_block():
    physics = {"flux_set": "xmass", "atomic_model": "stepping"}
    fea = _spectrum({"model": "millicharge", "treatment": "pure"}, physics, NARROW)
    epa = _spectrum(
        {"model": "millicharge", "treatment": "pure", "atomic_model": "epa"}, physics, NARROW
    )
    ratio = epa / fea
    # docs/physics.md §D.3 (independent calculation): EPA/FEA 5.6-6.5 at 2 keV, 4.0-4.6 at 5 keV,
    # 2.0-2.3 at 10 keV; XMASS §3.1: RRPA/FEA about 5 at 5 keV.
    assert 5.6 < ratio[0] < 6.6
    assert 4.0 < ratio[2] < 4.7
    assert 2.0 < ratio[4] < 2.4
    # the magnetic moment keeps the block's stepping approximation
    mm = hypothesis_spectrum({"name": "m", "model": "magnetic_moment"}, physics, EDGES)
    assert mm["atomic_model"] == "stepping"


def test_override_drops_the_blocks_rrpa_table_and_scans_carry_it():
    physics = {"atomic_model": "rrpa_table", "rrpa_table": "ratio.txt"}
    assert "rrpa_table" not in signal_physics({"atomic_model": "epa"}, physics)
    assert signal_physics({}, physics) == physics
    scan = {
        "model": "millicharge",
        "flavours": ["e"],
        "atomic_model": "epa",
        "flavour_composition": "msw",
        "fit_window_kev": [2, 15],
    }
    spec = hypotheses("millicharge", scan)[0].spec()
    assert spec["atomic_model"] == "epa" and spec["flavour_composition"] == "msw"


def test_default_theta23_separates_mu_and_tau():
    assert PhysicsSettings().sin2_theta23 == pytest.approx(0.546)
    physics = {"flux_set": "xmass", "flavour_composition": "xmass"}
    mu, tau = (
        _spectrum({"model": "magnetic_moment", "flavour": f, "flavour_composition": "msw"}, physics)
        for f in ("mu", "tau")
    )
    # μ_ν scattering is flavour blind: ν_μ/ν_τ = cos²θ₂₃/sin²θ₂₃ (Khan-1T eq. 8)
    np.testing.assert_allclose(mu[2:] / tau[2:], 0.454 / 0.546, rtol=1e-6)
    # XMASS's fixed composition (23 % each) keeps them equal
    mu_x, tau_x = (
        _spectrum({"model": "magnetic_moment", "flavour": f}, physics) for f in ("mu", "tau")
    )
    np.testing.assert_allclose(mu_x, tau_x, rtol=1e-12)
