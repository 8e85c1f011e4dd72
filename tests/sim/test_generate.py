"""simulate_chunk: contract, reproducibility, chunking, variations, injection, errors."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.io.root import EventFileMeta, expected_branches, inspect_file, read_meta
from exonu.sim import SimulationError, sample_kinds, simulate_chunk, variation_samples
from sim.conftest import PHYSICS
from sim.helpers import read_all

DET: dict = {}


def _simulate(sim, kind, sample, path, chunk=0):
    return simulate_chunk(sim, DET, kind, sample, chunk, path, physics=PHYSICS)


@pytest.mark.parametrize(
    ("kind", "sample"),
    [
        ("data", "data"),
        ("background", "cu_pb210"),
        ("signal", "signal_flat"),
        ("variation", "cu_pb210__optical_up"),
    ],
)
def test_files_follow_the_contract(small_sim, tmp_path, kind, sample):
    meta = _simulate(small_sim, kind, sample, tmp_path / "f.root")
    info = inspect_file(tmp_path / "f.root", expected_kind=kind)
    assert set(expected_branches(kind)) <= set(info.branches)
    assert info.meta == meta and meta.version and meta.generator == "exonu.sim"
    assert 0 < info.num_entries <= meta.n_generated
    if kind == "data":
        assert meta.livetime_s == pytest.approx(20 * 86400.0)
        assert meta.n_generated == info.num_entries
    if kind == "background":
        assert meta.activity_bq > 0
        assert meta.livetime_s == pytest.approx(meta.n_generated / meta.activity_bq)
    if kind in ("signal", "variation"):
        assert meta.extra.get("energy_range_kev") or kind == "variation"


def test_identical_seeds_give_bit_identical_files(small_sim, tmp_path):
    """Same configuration -> the same bytes in every branch and the same metadata.

    (The ROOT headers also hold the creation time and a UUID, which differ.)
    """
    for kind, sample in (("data", "data"), ("background", "cu_pb210")):
        a = _simulate(small_sim, kind, sample, tmp_path / "a.root")
        b = _simulate(small_sim, kind, sample, tmp_path / "b.root")
        assert a == b
        ea, eb = read_all(tmp_path / "a.root"), read_all(tmp_path / "b.root")
        for key in ea:
            assert ea[key].tobytes() == eb[key].tobytes(), key
    other = dict(small_sim, seed=12)
    c = _simulate(other, "background", "cu_pb210", tmp_path / "c.root")
    assert c.seed != a.seed
    assert not np.array_equal(read_all(tmp_path / "c.root")["npe"], eb["npe"])


@pytest.mark.parametrize(("kind", "sample"), [("data", "data"), ("background", "cu_pb210")])
def test_chunking_does_not_change_the_union_of_events(small_sim, tmp_path, kind, sample):
    one = _simulate(small_sim, kind, sample, tmp_path / "one.root")
    whole = read_all(tmp_path / "one.root")
    small_sim["n_chunks"] = 3
    parts, n_gen, live = [], 0, 0.0
    for c in range(3):
        meta = _simulate(small_sim, kind, sample, tmp_path / f"c{c}.root", chunk=c)
        parts.append(read_all(tmp_path / f"c{c}.root"))
        n_gen += meta.n_generated
        live += meta.livetime_s
    assert n_gen == one.n_generated
    assert live == pytest.approx(one.livetime_s)
    for key in whole:
        joined = np.concatenate([p[key] for p in parts])
        # Monte Carlo: index ranges in order; data: time windows in order, each time-sorted
        assert joined.tobytes() == whole[key].tobytes(), key


def test_chunk_files_of_a_sample_have_distinct_seeds(small_sim, tmp_path):
    small_sim["n_chunks"] = 2
    seeds = {
        _simulate(small_sim, "background", "xe_c14", tmp_path / f"{c}.root", c).seed
        for c in range(2)
    }
    assert len(seeds) == 2


def test_variation_reuses_the_nominal_events(small_sim, tmp_path):
    nom = _simulate(small_sim, "background", "cu_pb210", tmp_path / "n.root")
    up = _simulate(small_sim, "variation", "cu_pb210__optical_up", tmp_path / "u.root")
    assert up.extra["variation"] == "optical" and up.extra["nominal"] == "cu_pb210"
    assert up.extra["shift_sigma"] == 1.0
    assert up.extra["changed"]["misreco.probability_at_5kev"] == pytest.approx([0.5, 0.625])
    assert up.n_generated == nom.n_generated // 2
    assert up.activity_bq == pytest.approx(nom.activity_bq)
    en, eu = read_all(tmp_path / "n.root"), read_all(tmp_path / "u.root")
    # the same decays (truth); the response differs only where the variation acts
    m = len(eu["true_energy_kev"])
    np.testing.assert_array_equal(eu["true_energy_kev"], en["true_energy_kev"][:m])
    np.testing.assert_array_equal(eu["npe"], en["npe"][:m])
    assert not np.array_equal(eu["r_pe_cm"], en["r_pe_cm"][:m])
    inside = lambda e: np.sum(e["r_pe_cm"] < 20.0)  # noqa: E731
    assert inside(eu) > inside({k: v[:m] for k, v in en.items()})  # more mis-reconstruction


def test_sample_listing(small_sim):
    kinds = sample_kinds(small_sim)
    assert kinds["data"] == "data" and kinds["signal_flat"] == "signal"
    assert kinds["xe_c14"] == "background"
    names = [v.name for v in variation_samples(small_sim)]
    assert names == [
        "signal_flat__optical_up",
        "signal_flat__optical_down",
        "cu_pb210__optical_up",
        "cu_pb210__optical_down",
    ]
    assert all(kinds[n] == "variation" for n in names)


def test_injected_signal_adds_solar_events(small_sim, tmp_path):
    small_sim["livetime_days"] = 200.0
    base = _simulate(small_sim, "data", "data", tmp_path / "a.root")
    small_sim["data"]["inject"] = {"model": "magnetic_moment", "value": 5e-10, "flavour": "all"}
    inj = _simulate(small_sim, "data", "data", tmp_path / "b.root")
    sm = base.extra["components"]["solar_nu"]
    ex = inj.extra["components"]["solar_nu"]
    assert inj.extra["injected_signal"]["model"] == "magnetic_moment"
    # mu = 5e-10 muB more than triples the 1-300 keV rate (rate ~ mu^2 / T at low T)
    assert ex["rate_per_day"] > 2 * sm["rate_per_day"]
    assert ex["generated"] > sm["generated"]
    # the other components are unchanged, event for event
    assert inj.extra["components"]["xe_c14"] == base.extra["components"]["xe_c14"]


def test_solar_rate_follows_from_the_physics(small_sim, tmp_path):
    meta = _simulate(small_sim, "background", "solar_nu", tmp_path / "s.root")
    # ~430 events/(t yr) in 1-300 keV x 0.832 t / 365.25 d (docs/physics.md E.1)
    assert meta.activity_bq * 86400 == pytest.approx(0.98, rel=0.1)


@pytest.mark.parametrize(
    ("change", "kind", "sample", "key"),
    [
        (
            lambda s: s["backgrounds"]["xe_c14"].pop("rate_per_day"),
            "background",
            "xe_c14",
            "simulation.backgrounds.xe_c14.rate_per_day",
        ),
        (
            lambda s: s["backgrounds"]["xe_c14"]["spectrum"].update(decay="xx"),
            "background",
            "xe_c14",
            "simulation.backgrounds.xe_c14.spectrum.decay",
        ),
        (
            lambda s: s["backgrounds"]["xe_c14"].update(vertex="wall"),
            "background",
            "xe_c14",
            "simulation.backgrounds.xe_c14.vertex",
        ),
        (lambda s: s.update(n_chunks=0), "background", "xe_c14", "simulation.n_chunks"),
        (lambda s: s.update(seed=-3), "background", "xe_c14", "simulation.seed"),
        (
            lambda s: s["signal_mc"].update(energy_range_kev=[5, 1]),
            "signal",
            "signal_flat",
            "simulation.signal_mc.energy_range_kev",
        ),
        (
            lambda s: s["data"]["dead_pmt_misreco"].update(boost_factor=[1]),
            "data",
            "data",
            "simulation.data.dead_pmt_misreco.boost_factor",
        ),
        (
            lambda s: s["data"].update(inject={"model": "telepathy", "value": 1}),
            "data",
            "data",
            "simulation.data.inject.model",
        ),
        (
            lambda s: s["variations"]["optical"]["scale"].update({"misreco.nope": 1}),
            "variation",
            "cu_pb210__optical_up",
            "simulation.variations.optical.scale",
        ),
        (lambda s: None, "background", "xe_nothing", "simulation.backgrounds"),
        (lambda s: None, "variation", "xe_c14__optical_up", "no variation sample"),
    ],
)
def test_bad_config_is_a_one_line_error_naming_the_key(
    small_sim, tmp_path, change, kind, sample, key
):
    change(small_sim)
    with pytest.raises(SimulationError) as err:
        _simulate(small_sim, kind, sample, tmp_path / "x.root")
    assert key in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "x.root").exists()


def test_bad_detector_is_a_simulation_error(small_sim, tmp_path):
    with pytest.raises(SimulationError, match=r"^detector\.pe_per_kev"):
        simulate_chunk(small_sim, {"pe_per_kev": 0}, "background", "xe_c14", 0, tmp_path / "x")


def test_chunk_outside_range(small_sim, tmp_path):
    with pytest.raises(SimulationError, match=r"simulation\.n_chunks"):
        _simulate(small_sim, "background", "xe_c14", tmp_path / "x.root", chunk=1)


def test_meta_round_trip(small_sim, tmp_path):
    meta = _simulate(small_sim, "signal", "signal_flat", tmp_path / "s.root")
    assert read_meta(tmp_path / "s.root") == meta
    assert EventFileMeta.from_json(meta.to_json()) == meta
    assert meta.extra["energy_range_kev"] == [0.0, 250.0]


def test_timing_splits_generation_and_writing(small_sim, tmp_path):
    timing: dict[str, float] = {}
    simulate_chunk(small_sim, DET, "background", "cu_pb210", 0, tmp_path / "t.root", timing=timing)
    assert set(timing) == {"generate_cpu_s", "write_cpu_s"}
    assert all(v > 0 for v in timing.values())
