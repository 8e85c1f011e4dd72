"""Bad input through the real workflow (issue 9): every case is a real ``snakemake`` run
that must exit non-zero with one clear line naming the file or config key and what was
expected, and leave no partial output in results/.

Event files enter the workflow through ``inputs.event_files`` (the user's own files
instead of the simulation); the good files the bad ones are made from are written by the
real generator (:func:`exonu.sim.simulate_chunk`) with config/tiny.yaml.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import uproot
import yaml
from wfhelpers import REPO, run_snakemake

from exonu.config import load_config
from exonu.io.root import META_NAME, TREE_NAME, read_events, read_meta
from exonu.selection.kernels import INVALID_REASONS
from exonu.sim import simulate_chunk

TINY = REPO / "config" / "tiny.yaml"
DATA_HIST = "results/tiny/hists/data.root"


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def good_files(tmp_path_factory) -> list[Path]:
    """Two data chunks of the tiny analysis, written by the real generator."""
    cfg = load_config(TINY)
    out = tmp_path_factory.mktemp("good")
    files = []
    for chunk in range(2):
        path = out / f"data_{chunk:03d}.root"
        simulate_chunk(
            cfg["simulation"], cfg["detector"], "data", "data", chunk, path, cfg["physics"]
        )
        files.append(path)
    return files


def write_raw(path: Path, arrays: dict[str, np.ndarray], meta_text: str | None) -> Path:
    """An event file written directly with uproot (no checks), e.g. with a bad branch."""
    with uproot.recreate(path) as fout:
        if meta_text is not None:
            fout[META_NAME] = meta_text
        fout.mktree(TREE_NAME, {k: v.dtype for k, v in arrays.items()})
        if len(next(iter(arrays.values()))):
            fout[TREE_NAME].extend(arrays)
    return path


def run_with_inputs(workdir: Path, event_files: dict, *args: str, extra: dict | None = None):
    """snakemake on config/tiny.yaml plus ``inputs.event_files`` (and ``extra`` keys)."""
    over = {"inputs": {"event_files": {k: [str(p) for p in v] for k, v in event_files.items()}}}
    over.update(extra or {})
    cfg = workdir / "inputs.yaml"
    cfg.write_text(yaml.safe_dump(over))
    return run_snakemake(
        workdir, "--cores", "2", *args, configfile=[str(TINY), str(cfg)], timeout=600
    )


def error_line(proc, pattern: str) -> str:
    """The one line of the run's output matching ``pattern`` (the error the user reads)."""
    text = proc.stdout + proc.stderr
    for line in text.splitlines():
        if re.search(pattern, line):
            return line
    raise AssertionError(f"no line matches {pattern!r} in:\n{text[-4000:]}")


def assert_no_partial_outputs(workdir: Path) -> None:
    """Every file left in results/ is a complete output of a successful job: it has its
    provenance sidecar (written only when a job succeeds); logs excepted; no temp files."""
    results = workdir / "results"
    if not results.exists():
        return
    for f in results.rglob("*"):
        if not f.is_file() or "logs" in f.relative_to(results).parts:
            continue
        assert not f.name.endswith(".tmp"), f"temporary file left behind: {f}"
        if f.name.endswith(".prov.json"):
            continue
        assert f.with_name(f.name + ".prov.json").exists(), f"partial output left: {f}"


# --------------------------------------------------------------------------- ROOT files


def _truncated(good, tmp):
    data = good[0].read_bytes()  # a transfer cut short
    (tmp / "truncated.root").write_bytes(data[: int(0.6 * len(data))])
    return [tmp / "truncated.root"], ("truncated.root", r"truncated ROOT file")


def _not_root(good, tmp):
    (tmp / "notroot.root").write_text("run,event,npe\n1,1,42\n")
    return [tmp / "notroot.root"], ("notroot.root", r"not a readable ROOT file")


def _events(good):
    return read_events(good[0]), read_meta(good[0])


