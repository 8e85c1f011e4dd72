"""Mode combined: the real workflow on the tiny XMASS-like analysis and a small synthetic
release (XENONnT-like format), each a module of the workflow (rules <channel>_*)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from external.conftest import LIVETIME_DAYS, MASS_KG, write_release
from wfhelpers import REPO, run_snakemake

from exonu.config import ConfigError, resolve_config

pytestmark = pytest.mark.workflow

RELEASE = "synth-er"
SIGNAL = "magnetic_moment"
#: combination rules (everything else of a combined run is a channel's <channel>_* rule)
COMBINED_RULES = {"combined_limit", "combined_tables", "combined_figure"}


def release_channel_config() -> dict:
    """A small XENONnT-like release analysis (its release_dir comes from release_root)."""
    return {
        "analysis": "synth",
        "mode": "external",
        "release_dir": None,
        "release": {
            "backgrounds": [{"name": "b0", "file": "bkg_model.txt", "tabulation": "histogram"}],
            "exposure": {"fiducial_mass_kg": MASS_KG, "livetime_days": LIVETIME_DAYS},
            "solar_nu": {"replace": True},
            "fit_window_kev": [1.0, 20.0],
        },
        "binning": {
            "energy_kev": {"start": 1.0, "stop": 20.0, "width": 1.0},
            "true_energy_kev": {"start": 0.0, "stop": 30.0, "width": 0.25},
        },
        "signals": [
            {"name": SIGNAL, "model": SIGNAL, "scale": 1e-11, "fit_window_kev": [1.0, 20.0]}
        ],
        "fit": {"likelihood": "poisson", "method": "profile"},
        "plots": {"formats": ["png"]},
    }


def combined_config(channels: list[dict], analysis: str, fluxes: list[str]) -> dict:
    return {
        "analysis": analysis,
        "mode": "combined",
        "release_root": "releases",  # relative to the working directory
        "combination": {"channels": channels, "fluxes": fluxes},
        "physics": {"flux_set": "xmass", "flavour_composition": "xmass"},
        "signals": [{"name": SIGNAL, "model": SIGNAL, "flavour": "all", "scale": 1e-10}],
        "fit": {"method": "profile", "cl": 0.9},
        "plots": {"formats": ["png"]},
    }


def tiny_channel() -> dict:
    # no toys (the combination computes no expected limit); the profile method like the
    # combination, so that the channel's own fit is the same statistics
    return {
        "name": "tiny",
        "config": str(REPO / "config" / "tiny.yaml"),
        "overrides": {"fit": {"expected_toys": 0, "method": "profile"}},
    }


def release_channel(workdir: Path, **over) -> dict:
    return {"name": "synth", "config": str(workdir / "synth.yaml"), "release": RELEASE, **over}


def write_config(path: Path, cfg: dict) -> str:
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def scheduled(output: str) -> set[str]:
    if "Nothing to be done" in output:
        return set()
    table = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    rules = {line.split()[0] for line in table.splitlines()[3:] if line.strip()}
    return rules - {"all", "total"}


@pytest.fixture(scope="module")
def combined_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("combined")
    write_release(workdir / "releases" / RELEASE, seed=3, window=(1.0, 20.0))
    write_config(workdir / "synth.yaml", release_channel_config())
    cfg = combined_config([tiny_channel(), release_channel(workdir)], "combo", ["pp", "be7"])
    path = write_config(workdir / "combined.yaml", cfg)
    proc = run_snakemake(workdir, "--cores", "2", configfile=path)
    if proc.returncode != 0:
        pytest.fail(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return workdir


def test_products_of_a_combination(combined_run: Path) -> None:
    res = combined_run / "results" / "combo"
    for rel in (
        f"fits/{SIGNAL}.json",
        "tables/combined_limits.md",
        "tables/combined_limits.csv",
        "tables/combined_pulls.json",
        "tables/combined_pulls.md",
        "figures/combined_limits.png",
    ):
        assert (res / rel).is_file(), rel
        assert (res / f"{rel}.prov.json").is_file(), rel
    # each channel's workspace under results/<channel analysis>/
    for analysis in ("tiny", "synth"):
        assert (combined_run / "results" / analysis / "workspace.json").is_file()
    doc = json.loads((res / f"fits/{SIGNAL}.json").read_text())
    assert set(doc["channels"]) == {"tiny", "synth"}
    assert doc["upper_limit"] > 0 and doc["valid"]
    assert doc["combination"]["correlate_fluxes"] is True
    assert doc["alternative"]["correlate_fluxes"] is False
    assert {"flux_pp", "flux_be7"} <= set(doc["pulls"])
    # the shared fluxes are one parameter each in the joint fit
    assert "flux_pp" in doc["combination"]["parameters"]
    # the combination is at least as strong as the weaker channel
    assert doc["upper_limit"] <= max(c["upper_limit"] for c in doc["channels"].values())
    table = (res / "tables/combined_limits.csv").read_text()
    assert table.count("\n") == 1 + 4  # header, two channels, shared and per-channel fluxes


def test_one_channel_reproduces_its_own_fit(combined_run: Path) -> None:
    """A combination of the tiny analysis alone, without flux nuisances, is that analysis."""
    cfg = combined_config([tiny_channel()], "one", [])
    path = write_config(combined_run / "one.yaml", cfg)
    own = "results/tiny/fits/magnetic_moment.json"
    proc = run_snakemake(combined_run, "--cores", "2", "all", own, configfile=path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    joint = json.loads((combined_run / "results/one/fits/magnetic_moment.json").read_text())
    single = json.loads((combined_run / own).read_text())
    assert joint["upper_limit"] == pytest.approx(single["upper_limit"], rel=1e-4)
    assert joint["channels"]["tiny"]["upper_limit"] == pytest.approx(
        single["upper_limit"], rel=1e-4
    )
    assert joint["best_fit"] == pytest.approx(single["best_fit"], rel=1e-3, abs=1e-14)


def test_changing_one_channel_reruns_it_and_the_combination_only(
    combined_run: Path, tmp_path: Path
) -> None:
    changed = release_channel_config()
    changed["binning"]["energy_kev"]["width"] = 0.5
    write_config(combined_run / "synth_changed.yaml", changed)
    channel = release_channel(combined_run, config=str(combined_run / "synth_changed.yaml"))
    cfg = combined_config([tiny_channel(), channel], "combo", ["pp", "be7"])
    path = write_config(tmp_path / "combined.yaml", cfg)
    proc = run_snakemake(combined_run, "--dry-run", "--cores", "1", configfile=path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    jobs = scheduled(proc.stdout + proc.stderr)
    assert "synth_external_workspace" in jobs and "combined_limit" in jobs
    assert not {j for j in jobs if j.startswith("tiny_")}, jobs
    assert jobs <= COMBINED_RULES | {j for j in jobs if j.startswith("synth_")}
    # nothing changed: nothing to do
    same = run_snakemake(
        combined_run, "--dry-run", "--cores", "1", configfile=str(combined_run / "combined.yaml")
    )
    assert same.returncode == 0
    assert scheduled(same.stdout + same.stderr) == set()


# --------------------------------------------------------------------------- config errors


def _resolve(tmp_path: Path, cfg: dict) -> None:
    resolve_config([write_config(tmp_path / "c.yaml", cfg)])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["combination"].update(fluxes=["b8"]), "combination.fluxes"),
        (
            lambda c: c["combination"]["channels"].append(dict(c["combination"]["channels"][0])),
            "duplicate channel name",
        ),
        (lambda c: c["combination"]["channels"][0].update(colour=1), "colour"),
        (
            lambda c: c["combination"]["channels"][0]["overrides"].update(fit={"cl": 3}),
            "combination.channels[0]",
        ),
        (lambda c: c.pop("combination"), "combination"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, edit, message: str) -> None:
    cfg = combined_config([tiny_channel()], "combo", ["pp", "be7"])
    edit(cfg)
    with pytest.raises(ConfigError) as err:
        _resolve(tmp_path, cfg)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_release_channel_needs_a_release_dir(tmp_path: Path) -> None:
    write_config(tmp_path / "synth.yaml", release_channel_config())
    cfg = combined_config([release_channel(tmp_path)], "combo", [])
    cfg["release_root"] = None
    with pytest.raises(ConfigError, match=r"combination.channels\[0\].*release_dir"):
        _resolve(tmp_path, cfg)
