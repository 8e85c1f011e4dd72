"""PhysicsSettings validation and (de)serialisation."""

from __future__ import annotations

import json

import pytest

from exonu.physics import PhysicsError, PhysicsSettings


def test_defaults_are_the_xmass_inputs():
    settings = PhysicsSettings()
    assert settings.flux_set == "xmass" and settings.source_names == ("pp", "be7")
    assert settings.flavour_composition == "xmass" and settings.atomic_model == "stepping"
    assert settings.pp_endpoint_kev == 423.41 and settings.sin2_theta_w == 0.23857
    assert len(PhysicsSettings(flux_set="b16_gs98").source_names) == 8


def test_from_mapping_round_trip_and_hashable():
    settings = PhysicsSettings.from_mapping(
        {"flux_set": "b16_gs98", "sources": ["pp", "be7", "pep"], "flavour_composition": "msw"}
    )
    assert settings.sources == ("pp", "be7", "pep")
    again = PhysicsSettings.from_mapping(json.loads(json.dumps(settings.to_mapping())))
    assert again == settings and hash(again) == hash(settings)
    assert PhysicsSettings.from_mapping(None) == PhysicsSettings()


def test_from_mapping_rejects_unknown_key():
    with pytest.raises(PhysicsError, match="unknown key 'flux'"):
        PhysicsSettings.from_mapping({"flux": "xmass"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"flux_set": "bs05"}, "flux_set"),
        ({"sources": ("pp", "b8")}, "sources"),
        ({"sources": "pp"}, "sources"),
        ({"flavour_composition": "vacuum"}, "flavour_composition"),
        ({"flavour_composition": "fixed", "flavour_fractions": (0.5, 0.3, 0.3)}, "sum to 1"),
        ({"sin2_theta_w": 1.5}, "sin2_theta_w"),
        ({"dm2_21_ev2": -1.0}, "dm2_21_ev2"),
        ({"atomic_model": "rrpa"}, "atomic_model"),
        ({"atomic_model": "rrpa_table"}, "rrpa_table"),
        ({"rrpa_table": "x.txt"}, "rrpa_table is set"),
        ({"pp_endpoint_kev": 500.0}, "pp_endpoint_kev"),
        ({"quadrature_nodes": 4}, "quadrature_nodes"),
        ({"radiative_corrections": "yes"}, "radiative_corrections"),
    ],
)
def test_invalid_values(kwargs, message):
    with pytest.raises(PhysicsError, match=message):
        PhysicsSettings(**kwargs)
