"""Plausibility checks of inputs and results (exonu.stats.plausibility), on real workspaces
and real fits: each check must fire on the implausible case and stay silent on a normal one."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest

from exonu.stats.errors import WorkspaceError
from exonu.stats.limits import upper_limit
from exonu.stats.plausibility import (
    StrictError,
    bound_warnings,
    check_background,
    checked_limit,
    discrepancy_warning,
    energy_warnings,
    enforce_strict,
    stability_warning,
    window_variants,
    window_warnings,
    with_window,
    workspace_warnings,
)
from exonu.stats.workspace import Workspace, workspace_schema

FIT = {"method": "profile", "cl": 0.9, "likelihood": "poisson"}


def doc(
    observed: list[int],
    background: list[float],
    term: list[float],
    *,
    window: tuple[float, float] | None = None,
    relative_uncertainty: float | None = 0.1,
) -> dict[str, Any]:
    """A workspace with 1-keV bins from 1 keV, one background, one signal x*term (x >= 0)."""
    n = len(observed)
    edges = [1.0 + i for i in range(n + 1)]
    return {
        "schema": "exonu-workspace",
        "version": "1.0.0",
        "analysis": "plaus",
        "binning": {"edges_kev": edges},
        "observed": observed,
        "exposure": {"livetime_s": 1.0, "fiducial_mass_kg": 1.0},
        "backgrounds": [
            {
                "name": "bkg",
                "expected": background,
                "mc_variance": [0.0] * n,
                "relative_uncertainty": relative_uncertainty,
            }
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
                "x_bounds": [0.0, None],
                "terms": [{"power": 1, "expected": term}],
                "variance_terms": [],
                "systematics": [],
                "fit_window_kev": list(window or (edges[0], edges[-1])),
                "free_backgrounds": [],
            }
        ],
    }


def flat(n: int = 10, counts: int = 100, signal: float = 10.0, **kw: Any) -> Workspace:
    """Observed = background everywhere: a plausible null result."""
    return Workspace.from_dict(doc([counts] * n, [float(counts)] * n, [signal] * n, **kw))


# --------------------------------------------------------------------------- workspace field


def test_warnings_round_trip_and_leave_the_digest_alone():
    ws = flat()
    plain = ws.digest()
    assert "warnings" not in ws.to_dict()
    warned = ws.with_warnings(["a warning", "another", "a warning"])
    assert warned.warnings == ("a warning", "another")
    d = warned.to_dict()
    assert d["warnings"] == ["a warning", "another"]
    again = Workspace.from_dict(json.loads(json.dumps(d)))
    assert again.warnings == warned.warnings and again.digest() == warned.digest()
    assert warned.digest() != plain
    assert warned.with_warnings([]).digest() == warned.digest()
    assert Workspace.from_dict(ws.to_dict()).digest() == plain  # no field, same digest
    assert warned.with_observed(list(ws.observed)).warnings == warned.warnings
    assert "warnings" in workspace_schema()["properties"]
    bad = dict(d, warnings=[3])
    with pytest.raises(WorkspaceError, match=r"warnings\[0\]"):
        Workspace.from_dict(bad)


def test_limits_inherit_the_workspace_warnings():
    ws = flat().with_warnings(["input looked odd"])
    res = upper_limit(ws, "sig", method="profile", likelihood="poisson")
    assert res.warnings == ("input looked odd",)
    assert res.to_dict()["warnings"] == ["input looked odd"]
    assert res.with_warnings(["x", "input looked odd"]).warnings == ("input looked odd", "x")


# --------------------------------------------------------------------------- input checks


def test_no_observed_event_in_the_window():
    ws = Workspace.from_dict(doc([0] * 5 + [50] * 5, [50.0] * 10, [5.0] * 10, window=(1, 6)))
    assert window_warnings(ws, (1, 6)) == [
        "no observed event in the fit window [1, 6] keV (5 bins): the data do not overlap "
        "the fitted energies"
    ]
    assert window_warnings(ws, (6, 11)) == []
    assert workspace_warnings(flat()) == []


def test_zero_background_bins_are_counted_and_located():
    bkg = [10.0, 0.0, 0.0, 10.0, 10.0, 10.0, 0.0, 10.0, 10.0, 10.0]
    ws = Workspace.from_dict(doc([10] * 10, bkg, [1.0] * 10))
    (msg,) = workspace_warnings(ws)
    assert msg == (
        "zero background expectation in 3 of 10 fitted bins of the fit window [1, 11] keV: "
        "2-4, 7-8 keV"
    )
    # outside the window it does not matter
    ws2 = Workspace.from_dict(doc([10] * 10, bkg, [1.0] * 10, window=(8, 11)))
    assert workspace_warnings(ws2) == []


def test_an_all_zero_background_model_is_an_error():
    ws = Workspace.from_dict(doc([10] * 4, [0.0] * 4, [1.0] * 4))
    with pytest.raises(WorkspaceError, match=r"^bkg.json: the background model is zero in every "):
        check_background(ws, "bkg.json")
    check_background(flat(), "bkg.json")  # a normal model passes


def test_energy_scale_and_outside_fraction():
    rng = np.random.default_rng(1)
    kev = rng.uniform(1.0, 30.0, 400)
    assert energy_warnings(kev, (1.0, 30.0), "data") == []
    ev = energy_warnings(kev * 1000.0, (1.0, 30.0), "data")
    assert len(ev) == 2
    assert ev[0].startswith("data: median energy ") and ev[0].endswith(
        "are the energies in eV instead of keV?"
    )
    assert ev[1] == "data: 400 of 400 events (100 %) are outside the binning [1, 30] keV " + (
        "(0 below, 400 above)"
    )
    mev = energy_warnings(kev / 1000.0, (1.0, 30.0), "data")
    assert mev[0].endswith("are the energies in MeV instead of keV?")
    assert "400 below, 0 above" in mev[1]
    # 60 % outside, scale fine: only the fraction
    mixed = np.concatenate([kev[:160], rng.uniform(30.5, 40.0, 240)])
    (msg,) = energy_warnings(mixed, (1.0, 30.0), "data")
    assert "240 of 400 events (60 %)" in msg
    # binned data: bin centres weighted by the counts
    centres = np.array([1500.0, 2500.0])
    assert "eV instead of keV" in energy_warnings(centres, (1, 30), "d", [3, 4])[0]


# --------------------------------------------------------------------------- result checks


def test_a_nuisance_at_its_bound_is_flagged_the_signal_at_zero_is_not():
    # no events at all: the free background scale runs to 0
    ws = Workspace.from_dict(doc([0] * 6, [20.0] * 6, [2.0] * 6, relative_uncertainty=None))
    res = upper_limit(ws, "sig", method="profile", likelihood="poisson")
    assert "p_bkg" in res.parameters_at_bound
    (msg,) = bound_warnings(res)
    assert msg.startswith("best fit at a parameter bound: p_bkg")
    # a deficit in a plausible model: signal at its physical limit 0, nothing flagged
    null = Workspace.from_dict(doc([95] * 6, [100.0] * 6, [5.0] * 6))
    r0 = upper_limit(null, "sig", method="profile", likelihood="poisson")
    assert r0.best_fit_at_bound and r0.best_fit == 0 and bound_warnings(r0) == []
    # the signal at a bound other than 0
    edge = dataclasses.replace(r0, best_fit=3.0, best_fit_at_bound=True)
    assert bound_warnings(edge) == [
        "best fit at a parameter bound: theta = 3 is at the edge of its allowed range"
    ]


def test_background_only_discrepancy_is_reported_with_z_and_p():
    n = 8
    ws = Workspace.from_dict(doc([160] * n, [100.0] * n, [10.0] * n))
    res = checked_limit(ws, "sig", FIT, window_check=False)
    msg = discrepancy_warning(res)
    assert msg is not None and msg.startswith("background-only hypothesis disfavoured: Z = ")
    assert msg in res.warnings and res.valid  # a discrepancy, not a failure
    assert "σ local (p = " in msg
    ok = upper_limit(flat(), "sig", method="profile", likelihood="poisson")
    assert discrepancy_warning(ok) is None
    at = dataclasses.replace(ok, chi2_best=10.0, chi2_zero=10.0 + 3.4**2)
    assert discrepancy_warning(at) == (
        "background-only hypothesis disfavoured: Z = 3.4σ local (p = 0.00034), best fit "
        f"theta = {ok.best_fit:.3g}"
    )


def test_window_variants():
    edges = np.arange(1.0, 12.0)  # 10 bins
    assert window_variants(edges, (3, 8)) == [(4.0, 8.0), (3.0, 7.0), (2.0, 8.0), (3.0, 9.0)]
    assert window_variants(edges, (1, 11)) == [(2.0, 11.0), (1.0, 10.0)]
    assert window_variants(edges, (1, 3)) == [(1.0, 4.0)]  # 2 bins: outward only, upwards


def test_a_limit_carried_by_one_edge_bin_is_unstable():
    # the signal lives almost entirely in the first bin of the window
    term = [50.0] + [0.05] * 9
    ws = Workspace.from_dict(doc([100] * 10, [100.0] * 10, term))
    res = checked_limit(ws, "sig", FIT)
    (msg,) = [w for w in res.warnings if w.startswith("limit unstable")]
    assert "under a one-bin move of the fit window" in msg and "[2, 11] keV" in msg
    # a flat signal is stable
    assert checked_limit(flat(), "sig", FIT).warnings == ()
    # the comparison itself
    r = upper_limit(ws, "sig", method="profile", likelihood="poisson")
    moved = with_window(ws, "sig", (2, 11))
    assert moved.signal("sig").fit_mask.sum() == 9 and ws.signal("sig").fit_mask.sum() == 10
    far = upper_limit(moved, "sig", method="profile", likelihood="poisson")
    assert far.upper_limit > 10 * r.upper_limit
    assert stability_warning(r, [((2, 11), far)]) == msg
    assert stability_warning(r, [((1, 10), r)]) is None


def test_strict_turns_the_first_warning_into_one_line():
    enforce_strict(["w"], False)
    enforce_strict([], True)
    with pytest.raises(StrictError) as err:
        enforce_strict(["first problem", "second"], True, "sig")
    assert str(err.value) == "strict: first problem [sig] (and 1 more)"


def test_the_fit_stage_writes_warnings_or_stops_under_strict(tmp_path):
    from exonu.stages.fit import limit
    from exonu.stats.workspace import dump_workspace

    ws = Workspace.from_dict(doc([0] * 6, [20.0] * 6, [2.0] * 6, relative_uncertainty=None))
    path = tmp_path / "workspace.json"
    dump_workspace(ws.with_warnings(workspace_warnings(ws)), path)
    params = {"fit": FIT}
    out = tmp_path / "fits" / "sig.json"
    with pytest.raises(StrictError, match=r"^strict: no observed event in the fit window \[1, 7\]"):
        limit(params, str(path), "sig", str(out), strict=True)
    assert not out.exists() and not list(tmp_path.rglob("*.tmp"))
    limit(params, str(path), "sig", str(out))
    written = json.loads(out.read_text())
    assert written["warnings"][0].startswith("no observed event in the fit window [1, 7] keV")
    assert any(w.startswith("best fit at a parameter bound: p_bkg") for w in written["warnings"])
