"""The configuration schema: defaults, and one-line errors that name the key."""

from __future__ import annotations

import copy

import pytest

from exonu.config import (
    DEFAULT_CONFIG,
    ConfigError,
    load_config,
    read_config_file,
    validate_config,
)


@pytest.fixture(scope="module")
def raw():
    return read_config_file(DEFAULT_CONFIG)


def test_default_and_tiny_configs_validate(repo, schema_path):
    for source in (DEFAULT_CONFIG, repo / "config" / "tiny.yaml"):
        cfg = load_config(source, schema_path)
        assert cfg["selection"]["r_pe_max_cm"] == 20.0
        assert cfg["fit"]["cl"] == pytest.approx(0.9)


def test_defaults_are_filled(raw, schema_path):
    minimal = {"simulation": copy.deepcopy(raw["simulation"])}
    cfg = validate_config(minimal, schema_path)
    assert cfg["analysis"] == "default"
    assert cfg["selection"]["r_timing_max_cm"] == 38.0
    assert cfg["selection"]["energy_window_kev"] == [2.0, 200.0]
    assert cfg["signals"][0]["model"] == "magnetic_moment"
    assert minimal == {"simulation": raw["simulation"]}  # input not modified


def _error(raw, schema_path, edit) -> str:
    cfg = copy.deepcopy(raw)
    edit(cfg)
    with pytest.raises(ConfigError) as info:
        validate_config(cfg, schema_path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_misspelled_key_is_named(raw, schema_path):
    msg = _error(raw, schema_path, lambda c: c["selection"].update(r_pe_max=20.0))
    assert "selection.r_pe_max" in msg and "unknown" in msg


def test_misspelled_top_level_key_is_named(raw, schema_path):
    msg = _error(raw, schema_path, lambda c: c.update(selction={}))
    assert "'selction'" in msg


def test_negative_radius_cut_is_named(raw, schema_path):
    msg = _error(raw, schema_path, lambda c: c["selection"].update(r_pe_max_cm=-5.0))
    assert "selection.r_pe_max_cm" in msg and "-5" in msg


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda c: c["selection"].update(r_timing_max_cm="38"), "selection.r_timing_max_cm"),
        (lambda c: c["selection"].update(energy_window_kev=[15.0, 2.0]), "energy_window_kev"),
        (lambda c: c["binning"].update(energy_kev=[2.0, 5.0, 4.0]), "binning.energy_kev"),
        (lambda c: c["signals"][0].update(fit_window_kev=[250.0, 300.0]), "fit_window_kev"),
        (lambda c: c["signals"][0].update(model="magnetic"), "signals[0].model"),
        (lambda c: c["signals"][0].update(flavour="sterile"), "signals[0].flavour"),
        (lambda c: c["simulation"].update(n_chunks=0), "simulation.n_chunks"),
        (lambda c: c["detector"].update(dead_pmts=[700]), "detector.dead_pmts"),
        (
            lambda c: c["signals"][0].update(free_backgrounds=["xe_c15"]),
            "signals[0].free_backgrounds",
        ),
        # checks the selection and template jobs would make, made before any job runs
        (
            lambda c: c["selection"]["dead_pmt"].update(distance_edges_cm=[0, 10, 60]),
            "'selection.dead_pmt.distance_edges_cm': must start at 0 and reach pi * R",
        ),
        (
            lambda c: c["binning"].update(systematic_regions_kev=[5, 50, 200]),
            "'binning.systematic_regions_kev': regions [5, 200] keV must cover",
        ),
        (
            lambda c: c["backgrounds"]["dead_pmt_correction"].update(near_distance_cm=12),
            "'backgrounds.dead_pmt_correction.near_distance_cm': 12 must be an inner edge",
        ),
    ],
)
def test_bad_values_are_named(raw, schema_path, edit, key):
    assert key in _error(raw, schema_path, edit)
