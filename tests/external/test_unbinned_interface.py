"""The unbinned likelihood goes through the same profile and limit code as the binned ones.

:class:`~exonu.external.unbinned.UnbinnedModel` implements
:class:`~exonu.stats.likelihood.LikelihoodModel`; :class:`~exonu.stats.limits.Profile` and
:func:`~exonu.stats.limits.compute_limit` profile it and compute its limits. Two checks:

* events placed exactly at the centres of fine bins make the Baker–Cousins Poisson χ² of the
  binned model and the unbinned cost differ by a constant, so the same code must give the
  same limits from both;
* the limits of the synthetic releases agree with those of the former separate unbinned
  implementation (its own minimiser and profile), recorded here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from exonu.external.errors import ReleaseError
from exonu.external.unbinned import UnbinnedModel, UnbinnedSignal, unbinned_limit, unbinned_model
from exonu.stats.errors import LimitError
from exonu.stats.likelihood import LikelihoodModel
from exonu.stats.limits import Profile, compute_limit
from exonu.stats.model import BinnedModel
from exonu.stats.workspace import Workspace

from .conftest import MU_SPEC, build_workspace

WINDOW = (1.0, 21.0)
WIDTH = 0.05  # keV; the fine bins whose centres hold the events


def _flat(e: np.ndarray) -> np.ndarray:
    return np.full_like(e, 40.0)


def _falling(e: np.ndarray) -> np.ndarray:
    return 150.0 * np.exp(-e / 4.0)


# signal coefficient densities [events/keV per unit x^k]
_SIGNAL = {1: lambda e: 10.0 * np.exp(-e / 3.0), 2: lambda e: 20.0 / e}


def matched_models(powers: tuple[int, ...], seed: int) -> tuple[BinnedModel, UnbinnedModel]:
    """A binned Poisson model of fine bins and the unbinned model of the same events, all at
    bin centres (backgrounds: a constrained flat one and a free falling one)."""
    edges = np.linspace(WINDOW[0], WINDOW[1], round((WINDOW[1] - WINDOW[0]) / WIDTH) + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    width = np.diff(edges)
    bkg = {"flat": _flat(centres) * width, "falling": _falling(centres) * width}
    counts = np.random.default_rng(seed).poisson(bkg["flat"] + bkg["falling"])
    events = np.repeat(centres, counts)
    two_sided = any(k % 2 for k in powers)
    doc: dict[str, Any] = {
        "schema": "exonu-workspace",
        "version": "1.0.0",
        "analysis": "matched",
        "binning": {"edges_kev": edges.tolist()},
        "observed": counts.tolist(),
        "exposure": {"livetime_s": 1.0, "fiducial_mass_kg": 1.0},
        "backgrounds": [
            {
                "name": "flat",
                "expected": bkg["flat"].tolist(),
                "mc_variance": [0.0] * centres.size,
                "relative_uncertainty": 0.1,
            },
            {
                "name": "falling",
                "expected": bkg["falling"].tolist(),
                "mc_variance": [0.0] * centres.size,
                "relative_uncertainty": None,
            },
        ],
        "background_systematics": [],
        "signals": [
            {
                "name": "sig",
                "model": "test",
                "flavour": "all",
                "parameter": "theta",
                "unit": "1",
                "mediator_mass_mev": None,
                "treatment": None,
                "atomic_model": None,
                "scale": 1.0,
                "x_bounds": [None, None] if two_sided else [0.0, None],
                "terms": [
                    {"power": k, "expected": (_SIGNAL[k](centres) * width).tolist()} for k in powers
                ],
                "variance_terms": [],
                "systematics": [],
                "fit_window_kev": list(WINDOW),
                "free_backgrounds": [],
            }
        ],
    }
    binned = BinnedModel(Workspace.from_dict(doc), "sig", "poisson")
    signal = UnbinnedSignal(
        name="sig",
        model="test",
        parameter="theta",
        unit="1",
        flavour="all",
        mediator_mass_mev=None,
        treatment=None,
        atomic_model=None,
        scale=1.0,
        powers=powers,
        x_bounds=(None, None) if two_sided else (0.0, None),
    )
    unbinned = UnbinnedModel(
        events_kev=events,
        window_kev=WINDOW,
        background_names=("flat", "falling"),
        background_density=np.array([_flat(events), _falling(events)]),
        background_total=np.array([bkg["flat"].sum(), bkg["falling"].sum()]),
        relative_uncertainty=(0.1, None),
        signal=signal,
        signal_density=np.array([_SIGNAL[k](events) for k in powers]),
        signal_total=np.array([np.sum(_SIGNAL[k](centres) * width) for k in powers]),
        analysis="matched",
    )
    return binned, unbinned


@pytest.mark.parametrize(("powers", "seed"), [((2,), 1), ((1, 2), 2)])
def test_one_profile_and_limit_code_drives_binned_and_unbinned(powers, seed):
    binned, unbinned = matched_models(powers, seed)
    assert isinstance(binned, LikelihoodModel) and isinstance(unbinned, LikelihoodModel)
    assert binned.names == unbinned.names == ("sig", "p_flat", "p_falling")
    # the two costs differ by a constant: same likelihood, two implementations
    thetas = [[0.0, 1.0, 1.0], [0.3, 0.9, 1.2], [0.8, 1.1, 0.7]]
    if len(powers) == 2:
        thetas.append([-0.5, 1.05, 0.95])
    offsets = [binned(t) - unbinned(t) for t in thetas]
    assert np.ptp(offsets) < 1e-8 * max(1.0, abs(offsets[0]))

    prof_b, prof_u = Profile(binned, "sig"), Profile(unbinned, "sig")
    for x in (0.1, 0.4, 1.0):
        assert prof_u.delta(x) == pytest.approx(prof_b.delta(x), abs=1e-3)
    for method in ("profile", "bayesian"):
        b = compute_limit(binned, "sig", method)
        u = compute_limit(unbinned, "sig", method)
        assert b.valid and u.valid, (b.message, u.message)
        assert (b.likelihood, u.likelihood) == ("poisson", "unbinned")
        assert u.n_bins == unbinned.events_kev.size
        assert u.upper_limit == pytest.approx(b.upper_limit, rel=1e-3)
        assert (u.lower_limit is None) == (b.lower_limit is None)
        if b.lower_limit is not None:
            assert u.lower_limit == pytest.approx(b.lower_limit, rel=1e-3)
        # the minimum is shallow (Δχ²(0) ≈ 0.15): the best fits agree to the fit tolerance
        assert u.chi2_zero - u.chi2_best == pytest.approx(b.chi2_zero - b.chi2_best, abs=1e-3)
        assert u.best_fit == pytest.approx(b.best_fit, abs=1e-2 * b.upper_limit)


def test_unbinned_hessian_matches_finite_differences():
    _, model = matched_models((1, 2), 3)
    theta = np.array([0.4, 1.05, 0.9])
    h = 1e-6
    num = np.array(
        [
            (model.gradient(theta + h * e) - model.gradient(theta - h * e)) / (2 * h)
            for e in np.eye(3)
        ]
    )
    assert model.hessian(theta) == pytest.approx(num, rel=1e-5, abs=1e-6)
    assert model.g2(theta) == pytest.approx(np.diag(num), rel=1e-5)
    assert model.constraint_cost(theta) == pytest.approx((1.0 - 1.05) ** 2 / 0.1**2)
    grid = np.array([-0.5, 0.0, 0.4, 1.3])
    scan = model.poi_scan_cost(theta, 0, grid)
    for x, c in zip(grid, scan, strict=True):
        assert c == pytest.approx(model([x, *theta[1:]]) - model.constraint_cost(theta))


def test_neyman_needs_a_binned_model():
    _, model = matched_models((2,), 1)
    with pytest.raises(LimitError, match="binned"):
        compute_limit(model, "sig", "neyman", n_toys=20, seed=1)
    with pytest.raises(ReleaseError, match="not known for the unbinned fit"):
        unbinned_limit(model, "neyman")


# Limits of the former unbinned implementation (UnbinnedProfile with its own MIGRAD loop,
# crossing search and Bayesian integration), before it was replaced by the shared code.
FORMER = {
    ("null", "profile"): (None, 1.5188233158589147e-11),
    ("null", "bayesian"): (None, 1.448475034598708e-11),
    ("injected", "profile"): (2.8350424639795443e-11, 3.396193231656794e-11),
}


@pytest.mark.parametrize(("release", "method"), list(FORMER))
def test_unbinned_limits_match_the_former_implementation(
    null_release, injected_release, release, method
):
    if release == "null":
        spec = {**MU_SPEC, "fit_window_kev": [1.0, 30.0]}
        rel, _, sigs, sm = build_workspace(
            null_release, np.arange(1.0, 30.01, 1.0), [spec], solar_nu={"replace": True}
        )
    else:
        rel, _, sigs, sm = build_workspace(injected_release, np.arange(1.0, 30.01, 1.0))
    res = unbinned_limit(unbinned_model(rel, *sigs[0], (1.0, 30.0), sm), method)
    lower, upper = FORMER[(release, method)]
    assert res.valid and res.likelihood == "unbinned"
    assert res.upper_limit == pytest.approx(upper, rel=1e-3)
    if lower is None:
        assert res.lower_limit is None
    else:
        assert res.lower_limit == pytest.approx(lower, rel=1e-3)
