"""Solar fluxes and spectral shapes (docs/physics.md §A)."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.physics import FLUX_SETS, PhysicsError, flux_uncertainties, total_fluxes
from exonu.physics.fluxes import beta_plus_shape, continuum_spectrum, source_endpoint_mev


def _mean_and_norm(source, endpoint_kev=423.41):
    end = source_endpoint_mev(source, endpoint_kev)
    x, w = np.polynomial.legendre.leggauss(600)
    e = 0.5 * end * (x + 1.0)
    f = continuum_spectrum(source, e, endpoint_kev) * 0.5 * end * w
    return (f * e).sum() / f.sum(), f.sum()


@pytest.mark.parametrize(
    ("source", "mean_mev"),
    [
        ("pp", 0.2668),
        ("n13", 0.7063),
        ("o15", 0.9964),
        ("f17", 0.9977),
        ("hep", 9.63),
        ("b8", 6.77),
    ],
)
def test_continuum_means_and_normalisation(source, mean_mev):
    mean, norm = _mean_and_norm(source)
    assert norm == pytest.approx(1.0, rel=1e-9)
    assert mean == pytest.approx(mean_mev, rel=2e-3)


def test_pp_endpoint_follows_settings():
    assert source_endpoint_mev("pp", 420.22) == pytest.approx(0.42022)
    assert continuum_spectrum("pp", 0.4210, 420.22) == 0.0
    assert continuum_spectrum("pp", 0.4210, 423.41) > 0.0


def test_beta_shape_vanishes_smoothly_at_endpoint():
    e = np.array([0.0, 0.2, 0.42340, 0.42341, 0.5])
    shape = beta_plus_shape(e, 0.42341, 1)
    assert shape[0] == 0.0 and shape[-1] == 0.0 and shape[-2] == 0.0
    assert np.all(np.isfinite(shape)) and shape[1] > 0.0


def test_flux_sets_and_uncertainties():
    assert set(FLUX_SETS) == {"xmass", "shp11_gs98", "b16_gs98", "b16_agss09met"}
    assert total_fluxes("xmass") == {"pp": 5.98e10, "be7": 5.00e9}
    assert flux_uncertainties("xmass") == {"pp": 0.006, "be7": 0.07}
    assert flux_uncertainties("b16_gs98")["be7"] == 0.06
    assert len(total_fluxes("b16_agss09met")) == 8
    with pytest.raises(PhysicsError, match="flux_set"):
        total_fluxes("bs05")
