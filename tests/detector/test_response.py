"""Detector response parameters: non-linearity, checks with one-line errors, kernel arrays."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.detector.response import DEFAULTS, DetectorError, DetectorResponse
from exonu.sim import kernels as K


@pytest.fixture(scope="module")
def det():
    return DetectorResponse.from_config({})


def test_nonlinearity_matches_zero_field_measurements(det):
    """~40 % at 1.5 keV (Baudis et al. 2013), ~0.8 at 5 keV, 1 at the 122 keV reference."""
    r = det.relative_light_yield(np.array([1.5, 5.0, 10.0, 122.0]))
    assert 0.35 < r[0] < 0.5
    assert 0.75 < r[1] < 0.85
    assert 0.85 < r[2] < 0.95
    assert r[3] == pytest.approx(1.0, abs=1e-12)
    e = np.geomspace(1.0, 500.0, 200)
    assert np.all(np.diff(det.relative_light_yield(e)) > 0)


def test_visible_energy_is_zero_below_threshold(det):
    vis = det.visible_energy_kev(np.array([0.5, 0.99, 1.0, 2.0]))
    assert vis[0] == vis[1] == 0.0
    assert vis[2] > 0 and vis[3] > vis[2]


def test_kernel_light_yield_agrees_with_python(det):
    ly, step = det.light_yield_table()
    p = det.kernel_parameters()
    for e in (1.2, 2.0, 5.0, 37.3, 163.9, 599.0, 1500.0):
        assert K.light_kev(e, p, ly, 1.0 / step) == pytest.approx(
            float(det.visible_energy_kev(np.array([e]))[0]), rel=2e-4
        )


@pytest.mark.parametrize(
    ("cfg", "key"),
    [
        ({"pe_per_kev": -1.0}, "detector.pe_per_kev"),
        ({"pe_per_kev": "many"}, "detector.pe_per_kev"),
        ({"misreco": {"depth_cm": 0}}, "detector.misreco.depth_cm"),
        ({"misreco": {"colour": 1}}, "detector.misreco.colour"),
        ({"lumens": 3}, "detector.lumens"),
        ({"dead_pmts": [700]}, "detector.dead_pmts"),
        ({"n_pmts": 0}, "detector.n_pmts"),
        ({"od_accidental_probability": 2.0}, "detector.od_accidental_probability"),
    ],
)
def test_bad_config_names_the_key(cfg, key):
    with pytest.raises(DetectorError) as err:
        DetectorResponse.from_config(cfg)
    msg = str(err.value)
    assert msg.startswith(key) and "\n" not in msg


def test_varied_scales_dotted_parameters(det):
    up = det.varied({"misreco.probability_at_5kev": 0.2, "pe_per_kev": -0.1}, 1.0)
    assert up.config["misreco"]["probability_at_5kev"] == pytest.approx(0.6)
    assert up.config["pe_per_kev"] == pytest.approx(14.7 * 0.9)
    assert det.config == DetectorResponse.from_config({}).config  # unchanged
    with pytest.raises(DetectorError, match=r"detector\.misreco\.nothing"):
        det.varied({"misreco.nothing": 0.1}, 1.0)


def test_defaults_match_the_schema(schema_path):
    import yaml

    schema = yaml.safe_load(schema_path.read_text())
    props = schema["properties"]["detector"]["properties"]
    for key, value in DEFAULTS.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                assert props[key]["properties"][sub]["default"] == v, f"{key}.{sub}"
        else:
            assert props[key]["default"] == value, key
