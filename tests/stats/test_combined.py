"""The joint likelihood of several channels (exonu.stats.combined)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from exonu.external.unbinned import UnbinnedModel, UnbinnedSignal
from exonu.stats.combined import (
    CombinedModel,
    add_flux_systematics,
    flux_aliases,
    flux_systematic_names,
    source_fractions,
)
from exonu.stats.errors import ModelError
from exonu.stats.fit import fit
from exonu.stats.likelihood import LikelihoodModel
from exonu.stats.limits import Profile, compute_limit
from exonu.stats.model import BinnedModel
from exonu.stats.synthetic import make_synthetic_workspace
from exonu.stats.workspace import Workspace

MM = "magnetic_moment"


def _asimov(model: BinnedModel) -> BinnedModel:
    """The model with its background-only expectation as data."""
    return model.copy_with_data(model.expected_counts(model.nominal))


def _random_theta(model: LikelihoodModel, seed: int, poi: float = 0.7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    th = model.nominal + rng.normal(0.0, 0.05, model.npar)
    th[: model.n_poi] = poi
    return th


def _fd_check(model: LikelihoodModel, theta: np.ndarray) -> None:
    """Gradient and Hessian against central differences."""
    h = 1e-6
    eye = np.eye(model.npar)
    num_g = np.array([(model(theta + h * e) - model(theta - h * e)) / (2 * h) for e in eye])
    assert model.gradient(theta) == pytest.approx(num_g, rel=1e-5, abs=1e-4)
    num_h = np.array(
        [(model.gradient(theta + h * e) - model.gradient(theta - h * e)) / (2 * h) for e in eye]
    )
    scale = np.max(np.abs(num_h))
    assert np.max(np.abs(model.hessian(theta) - num_h)) < 1e-5 * scale
    assert model.g2(theta) == pytest.approx(np.diag(model.hessian(theta)))


@pytest.fixture(scope="module")
def two_channels() -> tuple[BinnedModel, BinnedModel]:
    ws_a = make_synthetic_workspace(
        n_bins=20, n_backgrounds=4, n_systematics=2, seed=21, signals=(MM, "dark_photon")
    )
    ws_b = make_synthetic_workspace(
        n_bins=15, n_backgrounds=3, n_systematics=2, seed=22, signals=(MM,)
    )
    return BinnedModel(ws_a, MM), BinnedModel(ws_b, MM)


# -- cost, names and derivatives -------------------------------------------------------------


def test_cost_is_the_sum_of_the_channels_when_nothing_is_shared(two_channels):
    a, b = two_channels
    comb = CombinedModel([("a", a), ("b", b)])
    assert isinstance(comb, LikelihoodModel)
    assert comb.names[0] == MM and comb.n_poi == 1
    assert comb.names[1:] == tuple(f"a/{n}" for n in a.names[1:]) + tuple(
        f"b/{n}" for n in b.names[1:]
    )
    assert comb.npar == a.npar + b.npar - 1
    assert comb.n_bins == a.n_bins + b.n_bins
    assert comb.nominal == pytest.approx(np.concatenate([a.nominal, b.nominal[1:]]))
    for seed in (1, 2):
        th = _random_theta(comb, seed)
        ta, tb = comb.channel_parameters("a", th), comb.channel_parameters("b", th)
        assert comb(th) == pytest.approx(a(ta) + b(tb), rel=1e-13)
        assert comb.constraint_cost(th) == pytest.approx(
            a.constraint_cost(ta) + b.constraint_cost(tb), rel=1e-13
        )
        grid = np.array([0.0, 0.3, 1.1])
        scan = comb.poi_scan_cost(th, 0, grid)
        for x, c in zip(grid, scan, strict=True):
            t = th.copy()
            t[0] = x
            assert c == pytest.approx(comb(t) - comb.constraint_cost(t), rel=1e-12)
    _fd_check(comb, _random_theta(comb, 3))
    # a combined signal under its own name
    renamed = CombinedModel([("a", a), ("b", b)], signals={"mu": {"a": MM, "b": MM}})
    assert renamed.names[0] == "mu" and renamed.signals[0].channels[1][:2] == ("b", MM)
    assert renamed(th) == pytest.approx(comb(th), rel=1e-14)
    # the POI is counted once in the degrees of freedom
    assert comb.ndof() == a.ndof() + b.ndof() + 1
    assert comb.symmetric_pois() == (0,)


def test_a_shared_nuisance_is_constrained_once(two_channels):
    a, _ = two_channels
    # the same analysis with other data: equal constraints, so p_bkg_02 can be shared
    rng = np.random.default_rng(5)
    a2 = a.copy_with_data(rng.poisson(a.expected_counts(a.nominal)).astype(float))
    shared = {"p_bkg_02", "q_sys_01"}
    comb = CombinedModel({"a": a, "a2": a2}, shared)
    assert "p_bkg_02" in comb.names and "a/p_bkg_02" not in comb.names
    assert comb.npar == 2 * a.npar - 1 - len(shared)
    sigma = a.parameters[a.index("p_bkg_02")].sigma
    assert comb.parameters[comb.index("p_bkg_02")].sigma == sigma
    th = _random_theta(comb, 7)
    t1, t2 = comb.channel_parameters("a", th), comb.channel_parameters("a2", th)
    p = th[comb.index("p_bkg_02")]
    q = th[comb.index("q_sys_01")]
    duplicated = (p - 1.0) ** 2 / sigma**2 + q**2
    assert comb(th) == pytest.approx(a(t1) + a2(t2) - duplicated, rel=1e-13)
    assert comb.constraint_cost(th) == pytest.approx(
        a.constraint_cost(t1) + a2.constraint_cost(t2) - duplicated, rel=1e-13
    )
    _fd_check(comb, th)
    res = fit(comb)
    assert res.valid, res.message
    assert set(res.pulls) >= {"p_bkg_02", "q_sys_01", "a/p_bkg_03", "a2/p_bkg_03"}


def test_merging_checks(two_channels):
    a, b = two_channels
    with pytest.raises(ModelError, match="different constraints"):
        CombinedModel({"a": a, "b": b}, {"p_bkg_02"})  # random σ of two workspaces
    with pytest.raises(ModelError, match="duplicate"):
        CombinedModel([("a", a), ("a", b)])
    with pytest.raises(ModelError, match="without"):
        CombinedModel([("a/b", a)])
    with pytest.raises(ModelError, match="no channel"):
        CombinedModel({"a": a}, signals={"mm": {"z": MM}})
    other = BinnedModel(
        make_synthetic_workspace(n_bins=10, n_backgrounds=2, n_systematics=1, seed=3), "dark_photon"
    )
    with pytest.raises(ModelError, match="constrains"):
        CombinedModel({"a": a, "o": other}, signals={MM: {"a": MM, "o": "dark_photon"}})


# -- one channel: the combination is the channel ----------------------------------------------


@pytest.mark.parametrize("signal", [MM, "dark_photon"])
@pytest.mark.parametrize("method", ["profile", "bayesian"])
def test_one_channel_reproduces_its_limit(medium_ws, signal, method):
    model = BinnedModel(medium_ws, signal)
    comb = CombinedModel([("xmass", model)])
    single = compute_limit(model, signal, method)
    joint = compute_limit(comb, signal, method)
    assert single.valid and joint.valid, (single.message, joint.message)
    assert joint.upper_limit == pytest.approx(single.upper_limit, rel=1e-6)
    assert joint.best_fit == pytest.approx(single.best_fit, rel=1e-6, abs=1e-6 * single.upper_limit)
    assert joint.chi2_best == pytest.approx(single.chi2_best, rel=1e-9)
    assert (joint.ndof, joint.n_bins, joint.likelihood) == (single.ndof, single.n_bins, "chi2")
    assert (joint.parameter, joint.unit, joint.analysis) == (single.parameter, single.unit, "xmass")


def test_reference_scale_gives_physical_limits(medium_ws):
    model = BinnedModel(medium_ws, MM)
    scale = model.signals[0].scale
    comb = CombinedModel([("xmass", model)], scales={MM: 3.0 * scale})
    assert comb.signals[0].scale == 3.0 * scale
    assert comb.channel_parameters("xmass", [0.5, *comb.nominal[1:]])[0] == pytest.approx(1.5)
    single = compute_limit(model, MM, "profile")
    joint = compute_limit(comb, MM, "profile")
    assert joint.valid
    assert joint.upper_limit == pytest.approx(single.upper_limit, rel=1e-4)


# -- two identical channels ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["profile", "bayesian"])
def test_two_identical_channels_tighten_the_strength_by_sqrt2(medium_ws, method):
    # background-only Asimov data: the profiled Δχ² of two independent copies is twice that
    # of one, so the limit on the strength α = x² shrinks by ~1/√2 (exactly for a parabola)
    one = _asimov(BinnedModel(medium_ws, MM))
    two = CombinedModel([("a", one), ("b", _asimov(BinnedModel(medium_ws, MM)))])
    x1 = compute_limit(one, MM, method).upper_limit
    x2 = compute_limit(two, MM, method).upper_limit
    ratio = (x2 / x1) ** 2
    assert ratio == pytest.approx(1 / np.sqrt(2), rel=0.05)
    if method == "profile":
        scale = one.signals[0].scale
        p1, p2 = Profile(one, MM), Profile(two, MM)
        # (profile fits at fixed x converge to ~0.01 in χ², strategy 0)
        for x in (0.5 * x1 / scale, x1 / scale):
            assert p2.delta(x) == pytest.approx(2 * p1.delta(x), abs=0.02)


# -- flux nuisances --------------------------------------------------------------------------

N = 20
EDGES = np.linspace(2.0, 42.0, N + 1)
U = (0.5 * (EDGES[1:] + EDGES[:-1]) - 2.0) / 40.0


def _doc(
    name: str, flat: float, solar: float, signal: float, *, scale: float = 1e-10
) -> dict[str, Any]:
    """A channel with a flat background, an SM solar-ν background (shape close to the
    signal's, its normalisation moved only by the flux) and a μ_ν-like signal."""
    bkg_flat = np.full(N, flat)
    bkg_solar = solar * np.exp(-1.5 * U)
    sig = signal * np.exp(-2.0 * U)
    return {
        "schema": "exonu-workspace",
        "version": "1.0.0",
        "analysis": name,
        "binning": {"edges_kev": EDGES.tolist()},
        "observed": [int(v) for v in np.rint(bkg_flat + bkg_solar)],
        "exposure": {"livetime_s": 1.0, "fiducial_mass_kg": 1.0},
        "backgrounds": [
            {
                "name": "flat",
                "expected": bkg_flat.tolist(),
                "mc_variance": [0.0] * N,
                "relative_uncertainty": 0.2,
            },
            {
                "name": "solar_nu",
                "expected": bkg_solar.tolist(),
                "mc_variance": [0.0] * N,
                "relative_uncertainty": 0.0,  # only the flux nuisance moves it
            },
        ],
        "background_systematics": [],
        "signals": [
            {
                "name": MM,
                "model": MM,
                "flavour": "all",
                "parameter": "mu_nu",
                "unit": "mu_B",
                "mediator_mass_mev": None,
                "treatment": None,
                "atomic_model": None,
                "scale": scale,
                "x_bounds": [0.0, None],
                "terms": [{"power": 2, "expected": sig.tolist()}],
                "variance_terms": [],
                "systematics": [],
                "fit_window_kev": [float(EDGES[0]), float(EDGES[-1])],
                "free_backgrounds": [],
            }
        ],
    }


#: an exaggerated pp-flux uncertainty so that the effect is large (the physical 0.6 % of
#: docs/physics.md §A.1 would change the limits by far less)
SIGMA = {"pp": 0.15, "be7": 0.07}


def _flux_channel(name: str, flat: float, solar: float, signal: float, scale: float = 1e-10):
    ws = Workspace.from_dict(_doc(name, flat, solar, signal, scale=scale))
    # the signal: 90 % pp, 10 % ⁷Be in every bin; the SM background: 85 % pp, 15 % ⁷Be
    sig = source_fractions({"pp": np.full(N, 9.0), "be7": np.full(N, 1.0)})
    bkg = source_fractions({"pp": np.full(N, 0.85), "be7": np.full(N, 0.15)})
    ws = add_flux_systematics(ws, {MM: sig}, SIGMA, background="solar_nu", background_fractions=bkg)
    return _asimov(BinnedModel(ws, MM))


def test_flux_systematics_enter_the_workspace():
    model = _flux_channel("target", 300.0, 300.0, 40.0)
    assert flux_systematic_names(model) == ("pp", "be7")
    assert {"r_flux_pp", "q_flux_pp", "r_flux_be7", "q_flux_be7"} <= set(model.names)
    ws = model.workspace
    (sig_sys,) = [s for s in ws.signal(MM).systematics if s.name == "flux_pp"]
    assert sig_sys.relative_shifts == pytest.approx(np.full(N, SIGMA["pp"] * 0.9))
    (bkg_sys,) = [s for s in ws.background_systematics if s.name == "flux_pp"]
    solar = ws.backgrounds[1].expected
    assert bkg_sys.shifts["solar_nu"] == pytest.approx(SIGMA["pp"] * 0.85 * solar)
    # within one channel, signal and background pull of a flux are one parameter, pulled once
    comb = CombinedModel([("t", model)], fluxes=("pp", "be7"))
    assert "flux_pp" in comb.names and "t/flux_pp" not in comb.names
    assert comb.npar == model.npar - 2
    th = _random_theta(comb, 4)
    f = th[comb.index("flux_pp")], th[comb.index("flux_be7")]
    assert comb(th) == pytest.approx(
        model(comb.channel_parameters("t", th)) - f[0] ** 2 - f[1] ** 2, rel=1e-13
    )
    _fd_check(comb, th)
    assert flux_aliases(["pp"]) == {"r_flux_pp": "flux_pp", "q_flux_pp": "flux_pp"}


@pytest.mark.parametrize("method", ["profile", "bayesian"])
def test_a_shared_flux_measured_elsewhere_helps(method):
    # "target": SM solar-ν background of the signal's shape, its pp flux uncertain by 30 %;
    # "monitor": a large exposure of the same SM spectrum that pins the pp flux, nearly
    # no sensitivity to the signal of its own
    target = _flux_channel("target", 300.0, 300.0, 40.0)
    monitor = _flux_channel("monitor", 500.0, 20000.0, 0.05)
    channels = [("target", target), ("monitor", monitor)]
    correlated = CombinedModel(channels, fluxes=("pp", "be7"))
    separate = CombinedModel(channels, fluxes=("pp", "be7"), correlate_fluxes=False)
    alone = CombinedModel([("target", target)], fluxes=("pp", "be7"))
    assert "flux_pp" in correlated.names
    assert {"target/flux_pp", "monitor/flux_pp"} <= set(separate.names)
    assert separate.npar == correlated.npar + 2
    lim = {
        k: compute_limit(m, MM, method)
        for k, m in (("correlated", correlated), ("separate", separate), ("alone", alone))
    }
    assert all(r.valid for r in lim.values()), {k: r.message for k, r in lim.items()}
    # decorrelated, the monitor adds nothing (its own signal is negligible)
    assert lim["separate"].upper_limit == pytest.approx(lim["alone"].upper_limit, rel=0.01)
    # correlated, it removes most of the target's flux uncertainty: a clearly tighter limit
    assert lim["correlated"].upper_limit < 0.9 * lim["separate"].upper_limit
    # the joint fit measures the pp flux (to about the monitor's precision): its error, from
    # the analytic Hessian (2 H⁻¹ over the free parameters), is below the target's own
    err_corr = _errors(correlated)["flux_pp"]
    err_sep = _errors(separate)
    assert err_corr <= err_sep["monitor/flux_pp"] * (1 + 1e-6)
    assert err_sep["target/flux_pp"] > 1.5 * err_corr


def _errors(model: CombinedModel) -> dict[str, float]:
    """Parabolic errors at the best fit from the model's Hessian (free parameters only).

    Not ``FitResult.errors``: with fixed parameters (here the solar-ν activities) Minuit2's
    HESSE takes the wrong block of an analytic Hessian (root-project/root#20954).
    """
    res = fit(model, errors=False)
    assert res.valid, res.message
    free = [i for i, p in enumerate(model.parameters) if not p.fixed]
    h = model.hessian(res.array)[np.ix_(free, free)]
    err = np.sqrt(np.diag(2.0 * np.linalg.inv(h)))
    return {model.names[i]: float(e) for i, e in zip(free, err, strict=True)}


# -- binned + unbinned -----------------------------------------------------------------------

WINDOW = (1.0, 11.0)
WIDTH = 0.1


def _bkg(e: np.ndarray) -> np.ndarray:
    return 30.0 + 120.0 * np.exp(-e / 3.0)  # events/keV


def _sig(e: np.ndarray) -> np.ndarray:
    return 40.0 / e  # events/keV per unit x² (x in units of `scale`)


def _matched(scale: float, seed: int) -> tuple[BinnedModel, UnbinnedModel]:
    """A binned Poisson model of fine bins and the unbinned model of the same events (at the
    bin centres): their costs differ by a constant."""
    edges = np.linspace(*WINDOW, round((WINDOW[1] - WINDOW[0]) / WIDTH) + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    b = _bkg(centres) * WIDTH
    counts = np.random.default_rng(seed).poisson(b)
    events = np.repeat(centres, counts)
    doc = _doc("fine", 0.0, 0.0, 0.0, scale=scale)
    doc["binning"] = {"edges_kev": edges.tolist()}
    doc["observed"] = counts.tolist()
    doc["backgrounds"] = [
        {
            "name": "bkg",
            "expected": b.tolist(),
            "mc_variance": [0.0] * b.size,
            "relative_uncertainty": 0.1,
        }
    ]
    doc["signals"][0]["terms"] = [{"power": 2, "expected": (_sig(centres) * WIDTH).tolist()}]
    doc["signals"][0]["fit_window_kev"] = list(WINDOW)
    binned = BinnedModel(Workspace.from_dict(doc), MM, "poisson")
    signal = UnbinnedSignal(
        name=MM,
        model=MM,
        parameter="mu_nu",
        unit="mu_B",
        flavour="all",
        mediator_mass_mev=None,
        treatment=None,
        atomic_model=None,
        scale=scale,
        powers=(2,),
        x_bounds=(0.0, None),
    )
    unbinned = UnbinnedModel(
        events_kev=events,
        window_kev=WINDOW,
        background_names=("bkg",),
        background_density=_bkg(events)[None, :],
        background_total=np.array([b.sum()]),
        relative_uncertainty=(0.1,),
        signal=signal,
        signal_density=_sig(events)[None, :],
        signal_total=np.array([np.sum(_sig(centres) * WIDTH)]),
        analysis="release",
    )
    return binned, unbinned


def test_binned_and_unbinned_channels_combine():
    xmass = BinnedModel(
        make_synthetic_workspace(
            n_bins=20, n_backgrounds=3, n_systematics=2, seed=8, signals=(MM,)
        ),
        MM,
    )
    # the release quotes its coupling in units of 2e-10 μ_B, the workspace in 1e-10
    fine, release = _matched(2e-10, seed=9)
    unbinned = CombinedModel([("xmass", xmass), ("release", release)])
    binned = CombinedModel([("xmass", xmass), ("release", fine)])
    assert unbinned.likelihood == "chi2+unbinned"
    assert unbinned.names == (
        "magnetic_moment",
        *[f"xmass/{n}" for n in xmass.names[1:]],
        "release/p_bkg",
    )
    th = _random_theta(unbinned, 11, poi=1.3)
    assert unbinned.channel_parameters("release", th)[0] == pytest.approx(0.65)
    assert unbinned(th) == pytest.approx(
        xmass(unbinned.channel_parameters("xmass", th))
        + release(unbinned.channel_parameters("release", th)),
        rel=1e-13,
    )
    _fd_check(unbinned, th)
    # same events binned finely: the same limits through the same code
    offsets = [binned(t) - unbinned(t) for t in (th, _random_theta(unbinned, 12, poi=0.4))]
    assert offsets[0] == pytest.approx(offsets[1], abs=1e-8 * abs(offsets[0]))
    alone = compute_limit(xmass, MM, "profile").upper_limit
    for method in ("profile", "bayesian"):
        u = compute_limit(unbinned, MM, method)
        b = compute_limit(binned, MM, method)
        assert u.valid and b.valid, (u.message, b.message)
        assert u.upper_limit == pytest.approx(b.upper_limit, rel=1e-3)
        assert u.n_bins == xmass.n_bins + release.n_bins
    assert compute_limit(unbinned, MM, "profile").upper_limit < alone


# -- toys ------------------------------------------------------------------------------------


def test_toys_sample_a_shared_global_observable_once(two_channels):
    from exonu.stats.toys import sample_toy, toy_generator

    a, _ = two_channels
    a2 = a.copy_with_data(np.random.default_rng(6).poisson(a.expected_counts(a.nominal)) * 1.0)
    shared = {"p_bkg_02", "q_sys_01"}
    comb = CombinedModel({"a": a, "a2": a2}, shared)
    assert comb.supports_toys
    th = comb.nominal.copy()
    obs, aux = sample_toy(comb, th, toy_generator(11, 0))
    assert obs.shape == (comb.n_bins,) and aux.shape == comb.aux.shape
    # one global observable per combined nuisance: both channels see the same draw
    toy = comb.copy_with_data(obs, aux)
    ta, ta2 = (dict(toy.channels)[n] for n in ("a", "a2"))
    for name in shared:
        j = comb.index(name) - comb.n_poi
        i = a.index(name) - a.n_poi
        assert ta.aux[i] == ta2.aux[i] == aux[j]
        assert aux[j] != comb.aux[j]  # fluctuated
    # the unshared ones are independent draws of each channel
    i = a.index("p_bkg_03") - a.n_poi
    assert ta.aux[i] != ta2.aux[i]
    # counts: each channel's own block; the cost is that of the channels' toys, the surplus
    # constraint of the shared nuisances taken about their one observable
    assert np.array_equal(ta.observed, obs[: a.n_bins])
    assert np.array_equal(ta2.observed, obs[a.n_bins :])
    t = _random_theta(comb, 4)
    t1, t2 = toy.channel_parameters("a", t), toy.channel_parameters("a2", t)
    sigma = a.parameters[a.index("p_bkg_02")].sigma
    d_p = t[comb.index("p_bkg_02")] - aux[comb.index("p_bkg_02") - comb.n_poi]
    d_q = t[comb.index("q_sys_01")] - aux[comb.index("q_sys_01") - comb.n_poi]
    assert toy(t) == pytest.approx(ta(t1) + ta2(t2) - d_p**2 / sigma**2 - d_q**2, rel=1e-12)
    # the original keeps its data; the same generator gives the same toy
    assert np.array_equal(comb.observed[: a.n_bins], a.observed)
    again = sample_toy(comb, th, toy_generator(11, 0))
    assert np.array_equal(again[0], obs) and np.array_equal(again[1], aux)
    # without fluctuated observables the toy keeps the nominal ones
    assert np.array_equal(
        comb.sample_toy(th, toy_generator(11, 1), fluctuate_aux=False)[1], comb.aux
    )


def test_expected_limits_of_a_combination(two_channels):
    from exonu.stats.expected import expected_limits

    a, b = two_channels
    comb = CombinedModel({"a": _asimov(a), "b": _asimov(b)})
    exp = expected_limits(comb, MM, 8, seed=3, method="profile")
    assert exp.n_failed == 0 and len(exp.limits) == 8
    assert exp.minus2 <= exp.minus1 <= exp.median <= exp.plus1 <= exp.plus2
    assert exp.workspace_digest == comb.digest()
    # sharded = unsharded
    parts = [expected_limits(comb, MM, 8, seed=3, shard=(k, 2)) for k in range(2)]
    assert parts[0].limits + parts[1].limits == exp.limits
    # a one-channel combination draws the channel's toys
    one = expected_limits(CombinedModel({"a": _asimov(a)}), MM, 4, seed=5)
    own = expected_limits(_asimov(a), MM, 4, seed=5)
    assert one.limits == pytest.approx(own.limits, rel=1e-4)
