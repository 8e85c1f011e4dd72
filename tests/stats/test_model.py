"""Tests of exonu.stats.model: XMASS eqs. 4-7, Poisson variant, analytic derivatives."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.stats.errors import ModelError, WorkspaceError
from exonu.stats.model import BinnedModel
from exonu.stats.synthetic import make_synthetic_workspace
from exonu.stats.workspace import Workspace

SIGNAL_SETS = [
    "magnetic_moment",
    "dark_photon",
    "charge_radius",
    ["magnetic_moment", "dark_photon"],
]


def _random_point(model: BinnedModel, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    theta = model.nominal + rng.normal(0, 0.05, model.npar)
    theta[: model.n_poi] = rng.uniform(0.5, 1.5, model.n_poi)
    return theta


def _xmass_chi2_by_hand(ws: Workspace, signal: str, theta: np.ndarray) -> float:
    """XMASS eqs. (4)-(7) written out with loops, independently of the model code."""
    sig = ws.signal(signal)
    bins = np.flatnonzero(sig.fit_mask)
    x = theta[0]
    j_n = len(ws.backgrounds)
    p = theta[1 : 1 + j_n]
    k_n = len(ws.background_systematics)
    q = theta[1 + j_n : 1 + j_n + k_n]
    r = theta[1 + j_n + k_n :]
    total = 0.0
    for i in bins:
        b_i = 0.0
        var_b = 0.0
        for j, bkg in enumerate(ws.backgrounds):
            shifted = bkg.expected[i]
            for k, syst in enumerate(ws.background_systematics):
                if bkg.name in syst.shifts:
                    shifted += q[k] * syst.shifts[bkg.name][i]
            b_i += p[j] * shifted
            var_b += p[j] ** 2 * bkg.mc_variance[i]
        s0 = sum(x**t.power * t.values[i] for t in sig.terms)
        s_i = s0 * (1 + sum(r[l] * sy.relative_shifts[i] for l, sy in enumerate(sig.systematics)))
        var_s = max(0.0, sum(x**t.power * t.values[i] for t in sig.variance_terms))
        d = ws.observed[i]
        total += (d - b_i - s_i) ** 2 / (max(d, 1) + var_b + var_s)
    free = set(sig.free_backgrounds)
    for j, bkg in enumerate(ws.backgrounds):
        if bkg.relative_uncertainty and bkg.name not in free:
            total += (1 - p[j]) ** 2 / bkg.relative_uncertainty**2
    return total + float(np.sum(q**2) + np.sum(r**2))


@pytest.mark.parametrize("signal", ["magnetic_moment", "dark_photon", "millicharge"])
def test_chi2_is_xmass_eq_4_to_7(medium_ws: Workspace, signal: str) -> None:
    model = BinnedModel(medium_ws, signal)
    theta = _random_point(model)
    assert model(theta) == pytest.approx(_xmass_chi2_by_hand(medium_ws, signal, theta), rel=1e-12)


def test_free_backgrounds_have_no_pull(medium_ws: Workspace) -> None:
    model = BinnedModel(medium_ws, "magnetic_moment")
    sig = medium_ws.signal("magnetic_moment")
    for name in sig.free_backgrounds:
        info = model.parameters[model.index(f"p_{name}")]
        assert info.sigma is None
    other = BinnedModel(medium_ws, "millicharge")
    assert other.parameters[other.index(f"p_{sig.free_backgrounds[0]}")].sigma is not None
    assert model.ndof() == model.n_bins - 1 - len(sig.free_backgrounds)


@pytest.mark.parametrize("likelihood", ["chi2", "poisson"])
@pytest.mark.parametrize("signals", SIGNAL_SETS, ids=str)
def test_gradient_and_hessian_match_finite_differences(
    medium_ws: Workspace, likelihood: str, signals: str | list[str]
) -> None:
    model = BinnedModel(medium_ws, signals, likelihood)  # type: ignore[arg-type]
    theta = _random_point(model)
    _, grad = model.value_and_gradient(theta)
    hess = model.hessian(theta)
    h = 1e-4
    num_g = np.empty(model.npar)
    num_h = np.empty((model.npar, model.npar))
    for i in range(model.npar):
        up, dn = theta.copy(), theta.copy()
        up[i] += h
        dn[i] -= h
        num_g[i] = (model(up) - model(dn)) / (2 * h)
        num_h[i] = (model.gradient(up) - model.gradient(dn)) / (2 * h)
    np.testing.assert_allclose(grad, num_g, rtol=1e-5, atol=1e-5 * np.abs(grad).max())
    np.testing.assert_allclose(hess, num_h, rtol=1e-5, atol=1e-6 * np.abs(hess).max())
    np.testing.assert_allclose(hess, hess.T, atol=1e-9 * np.abs(hess).max())
    np.testing.assert_allclose(model.g2(theta), np.diag(hess))


def test_poisson_derivatives_in_edge_cases() -> None:
    """Empty bins, bins without MC variance and μ below the continuation point."""
    ws = make_synthetic_workspace(
        n_bins=8,
        n_backgrounds=2,
        n_systematics=1,
        seed=2,
        signals=("charge_radius",),
        counts_per_bin=3.0,
    )
    d = ws.to_dict()
    d["observed"] = [0, 3, 0, 1, 5, 0, 2, 0]
    d["backgrounds"][0]["mc_variance"] = [0.0] * 8
    d["backgrounds"][1]["mc_variance"] = [0.0, 0.1, 0.0, 0.1, 0.0, 0.0, 0.1, 0.1]
    d["signals"][0]["terms"] = [
        {"power": 1, "expected": [-10.0] * 8},
        {"power": 2, "expected": [1.0] * 8},
    ]
    d["signals"][0]["variance_terms"] = [{"power": 2, "values": [0.01] * 8}]
    ws = Workspace.from_dict(d)
    model = BinnedModel(ws, "charge_radius", "poisson")
    for x in (0.05, -0.3, 5.0):  # 5: strong destructive interference, μ < 0 in every bin
        theta = model.nominal.copy()
        theta[0] = x
        if x == 5.0:
            assert np.all(model.expected_counts(theta) < 0)
        _, grad = model.value_and_gradient(theta)
        h = 1e-6
        num = np.empty(model.npar)
        for i in range(model.npar):
            up, dn = theta.copy(), theta.copy()
            up[i] += h
            dn[i] -= h
            num[i] = (model(up) - model(dn)) / (2 * h)
        assert np.isfinite(model(theta))
        np.testing.assert_allclose(grad, num, rtol=1e-4, atol=1e-4 * np.abs(num).max())


def test_poisson_reduces_to_baker_cousins_without_mc_variance() -> None:
    ws = make_synthetic_workspace(
        n_bins=5,
        n_backgrounds=1,
        n_systematics=0,
        seed=4,
        signals=("magnetic_moment",),
        mc_weight=0.0,
        signal_systematics=0,
        n_free=0,
    )
    d = ws.to_dict()
    d["signals"][0]["variance_terms"] = []
    model = BinnedModel(Workspace.from_dict(d), "magnetic_moment", "poisson")
    theta = model.nominal.copy()
    theta[0] = 1.2
    mu = model.expected_counts(theta)
    d = model.observed
    bc = 2 * np.sum(mu - d + np.where(d > 0, d * np.log(np.where(d > 0, d, 1) / mu), 0))
    assert model(theta) == pytest.approx(bc, rel=1e-12)


def test_zero_denominator_rule() -> None:
    """An empty bin without MC variance gets the variance of one count (floor); floor 0 fails."""
    ws = make_synthetic_workspace(
        n_bins=4,
        n_backgrounds=1,
        n_systematics=0,
        seed=3,
        signals=("magnetic_moment",),
        mc_weight=0.0,
        signal_systematics=0,
        n_free=0,
    )
    d = ws.to_dict()
    d["observed"] = [5, 0, 3, 2]
    ws = Workspace.from_dict(d)
    model = BinnedModel(ws, "magnetic_moment")
    theta = model.nominal
    mu = model.expected_counts(theta)
    expected = np.sum((model.observed - mu) ** 2 / np.maximum(model.observed, 1.0))
    assert model(theta) == pytest.approx(expected)
    with pytest.raises(ModelError, match="bin 1 of the fit window has no data and no MC variance"):
        BinnedModel(ws, "magnetic_moment", data_variance_floor=0.0)
    assert np.isfinite(
        BinnedModel(ws, "magnetic_moment", "poisson", data_variance_floor=0.0)(theta)
    )


def test_combined_signals_add(medium_ws: Workspace) -> None:
    both = BinnedModel(medium_ws, ["magnetic_moment", "dark_photon"])
    one = BinnedModel(medium_ws, "magnetic_moment")
    two = BinnedModel(medium_ws, "dark_photon")
    th = both.nominal.copy()
    th[:2] = [1.1, 0.7]
    th1 = one.nominal.copy()
    th1[0] = 1.1
    th2 = two.nominal.copy()
    th2[0] = 0.7
    np.testing.assert_allclose(
        both.signal_counts(th), one.signal_counts(th1) + two.signal_counts(th2), rtol=1e-12
    )
    # shared signal systematics are one parameter
    assert sum(n.startswith("r_") for n in both.names) == sum(n.startswith("r_") for n in one.names)


def test_model_errors(medium_ws: Workspace) -> None:
    with pytest.raises(ModelError, match="different fit windows"):
        BinnedModel(medium_ws, ["magnetic_moment", "millicharge"])
    with pytest.raises(ModelError, match="likelihood 'gauss' is not known"):
        BinnedModel(medium_ws, "magnetic_moment", "gauss")  # type: ignore[arg-type]
    with pytest.raises(WorkspaceError, match="no signal 'nope'"):
        BinnedModel(medium_ws, "nope")
    model = BinnedModel(medium_ws, "magnetic_moment")
    with pytest.raises(ModelError, match="observed has shape"):
        model.set_data([1.0, 2.0])
    with pytest.raises(ModelError, match="no parameter 'p_nothing'"):
        model.index("p_nothing")


def test_copy_with_data_leaves_original(medium_ws: Workspace) -> None:
    model = BinnedModel(medium_ws, "dark_photon")
    before = model(model.nominal)
    toy = model.copy_with_data(model.observed + 5.0)
    assert toy(model.nominal) != before
    assert model(model.nominal) == before
