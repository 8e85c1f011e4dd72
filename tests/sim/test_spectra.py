"""Spectral shapes and decay schemes: end points, peaks, tables, attenuation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from exonu.sim import spectra as S


def test_beta_shape_vanishes_at_end_point_and_follows_the_fermi_function():
    e = np.array([0.0, 50.0, 156.49, 156.5, 200.0])
    shape = S.beta_shape(e, 156.5, 7)
    assert shape[1] > 0 and shape[2] < 1e-6 * shape[1]
    assert shape[3] == 0 and shape[4] == 0
    # the Coulomb attraction of the daughter enhances low energies (beta-minus)
    assert S.beta_shape(10.0, 156.5, 7) > S.beta_shape(10.0, 156.5, 0)


def test_unique_first_forbidden_shape_factor():
    t = np.linspace(1, 600, 50)
    allowed = S.beta_shape(t, 687.0, 37)
    unique = S.beta_shape(t, 687.0, 37, "unique_first")
    w = t / S.ELECTRON_MASS_KEV + 1
    factor = (w**2 - 1) + ((687.0 - t) / S.ELECTRON_MASS_KEV) ** 2
    np.testing.assert_allclose(unique / allowed, factor, rtol=1e-12)


def test_klein_nishina_total_cross_section():
    # sigma_KN(511 keV) = 0.4315 Thomson = 2.87e-25 cm^2
    assert S.klein_nishina_total_cm2(S.ELECTRON_MASS_KEV) == pytest.approx(2.87e-25, rel=0.005)

    # integrating the recoil spectrum gives the same ratio between two energies
    def integral(eg):
        return quad(lambda t: S.klein_nishina_recoil_shape(t, eg), 0, S.compton_edge_kev(eg))[0]

    # dsigma/dT = pi r_e^2 / (m_e eps^2) x shape
    ratio = integral(1000.0) / integral(300.0) * (300.0 / 1000.0) ** 2
    expected = S.klein_nishina_total_cm2(1000.0) / S.klein_nishina_total_cm2(300.0)
    assert ratio == pytest.approx(expected, rel=1e-3)
    assert S.compton_edge_kev(1173.2) == pytest.approx(963.4, abs=0.5)


def test_embedded_attenuation_agrees_with_xraydb():
    xraydb = pytest.importorskip("xraydb")
    for e in (46.5, 63.3, 185.7, 351.9, 609.3, 799.0):
        total, frac = S.xenon_attenuation(e)
        ref = xraydb.mu_elam("Xe", e * 1e3, kind="total")
        assert total == pytest.approx(ref, rel=3e-3)
        assert frac == pytest.approx(xraydb.mu_elam("Xe", e * 1e3, kind="photo") / ref, rel=5e-3)


@pytest.mark.parametrize(
    ("q", "z", "forbidden"), [(156.5, 7, "allowed"), (565.0, 19, "unique_first")]
)
def test_inverse_cdf_table_reproduces_the_mean(q, z, forbidden):
    def pdf(e):
        return S.beta_shape(e, q, z, forbidden)

    table = S.inverse_cdf_table(pdf, 0.0, q)
    assert table[0] == 0.0 and table[-1] == pytest.approx(q)
    assert np.all(np.diff(table) >= 0)
    norm = quad(pdf, 0, q, limit=200)[0]
    mean = quad(lambda e: e * pdf(e), 0, q, limit=200)[0] / norm
    u = (np.arange(200000) + 0.5) / 200000
    sampled = np.interp(u, np.linspace(0, 1, len(table)), table)
    assert sampled.mean() == pytest.approx(mean, rel=2e-4)


def test_degraded_deposit_has_the_product_distribution():
    """E = T u: mean E = mean T / 2."""
    table, frac = S.deposit_table(lambda e: S.beta_shape(e, 1162.2, 84), 0.0, 1162.2, degrade=True)
    plain, _ = S.deposit_table(lambda e: S.beta_shape(e, 1162.2, 84), 0.0, 1162.2)
    assert frac == 1.0
    assert table.mean() == pytest.approx(plain.mean() / 2, rel=3e-3)


def test_truncation_keeps_the_fraction_below_the_cut():
    table, frac = S.deposit_table(lambda e: np.ones_like(e), 0.0, 100.0, cut_kev=40.0)
    assert frac == pytest.approx(0.4, rel=1e-6)
    assert table[-1] == pytest.approx(40.0) and table[0] == 0.0
    none, zero = S.deposit_table(lambda e: np.ones_like(e), 10.0, 100.0, cut_kev=5.0)
    assert none is None and zero == 0.0


def test_every_decay_scheme_builds(tmp_path):
    for name, decay in S.DECAYS.items():
        arrays = S.channel_arrays(decay.channels(2.89), 0.05, 400.0)
        assert arrays.cum[-1] == 1.0 and 0 < arrays.extra["kept_fraction"] <= 1.0, name
        assert decay.description and decay.source


def test_unknown_shape_and_decay_name_the_key():
    with pytest.raises(S.SpectrumError, match=r"^x\.spectrum\.shape"):
        S.spectrum_channels({"shape": "zigzag"}, "x.spectrum", 2.89)
    with pytest.raises(S.SpectrumError, match=r"^x\.spectrum\.decay"):
        S.spectrum_channels({"shape": "decay", "decay": "unobtainium"}, "x.spectrum", 2.89)
    with pytest.raises(S.SpectrumError, match=r"^x\.spectrum\.q_kev"):
        S.spectrum_channels({"shape": "beta"}, "x.spectrum", 2.89)
