"""Mode combined, the products of the combination (workflow/rules/combined_products.smk):
overlaid profile curves, pulls and impacts, the multi-channel pyhf export and HEPData, on a
real run of the tiny XMASS-like analysis and a small synthetic release (the channels of
tests/workflow/test_combined.py)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from external.conftest import write_release
from wfhelpers import run_snakemake

from workflow.test_combined import (
    RELEASE,
    SIGNAL,
    combined_config,
    release_channel,
    release_channel_config,
    tiny_channel,
    write_config,
)

pytestmark = pytest.mark.workflow

ANALYSIS = "combo"
FLUXES = ["pp", "be7"]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("combined_products")
    write_release(workdir / "releases" / RELEASE, seed=3, window=(1.0, 20.0))
    write_config(workdir / "synth.yaml", release_channel_config())
    cfg = combined_config([tiny_channel(), release_channel(workdir)], ANALYSIS, FLUXES)
    cfg.pop("scans", None)  # the products are per combined signal; no scans, no toys
    cfg["fit"].pop("expected_toys", None)
    path = write_config(workdir / "combined.yaml", cfg)
    proc = run_snakemake(workdir, "--cores", "2", configfile=path)
    if proc.returncode != 0:
        pytest.fail(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return workdir


def _res(run: Path) -> Path:
    return run / "results" / ANALYSIS


def _read(path: Path) -> dict:
    return json.loads(path.read_text())


def test_products_exist_with_provenance(run: Path) -> None:
    res = _res(run)
    for rel in (
        f"products/combined_curves_{SIGNAL}.json",
        f"figures/combined_curves_{SIGNAL}.png",
        f"products/combined_impacts_{SIGNAL}.json",
        f"figures/combined_impacts_{SIGNAL}.png",
        f"tables/combined_impacts_{SIGNAL}.md",
        f"tables/combined_impacts_{SIGNAL}.csv",
        f"products/pyhf_{SIGNAL}.json",
        f"products/pyhf_{SIGNAL}.meta.json",
        "products/hepdata/submission.tar.gz",
        "products/hepdata/submission.json",
    ):
        assert (res / rel).is_file(), rel
        prov = _read(res / f"{rel}.prov.json")
        assert prov["rule"].startswith("combined_"), (rel, prov["rule"])
        assert prov["inputs"], rel


def test_curves_minima_are_the_fits(run: Path) -> None:
    res = _res(run)
    doc = _read(res / f"products/combined_curves_{SIGNAL}.json")
    fit = _read(res / f"fits/{SIGNAL}.json")
    kinds = [c["kind"] for c in doc["curves"]]
    assert kinds == ["channel", "channel", "combined", "alternative"]
    assert [c["label"] for c in doc["curves"][:2]] == ["tiny", "synth"]  # config order
    assert set(fit["channels"]) == {"tiny", "synth"}
    assert doc["threshold"] == pytest.approx(2.7055, abs=1e-4)
    for c in doc["curves"]:
        assert c["valid"], c["label"]
        assert min(c["delta_chi2"]) == pytest.approx(0.0, abs=1e-6)
        limit = (
            fit["channels"][c["label"]]
            if c["kind"] == "channel"
            else (fit if c["kind"] == "combined" else fit["alternative"])
        )
        # the same model and fitter: the same minimum and the same 90 % CL crossing
        assert c["best_fit"] == pytest.approx(c["fit_best_fit"], abs=1e-3 * limit["upper_limit"])
        assert c["best_fit"] == pytest.approx(limit["best_fit"], abs=1e-3 * limit["upper_limit"])
        assert c["upper_crossing"] == pytest.approx(limit["upper_limit"], rel=2e-3)
        # the curve reaches beyond the threshold
        assert max(c["delta_chi2"]) > doc["threshold"]


def test_combination_of_two_copies_is_narrower(run: Path, monkeypatch) -> None:
    """Constructed case: the release channel combined with a copy of itself (shared fluxes)
    has twice its Δχ², so its 90 % CL interval is narrower than the channel's."""
    from exonu.config import combination_channels, resolve_config
    from exonu.products.combined_exports import profile_curves
    from exonu.stages.combined import channel_files, combined_params
    from exonu.stages.combined_products import _models, _workspaces

    monkeypatch.chdir(run)  # release_root and the results are relative to the run
    cfg = resolve_config([str(run / "combined.yaml")]).config
    channels = combination_channels(cfg)
    params = combined_params(cfg, channels)
    workspaces, responses = channel_files(channels)
    k = [c["name"] for c in params["channels"]].index("synth")
    ch = params["channels"][k]
    twin = {**params, "channels": [ch, {**ch, "name": "synth2"}], "compare_decorrelated": False}
    channel_ws = _workspaces(twin, [workspaces[k]] * 2, [responses[k]] * 2, SIGNAL)
    models, comb, other = _models(twin, channel_ws, SIGNAL)
    assert other is None
    single, double = profile_curves(
        [("synth", "channel", models[0][1]), ("twice", "combined", comb)], SIGNAL, n_points=11
    )["curves"]
    assert double["upper_crossing"] < single["upper_crossing"]
    # the channel alone is the channel of the combination run
    fit = _read(_res(run) / f"fits/{SIGNAL}.json")
    assert single["upper_crossing"] == pytest.approx(
        fit["channels"]["synth"]["upper_limit"], rel=2e-3
    )


