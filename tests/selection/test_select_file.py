"""Selecting event files: validation first, chunked reading, storage, merging, cut flow."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import uproot

from exonu.config import DEFAULT_CONFIG, load_config
from exonu.detector.geometry import pmt_directions
from exonu.io.root import EventFileError, EventFileMeta, write_events
from exonu.selection.dead_pmt import masked_pmt_sets
from exonu.selection.kernels import reference_fill
from exonu.selection.run import (
    SelectionError,
    cutflow_markdown,
    merge_results,
    read_result,
    select_arrays,
    select_file,
    selection_parameters,
    write_result,
)
from exonu.selection.testing import (
    concat,
    exponential_spectrum,
    flat_spectrum,
    make_events,
    selection_block,
    spoil,
)


@pytest.fixture(scope="module")
def cfg(repo):
    return selection_block(load_config(DEFAULT_CONFIG))


def _meta(kind="background", n=20_000, seed=1, sample="pmt_u238", **extra):
    return EventFileMeta(
        kind, sample, n, 1e5, 0.2 if kind == "background" else 0.0, seed, extra=extra
    )


@pytest.fixture(scope="module")
def events():
    rng = np.random.default_rng(11)
    return concat(
        [
            make_events(12_000, rng, exponential_spectrum(40.0), surface=True),
            make_events(8_000, rng, exponential_spectrum(80.0), flags={"od_trigger": 0.01}),
        ]
    )


def test_file_selection_equals_reference_and_ignores_step_size(tmp_path, cfg, events):
    path = write_events(tmp_path / "bkg.root", events, _meta())
    results = []
    for step in (777, 5000, 1_000_000):
        c = copy.deepcopy(cfg)
        c["selection"]["step_size"] = step
        results.append(select_file(path, c, expected_kind="background"))
    for r in results[1:]:
        np.testing.assert_array_equal(r.energy_by_variant, results[0].energy_by_variant)
        np.testing.assert_array_equal(r.dead_pmt_by_set, results[0].dead_pmt_by_set)
        np.testing.assert_array_equal(r.cutflow, results[0].cutflow)
    p = selection_parameters(cfg)
    ref = reference_fill(
        events,
        p["params"],
        p["energy_edges"],
        true_edges=p["true_edges"],
        variant_sign=p["variant_sign"],
        variant_radius_scale=p["variant_radius_scale"],
        scale_knots_kev=p["scale_knots_kev"],
        scale_sigma=p["scale_sigma"],
        pmt_sets=p["pmt_sets"],
        cos_edges=p["cos_edges"],
        region_edges=p["region_edges"],
    )
    r = results[0]
    np.testing.assert_array_equal(r.energy_by_variant, ref["energy"])
    np.testing.assert_array_equal(r.dead_pmt_by_set, ref["dead_pmt"])
    np.testing.assert_array_equal(r.cutflow, ref["cutflow"])
    assert r.variant_names == (
        "nominal",
        "energy_scale_up",
        "energy_scale_down",
        "fiducial_volume_up",
        "fiducial_volume_down",
    )
    assert r.dead_pmt_by_set.shape == (9, 5, 8)  # dead PMTs + 8 masked sets
    assert not r.has_response  # background MC: no response matrix


def test_chunks_merge_to_the_whole(tmp_path, cfg, events):
    whole = select_arrays(events, cfg, _meta())
    parts = []
    for k, sl in enumerate((slice(0, 7000), slice(7000, 20_000))):
        meta = _meta(n=sl.stop - sl.start, seed=100 + k)
        path = write_events(tmp_path / f"c{k}.root", {b: v[sl] for b, v in events.items()}, meta)
        parts.append(select_file(path, cfg))
    merged = merge_results(parts)
    np.testing.assert_array_equal(merged.energy_by_variant, whole.energy_by_variant)
    np.testing.assert_array_equal(merged.dead_pmt_by_set, whole.dead_pmt_by_set)
    np.testing.assert_array_equal(merged.cutflow, whole.cutflow)
    assert merged.n_generated == 20_000 and merged.livetime_s == pytest.approx(2e5)
    with pytest.raises(SelectionError, match="duplicate input"):
        merge_results([parts[0], parts[0]])


def test_storage_round_trip_as_root_histograms(tmp_path, cfg):
    rng = np.random.default_rng(5)
    ev = make_events(20_000, rng, flat_spectrum(0.0, 250.0))
    meta = _meta("signal", sample="signal_flat", energy_range_kev=[0.0, 250.0])
    res = select_arrays(ev, cfg, meta)
    assert res.has_response and res.response.sum() == res.energy.sum()
    out = tmp_path / "sel" / "signal_flat.root"
    write_result(res, out)
    back = read_result(out)
    for name in ("energy_by_variant", "response_by_variant", "dead_pmt_by_set", "cutflow"):
        np.testing.assert_array_equal(getattr(back, name), getattr(res, name), err_msg=name)
    assert back.variants == res.variants and back.masked_pmts == res.masked_pmts
    with uproot.open(out) as fin:
        assert fin.classname_of("energy") == "TH1D"
        assert fin.classname_of("response__energy_scale_up") == "TH2D"
        h = fin["energy"]
        np.testing.assert_array_equal(h.variances(), res.energy)  # sum of squared weights
    assert not list(out.parent.glob("*.tmp"))


def test_invalid_events_counted_and_threshold_enforced(tmp_path, cfg, events):
    rng = np.random.default_rng(9)
    bad = spoil(events, rng, 10)
    res = select_arrays(
        bad, {**cfg, "selection": {**cfg["selection"], "max_invalid_fraction": 0.5}}, _meta()
    )
    table = res.invalid_table()
    assert res.n_invalid == sum(table.values()) >= 10 * 7
    assert table["npe_not_finite"] == 20 and table["true_energy_not_finite"] > 0
    assert "npe_negative" in cutflow_markdown([res])
    path = write_events(tmp_path / "bad.root", bad, _meta())
    with pytest.raises(SelectionError, match=r"bad\.root: \d+ of 20000 events have NaN/inf"):
        select_file(path, cfg)


def test_selection_checks_the_file_first(tmp_path, cfg, events):
    path = write_events(tmp_path / "d.root", events, _meta())
    with pytest.raises(EventFileError, match="expected 'data'"):
        select_file(path, cfg, expected_kind="data")
    c = copy.deepcopy(cfg)
    c["selection"]["branches"] = {"npe": "total_pe"}
    with pytest.raises(EventFileError, match=r"branch 'total_pe' \(for 'npe'\) missing"):
        select_file(path, c)


def test_bad_selection_config_names_the_key(cfg):
    c = copy.deepcopy(cfg)
    c["selection"]["dead_pmt"]["distance_edges_cm"] = [0, 5, 60]
    with pytest.raises(SelectionError, match=r"selection\.dead_pmt\.distance_edges_cm: must"):
        selection_parameters(c)
    c = copy.deepcopy(cfg)
    c["selection"]["dead_pmt"]["mask_min_separation_cm"] = 80
    with pytest.raises(SelectionError, match=r"mask_min_separation_cm = 80"):
        selection_parameters(c)


def test_masked_sets_are_normal_pmts_far_from_dead_ones():
    dead = [17, 83, 150, 212, 301, 377, 455, 530, 611]
    sets = masked_pmt_sets(642, dead, 8, 642, 20.0, 40.96)
    assert sets.shape == (8, 9)
    np.testing.assert_array_equal(sets, masked_pmt_sets(642, dead, 8, 642, 20.0, 40.96))
    dirs = pmt_directions(642)
    sep = np.arccos(np.clip(dirs[sets.ravel()] @ dirs[dead].T, -1, 1)) * 40.96
    assert sep.min() >= 20.0
    assert all(len(set(s)) == 9 for s in sets)


def test_mixed_float_types_use_a_precompiled_signature(tmp_path, cfg, events):
    from exonu.selection.kernels import fill_selection
    from exonu.selection.warm import compile_kernels

    compile_kernels()
    before = set(fill_selection.signatures)
    mixed = dict(events)
    mixed["npe"] = events["npe"].astype(np.float64)  # e.g. a double branch in a real file
    path = tmp_path / "mixed.root"
    with uproot.recreate(path) as fout:
        fout["exonu_meta"] = _meta().to_json()
        fout.mktree("events", {k: v.dtype for k, v in mixed.items()})
        fout["events"].extend(mixed)
    res = select_file(path, cfg)
    assert set(fill_selection.signatures) == before
    ref = select_arrays(events, cfg, _meta())
    np.testing.assert_array_equal(res.energy_by_variant, ref.energy_by_variant)
    np.testing.assert_array_equal(res.cutflow, ref.cutflow)
