"""Background templates with systematics, signal response, workspace, half-split closure."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.detector.folding import (
    exposure_factor,
    fold_polynomial,
    one_sigma_shift,
    read_response,
    write_response,
)
from exonu.errors import TemplateError
from exonu.io.root import EventFileMeta
from exonu.selection.run import select_arrays
from exonu.selection.testing import exponential_spectrum, make_events
from exonu.stats.workspace import Workspace
from exonu.templates.build import assemble_workspace, background_template, build_background_model
from exonu.templates.closure import half_split_chi2, merge_groups
from exonu.templates.dead_pmt import estimate_dead_pmt_correction
from exonu.templates.signals import response_from_signal_mc, signal_workspace_entry

REGIONS = [2, 5, 10, 15, 20, 30, 40, 60, 100, 150, 200]


@pytest.fixture(scope="module")
def model(samples):
    corr = estimate_dead_pmt_correction(samples.data, samples.backgrounds, 10.0)
    return build_background_model(
        samples.data,
        samples.backgrounds,
        samples.variations,
        {"surface_pb210": 0.3, "xe_kr85": None},
        REGIONS,
        corr.to_dict(),
    )


def test_template_is_activity_times_livetime_times_efficiency(samples):
    b = samples.backgrounds[1]
    t = background_template(b, samples.data.livetime_s)
    w = b.activity_bq * samples.data.livetime_s / b.n_generated
    assert t.weight == pytest.approx(w) == pytest.approx(0.25)
    np.testing.assert_allclose(t.expected, w * b.energy)
    np.testing.assert_allclose(t.mc_variance, w**2 * b.energy)
    with pytest.raises(TemplateError, match="is data, expected background"):
        background_template(samples.data, 1.0)


def test_one_sigma_shift_conventions():
    nom = np.array([10.0, 10.0])
    up, down = np.array([12.0, 11.0]), np.array([9.0, 9.0])
    np.testing.assert_allclose(one_sigma_shift(nom, [(1.0, up), (-1.0, down)]), [1.5, 1.0])
    np.testing.assert_allclose(one_sigma_shift(nom, [(2.0, up)]), [1.0, 0.5])
    np.testing.assert_allclose(one_sigma_shift(nom, [(-1.0, down)]), [1.0, 1.0])


def test_background_model_systematics(model, samples):
    names = [s["name"] for s in model["systematics"]]
    assert names[:3] == ["energy_scale", "fiducial_volume", "optical"]
    assert [n for n in names if n.startswith("dead_pmt_")] == [
        "dead_pmt_2_5kev",
        "dead_pmt_5_15kev",
        "dead_pmt_15_20kev",
        "dead_pmt_20_30kev",
        "dead_pmt_30_40kev",
    ]
    syst = {s["name"]: s["shifts"] for s in model["systematics"]}
    comps = {c["name"]: c for c in model["components"]}
    # optical variation of xe_kr85 only: 10 % of its events lost -> relative shift -0.10
    assert set(syst["optical"]) == {"xe_kr85"}
    kr = np.asarray(comps["xe_kr85"]["expected"])
    rel = np.sum(syst["optical"]["xe_kr85"]) / kr.sum()
    assert rel == pytest.approx(-0.10, abs=0.02)
    # fiducial volume: +-2 % in radius, ~ +-6 % in volume for the uniform component
    high = np.asarray(model["edges_kev"][:-1]) > 40
    fv = np.sum(np.asarray(syst["fiducial_volume"]["xe_kr85"])[high]) / kr[high].sum()
    assert fv == pytest.approx(0.06, abs=0.015)
    # energy scale: shifts sum to ~0 over the window for a spectrum falling slowly
    es = np.asarray(syst["energy_scale"]["xe_kr85"])
    assert np.any(es != 0) and abs(es.sum()) < 0.05 * kr.sum()
    assert comps["surface_pb210"]["relative_uncertainty"] == 0.3
    assert comps["xe_kr85"]["relative_uncertainty"] is None


def test_response_and_folding(samples, tmp_path):
    sig = samples.signal
    resp = response_from_signal_mc(sig, samples.variations)
    assert [s.name for s in resp.systematics] == ["energy_scale", "fiducial_volume", "optical"]
    # folding the generated spectrum itself gives back the selected events
    n_gen, width = sig.n_generated, 250.0
    unit = exposure_factor(resp.true_edges, 1000.0, 365.25 * 86400.0)
    coeff = np.full((1, len(resp.true_edges) - 1), n_gen / width) / unit * np.diff(resp.true_edges)
    terms, var = fold_polynomial(resp, coeff, 1000.0, 365.25 * 86400.0)
    np.testing.assert_allclose(terms[0], sig.energy, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(var[(0, 0)], sig.energy, rtol=1e-9, atol=1e-9)  # Poisson
    # the response survives ROOT storage
    write_response(resp, tmp_path / "response.root")
    back = read_response(tmp_path / "response.root")
    np.testing.assert_allclose(back.matrix, resp.matrix)
    np.testing.assert_allclose(back.variance, resp.variance)
    assert [(s.name, s.shifts, s.per_region) for s in back.systematics] == [
        (s.name, s.shifts, s.per_region) for s in resp.systematics
    ]
    eff, _eff_var, eff_sys = back.window_efficiency([2.0, 15.0])
    assert eff[50:].max() < 0.01 < eff[5:14].mean()  # only low-energy events reach 2-15 keV
    assert set(eff_sys) == {"energy_scale", "fiducial_volume", "optical"}


def _spectrum(resp, powers=(2,)):
    t = 0.5 * (resp.true_edges[1:] + resp.true_edges[:-1])
    return {
        "name": "magnetic_moment",
        "model": "magnetic_moment",
        "parameter": "mu_nu",
        "unit": "mu_B",
        "flavour": "all",
        "powers": list(powers),
        "true_edges_kev": resp.true_edges.tolist(),
        "coefficients": [(1e20 / np.maximum(t, 1.0)).tolist() for _ in powers],
    }


def test_workspace_document_validates(model, samples):
    resp = response_from_signal_mc(samples.signal, samples.variations)
    spec = {
        "name": "magnetic_moment",
        "scale": 1e-10,
        "fit_window_kev": [2.0, 200.0],
        "free_backgrounds": ["xe_kr85"],
    }
    entry = signal_workspace_entry(spec, _spectrum(resp), resp, 832.0, 1e6, REGIONS)
    rel = {s["name"]: np.asarray(s["relative_shifts"]) for s in entry["systematics"]}
    assert set(rel) == {"energy_scale", "fiducial_volume", "optical"}
    assert np.median(rel["optical"][np.asarray(entry["terms"][0]["expected"]) > 0]) == (
        pytest.approx(-0.10, abs=0.03)
    )
    assert np.median(rel["fiducial_volume"][40:150]) == pytest.approx(0.06, abs=0.015)
    doc = assemble_workspace("synthetic", samples.data, model, None, [entry], 97.0)
    ws = Workspace.from_dict(doc, source="synthetic")
    assert ws.signal("magnetic_moment").free_backgrounds == ("xe_kr85",)
    assert {s.name for s in ws.background_systematics} >= {"energy_scale", "dead_pmt_30_40kev"}
    assert ws.metadata["dead_pmt_correction"]["near_distance_cm"] == 10.0


def test_half_split_closure(repo, samples):
    """Templates from one half of the MC describe the other half within statistics."""
    cfg = samples.cfg
    rng = np.random.default_rng(77)

    def half(seed, slope=80.0):
        ev = make_events(120_000, rng, exponential_spectrum(slope))
        meta = EventFileMeta("background", "xe_kr85", 120_000, 1e6, 0.1, seed)
        return select_arrays(ev, cfg, meta)

    a, b = half(1), half(2)
    res = half_split_chi2(a, b)
    print("half-split closure:", res)
    assert res["p_value"] > 0.001 and res["ndf"] > 50
    assert res["ratio_b_to_template_a"] == pytest.approx(1.0, abs=0.03)
    # power: a half with a different spectrum does not close
    bad = half_split_chi2(a, half(3, slope=60.0))
    assert bad["p_value"] < 1e-6


def test_merge_groups_reaches_min_count():
    g = merge_groups(np.array([5, 30, 1, 1, 25, 3, 2]), 20)
    np.testing.assert_array_equal(g, [0, 0, 1, 1, 1, 1, 1])
