"""Tests of exonu.stats.limits: the XMASS Bayesian limit, profile likelihood, Neyman belts."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from exonu.stats.errors import LimitError, ModelError
from exonu.stats.limits import (
    bayesian_interval,
    compute_limit,
    neyman_belt,
    profile_threshold,
    upper_limit,
)
from exonu.stats.model import BinnedModel
from exonu.stats.workspace import Workspace

from .conftest import one_bin_doc


def truncated_gaussian_quantile(mean: float, sigma: float, cl: float) -> float:
    """cl quantile of N(mean, sigma) truncated to [0, inf)."""
    p0 = stats.norm.cdf(-mean / sigma)
    return mean + sigma * stats.norm.ppf(p0 + cl * (1 - p0))


def parabola_ws(best: float, dchi2_zero: float, power: int, scale: float) -> Workspace:
    """One-bin workspace with χ² exactly parabolic in α = x**power (see one_bin_doc)."""
    residual = 10.0 * dchi2_zero
    weight = residual**2 / dchi2_zero  # D + V_B = 100 Δχ²(0) > D
    observed = round(6 * residual)
    background = observed - residual
    alpha_hat = (best / scale) ** power
    doc = one_bin_doc(observed, background, weight - observed, residual / alpha_hat, power, scale)
    return Workspace.from_dict(doc)


@pytest.mark.parametrize(
    ("best", "dchi2", "power", "scale", "published", "reference"),
    [
        (1.3e-10, 2.3, 2, 1e-10, 1.8e-10, 1.78e-10),  # μ_ν, XMASS section 4.3
        (1.1e-6, 2.9, 4, 1e-6, 1.3e-6, 1.27e-6),  # g_B−L at 1 keV, XMASS section 4.4
    ],
)
def test_xmass_bayesian_reconstruction(
    best: float, dchi2: float, power: int, scale: float, published: float, reference: float
) -> None:
    """docs/physics.md §F: exp(−χ²/2) integrated over α ≥ 0 reproduces XMASS's two limits."""
    ws = parabola_ws(best, dchi2, power, scale)
    res = upper_limit(ws, "sig", "bayesian")
    assert res.valid, res.message
    assert res.best_fit == pytest.approx(best, rel=2e-3)  # MIGRAD tolerance, EDM < 1e-4
    assert res.chi2_zero - res.chi2_best == pytest.approx(dchi2, rel=1e-4)
    assert res.upper_limit == pytest.approx(reference, rel=5e-3)
    assert res.upper_limit == pytest.approx(published, rel=0.03)
    alpha_hat = (best / scale) ** power
    exact = truncated_gaussian_quantile(alpha_hat, alpha_hat / math.sqrt(dchi2), 0.9)
    assert res.upper_limit == pytest.approx(exact ** (1 / power) * scale, rel=1e-3)
    assert res.prior == f"flat in x^{power}, x >= 0"


def test_profile_limit_on_a_parabola() -> None:
    """Δχ² = 2.71: α̂ + 1.645 σ (docs/physics.md §F: 1.88e-10 for the μ_ν numbers)."""
    ws = parabola_ws(1.3e-10, 2.3, 2, 1e-10)
    res = upper_limit(ws, "sig", "profile")
    alpha_hat = 1.69
    sigma = alpha_hat / math.sqrt(2.3)
    assert res.delta_chi2_threshold == pytest.approx(2.7055, rel=1e-4)
    assert res.upper_limit == pytest.approx(math.sqrt(alpha_hat + 1.6449 * sigma) * 1e-10, rel=1e-4)
    assert res.upper_limit == pytest.approx(1.88e-10, rel=3e-3)
    assert res.lower_limit is None  # Δχ²(0) = 2.3 < 2.71
    one = upper_limit(ws, "sig", "profile", threshold="one_sided")
    assert one.delta_chi2_threshold == pytest.approx(stats.chi2.ppf(0.8, 1))
    assert one.upper_limit == pytest.approx(math.sqrt(alpha_hat + 1.2816 * sigma) * 1e-10, rel=1e-4)
    # a significant signal gives a lower limit too
    strong = upper_limit(parabola_ws(1.3e-10, 9.0, 2, 1e-10), "sig", "profile")
    assert strong.lower_limit is not None and 0 < strong.lower_limit < 1.3e-10


def test_bayesian_interval_function() -> None:
    u = np.linspace(0, 10, 201)
    chi2 = (u - 2.0) ** 2 / 1.5**2
    lo, up = bayesian_interval(u, chi2, 0.9)
    assert lo is None
    assert up == pytest.approx(truncated_gaussian_quantile(2.0, 1.5, 0.9), rel=1e-4)
    lo2, up2 = bayesian_interval(
        np.linspace(-10, 14, 301), (np.linspace(-10, 14, 301) - 2) ** 2, 0.9, two_sided=True
    )
    assert lo2 == pytest.approx(2 - 1.6449, abs=1e-3)
    assert up2 == pytest.approx(2 + 1.6449, abs=1e-3)
    with pytest.raises(LimitError, match="strictly increasing"):
        bayesian_interval([0, 1, 1], [0, 1, 2], 0.9)


