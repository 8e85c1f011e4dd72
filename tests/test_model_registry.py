"""Adding an interaction model is one registry entry plus its cross-section function.

A toy model — a flavour-universal vector contact interaction that shifts g_V by ε (an NSI-like
coupling, powers 1 and 2 in ε) — is registered with :func:`exonu.physics.register_model` and
nothing else. It then goes through everything a built-in model goes through: ``exonu rate``
(the CLI's ``main``, in this process), the config schema (signals, scans), a signal folded
into a workspace and its limit, and the labels of tables, figures, HEPData and the report.
The fixture unregisters it, so the other tests see the built-in registry.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from exonu.config import DEFAULT_CONFIG, ConfigError, load_schema, read_config_file, validate_config
from exonu.physics import (
    MODELS,
    Labels,
    ModelInfo,
    PhysicsError,
    differential_rate,
    register_model,
    signal_basis,
    standard_model_rate,
    unregister_model,
)
from exonu.physics.constants import G_F_MEV2
from exonu.physics.cross_sections import weak_cross_section

NAME = "contact_vector"
EPS = 0.03  # the toy's parameter ε in the tests (dimensionless, a shift of g_V)


def contact_cross_section(
    recoil_kev, neutrino_mev, value, *, flavour, g_v, g_a, mediator_mass_mev, treatment
):
    """dσ/dT(g_V + ε) − dσ/dT(g_V): the weak cross section with the shifted vector coupling."""
    return weak_cross_section(recoil_kev, neutrino_mev, g_v + value, g_a) - weak_cross_section(
        recoil_kev, neutrino_mev, g_v, g_a
    )


TOY = ModelInfo(
    NAME,
    "eps",
    "1",
    "toy vector contact interaction, g_V shift ε",
    {None: (1, 2)},
    reference_value=0.05,
    symbol=Labels("ε_V", r"\varepsilon_V", r"$\varepsilon_{\nu}$"),
    title="vector contact interaction",
    category="Contact interaction",
)


@pytest.fixture
def toy():
    """The toy model, registered for one test and removed afterwards."""
    info = register_model(TOY, cross_section=contact_cross_section)
    try:
        yield info
    finally:
        unregister_model(NAME)
    assert NAME not in MODELS


def test_exonu_rate_computes_the_registered_model(toy, capsys):
    from exonu.cli import main

    energies = [1.0, 2.0, 5.0, 10.0, 50.0]
    argv = ["rate", NAME, "--param", f"eps={EPS}", "--energies-kev", "1,2,5,10,50", "--json"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] == NAME and doc["params"] == {"eps": EPS} and doc["unit"] == "1"
    excess = np.asarray(doc["exotic_excess"])
    # the polynomial basis (from the cross section) equals the rate computed directly
    direct = differential_rate(NAME, energies, {"eps": EPS}) - standard_model_rate(energies)
    np.testing.assert_allclose(excess, direct, rtol=1e-9)
    # physics check: a heavy vector mediator is the same contact interaction,
    # ε = g²/(√2 G_F M²) up to 2m_eT/M² (~1e-9 here)
    mass = 1e4
    g = math.sqrt(EPS * math.sqrt(2.0) * G_F_MEV2 * mass**2)
    heavy = signal_basis("vector", energies, mediator_mass_mev=mass).excess(g)
    np.testing.assert_allclose(excess, heavy, rtol=1e-6)
    # interference: ε changes sign, the linear term changes the excess
    basis = signal_basis(NAME, energies)
    assert basis.powers == (1, 2)
    assert not np.allclose(basis.excess(EPS), basis.excess(-EPS))
    # the rate help lists it with its parameter (built from the registry)
    with pytest.raises(SystemExit):
        main(["rate", "--help"])
    assert f"{NAME:15s} eps [1], powers 1/2" in capsys.readouterr().out


def test_config_accepts_the_registered_model(toy):
    schema = load_schema()
    assert NAME in schema["definitions"]["model"]["enum"]
    cfg = read_config_file(DEFAULT_CONFIG)
    cfg["signals"] = [*cfg["signals"], {"name": "contact", "model": NAME, "flavour": "e"}]
    cfg["scans"] = {"contact": {"model": NAME, "flavours": ["all", "e"]}}
    out = validate_config(cfg)
    assert out["signals"][-1]["model"] == NAME
    # no mediator: masses are refused, as for every model without needs_mass
    cfg["scans"]["contact"]["masses_mev"] = [1.0]
    with pytest.raises(ConfigError, match=r"scans.contact.masses_mev': model 'contact_vector' has"):
        validate_config(cfg)


def test_an_unregistered_model_is_not_a_config_value():
    cfg = read_config_file(DEFAULT_CONFIG)
    cfg["signals"] = [{"name": "contact", "model": NAME}]
    with pytest.raises(ConfigError, match=r"signals\[0\].model': 'contact_vector' is not one of"):
        validate_config(cfg)


def test_workspace_and_limit_of_the_registered_model(toy, tmp_path, capsys):
    from exonu.cli import main
    from exonu.detector.folding import Response
    from exonu.stages.scans import run_hypotheses
    from exonu.stats.synthetic import make_synthetic_workspace
    from exonu.templates.hypotheses import (
        ResponseFile,
        hypotheses,
        hypothesis_spectrum,
        hypothesis_workspace,
    )
    from exonu.templates.signals import signal_workspace_entry

    base = make_synthetic_workspace(
        n_bins=20, n_backgrounds=3, n_systematics=1, signals=(), counts_per_bin=200.0
    )
    edges = np.asarray(base.edges_kev)
    n = edges.size - 1
    response = ResponseFile(
        Response(edges, edges, np.eye(n), np.zeros((n, n))), 1000.0, 3.156e7, "diagonal"
    )
    physics = {"flux_set": "xmass", "flavour_composition": "xmass", "atomic_model": "stepping"}
    window = [float(edges[0]), float(edges[-1])]
    scan = {"model": NAME, "flavours": ["all"], "fit_window_kev": window}
    fit = {"likelihood": "chi2", "method": "profile", "cl": 0.9}
    (result,) = run_hypotheses(
        base, response, physics, hypotheses("contact", scan), fit, window_check=False
    )
    assert result["hypothesis"] == "contact" and result["unit"] == "1"
    assert result["parameter"] == "eps"
    assert math.isfinite(result["upper_limit"]) and result["upper_limit"] > 0
    # both signs of ε are tested (odd power): a two-sided interval around the SM
    assert result["lower_limit"] is not None and result["lower_limit"] < 0 < result["upper_limit"]

    # the same signal as a workspace file, summarised by `exonu workspace`
    spec = {"name": "contact", "model": NAME, "flavour": "all", "scale": 0.05}
    spectrum = hypothesis_spectrum(spec, physics, edges)
    entry = signal_workspace_entry(
        {**spec, "fit_window_kev": window, "free_backgrounds": []},
        spectrum,
        response.response,
        response.target_mass_kg,
        response.livetime_s,
    )
    path = tmp_path / "workspace.json"
    path.write_text(json.dumps(hypothesis_workspace(base, entry).to_dict()))
    assert main(["workspace", str(path)]) == 0
    assert (
        f"contact                  {NAME} (all), eps in 1, powers [1, 2]" in capsys.readouterr().out
    )


def test_products_label_the_registered_model(toy):
    from exonu.products.external_tables import _column_label
    from exonu.products.hepdata import _unit
    from exonu.products.report import category_of_model
    from exonu.products.style import model_title, parameter_label

    row = {"model": NAME, "parameter": "eps", "treatment": None}
    assert _column_label(row, False, tex=False) == "ε_V"
    assert _column_label(row, False, tex=True) == r"$\varepsilon_V$"
    assert parameter_label(NAME) == r"$\varepsilon_{\nu}$"
    assert parameter_label(NAME, "mu") == r"$\varepsilon_{\nu_\mu}$"
    assert model_title(NAME) == "vector contact interaction"
    assert category_of_model(NAME) == "Contact interaction"
    assert _unit(toy.unit) == ""  # dimensionless: no HEPData unit


def test_registration_is_checked():
    with pytest.raises(PhysicsError, match="exists"):
        register_model(MODELS["vector"], cross_section=contact_cross_section)
    with pytest.raises(PhysicsError, match="cross-section function"):
        register_model(TOY)
    with pytest.raises(PhysicsError, match="treatments"):
        register_model(
            ModelInfo(NAME, "eps", "1", "toy", {"a": (1,)}), cross_section=contact_cross_section
        )
    with pytest.raises(PhysicsError, match="unit 'GeV' has no labels"):
        register_model(
            ModelInfo(NAME, "eps", "GeV", "toy", {None: (2,)}), cross_section=contact_cross_section
        )
    with pytest.raises(PhysicsError, match="built-in"):
        unregister_model("vector")
    assert NAME not in MODELS
