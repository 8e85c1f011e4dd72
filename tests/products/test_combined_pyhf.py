"""The multi-channel pyhf export of a combination is exonu's combined model.

Two small synthetic channels with different signal scales (1e-10 and 2.5e-10 μ_B: the
second channel's signal sample is its template times (1e-10/2.5e-10)², so that one
μ = (μ_ν / 1e-10 μ_B)² drives both) and two shared solar-flux nuisances on their signals
and one background each. pyhf (an independent profiler) must reproduce exonu's
:class:`~exonu.stats.combined.CombinedModel` (Poisson channels) to the tolerances of the
one-channel test (tests/products/test_pyhf_export.py): its profile minimum within 0.02
natural units of exonu's best fit, its Δ(−2 ln L) = 2.706 crossing within 1 % of exonu's
90 % CL limit, its Δ(−2 ln L) at zero within 0.05 of exonu's. A one-channel combination
without fluxes exports the one-channel workspace up to names; an interference signal is a
PatchSet whose patches reproduce exonu's χ²(g) − χ²(0).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pyhf = pytest.importorskip("pyhf")

from exonu.products.combined_exports import (  # noqa: E402
    combined_pyhf_patchset,
    combined_pyhf_workspace,
    combined_reference,
    pyhf_name,
)
from exonu.products.pyhf_export import NotExpressible, pyhf_workspace  # noqa: E402
from exonu.stats import BinnedModel, make_synthetic_workspace  # noqa: E402
from exonu.stats.combined import CombinedModel, add_flux_systematics  # noqa: E402
from exonu.stats.workspace import Workspace  # noqa: E402
from products.test_pyhf_export import _backend, _natural_unit, _twice_nll  # noqa: E402

SIGNAL = "magnetic_moment"
FLUXES = ("pp", "be7")
SIGMA = {"pp": 0.05, "be7": 0.12}  # larger than the real ones, so that sharing matters


def _rescaled(ws: Workspace, k: float, analysis: str) -> Workspace:
    """``ws`` with every signal's scale multiplied by ``k`` (the same physics)."""
    doc = ws.to_dict()
    doc["analysis"] = analysis
    for s in doc["signals"]:
        s["scale"] *= k
        for t in s["terms"]:
            t["expected"] = [v * k ** t["power"] for v in t["expected"]]
        for t in s["variance_terms"]:
            t["values"] = [v * k ** t["power"] for v in t["values"]]
    return Workspace.from_dict(doc, source=f"{ws.source}*{k}")


def _with_fluxes(ws: Workspace, seed: int) -> Workspace:
    rng = np.random.default_rng(seed)
    n = ws.n_bins
    f_pp = np.linspace(0.7, 0.2, n)
    f_be7 = (1.0 - f_pp) * rng.uniform(0.6, 0.9, n)
    fr = {"pp": f_pp, "be7": f_be7}
    return add_flux_systematics(
        ws,
        {s.name: fr for s in ws.signals},
        SIGMA,
        background="bkg_01",
        background_fractions={"pp": 0.5 * f_pp, "be7": 0.8 * f_be7},
    )


def _synthetic(seed: int, inject: float) -> Workspace:
    return make_synthetic_workspace(
        n_bins=10,
        n_backgrounds=3,
        n_systematics=1,
        seed=seed,
        signals=(SIGNAL, "dark_photon"),
        counts_per_bin=400.0,
        mc_weight=0.3,
        n_free=1,
        inject={SIGNAL: inject, "dark_photon": 0.0},
    )


@pytest.fixture(scope="module")
def channels() -> list[tuple[str, Workspace]]:
    a = _with_fluxes(_synthetic(3, 2.5), 1)
    b = _with_fluxes(_rescaled(_synthetic(7, 2.0), 2.5, "second"), 2)
    return [("alpha", a), ("beta", b)]


def _combined(channels, signal: str = SIGNAL, fluxes=FLUXES) -> CombinedModel:
    models = [(n, BinnedModel(ws, signal, "poisson")) for n, ws in channels]
    return CombinedModel(models, fluxes=fluxes)


def test_structure_and_scaling(channels) -> None:
    spec = combined_pyhf_workspace(channels, SIGNAL, fluxes=FLUXES)
    workspace = pyhf.Workspace(spec)
    model = workspace.model()
    assert set(model.config.channels) == {
        "alpha",
        "beta",
        "alpha_activity_constraints",
        "beta_activity_constraints",
    }
    assert model.config.poi_name == f"mu_{SIGNAL}"
    # the flux modifiers are one parameter each, on the signal and a background of each channel
    for src in FLUXES:
        where = {
            ch["name"]
            for ch in spec["channels"]
            for s in ch["samples"]
            for m in s["modifiers"]
            if m["name"] == f"flux_{src}"
        }
        assert where == {"alpha", "beta"}
        assert model.config.param_set(f"flux_{src}").n_parameters == 1
    # the combined model's parameter names are pyhf's (POI and MC-statistics factors aside)
    comb = _combined(channels)
    pyhf_names = set(model.config.par_names)
    for name in comb.names[1:]:
        assert pyhf_name(name) in pyhf_names, name
    # mu = x^2 with x in the first channel's units: channel beta's signal is its template at
    # x_beta = 1e-10 / 2.5e-10
    pars = np.asarray(model.config.suggested_init(), dtype=float)
    bkg = np.asarray(model.expected_actualdata(pars))
    pars[model.config.poi_index] = 1.0
    with_sig = np.asarray(model.expected_actualdata(pars))
    for name, ws in channels:
        sig = ws.signal(SIGNAL)
        sl = model.config.channel_slices[name]
        expect = np.asarray(sig.expected(1e-10 / sig.scale))[sig.fit_mask]
        assert with_sig[sl] - bkg[sl] == pytest.approx(expect, rel=1e-9)
    # decorrelated: one flux parameter per channel
    spec2 = combined_pyhf_workspace(channels, SIGNAL, fluxes=FLUXES, correlate_fluxes=False)
    names2 = set(pyhf.Workspace(spec2).model().config.par_names)
    assert {"alpha__flux_pp", "beta__flux_pp"} <= names2 and "flux_pp" not in names2
    with pytest.raises(NotExpressible, match="PatchSet"):
        combined_pyhf_workspace(channels, "dark_photon", fluxes=FLUXES)


