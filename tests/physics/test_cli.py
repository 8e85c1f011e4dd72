"""The ``exonu rate`` subcommand (through exonu.rate_cli.main and ``python -m``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from exonu.physics import PhysicsSettings, signal_basis, standard_model_rate
from exonu.rate_cli import main, parse_energies


def test_json_output(capsys):
    argv = [
        "rate",
        "magnetic_moment",
        "--param",
        "mu_nu=1e-10",
        "--flavour",
        "all",
        "--atomic",
        "stepping",
        "--energies-kev",
        "1,2,5,10",
        "--json",
    ]
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["energy_kev"] == [1.0, 2.0, 5.0, 10.0]
    assert document["units"] == "events/(tonne*year*keV)"
    assert document["params"] == {"mu_nu": 1e-10}
    t = np.array([1.0, 2.0, 5.0, 10.0])
    np.testing.assert_allclose(document["sm"], standard_model_rate(t), rtol=1e-14)
    expected = signal_basis("magnetic_moment", t).excess(1e-10)
    np.testing.assert_allclose(document["exotic_excess"], expected, rtol=1e-14)
    assert PhysicsSettings.from_mapping(document["settings"]) == PhysicsSettings()


def test_table_output_and_options(capsys):
    argv = [
        "rate",
        "millicharge",
        "--param",
        "q_nu=2e-12",
        "--treatment",
        "pure",
        "--flavour",
        "e",
        "--flux-set",
        "b16_gs98",
        "--composition",
        "msw",
        "--energies-kev",
        "2:4:1",
    ]
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5 and lines[0].startswith("# millicharge")


@pytest.mark.parametrize(
    "argv",
    [
        ["rate", "vector", "--param", "g=1e-6"],
        ["rate", "vector", "--param", "mu_nu=1e-6", "--mediator-mass-mev", "0.01"],
        ["rate", "magnetic_moment", "--energies-kev", "1,a"],
        ["rate", "magnetic_moment", "--atomic", "epa"],
    ],
)
def test_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "exonu rate: error:" in capsys.readouterr().err


def test_parse_energies():
    np.testing.assert_allclose(parse_energies("1:2:0.25"), [1.0, 1.25, 1.5, 1.75, 2.0])


def test_plot(tmp_path, capsys):
    out = tmp_path / "bl.png"
    argv = [
        "rate",
        "dark_photon_bl",
        "--param",
        "g_bl=1e-6",
        "--mediator-mass-mev",
        "1e-3",
        "--energies-kev",
        "1,250",
        "--plot",
        str(out),
        "--json",
    ]
    assert main(argv) == 0
    assert out.stat().st_size > 10_000
    assert json.loads(capsys.readouterr().out)["plot"] == str(out)


def test_module_entry_point_help():
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "exonu.rate_cli", "rate", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    for name in ("mu_nu", "q_nu", "r2", "g_bl", "--treatment", "--mediator-mass-mev"):
        assert name in result.stdout


def test_through_the_exonu_command(capsys):
    exonu_cli = pytest.importorskip("exonu.cli")
    argv = ["rate", "charge_radius", "--param", "r2=-2e-31", "--flavour", "mu", "--json"]
    argv += ["--energies-kev", "5"]
    assert exonu_cli.main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    expected = signal_basis("charge_radius", [5.0], flavour="mu").excess(-2e-31)
    np.testing.assert_allclose(document["exotic_excess"], expected, rtol=1e-14)