def test_impacts(run: Path) -> None:
    res = _res(run)
    doc = _read(res / f"products/combined_impacts_{SIGNAL}.json")
    names = [r["name"] for r in doc["nuisances"]]
    assert {"flux_pp", "flux_be7"} <= set(names)
    pulls = _read(res / "tables/combined_pulls.json")[SIGNAL]
    # the same constrained nuisances, pulls and constraints as the joint fit's pull table
    assert set(names) == set(pulls)
    for r in doc["nuisances"]:
        p = pulls[r["name"]]
        assert r["constraint"] == pytest.approx(p["constraint"], rel=0.05, abs=0.02), r["name"]
        if p["pull"] is not None:
            assert r["pull"] == pytest.approx(p["pull"], abs=0.05), r["name"]
    impacts = [r["impact"] for r in doc["nuisances"]]
    assert impacts == sorted(impacts, reverse=True) and impacts[0] > 0
    assert doc["upper_limit"] == pytest.approx(
        _read(res / f"fits/{SIGNAL}.json")["upper_limit"], rel=2e-3
    )
    csv = (res / f"tables/combined_impacts_{SIGNAL}.csv").read_text().splitlines()
    assert csv[0].startswith("rank,channel,parameter") and len(csv) == 1 + min(len(names), 20)
    assert "ranked by the UL shift" in (res / f"tables/combined_impacts_{SIGNAL}.md").read_text()


def test_pyhf_export_of_the_run(run: Path) -> None:
    pyhf = pytest.importorskip("pyhf")
    res = _res(run)
    spec = _read(res / f"products/pyhf_{SIGNAL}.json")
    meta = _read(res / f"products/pyhf_{SIGNAL}.meta.json")
    model = pyhf.Workspace(spec).model()
    assert {"tiny", "synth"} <= set(model.config.channels)
    for src in FLUXES:
        where = {
            c["name"]
            for c in spec["channels"]
            for s in c["samples"]
            for m in s["modifiers"]
            if m["name"] == f"flux_{src}"
        }
        assert where == {"tiny", "synth"}, src
    ref = meta["exonu_reference"]
    assert ref["likelihood"] == "poisson" and ref["upper_limit"] > 0 and ref["valid"]
    assert [c["channel"] for c in meta["channels"]] == ["tiny", "synth"]


def test_hepdata(run: Path) -> None:
    res = _res(run)
    record = _read(res / "products/hepdata/submission.json")
    assert record["valid"]
    assert record["tables"][0] == "Combined limits"
    assert len(record["tables"]) == 1 + 4  # one curve per channel and flux correlation
    assert {i["path"] for i in record["inputs"]} >= {f"results/{ANALYSIS}/fits/{SIGNAL}.json"}
    with tarfile.open(res / "products/hepdata/submission.tar.gz") as tar:
        text = "".join(
            tar.extractfile(m).read().decode()
            for m in tar.getmembers()
            if m.isfile() and m.name.endswith(".yaml")
        )
    assert "Produced by exonu" in text and "tiny (" in text
