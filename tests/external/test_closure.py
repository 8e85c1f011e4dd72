"""Closure on synthetic releases: an injected μ_ν is recovered; binned and unbinned agree."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.external.unbinned import unbinned_limit, unbinned_model
from exonu.stats.limits import upper_limit

from .conftest import MU_SPEC, build_workspace

INJECTED = 3e-11


@pytest.fixture(scope="module")
def injected(injected_release):
    return build_workspace(injected_release, np.arange(1.0, 30.01, 1.0))


@pytest.mark.parametrize("likelihood", ["poisson", "chi2"])
def test_binned_fit_recovers_the_injected_moment(injected, likelihood):
    _, ws, _, _ = injected
    res = upper_limit(ws, "magnetic_moment", method="profile", likelihood=likelihood)
    assert res.valid
    assert res.best_fit == pytest.approx(INJECTED, rel=0.1)
    assert res.lower_limit is not None  # a strong signal: zero is excluded
    assert res.lower_limit < INJECTED < res.upper_limit
    assert res.chi2_zero - res.chi2_best > 25.0


def test_unbinned_fit_recovers_the_injected_moment(injected):
    rel, _, sigs, _ = injected
    spec, spectrum = sigs[0]
    model = unbinned_model(rel, spec, spectrum, (1.0, 30.0))
    res = unbinned_limit(model, "profile")
    assert res.valid and res.likelihood == "unbinned"
    assert res.best_fit == pytest.approx(INJECTED, rel=0.1)
    assert res.lower_limit < INJECTED < res.upper_limit


def test_unbinned_gradient_matches_finite_differences(injected):
    rel, _, sigs, _ = injected
    model = unbinned_model(rel, *sigs[0], (1.0, 30.0))
    theta = np.array([2.7, 1.05])
    _, grad = model.value_and_gradient(theta)
    h = 1e-6
    num = [
        (model(theta + h * np.eye(2)[i]) - model(theta - h * np.eye(2)[i])) / (2 * h)
        for i in range(2)
    ]
    assert grad == pytest.approx(num, rel=1e-5)


def test_binned_and_unbinned_agree(null_release):
    """Fine bins + Poisson → the extended unbinned likelihood; 1-keV bins close to it."""
    spec = {**MU_SPEC, "fit_window_kev": [1.0, 30.0]}
    rel, fine_ws, sigs, sm = build_workspace(
        null_release, np.arange(1.0, 30.001, 0.05), [spec], solar_nu={"replace": True}
    )
    model = unbinned_model(rel, *sigs[0], (1.0, 30.0), sm)
    for method in ("profile", "bayesian"):
        ub = unbinned_limit(model, method)
        fine = upper_limit(fine_ws, "magnetic_moment", method=method, likelihood="poisson")
        assert ub.valid and fine.valid
        assert fine.upper_limit == pytest.approx(ub.upper_limit, rel=0.02)
    _, coarse_ws, _, _ = build_workspace(
        null_release, np.arange(1.0, 30.01, 1.0), [spec], solar_nu={"replace": True}
    )
    coarse = upper_limit(coarse_ws, "magnetic_moment", method="profile", likelihood="poisson")
    assert coarse.upper_limit == pytest.approx(
        unbinned_limit(model, "profile").upper_limit, rel=0.15
    )