def _empty_tree(good, tmp):
    ev, meta = _events(good)
    write_raw(tmp / "empty.root", {k: v[:0] for k, v in ev.items()}, meta.to_json())
    return [tmp / "empty.root"], ("empty.root", r"tree 'events' has no entries")


def _missing_branch(good, tmp):
    ev, meta = _events(good)
    ev.pop("r_timing_cm")
    write_raw(tmp / "nobranch.root", ev, meta.to_json())
    return [tmp / "nobranch.root"], ("nobranch.root", r"branch 'r_timing_cm' missing")


def _wrong_type(good, tmp):
    ev, meta = _events(good)
    ev["r_pe_cm"] = ev["r_pe_cm"].astype(np.int32)
    write_raw(tmp / "wrongtype.root", ev, meta.to_json())
    return [tmp / "wrongtype.root"], (
        "wrongtype.root",
        r"branch 'r_pe_cm' has type int32_t, expected a floating-point number",
    )


def _no_meta(good, tmp):
    ev, _meta = _events(good)
    write_raw(tmp / "nometa.root", ev, None)
    return [tmp / "nometa.root"], ("nometa.root", r"no 'exonu_meta' metadata string")


def _bad_meta(good, tmp):
    ev, _meta = _events(good)
    write_raw(tmp / "badmeta.root", ev, '{"kind": "data", "sample": ')
    return [tmp / "badmeta.root"], ("badmeta.root", r"'exonu_meta' is not valid JSON")


def _same_seed(good, tmp):
    copy = tmp / "data_copy.root"
    shutil.copy(good[0], copy)
    return [good[0], copy], ("data_copy.root", r"same sample 'data' and seed \d+ as")


ROOT_CASES = {
    "truncated": _truncated,
    "not_root": _not_root,
    "empty_tree": _empty_tree,
    "missing_branch": _missing_branch,
    "wrong_type": _wrong_type,
    "missing_meta": _no_meta,
    "malformed_meta": _bad_meta,
    "same_sample_and_seed": _same_seed,
}


@pytest.mark.parametrize("case", sorted(ROOT_CASES))
def test_bad_event_file_stops_the_workflow(tmp_path, good_files, case):
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    files, (name, message) = ROOT_CASES[case](good_files, bad_dir)
    work = tmp_path / "work"
    work.mkdir()
    proc = run_with_inputs(work, {"data": files}, DATA_HIST)
    assert proc.returncode != 0
    line = error_line(proc, message)
    assert name in line  # the file is named on the same line
    assert_no_partial_outputs(work)
    assert not (work / DATA_HIST).exists()


def test_data_file_listed_as_monte_carlo(tmp_path, good_files):
    proc = run_with_inputs(tmp_path, {"cu_pb210": good_files}, "results/tiny/hists/cu_pb210.root")
    assert proc.returncode != 0
    line = error_line(proc, r"file is kind 'data' .* listed as Monte Carlo")
    assert good_files[0].name in line and "inputs.event_files.cu_pb210" in line
    assert_no_partial_outputs(tmp_path)
    assert not (tmp_path / "results/tiny/hists/cu_pb210.root").exists()


def test_good_files_are_read_instead_of_simulated(tmp_path, good_files):
    proc = run_with_inputs(tmp_path, {"data": good_files}, DATA_HIST)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not (tmp_path / "results/tiny/events/data").exists()  # nothing simulated
    manifest = json.loads((tmp_path / "results/tiny/inputs/data.json").read_text())
    assert [Path(f["path"]).name for f in manifest["files"]] == [p.name for p in good_files]
    cut = json.loads((tmp_path / "results/tiny/tables/cutflow/data.json").read_text())
    n = sum(len(read_events(p)["npe"]) for p in good_files)
    assert cut["cutflow"][0]["passed"] == n
    assert_no_partial_outputs(tmp_path)
    # the user's files have no sidecars: their seeds are recorded by the jobs reading them
    prov = tmp_path / "results/tiny/selection/data/chunk_001.root.prov.json"
    assert read_meta(good_files[1]).seed in json.loads(prov.read_text())["seeds"]


