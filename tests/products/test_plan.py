"""Which products a configuration asks for (exonu.products.plan) and the report front matter."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest

from exonu.config import DEFAULT_CONFIG, read_config_file, validate_config
from exonu.products.plan import (
    PlanError,
    canonical,
    compute_params,
    figure_paths,
    one_of,
    plot_params,
    product_plan,
)
from exonu.products.report import category_of_model, front_matter


@pytest.fixture(scope="module")
def config():
    return validate_config(read_config_file(DEFAULT_CONFIG))


def test_default_plan(config):
    plan = product_plan(config)
    assert plan.signals == (
        "millicharge",
        "magnetic_moment",
        "dark_photon_1kev",
        "dark_photon_10mev",
    )
    # pyhf: single-power signals only (pure q², μ²); B−L has g² and g⁴
    assert plan.pyhf_signals == ("millicharge", "magnetic_moment")
    assert "dark_photon_bl" in plan.mass_scans and "millicharge" not in plan.mass_scans
    assert plan.millicharge_scan == "millicharge"
    assert list(plan.contours) == ["millicharge_e_mu", "millicharge_e_tau"]
    targets = plan.targets("results/x", ["png", "pdf"])
    assert "results/x/figures/model_spectra.pdf" in targets
    assert "results/x/figures/exclusion_dark_photon_bl.png" in targets
    assert "results/x/figures/contour_millicharge_e_tau.png" in targets
    assert "results/x/products/hepdata/submission.tar.gz" in targets
    assert "results/x/products/pyhf/magnetic_moment.json" in targets
    assert "results/x/tables/summary.tex" in targets
    assert len(targets) == len(set(targets))


def test_plan_errors_and_optional_products(config):
    cfg = copy.deepcopy(config)
    cfg["plots"]["curves"]["scans"] = ["nope"]
    with pytest.raises(PlanError, match=r"plots\.curves\.scans"):
        product_plan(cfg)
    cfg = copy.deepcopy(config)
    cfg["plots"]["contours"] = cfg["plots"]["contours"][:1] * 2
    with pytest.raises(PlanError, match="not unique"):
        product_plan(cfg)
    cfg = copy.deepcopy(config)
    del cfg["scans"]["millicharge"]
    cfg["plots"]["curves"]["scans"] = []
    plan = product_plan(cfg)
    assert plan.millicharge_scan is None
    assert not any("millicharge_limits" in t for t in plan.targets("r", ["png"]))


def test_params_carry_only_what_rules_depend_on(config):
    assert plot_params(config) == {"plots": {"style": "ATLAS", "formats": ["png", "pdf"]}}
    p = compute_params(config, 97.0, True, scan_name="s")
    assert set(p) == {
        "physics",
        "likelihood",
        "target_mass_kg",
        "systematic_regions_kev",
        "scan_name",
    }
    assert compute_params(config, None, False)["systematic_regions_kev"] is None
    assert figure_paths("r", "a_{x}", ["png"]) == ["r/figures/a_{x}.png"]
    assert one_of(["a.b", "c"]) == r"a\.b|c"
    assert one_of([]) == "(?!)"
    # params do not depend on the order of keys in the config file
    assert list(canonical({"b": {"d": 1, "c": 2}, "a": 0})) == ["a", "b"]
    assert list(canonical({"b": {"d": 1, "c": 2}})["b"]) == ["c", "d"]
    shuffled = copy.deepcopy(config)
    shuffled["physics"] = dict(reversed(list(config["physics"].items())))
    assert json.dumps(compute_params(shuffled, 1.0, True)) == json.dumps(
        compute_params(config, 1.0, True)
    )


def test_front_matter(config):
    info = front_matter(config, ["config/config.yaml"])
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    assert info["config_digest"] == hashlib.sha256(text.encode()).hexdigest()
    assert len(info["commit"]) == 40 or info["commit"] == "unknown"
    assert info["analysis"] == "default"
    assert info["configfiles"] == ["config/config.yaml"]
    assert category_of_model("dark_photon_bl") == "Dark photon (B-L)"
