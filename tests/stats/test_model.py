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


def _xmass_chi2_by_hand(
    ws: Workspace, signal: str, theta: np.ndarray, mc_statistics: str = "barlow_beeston_lite"
) -> float:
    """XMASS eqs. (4)-(7) written out with loops, independently of the model code.

    σ²(B_stat) is Σ_j p_j² V_ij (``barlow_beeston_lite``) or, HistFactory's staterror
    (``histfactory``), the nominal relative variance Σ_j V_ij / (Σ_j B_ij)² times B_i².
    """
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
        rel_b = (
            sum(b.mc_variance[i] for b in ws.backgrounds)
            / sum(b.expected[i] for b in ws.backgrounds) ** 2
        )
        for j, bkg in enumerate(ws.backgrounds):
            shifted = bkg.expected[i]
            for k, syst in enumerate(ws.background_systematics):
                if bkg.name in syst.shifts:
                    shifted += q[k] * syst.shifts[bkg.name][i]
            b_i += p[j] * shifted
            var_b += p[j] ** 2 * bkg.mc_variance[i]
        s0 = sum(x**t.power * t.values[i] for t in sig.terms)
        f_i = 1 + sum(r[l] * sy.relative_shifts[i] for l, sy in enumerate(sig.systematics))
        s_i = s0 * f_i
        var_s = max(0.0, sum(x**t.power * t.values[i] for t in sig.variance_terms))
        if mc_statistics == "histfactory":
            var_b = rel_b * b_i**2
            var_s *= f_i**2
        d = ws.observed[i]
        total += (d - b_i - s_i) ** 2 / (max(d, 1) + var_b + var_s)
    free = set(sig.free_backgrounds)
    for j, bkg in enumerate(ws.backgrounds):
        if bkg.relative_uncertainty and bkg.name not in free:
            total += (1 - p[j]) ** 2 / bkg.relative_uncertainty**2
    return total + float(np.sum(q**2) + np.sum(r**2))


@pytest.mark.parametrize("mc_statistics", ["histfactory", "barlow_beeston_lite"])
@pytest.mark.parametrize("signal", ["magnetic_moment", "dark_photon", "millicharge"])
def test_chi2_is_xmass_eq_4_to_7(medium_ws: Workspace, signal: str, mc_statistics: str) -> None:
    model = BinnedModel(medium_ws, signal, mc_statistics=mc_statistics)  # type: ignore[arg-type]
    theta = _random_point(model)
    expected = _xmass_chi2_by_hand(medium_ws, signal, theta, mc_statistics)
    assert model(theta) == pytest.approx(expected, rel=1e-12)


def test_free_backgrounds_have_no_pull(medium_ws: Workspace) -> None:
    model = BinnedModel(medium_ws, "magnetic_moment")
    sig = medium_ws.signal("magnetic_moment")
    for name in sig.free_backgrounds:
        info = model.parameters[model.index(f"p_{name}")]
        assert info.sigma is None
    other = BinnedModel(medium_ws, "millicharge")
    assert other.parameters[other.index(f"p_{sig.free_backgrounds[0]}")].sigma is not None
    assert model.ndof() == model.n_bins - 1 - len(sig.free_backgrounds)


@pytest.mark.parametrize(
    ("likelihood", "mc_statistics"),
    [
        ("chi2", "histfactory"),
        ("chi2", "barlow_beeston_lite"),
        ("poisson", "histfactory"),
        ("poisson", "barlow_beeston_lite"),
        ("poisson", "barlow_beeston"),
    ],
)
@pytest.mark.parametrize("signals", SIGNAL_SETS, ids=str)
def test_gradient_and_hessian_match_finite_differences(
    medium_ws: Workspace, likelihood: str, mc_statistics: str, signals: str | list[str]
) -> None:
    if mc_statistics == "barlow_beeston" and signals != "magnetic_moment":
        pytest.skip("full Barlow-Beeston takes single-power signals only")
    model = BinnedModel(
        medium_ws,
        signals,
        likelihood,  # type: ignore[arg-type]
        mc_statistics=mc_statistics,  # type: ignore[arg-type]
    )
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
    with pytest.raises(ModelError, match="mc_statistics 'bb' is not known"):
        BinnedModel(medium_ws, "magnetic_moment", mc_statistics="bb")  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="needs likelihood 'poisson'"):
        BinnedModel(medium_ws, "magnetic_moment", mc_statistics="barlow_beeston")
    with pytest.raises(ModelError, match="single power"):
        BinnedModel(medium_ws, "dark_photon", "poisson", mc_statistics="barlow_beeston")