# --------------------------------------------------------------------------- values


def _with_bad_values(good: Path, path: Path, per_reason: int = 50) -> dict[str, int]:
    """A copy of a good data file with NaN/inf/negative/out-of-detector values; the number
    of events made invalid per reason (and ``_n``, the number of events)."""
    ev, meta = read_events(good), read_meta(good)
    n = len(ev["npe"])
    rng = np.random.default_rng(20261121)
    idx = rng.choice(n, size=4 * per_reason, replace=False).reshape(4, per_reason)
    ev["npe"][idx[0]] = np.nan
    ev["r_pe_cm"][idx[1]] = np.inf
    ev["npe"][idx[2]] = -5.0
    ev["r_timing_cm"][idx[3]] = 80.0  # outside the 41 cm detector
    write_raw(path, ev, meta.to_json())
    return {
        "npe_not_finite": per_reason,
        "r_pe_not_finite": per_reason,
        "npe_negative": per_reason,
        "radius_outside_detector": per_reason,
        "_n": n,
    }


def test_bad_values_above_the_threshold_fail_naming_the_key(tmp_path, good_files):
    bad = tmp_path / "values.root"
    expected = _with_bad_values(good_files[0], bad)
    n_bad = sum(v for k, v in expected.items() if not k.startswith("_"))
    assert n_bad / expected["_n"] > 0.001  # above the default max_invalid_fraction
    work = tmp_path / "work"
    work.mkdir()
    proc = run_with_inputs(work, {"data": [bad]}, DATA_HIST)
    assert proc.returncode != 0
    line = error_line(proc, r"selection\.max_invalid_fraction = 0\.001")
    assert "values.root" in line and f"{n_bad} of {expected['_n']} events" in line
    assert f"npe_not_finite {expected['npe_not_finite']}" in line
    assert_no_partial_outputs(work)


