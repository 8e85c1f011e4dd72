"""The pyhf export: pyhf loads it and its fit agrees with exonu's on the same model.

exonu's ``likelihood="poisson"`` (Baker–Cousins χ² with Barlow–Beeston-lite MC statistics) is
the HistFactory model the export writes, up to the approximations listed in
:mod:`exonu.products.pyhf_export`: ``normsys`` is exponential in the pull where exonu's RI
constraint is Gaussian in p, ``staterror`` fixes the relative MC uncertainty at nominal where
exonu rescales the MC variance with p², and the signal's MC uncertainty has its own
``shapesys`` factors where exonu adds it to one Barlow–Beeston factor per bin. All are second
order in the pulls. On this workspace (σ(B_RI) = 5-30 %, MC statistics 100× the data) the
profile likelihoods agree to 0.01 up to Δχ² = 3 and to 0.08 at Δχ² = 10, the best fits to
0.02σ; the tolerances are 0.1 on Δχ² over 0-10 (a shift of a 90 % CL limit by ≲ 2 %) and
0.1σ on μ̂. Without signal MC variance the two agree to 0.003.
"""

from __future__ import annotations

import numpy as np
import pytest

pyhf = pytest.importorskip("pyhf")

from exonu.products.pyhf_export import (  # noqa: E402
    NotExpressible,
    expressible_powers,
    pyhf_metadata,
    pyhf_workspace,
)
from exonu.stats import BinnedModel, make_synthetic_workspace  # noqa: E402
from exonu.stats.limits import Profile  # noqa: E402


@pytest.fixture(scope="module")
def ws():
    return make_synthetic_workspace(
        n_bins=20,
        n_backgrounds=4,
        n_systematics=2,
        seed=3,
        signals=("magnetic_moment", "dark_photon"),
        counts_per_bin=400.0,
        mc_weight=0.01,
        inject={"magnetic_moment": 1.0},
    )


@pytest.fixture(scope="module")
def pyhf_model(ws):
    pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer())
    workspace = pyhf.Workspace(pyhf_workspace(ws, "magnetic_moment"))  # validates the schema
    model = workspace.model()
    return model, workspace.data(model)


def test_structure(ws, pyhf_model):
    model, data = pyhf_model
    spec = pyhf_workspace(ws, "magnetic_moment")
    (channel,) = spec["channels"]
    assert [s["name"] for s in channel["samples"]] == [*ws.background_names, "magnetic_moment"]
    free = set(ws.signal("magnetic_moment").free_backgrounds)
    for bkg, sample in zip(ws.backgrounds, channel["samples"], strict=False):
        kinds = {m["type"] for m in sample["modifiers"]}
        assert ("normfactor" in kinds) == (bkg.name in free)
        assert ("normsys" in kinds) == (bkg.name not in free)
        assert "staterror" in kinds
    signal_kinds = {m["type"] for m in channel["samples"][-1]["modifiers"]}
    assert signal_kinds == {"normfactor", "histosys", "shapesys"}
    assert model.config.poi_name == "mu_magnetic_moment"
    assert data[: model.config.nmaindata] == pytest.approx(ws.observed)
    meta = pyhf_metadata(ws, "magnetic_moment")
    assert meta["power"] == 2 and meta["scale"] == 1e-10
    assert len(meta["edges_kev"]) == model.config.nmaindata + 1


def test_polynomial_signal_is_not_expressible(ws):
    assert expressible_powers((2,)) and not expressible_powers((2, 4))
    with pytest.raises(NotExpressible, match=r"powers \[2, 4\]"):
        pyhf_workspace(ws, "dark_photon")


def test_pyhf_fit_agrees_with_exonu(ws, pyhf_model):
    model, data = pyhf_model
    best, nll_min = pyhf.infer.mle.fit(data, model, return_fitted_val=True)
    mu_hat = float(best[model.config.poi_index])

    prof = Profile(BinnedModel(ws, "magnetic_moment", "poisson"), "magnetic_moment")
    mu_exonu = prof.x_hat**2  # mu = x^2 for the mu_nu^2 signal
    mus = np.linspace(0.0, 10.0, 6)
    q_pyhf = np.array(
        [
            float(pyhf.infer.mle.fixed_poi_fit(mu, data, model, return_fitted_val=True)[1])
            - float(nll_min)
            for mu in mus
        ]
    )
    q_exonu = np.array([prof.delta(np.sqrt(mu)) for mu in mus])
    assert q_exonu.max() > 9.0  # well beyond a 90 % CL limit
    assert q_pyhf == pytest.approx(q_exonu, abs=0.1)
    # σ of μ from the curve: the μ at which Δχ² = 1 above the best fit
    sigma_mu = np.interp(1.0, q_exonu[mus > mu_exonu], mus[mus > mu_exonu]) - mu_exonu
    assert abs(mu_hat - mu_exonu) < 0.1 * sigma_mu
