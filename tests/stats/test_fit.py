"""Tests of exonu.stats.fit: MIGRAD with analytic derivatives, boundaries, failures."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import optimize

from exonu.stats.errors import ModelError
from exonu.stats.fit import Fitter, fit
from exonu.stats.model import BinnedModel
from exonu.stats.synthetic import make_synthetic_workspace
from exonu.stats.workspace import Workspace


def test_fit_uses_the_analytic_gradient(medium_ws: Workspace) -> None:
    model = BinnedModel(medium_ws, "dark_photon")
    calls = {"grad": 0, "hess": 0}
    grad, hess = model.gradient, model.hessian

    def counting_grad(theta: np.ndarray) -> np.ndarray:
        calls["grad"] += 1
        return grad(theta)

    def counting_hess(theta: np.ndarray) -> np.ndarray:
        calls["hess"] += 1
        return hess(theta)

    model.gradient = counting_grad  # type: ignore[method-assign]
    model.hessian = counting_hess  # type: ignore[method-assign]
    fitter = Fitter(model)
    res = fitter.fit()
    assert res.valid and res.ngrad > 0
    assert calls["grad"] >= res.ngrad and calls["hess"] > 0
    # Minuit would need ~2·npar calls per numerical gradient; with ours it needs few.
    assert res.nfcn < 10 * model.npar


@pytest.mark.parametrize("likelihood", ["chi2", "poisson"])
def test_fit_finds_the_minimum(medium_ws: Workspace, likelihood: str) -> None:
    """Same minimum as an independent minimiser (scipy L-BFGS-B with the same bounds)."""
    model = BinnedModel(medium_ws, "dark_photon", likelihood)  # type: ignore[arg-type]
    res = fit(model)
    assert res.valid, res.message
    bounds = [(p.lower, p.upper) for p in model.parameters]
    x0 = model.nominal.copy()
    x0[0] = 0.5
    ref = optimize.minimize(
        model.value_and_gradient,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 10000},
    )
    assert res.chi2 <= ref.fun + 1e-4
    assert res.chi2 == pytest.approx(ref.fun, abs=1e-3)


def test_fit_result_contents_and_json(medium_ws: Workspace) -> None:
    model = BinnedModel(medium_ws, "magnetic_moment")
    res = fit(model)
    assert res.parameters == model.names
    assert res.correlation is not None
    corr = np.array(res.correlation)
    np.testing.assert_allclose(np.diag(corr), 1.0)
    assert set(res.pulls) == {
        p.name for p in model.parameters if p.kind != "poi" and p.sigma is not None
    }
    assert res.ndof == model.n_bins - 1 - 2  # POI and two free backgrounds
    d = json.loads(json.dumps(res.to_dict()))
    assert d["chi2"] == res.chi2 and d["valid"] is True
    assert res.value("magnetic_moment") == res.values[0]
    with pytest.raises(ModelError, match="no parameter 'x'"):
        res.value("x")


def test_best_fit_on_physical_boundary_is_flagged() -> None:
    """Data below the background: the x >= 0 signal ends at its bound and says so."""
    ws = make_synthetic_workspace(
        n_bins=10, n_backgrounds=2, n_systematics=1, seed=1, signals=("magnetic_moment",), n_free=0
    )
    d = ws.to_dict()
    d["observed"] = [int(0.9 * sum(b["expected"][i] for b in d["backgrounds"])) for i in range(10)]
    model = BinnedModel(Workspace.from_dict(d), "magnetic_moment")
    res = fit(model)
    assert res.valid
    assert "magnetic_moment" in res.at_limit
    assert res.values[0] == pytest.approx(0.0, abs=1e-3)


def test_start_exactly_on_bound_is_moved_inside(medium_ws: Workspace) -> None:
    model = BinnedModel(medium_ws, "dark_photon")
    ref = fit(model, errors=False)
    start = ref.array.copy()
    start[0] = 0.0  # MIGRAD started on x = 0 could stop there
    res = Fitter(model).fit(start=start)
    assert res.valid
    assert res.chi2 == pytest.approx(ref.chi2, abs=1e-4)
    assert res.values[0] == pytest.approx(ref.values[0], rel=5e-2)  # flat direction


def test_activity_scale_at_zero_is_a_valid_constrained_minimum() -> None:
    """An unconstrained background the data do not want ends at p = 0 (active set)."""
    ws = make_synthetic_workspace(
        n_bins=12,
        n_backgrounds=3,
        n_systematics=0,
        seed=8,
        signals=("magnetic_moment",),
        n_free=1,
        signal_systematics=0,
    )
    d = ws.to_dict()
    total = np.sum([b["expected"] for b in d["backgrounds"][1:]], axis=0)
    d["observed"] = [round(v) for v in 0.98 * total]
    model = BinnedModel(Workspace.from_dict(d), "magnetic_moment")
    res = fit(model, fixed={"magnetic_moment": 0.0})
    assert res.valid, res.message
    assert "p_bkg_00" in res.at_limit
    g = model.gradient(res.array)
    assert g[model.index("p_bkg_00")] >= 0  # the cost rises into the allowed region


def test_fixed_parameters_and_errors(medium_ws: Workspace) -> None:
    model = BinnedModel(medium_ws, "dark_photon")
    res = fit(model, fixed={"dark_photon": 0.0, "q_sys_00": 0.5})
    assert res.values[model.index("q_sys_00")] == 0.5
    assert res.fixed[0] and res.fixed[model.index("q_sys_00")]
    assert res.ndof == model.n_bins - 2  # the POI is fixed: only two free backgrounds count
    with pytest.raises(ModelError, match="outside its bounds"):
        fit(model, fixed={"dark_photon": -1.0})


def test_two_sided_signal_finds_the_global_minimum() -> None:
    """A signal x + x² has two local minima; the fit must find the lower one."""
    ws = make_synthetic_workspace(
        n_bins=20,
        n_backgrounds=2,
        n_systematics=0,
        seed=3,
        signals=("charge_radius",),
        inject={"charge_radius": -3.5},
        signal_systematics=0,
    )
    model = BinnedModel(ws, "charge_radius")
    res = fit(model)
    xs = np.linspace(-8, 6, 141)
    prof = [Fitter(model).fit({"charge_radius": float(x)}).chi2 for x in xs[::10]]
    assert res.chi2 <= min(prof) + 1e-6
    assert res.values[0] < 0


def test_errors_with_fixed_parameters_use_the_free_block(medium_ws: Workspace) -> None:
    """HESSE errors with fixed parameters equal 2·H_free⁻¹ of a finite-difference Hessian.

    Minuit2 (iminuit 2.33) takes the leading block of an analytic Hessian when parameters are
    fixed (root-project/root#20954); fixing the POI and a systematic puts the free block
    elsewhere, so the errors Minuit reported before the fix were those of other parameters.
    """
    model = BinnedModel(medium_ws, "dark_photon")
    fixed = {"dark_photon": 0.3, "q_sys_01": 0.5}
    res = fit(model, fixed=fixed)
    assert res.valid, res.message
    theta = res.array
    free = [i for i in range(len(theta)) if not res.fixed[i] and res.errors[i] > 0]
    assert len(free) >= 4
    h = np.zeros((len(free), len(free)))
    step = 1e-4
    for a, i in enumerate(free):
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        h[a] = (model.gradient(up) - model.gradient(down))[free] / (2 * step)
    h = 0.5 * (h + h.T)
    expected = np.sqrt(np.diag(2.0 * np.linalg.inv(h)))
    got = np.array([res.errors[i] for i in free])
    np.testing.assert_allclose(got, expected, rtol=2e-3)
