"""Mode combined: the real workflow on the tiny XMASS-like analysis and a small synthetic
release (XENONnT-like format), each a module of the workflow (rules <channel>_*)."""

from __future__ import annotations

import csv
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
#: a combined scan of three dark-photon masses, in two shards (imposed on every channel)
SCAN = "dark_photon_bl"
SCAN_CONFIG = {"model": SCAN, "flavours": ["all"], "masses_mev": [0.01, 1.0, 100.0], "n_shards": 2}


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
        "scans": {SCAN: dict(SCAN_CONFIG)},
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
    cfg["fit"].update(expected_toys=6, expected_shards=2)  # expected bands from 6 toys
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
    # each channel's workspace under results/<combination>_<channel>/
    for analysis in ("combo_tiny", "combo_synth"):
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
    own = "results/one_tiny/fits/magnetic_moment.json"  # the channel's own fit
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
    assert all(j.startswith(("combined_", "synth_")) for j in jobs), jobs
    # nothing changed: nothing to do
    same = run_snakemake(
        combined_run, "--dry-run", "--cores", "1", configfile=str(combined_run / "combined.yaml")
    )
    assert same.returncode == 0
    assert scheduled(same.stdout + same.stderr) == set()


def test_expected_bands_of_the_combination_and_its_channels(combined_run: Path) -> None:
    res = combined_run / "results" / "combo"
    doc = json.loads((res / f"fits/{SIGNAL}.json").read_text())
    for result in (doc, *doc["channels"].values()):
        exp = result["expected"]
        assert exp["n_toys"] == 6 and exp["n_failed"] == 0
        assert exp["minus2"] <= exp["minus1"] <= exp["median"] <= exp["plus1"] <= exp["plus2"]
        assert exp["median"] > 0
    # the toys of the combination and of each channel are seeded from names (recorded)
    shard = json.loads((res / f"expected/{SIGNAL}/shard_000.json").read_text())
    seeds = {shard["combined"]["seed"], *(c["seed"] for c in shard["channels"].values())}
    assert len(seeds) == 3
    prov = json.loads((res / f"expected/{SIGNAL}/shard_000.json.prov.json").read_text())
    assert seeds <= set(prov["seeds"])
    with (res / "tables/combined_limits.csv").open() as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        configured = r["channel"] != "combined" or r["fluxes"] == "shared"
        assert bool(r["expected_median"]) == configured, r


def test_combined_scan(combined_run: Path) -> None:
    from exonu.templates.hypotheses import hypotheses

    res = combined_run / "results" / "combo"
    names = [h.name for h in hypotheses(SCAN, {**SCAN_CONFIG, "fit_window_kev": [1.0, 20.0]})]
    merged = json.loads((res / f"scans/{SCAN}.json").read_text())
    assert [r["hypothesis"] for r in merged["results"]] == names
    for name in names:
        doc = json.loads((res / f"limits/{name}.json").read_text())
        assert doc["upper_limit"] > 0 and doc["valid"]
        assert set(doc["channels"]) == {"tiny", "synth"}
        assert doc["parameter"] == merged["results"][0]["parameter"]
    table = (res / f"tables/{SCAN}_channels.csv").read_text().splitlines()
    assert table[0].split(",")[-3:] == ["tiny", "synth", "combined"]
    assert len(table) == 1 + len(names)
    assert (res / f"tables/{SCAN}.md").is_file()


def test_one_channel_combined_scan_is_the_channels_own_scan(combined_run: Path) -> None:
    """The scan of a combination of the tiny analysis alone (no flux nuisances) gives the
    limits of that analysis's own scan (its module's scan rules, the same imposed scan)."""
    cfg = combined_config([tiny_channel()], "one", [])
    path = write_config(combined_run / "one.yaml", cfg)
    own = f"results/one_tiny/scans/{SCAN}.json"
    proc = run_snakemake(
        combined_run, "--cores", "2", f"results/one/scans/{SCAN}.json", own, configfile=path
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    joint = json.loads((combined_run / f"results/one/scans/{SCAN}.json").read_text())
    single = json.loads((combined_run / own).read_text())
    assert len(joint["results"]) == len(single["results"]) == 3
    for j, s in zip(joint["results"], single["results"], strict=True):
        assert j["hypothesis"] == s["hypothesis"]
        assert j["upper_limit"] == pytest.approx(s["upper_limit"], rel=1e-4)
        assert j["channels"]["tiny"]["upper_limit"] == pytest.approx(s["upper_limit"], rel=1e-4)


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


def test_channel_analysis_names(tmp_path: Path) -> None:
    """A channel writes to results/<combination>_<channel>/ unless its entry names an
    analysis; the combined scans replace the channel's own, in the channel's fit window."""
    from exonu.config import combination_channels

    named = {**tiny_channel(), "name": "named", "analysis": "tiny"}
    cfg = combined_config([tiny_channel(), named], "combo", [])
    resolved = resolve_config([write_config(tmp_path / "c.yaml", cfg)]).config
    channels = combination_channels(resolved)
    assert {k: v["analysis"] for k, v in channels.items()} == {
        "tiny": "combo_tiny",
        "named": "tiny",
    }
    scans = channels["tiny"]["scans"]
    assert set(scans) == {SCAN}
    assert scans[SCAN]["fit_window_kev"] == channels["tiny"]["signals"][0]["fit_window_kev"]