def test_full_barlow_beeston_is_the_profile_over_every_template() -> None:
    """Per bin, the profiled cost equals a brute-force minimisation over the true templates
    A_ij with the scaled-Poisson constraints of Barlow & Beeston (1993)."""
    from scipy.optimize import minimize

    ws = make_synthetic_workspace(
        n_bins=8, n_backgrounds=3, n_systematics=1, seed=6, mc_weight=2.0, counts_per_bin=40.0
    )
    model = BinnedModel(ws, "magnetic_moment", "poisson", mc_statistics="barlow_beeston")
    theta = _random_point(model, seed=4)
    nu = np.vstack(
        [
            theta[model._sl_p][:, None] * model._pieces(theta).a,
            model.signal_counts(theta)[None, :],
        ]
    )
    rel_var = np.vstack(
        [
            [
                b.mc_variance[model.bin_mask] / b.expected[model.bin_mask] ** 2
                for b in ws.backgrounds
            ],
            [
                ws.signal("magnetic_moment").variance_terms[0].values[model.bin_mask]
                / ws.signal("magnetic_moment").terms[0].values[model.bin_mask] ** 2
            ],
        ]
    )
    total = 0.0
    for i, d in enumerate(model.observed):
        m = 1.0 / rel_var[:, i]  # effective MC counts

        def cost(a: np.ndarray, i: int = i, d: float = d, m: np.ndarray = m) -> float:
            f = float(np.sum(nu[:, i] * a / m))
            data = 2 * (f - d + (d * np.log(d / f) if d > 0 else 0.0))
            return data + 2 * float(np.sum(a - m + m * np.log(m / a)))

        res = minimize(
            cost,
            m,
            method="L-BFGS-B",
            bounds=[(1e-9, None)] * m.size,
            options={"ftol": 1e-15, "gtol": 1e-10},
        )
        total += res.fun
    total += model._pull(theta)[0]
    assert model(theta) == pytest.approx(total, abs=1e-5)
    # the Gaussian treatment of the same templates is close but not the same
    lite = BinnedModel(ws, "magnetic_moment", "poisson", mc_statistics="barlow_beeston_lite")
    assert lite(theta) == pytest.approx(total, rel=0.05)
    assert abs(lite(theta) - total) > 1e-4


@pytest.mark.parametrize("mc_statistics", ["histfactory", "barlow_beeston_lite", "barlow_beeston"])
def test_poi_scan_cost_is_the_cost(medium_ws: Workspace, mc_statistics: str) -> None:
    model = BinnedModel(
        medium_ws,
        "magnetic_moment",
        "poisson",
        mc_statistics=mc_statistics,  # type: ignore[arg-type]
    )
    theta = _random_point(model)
    grid = np.array([0.0, 0.3, 1.7])
    scan = model.poi_scan_cost(theta, 0, grid) + model._pull(theta)[0]
    for x, c in zip(grid, scan, strict=True):
        t = theta.copy()
        t[0] = x
        assert c == pytest.approx(model(t), rel=1e-12)


def test_copy_with_data_leaves_original(medium_ws: Workspace) -> None:
    model = BinnedModel(medium_ws, "dark_photon")
    before = model(model.nominal)
    toy = model.copy_with_data(model.observed + 5.0)
    assert toy(model.nominal) != before
    assert model(model.nominal) == before