def test_bad_values_below_the_threshold_are_counted_not_dropped(tmp_path, good_files):
    bad = tmp_path / "values.root"
    expected = _with_bad_values(good_files[0], bad)
    work = tmp_path / "work"
    work.mkdir()
    proc = run_with_inputs(
        work, {"data": [bad]}, DATA_HIST, extra={"selection": {"max_invalid_fraction": 0.05}}
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    cut = json.loads((work / "results/tiny/tables/cutflow/data.json").read_text())
    assert cut["cutflow"][0]["passed"] == expected["_n"]  # read, including the invalid ones
    for reason in INVALID_REASONS:
        assert cut["invalid"][reason] == expected.get(reason, 0), reason
    log = (work / "results/tiny/logs/select/data_000.log").read_text()
    assert "invalid events counted in the cut flow" in log


# --------------------------------------------------------------------------- config


def _nested(path: str, value):
    out: dict = {}
    node = out
    keys = path.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value
    return out


CONFIG_CASES = [
    # (name, override, pattern of the error line)
    (
        "misspelled_key",
        {"selection": {"r_pe_max": 20.0}},
        r"unknown config key 'selection\.r_pe_max'",
    ),
    ("wrong_type", _nested("simulation.n_chunks", "two"), r"'simulation\.n_chunks'.*not of type"),
    (
        "empty_window",
        _nested("selection.energy_window_kev", [10.0, 10.0]),
        r"'selection\.energy_window_kev': empty window",
    ),
    (
        "decreasing_edges",
        _nested("binning.energy_kev", [2.0, 5.0, 4.0, 10.0]),
        r"'binning\.energy_kev'.*increas",
    ),
    (
        "fit_window_outside_binning",
        {
            "signals": [
                {
                    "name": "mm",
                    "model": "magnetic_moment",
                    "scale": 1e-10,
                    "fit_window_kev": [1.0, 300.0],
                }
            ]
        },
        r"'signals\[0\]\.fit_window_kev'.*must lie inside binning\.energy_kev",
    ),
    (
        "unknown_model",
        {"signals": [{"name": "mm", "model": "magnetic_monopole", "scale": 1e-10}]},
        r"'signals\[0\]\.model'.*magnetic_monopole",
    ),
    (
        "unknown_flavour",
        {
            "signals": [
                {"name": "mm", "model": "magnetic_moment", "flavour": "sterile", "scale": 1e-10}
            ]
        },
        r"'signals\[0\]\.flavour'.*sterile",
    ),
    (
        "zero_scan_shards",
        {"scans": {"mm": {"model": "magnetic_moment", "flavours": ["all"], "n_shards": 0}}},
        r"'scans\.mm\.n_shards'.*minimum of 1",
    ),
    ("zero_toy_shards", _nested("fit.expected_shards", 0), r"'fit\.expected_shards'.*minimum of 1"),
    (
        "unknown_input_sample",
        {"inputs": {"event_files": {"dataa": ["x.root"]}}},
        r"'inputs\.event_files\.dataa'.*not a sample of this analysis",
    ),
    (
        "input_pattern_matches_nothing",
        {"inputs": {"event_files": {"data": ["/nonexistent/*.root"]}}},
        r"'inputs\.event_files\.data': no file matches '/nonexistent/\*\.root'",
    ),
]


@pytest.mark.parametrize("name,override,pattern", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_bad_config_fails_before_any_job(tmp_path, name, override, pattern):
    cfg = tmp_path / "override.yaml"
    cfg.write_text(yaml.safe_dump(override))
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=[str(TINY), str(cfg)])
    assert proc.returncode != 0
    line = error_line(proc, pattern)
    assert line.startswith("exonu: invalid configuration: "), line
    assert not (tmp_path / "results").exists()  # no job ran, nothing written


def test_release_dir_without_the_expected_files(tmp_path):
    release = tmp_path / "release"
    release.mkdir()
    (release / "README.txt").write_text("not the files of a data release\n")
    proc = run_snakemake(
        tmp_path,
        "--cores",
        "1",
        "--config",
        f"release_dir={release}",
        configfile="config/xenonnt.yaml",
    )
    assert proc.returncode != 0
    line = error_line(proc, r"^exonu: invalid configuration: .*release")
    assert str(release) in line
    assert not (tmp_path / "results").exists()


# --------------------------------------------------------------------------- workspace

WORKSPACE = "results/tiny/workspace.json"
FIT = "results/tiny/fits/magnetic_moment.json"


def _drop_observed(ws):
    ws.pop("observed")
    return r"<root>: 'observed' is a required property"


def _negative_expected(ws):
    ws["backgrounds"][0]["expected"][3] = -1.0
    return r"backgrounds\[0\]\.expected\[3\] is -1, expected >= 0"


def _mismatched_binning(ws):
    ws["backgrounds"][1]["expected"].pop()
    n = len(ws["binning"]["edges_kev"]) - 1
    return rf"backgrounds\[1\]\.expected has {n - 1} bins, binning has {n}"


WORKSPACE_CASES = {
    "schema_violation": _drop_observed,
    "negative_expected_counts": _negative_expected,
    "mismatched_binning": _mismatched_binning,
}


@pytest.mark.parametrize("case", sorted(WORKSPACE_CASES))
def test_bad_workspace_stops_the_fits(tmp_path, tiny_run, case):
    """A workspace edited by hand (or written by another tool) is refused by every job
    that reads it; the fits it would have produced are not left behind."""
    work = tmp_path / "work"
    shutil.copytree(tiny_run, work, symlinks=True)  # keeps modification times
    ws_path = work / WORKSPACE
    ws = json.loads(ws_path.read_text())
    pattern = WORKSPACE_CASES[case](ws)
    ws_path.write_text(json.dumps(ws))
    (work / FIT).unlink()  # as if the fit had not run yet
    proc = run_snakemake(work, "--cores", "2", FIT, timeout=600)
    assert proc.returncode != 0
    line = error_line(proc, pattern)
    assert "workspace.json" in line  # file and key on one line
    assert not (work / FIT).exists()
    assert not list((work / "results/tiny/expected").rglob("*.tmp"))