def test_flat_prior_in_coupling_gives_a_larger_limit_for_g4() -> None:
    """A flat prior in g (not g⁴) pushes the posterior to large g: the prior matters."""
    ws = parabola_ws(1.1e-6, 2.9, 4, 1e-6)
    strength = upper_limit(ws, "sig", "bayesian")
    coupling = upper_limit(ws, "sig", "bayesian", prior_power=1)
    assert coupling.prior == "flat in x^1, x >= 0"
    assert coupling.upper_limit != pytest.approx(strength.upper_limit, rel=1e-3)


@pytest.mark.parametrize("method", ["profile", "bayesian"])
def test_limits_on_synthetic_signals(medium_ws: Workspace, method: str) -> None:
    for signal in ("magnetic_moment", "dark_photon", "millicharge"):
        res = upper_limit(medium_ws, signal, method)  # type: ignore[arg-type]
        assert res.valid, (signal, res.message)
        assert res.upper_limit > max(res.best_fit, 0)
        assert res.chi2_zero >= res.chi2_best - 1e-9
        assert res.workspace_digest == medium_ws.digest()
        sig = medium_ws.signal(signal)
        assert res.unit == sig.unit and res.parameter == sig.parameter
        d = json.loads(json.dumps(res.to_dict()))
        for key in (
            "model",
            "parameter",
            "unit",
            "flavour",
            "mediator_mass_mev",
            "method",
            "cl",
            "likelihood",
            "upper_limit",
            "lower_limit",
            "best_fit",
            "chi2_best",
            "chi2_zero",
            "ndof",
            "fit_valid",
            "workspace_digest",
            "seed",
            "n_toys",
        ):
            assert key in d


def test_profile_limit_is_a_delta_chi2_crossing(medium_ws: Workspace) -> None:
    res = upper_limit(medium_ws, "dark_photon", "profile")
    model = BinnedModel(medium_ws, "dark_photon")
    from exonu.stats.fit import fit

    x_up = res.upper_limit / medium_ws.signal("dark_photon").scale
    at = fit(model, fixed={"dark_photon": x_up}, errors=False)
    assert at.chi2 - res.chi2_best == pytest.approx(profile_threshold(0.9), abs=2e-3)


def test_two_sided_signal_gives_an_interval(medium_ws: Workspace) -> None:
    res = upper_limit(medium_ws, "charge_radius", "profile")
    assert res.valid, res.message
    assert res.lower_limit is not None and res.lower_limit < res.best_fit < res.upper_limit
    bay = upper_limit(medium_ws, "charge_radius", "bayesian")
    assert bay.lower_limit is not None and bay.lower_limit < bay.upper_limit
    assert bay.prior == "flat in sign(x)|x|^2"


def test_no_crossing_below_the_upper_bound_is_reported(medium_ws: Workspace) -> None:
    d = medium_ws.to_dict()
    d["signals"][0]["x_bounds"] = [0.0, 0.3]
    ws = Workspace.from_dict(d)
    res = upper_limit(ws, d["signals"][0]["name"], "profile")
    assert not res.valid
    assert "stays below" in res.message
    assert res.upper_limit == pytest.approx(0.3 * d["signals"][0]["scale"])


def test_argument_errors(medium_ws: Workspace) -> None:
    with pytest.raises(LimitError, match="method 'cls' is not known"):
        upper_limit(medium_ws, "dark_photon", "cls")  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="needs n_toys and seed"):
        upper_limit(medium_ws, "dark_photon", "neyman")
    with pytest.raises(LimitError, match=r"cl is 1\.5"):
        profile_threshold(1.5)


def test_neyman_limit_small_model(small_ws: Workspace) -> None:
    """FC construction runs, is reproducible and lands near the asymptotic profile limit."""
    a = upper_limit(small_ws, "magnetic_moment", "neyman", n_toys=60, seed=7, n_grid=6)
    b = upper_limit(small_ws, "magnetic_moment", "neyman", n_toys=60, seed=7, n_grid=6)
    assert a.to_dict() == b.to_dict()
    assert a.method == "neyman" and a.seed == 7 and a.n_toys == 60 and a.ordering == "fc"
    prof = upper_limit(small_ws, "magnetic_moment", "profile")
    assert 0.6 * prof.upper_limit < a.upper_limit < 1.5 * prof.upper_limit


def test_neyman_belt_validation(small_ws: Workspace) -> None:
    model = BinnedModel(small_ws, "magnetic_moment")
    with pytest.raises(LimitError, match="strictly increasing"):
        neyman_belt(model, "magnetic_moment", [1.0, 0.5], n_toys=20, seed=1)
    with pytest.raises(LimitError, match="ordering 'two' is not known"):
        neyman_belt(model, "magnetic_moment", [0.5, 1.0], n_toys=20, seed=1, ordering="two")
    belt = neyman_belt(
        model, "magnetic_moment", [0.0, 1.0, 2.0], n_toys=30, seed=3, ordering="upper"
    )
    assert len(belt.critical) == 3 and belt.ordering == "upper"
    res = compute_limit(model, "magnetic_moment", "neyman", belt=belt)
    assert res.seed == 3 and res.n_toys == 30 and res.ordering == "upper"