def _normalised(spec: dict, channel: str) -> str:
    """The spec with the combination's names mapped back to the one-channel export's."""
    text = json.dumps(spec, sort_keys=True)
    text = text.replace(f'"{channel}__', '"')
    text = text.replace(f'"{channel}_activity_', '"activity_')
    return text


def test_one_channel_combination_is_the_one_channel_export(channels) -> None:
    ws = _synthetic(3, 1.0)
    single = pyhf_workspace(ws, SIGNAL)
    combined = combined_pyhf_workspace([("synthetic", ws)], SIGNAL)
    assert _normalised(combined, "synthetic") == json.dumps(single, sort_keys=True)


def _q_profile(model, data, xs, power):
    first = {x: _twice_nll(model, data, x**power) for x in xs}
    nll = {}
    for k, x in enumerate(xs):
        near = [first[y][1] for y in xs[max(k - 1, 0) : k + 2] if y != x]
        again = _twice_nll(model, data, x**power, starts=near, standard=False)[0]
        nll[x] = min(first[x][0], again)
    nll_min = min(_twice_nll(model, data)[0], *nll.values())
    return {x: v - nll_min for x, v in nll.items()}


def test_pyhf_reproduces_the_combination(channels) -> None:
    _backend()
    comb = _combined(channels)
    ref = combined_reference(comb, SIGNAL)
    spec = combined_pyhf_workspace(channels, SIGNAL, fluxes=FLUXES)
    workspace = pyhf.Workspace(spec)
    model = workspace.model()
    data = workspace.data(model)
    scale, p = ref["scale"], ref["power"]
    x_hat, x_ul = ref["best_fit"] / scale, ref["upper_limit"] / scale
    step = 0.02 * _natural_unit(ref["upper_limit"]) / scale
    xs = sorted({max(x_hat - step, 0.0), x_hat, x_hat + step, 0.0, 0.99 * x_ul, 1.01 * x_ul})
    q = _q_profile(model, data, xs, p)
    out = {
        "exonu_best": ref["best_fit"],
        "exonu_limit": ref["upper_limit"],
        "exonu_q0": ref["chi2_zero"] - ref["chi2_best"],
        "pyhf_q0": q[0.0],
        "q_best": q[x_hat],
        "q_best_minus": q[max(x_hat - step, 0.0)],
        "q_best_plus": q[x_hat + step],
        "pyhf_q_limit_minus": q[0.99 * x_ul],
        "pyhf_q_limit_plus": q[1.01 * x_ul],
    }
    print("combined pyhf vs exonu:", json.dumps(out))
    assert ref["valid"], ref
    tol = 5e-4
    assert q[x_hat] <= q[max(x_hat - step, 0.0)] + tol, out
    assert q[x_hat] <= q[x_hat + step] + tol, out
    assert q[0.99 * x_ul] < ref["q_threshold"] < q[1.01 * x_ul], out
    assert abs(out["pyhf_q0"] - out["exonu_q0"]) < 0.05, out
    # the combination is not one of its channels: it is stronger than each alone
    for name, ws in channels:
        alone = combined_reference(
            CombinedModel([(name, BinnedModel(ws, SIGNAL, "poisson"))], fluxes=FLUXES), SIGNAL
        )
        assert ref["upper_limit"] < alone["upper_limit"] * (1 + 1e-9) or math.isclose(
            ref["upper_limit"], alone["upper_limit"], rel_tol=1e-3
        )


def test_interference_signal_is_a_patchset(channels) -> None:
    _backend()
    comb = _combined(channels, "dark_photon")
    first = combined_reference(comb, "dark_photon")
    grid = [0.5 * first["upper_limit"], first["upper_limit"]]
    ref = combined_reference(comb, "dark_photon", couplings=grid)
    spec, base = combined_pyhf_patchset(channels, "dark_photon", grid, fluxes=FLUXES)
    patchset = pyhf.PatchSet(spec)
    patchset.verify(base)
    assert len(patchset) == 2
    for patch, point in zip(patchset, ref["points"], strict=True):
        workspace = pyhf.Workspace(patch.apply(base))
        model = workspace.model()
        data = workspace.data(model)
        q = _twice_nll(model, data, 1.0)[0] - _twice_nll(model, data, 0.0)[0]
        print(f"patch {patch.name}: pyhf {q:.4f}, exonu {point['chi2_minus_zero']:.4f}")
        assert q == pytest.approx(point["chi2_minus_zero"], abs=0.02), (patch.name, q, point)
    assert ref["points"][1]["delta_chi2"] == pytest.approx(ref["q_threshold"], abs=0.02)
