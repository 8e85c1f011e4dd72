"""The analytic response: normalisation, resolution forms and the unbinned density."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.detector.folding import fold_polynomial
from exonu.external import ReleaseError, Resolution, Tabulation, build_response, response_density
from exonu.external.response import response_from_dict, response_to_dict

FLAT = Tabulation(np.array([0.0, 100.0]), np.array([1.0, 1.0]), outside="edge")


def test_resolution_forms():
    r = Resolution()  # XENON1T, docs/physics.md §E.3
    assert r.sigma_kev(np.array([1.0, 100.0])) == pytest.approx([0.3186, 3.171 + 0.15])
    q = Resolution(form="quadrature_sum", a_sqrt_kev=0.3, b=0.01, c_kev=0.1)
    assert q.sigma_kev(np.array([4.0]))[0] == pytest.approx(np.sqrt(0.09 * 4 + 0.04**2 + 0.01))
    assert Resolution(a_sqrt_kev=0, b=0, c_kev=0).is_perfect
    with pytest.raises(ReleaseError, match=r"release.resolution.b"):
        Resolution(b=-1.0)
    with pytest.raises(ReleaseError, match=r"release.resolution.form"):
        Resolution.from_mapping({"form": "cubic"})


@pytest.mark.parametrize("applies_to", ["reconstructed", "deposited"])
def test_flat_efficiency_and_tiny_resolution_reproduce_the_spectrum(applies_to):
    edges = np.arange(0.0, 20.01, 0.5)
    tiny = Resolution(a_sqrt_kev=0.0, b=0.0, c_kev=1e-6)
    resp = build_response(edges, edges, FLAT, tiny, applies_to)
    assert resp.matrix == pytest.approx(np.eye(edges.size - 1), abs=1e-9)
    rate = 3.0 + np.sin(edges[:-1])  # events/(t*yr*keV)
    terms, var = fold_polynomial(resp, rate[None, :], 1000.0, 365.25 * 86400)
    assert terms[0] == pytest.approx(rate * 0.5)  # 1 t*yr, 0.5-keV bins
    assert all(np.all(v == 0) for v in var.values())
    perfect = build_response(edges, edges, FLAT, Resolution(a_sqrt_kev=0, b=0, c_kev=0))
    assert perfect.matrix == pytest.approx(np.eye(edges.size - 1))


def test_probability_is_conserved_away_from_the_edges():
    t = np.arange(0.0, 60.01, 0.25)
    e = np.arange(0.0, 60.01, 1.0)
    resp = build_response(t, e, FLAT, Resolution())
    centre = (t[:-1] > 5) & (t[1:] < 45)
    assert resp.matrix.sum(axis=1)[centre] == pytest.approx(1.0, abs=1e-6)
    eff = Tabulation(np.array([0.0, 100.0]), np.array([0.7, 0.7]))
    resp7 = build_response(t, e, eff, Resolution(), "deposited")
    assert resp7.matrix.sum(axis=1)[centre] == pytest.approx(0.7, abs=1e-6)


def test_density_integrates_to_the_matrix():
    t = np.arange(0.0, 12.01, 0.5)
    grid = np.geomspace(0.1, 20, 50)
    eff = Tabulation(grid, 0.8 * (1 - np.exp(-grid)), outside="edge")
    for applies_to in ("reconstructed", "deposited"):
        resp = build_response(t, [2.0, 3.0, 5.0], eff, Resolution(), applies_to)
        fine = np.linspace(2.0, 5.0, 3001)
        dens = response_density(t, fine, eff, Resolution(), applies_to)
        lo = np.trapezoid(dens[:, :1001], fine[:1001], axis=1)
        hi = np.trapezoid(dens[:, 1000:], fine[1000:], axis=1)
        assert lo == pytest.approx(resp.matrix[:, 0], abs=2e-4)
        assert hi == pytest.approx(resp.matrix[:, 1], abs=2e-4)
    with pytest.raises(ReleaseError, match="sigma"):
        response_density(t, fine, eff, Resolution(a_sqrt_kev=0, b=0, c_kev=0))


def test_response_document_round_trip():
    t = np.arange(0.0, 5.01, 0.5)
    resp = build_response(t, [1.0, 2.0, 4.0], FLAT, Resolution())
    doc = response_to_dict(resp, 1000.0, 86400.0, "test")
    assert set(doc) == {
        "true_edges_kev",
        "energy_edges_kev",
        "matrix",
        "variance",
        "target_mass_kg",
        "livetime_s",
        "source",
    }
    back = response_from_dict(doc)
    assert back.matrix == pytest.approx(resp.matrix)
    doc.pop("variance")
    with pytest.raises(ReleaseError, match="missing key 'variance'"):
        response_from_dict(doc)
