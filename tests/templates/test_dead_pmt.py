"""Dead-PMT correction (XMASS-I §3.3): estimator, uncertainties, closure on injected effects."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from exonu.templates.build import build_background_model
from exonu.templates.dead_pmt import (
    DeadPmtCorrection,
    correction_factor,
    estimate_dead_pmt_correction,
)

NEAR_CM = 10.0


def test_factor_and_its_uncertainty_against_toys():
    rng = np.random.default_rng(1)
    dn, df, mn, mf, vn, vf = 130.0, 870.0, 1000.0, 9000.0, 50.0, 400.0
    c, s = correction_factor(dn, df, mn, mf, vn, vf)
    assert c == pytest.approx((1 + dn / df) / (1 + mn / mf))
    toys = correction_factor(
        rng.poisson(dn, 200_000),
        rng.poisson(df, 200_000),
        rng.normal(mn, np.sqrt(vn), 200_000),
        rng.normal(mf, np.sqrt(vf), 200_000),
        vn,
        vf,
    )[0]
    assert np.std(toys) == pytest.approx(float(s), rel=0.03)
    c0, s0 = correction_factor(5.0, 0.0, 10.0, 100.0, 1.0, 1.0)
    assert (c0, s0) == (1.0, 1.0)  # no data far from dead PMTs: no estimate, 100 % uncertainty


def test_closure_recovers_injected_data_mc_difference(samples):
    corr = estimate_dead_pmt_correction(samples.data, samples.backgrounds, NEAR_CM)
    truth = 1.0 + samples.injected / samples.expected_in_region
    pulls = (corr.factor - truth) / corr.stat
    print("dead-PMT closure: truth", truth.round(3), "estimate", corr.factor.round(3))
    print("  stat", corr.stat.round(3), "masking", corr.masking.round(3), "pulls", pulls.round(2))
    assert np.all(np.abs(pulls) < 3.0)
    assert corr.factor[-1] > 1.3  # the 46 % effect is found
    # normal PMTs masked as if dead show no effect: their spread is statistical
    masked_pulls = (corr.masked_factors - 1.0) / corr.stat
    assert np.sqrt(np.mean(masked_pulls**2)) < 2.5
    assert np.all(corr.total >= corr.stat) and np.all(corr.total >= corr.masking)


def test_no_difference_gives_no_correction(samples):
    corr = estimate_dead_pmt_correction(samples.data_uninjected, samples.backgrounds, NEAR_CM)
    assert np.all(np.abs(corr.factor - 1.0) < 3.0 * corr.stat)


def test_correction_applied_to_templates_describes_the_data(samples):
    corr = estimate_dead_pmt_correction(samples.data, samples.backgrounds, NEAR_CM)
    model = build_background_model(
        samples.data,
        samples.backgrounds,
        [],
        {b.sample: 0.1 for b in samples.backgrounds},
        [2, 5, 10, 15, 20, 30, 40, 60, 100, 150, 200],
        corr.to_dict(),
    )
    edges = np.asarray(model["edges_kev"])
    centres = 0.5 * (edges[1:] + edges[:-1])
    total = np.sum([c["expected"] for c in model["components"]], axis=0)
    raw = np.sum([c["expected_uncorrected"] for c in model["components"]], axis=0)
    regions = corr.region_edges_kev
    names = {s["name"] for s in model["systematics"]}
    for k, (lo, hi) in enumerate(itertools.pairwise(regions)):
        sel = (centres >= lo) & (centres < hi)
        d = samples.data.energy[sel].sum()
        assert raw[sel].sum() * corr.factor[k] == pytest.approx(total[sel].sum())
        # corrected model vs data in the region: within data statistics and sigma(c)
        sigma = np.hypot(np.sqrt(d), corr.total[k] * raw[sel].sum())
        assert abs(total[sel].sum() - d) < 3 * sigma
        assert corr.region_names[k] in names
    outside = centres >= regions[-1]
    np.testing.assert_allclose(total[outside], raw[outside])
    doc = DeadPmtCorrection.from_dict(corr.to_dict())
    np.testing.assert_array_equal(doc.factor, corr.factor)


def test_near_distance_must_be_a_bin_edge(samples):
    with pytest.raises(ValueError, match="near_distance_cm = 12 must be an inner edge"):
        estimate_dead_pmt_correction(samples.data, samples.backgrounds, 12.0)


def test_method_systematic_binning_and_sample(samples):
    corr = estimate_dead_pmt_correction(samples.data, samples.backgrounds, NEAR_CM)
    # computed independently: the estimator with the near/far boundary at the neighbouring
    # distance edges; the binning term is the largest change
    edges = samples.data.distance_edges_cm
    k = int(np.searchsorted(edges, NEAR_CM))
    alts = []
    for j in (k - 1, k + 1):
        if 0 < j < len(edges) - 1:
            alts.append(estimate_dead_pmt_correction(samples.data, samples.backgrounds, edges[j]))
    expected = np.max([np.abs(a.factor - corr.factor) for a in alts], axis=0)
    np.testing.assert_allclose(corr.method_binning, expected, rtol=1e-9, atol=1e-12)
    assert np.all(corr.method_sample >= 0.0)
    assert np.all(corr.total >= np.hypot(corr.stat, corr.masking))
    back = DeadPmtCorrection.from_dict(corr.to_dict())
    np.testing.assert_allclose(back.total, corr.total)


def test_dead_pmt_model_term_from_variation_samples(samples):
    from dataclasses import replace

    kr = next(b for b in samples.backgrounds if b.sample == "xe_kr85")
    extra = {"variation": "optical", "nominal": "xe_kr85", "shift_sigma": 1.0}
    # a variation with the nominal's own dead-PMT histograms changes nothing
    same = replace(kr, kind="variation", sample="xe_kr85__optical_up", extra=extra)
    corr = estimate_dead_pmt_correction(samples.data, samples.backgrounds, NEAR_CM, [same])
    np.testing.assert_allclose(corr.method_model, 0.0, atol=1e-12)
    # twice the events near the dead PMTs in the model: the correction, and so the term, moves
    h = kr.dead_pmt_by_set.copy()
    k = int(np.searchsorted(samples.data.distance_edges_cm, NEAR_CM))
    h[:, :, :k] *= 2
    more = replace(same, dead_pmt_by_set=h)
    corr2 = estimate_dead_pmt_correction(samples.data, samples.backgrounds, NEAR_CM, [more])
    base = estimate_dead_pmt_correction(samples.data, samples.backgrounds, NEAR_CM)
    assert base.method_model is None and np.all(corr2.method_model > 0)
    assert np.all(corr2.total > base.total)
    # the real (independently generated, 10 % fewer events) variation sample: finite
    real = estimate_dead_pmt_correction(
        samples.data, samples.backgrounds, NEAR_CM, samples.variations
    )
    assert np.all(np.isfinite(real.method_model))
