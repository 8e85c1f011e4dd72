"""A user's mistake on the ``exonu`` command line ends in one line, not a traceback.

Every case runs the real ``exonu`` console script and checks: a non-zero exit status,
exactly one non-empty line on stderr (no ``Traceback``) naming the file or argument and
what was expected, and no file written (or half-written) by the failed command.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import uproot

from exonu.io.root import EventFileError, EventFileMeta, expected_branches, write_events

EXONU = str(Path(sys.executable).with_name("exonu"))
LIMIT = "results/tiny/limits/millicharge.json"


def exonu(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(
        [EXONU, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def one_error_line(proc: subprocess.CompletedProcess[str], *names: str) -> str:
    """The single stderr line of a failed command; it must contain every one of ``names``."""
    assert proc.returncode != 0, f"exit 0:\n{proc.stdout[-2000:]}"
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{proc.stderr}"
    for name in names:
        assert str(name) in lines[0], f"{name!r} not in: {lines[0]}"
    return lines[0]


def strict_json(text: str) -> object:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in JSON output")

    return json.loads(text, parse_constant=refuse)


def files_under(path: Path) -> set[Path]:
    return {p for p in path.rglob("*")}


def event_file(path: Path, kind: str = "data", n: int = 50, **meta: object) -> Path:
    """An event file written by exonu's own writer, with the given metadata values."""
    rng = np.random.default_rng(7)
    arrays = {
        name: (rng.uniform(1, 30, n) if k == "f" else rng.uniform(size=n) < 0.1)
        for name, (k, _doc) in expected_branches(kind).items()
    }
    values = {
        "kind": kind,
        "sample": "data" if kind == "data" else "pmt_u238",
        "n_generated": n,
        "livetime_s": 86400.0,
        "activity_bq": 0.0 if kind == "data" else 0.01,
        "seed": 5,
    }
    values.update(meta)
    return write_events(path, arrays, EventFileMeta(**values))


# --------------------------------------------------------------------------- 1: workspace


def _root_file(tmp: Path) -> Path:
    path = tmp / "hists.root"
    with uproot.recreate(path) as fout:
        fout["h"] = np.histogram(np.arange(10.0), bins=5)
    return path


def _binary_file(tmp: Path) -> Path:
    path = tmp / "workspace.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01" * 8)
    return path


def _text_file(tmp: Path) -> Path:
    path = tmp / "notes.json"
    path.write_text("bins: 10\nobserved: [1, 2]\n")
    return path


def _missing_file(tmp: Path) -> Path:
    return tmp / "nowhere" / "workspace.json"


def _directory(tmp: Path) -> Path:
    (tmp / "results").mkdir()
    return tmp / "results"


def _json_list(tmp: Path) -> Path:
    path = tmp / "list.json"
    path.write_text("[1, 2, 3]\n")
    return path


WORKSPACE_CASES = {
    "root_file": (_root_file, "not a text file"),
    "binary_file": (_binary_file, "not a text file"),
    "text_not_json": (_text_file, "not valid JSON"),
    "missing_file": (_missing_file, "No such file"),
    "directory": (_directory, "Is a directory"),
    "json_not_an_object": (_json_list, "expected a JSON object"),
}


@pytest.mark.parametrize("case", sorted(WORKSPACE_CASES))
def test_workspace_refuses_a_file_that_is_not_a_workspace(tmp_path, case):
    make, expected = WORKSPACE_CASES[case]
    path = make(tmp_path)
    line = one_error_line(exonu("workspace", path), path.name, expected)
    assert line.startswith("exonu workspace: ")


def test_workspace_of_a_real_root_file_written_by_exonu(tmp_path):
    path = event_file(tmp_path / "events.root")
    one_error_line(exonu("workspace", path), "events.root", "expected a workspace JSON")


# --------------------------------------------------------------------------- 2, 3: rate

RATE = ("rate", "magnetic_moment", "--param", "mu_nu=1e-10", "--energies-kev", "1,2")


def test_rate_plot_into_a_missing_directory(tmp_path):
    target = tmp_path / "no" / "such" / "x.png"
    line = one_error_line(exonu(*RATE, "--plot", target), str(target), "does not exist")
    assert str(target.parent) in line
    assert not (tmp_path / "no").exists()


def test_rate_plot_onto_a_directory_or_an_unknown_format(tmp_path):
    one_error_line(exonu(*RATE, "--plot", tmp_path), str(tmp_path), "is a directory")
    one_error_line(exonu(*RATE, "--plot", tmp_path / "rate.xyz"), "rate.xyz", ".png")
    one_error_line(exonu(*RATE, "--plot", tmp_path / "rate"), "rate", "figure format")
    assert not list(tmp_path.iterdir())


def test_rate_plot_is_written_whole(tmp_path):
    target = tmp_path / "rate.png"
    proc = exonu(*RATE, "--json", "--plot", target)
    assert proc.returncode == 0, proc.stderr
    assert strict_json(proc.stdout)["plot"] == str(target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["rate.png"]  # no temporary file left


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
def test_rate_refuses_a_non_finite_parameter(value):
    proc = exonu("rate", "magnetic_moment", "--param", f"mu_nu={value}", "--json")
    one_error_line(proc, "--param mu_nu", "finite", value)
    assert proc.stdout == ""


def test_rate_refuses_a_parameter_whose_rates_overflow():
    proc = exonu("rate", "magnetic_moment", "--param", "mu_nu=1e300", "--json")
    one_error_line(proc, "mu_nu", "not finite")
    assert proc.stdout == ""


def test_rate_json_is_strict_json():
    proc = exonu("rate", "millicharge", "--energies-kev", "1:20:0.5", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = strict_json(proc.stdout)
    assert all(math.isfinite(v) for v in doc["total"])


# --------------------------------------------------------------------------- 4-6: provenance


def test_provenance_from_another_directory(tiny_run, tmp_path):
    """Inputs are recorded relative to the workflow directory; the chain finds them from
    anywhere (here: an unrelated directory and a subdirectory of the run)."""
    for cwd, product in (
        (tmp_path, tiny_run / LIMIT),
        (tiny_run / "results", Path(LIMIT).relative_to("results")),
    ):
        proc = exonu("provenance", "--json", product, cwd=cwd)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""
        chain = strict_json(proc.stdout)
        assert all(link["status"] == "ok" for link in chain)
        events = [c for c in chain if "/events/" in c["path"] and c["provenance"]]
        assert events and all(c["provenance"]["rule"] == "simulate" for c in events)
        assert all(Path(cwd, c["path"]).is_file() for c in chain)
    text = exonu("provenance", tiny_run / LIMIT, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "rule simulate" in text.stdout and "not found" not in text.stdout


@pytest.fixture
def small_chain(tmp_path, monkeypatch) -> Path:
    """A workflow directory with results/b.json made from results/a.json, with sidecars
    written by exonu's own provenance code, as a rule running in that directory does."""
    from exonu.products.provenance import build_record, write_sidecar

    work = tmp_path / "work"
    (work / "results").mkdir(parents=True)
    monkeypatch.chdir(work)
    Path("results/a.json").write_text('{"a": 1}\n')
    write_sidecar(
        "results/a.json",
        build_record("results/a.json", rule="make_a", wildcards={}, params={}, inputs=[]),
    )
    Path("results/b.json").write_text('{"b": 2}\n')
    record = build_record(
        "results/b.json", rule="make_b", wildcards={}, params={}, inputs=["results/a.json"]
    )
    write_sidecar("results/b.json", record)
    monkeypatch.chdir(tmp_path)
    return work


def test_provenance_of_a_small_chain_from_elsewhere(small_chain, tmp_path):
    proc = exonu("provenance", small_chain / "results/b.json", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "rule make_b" in proc.stdout and "rule make_a" in proc.stdout
    # the whole work directory moved: the chain is found where it now is
    moved = tmp_path / "archive" / "run-1"
    moved.parent.mkdir()
    small_chain.rename(moved)
    proc = exonu("provenance", "run-1/results/b.json", cwd=moved.parent)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "run-1/results/a.json  [rule make_a" in proc.stdout


def test_provenance_reports_a_corrupt_sidecar_in_the_chain(small_chain, tmp_path):
    side = small_chain / "results/a.json.prov.json"
    side.write_text(side.read_text()[:40])  # cut short
    proc = exonu("provenance", small_chain / "results/b.json", cwd=tmp_path)
    line = one_error_line(proc, "a.json.prov.json", "corrupt provenance sidecar")
    assert "results/b.json" in line
    assert "corrupt" in proc.stdout


def test_provenance_reports_a_corrupt_sidecar_of_the_product(small_chain, tmp_path):
    side = small_chain / "results/b.json.prov.json"
    side.write_text('{"rule": "make_b", "inputs": [')
    proc = exonu("provenance", small_chain / "results/b.json", cwd=tmp_path)
    one_error_line(proc, str(side), "corrupt provenance sidecar", "not valid JSON")
    assert proc.stdout == ""


def test_provenance_reports_a_sidecar_with_nan(small_chain, tmp_path):
    side = small_chain / "results/b.json.prov.json"
    doc = json.loads(side.read_text())
    doc["job"] = {"cpu_s": float("nan")}
    side.write_text(json.dumps(doc))
    proc = exonu("provenance", "--json", small_chain / "results/b.json", cwd=tmp_path)
    one_error_line(proc, str(side), "corrupt provenance sidecar", "NaN")


def test_provenance_reports_an_input_not_found(small_chain, tmp_path):
    (small_chain / "results/a.json").unlink()
    (small_chain / "results/a.json.prov.json").unlink()
    proc = exonu("provenance", small_chain / "results/b.json", cwd=tmp_path)
    one_error_line(proc, "a.json", "input not found", str(small_chain))


def test_provenance_of_json_that_is_not_a_product(tmp_path):
    some = tmp_path / "some.json"
    some.write_text('{"rule": null, "x": 1}\n')
    one_error_line(exonu("provenance", some, cwd=tmp_path), "some.json", "no provenance sidecar")
    # a sidecar that is JSON but not a provenance record: named, not printed as "rule None"
    fake = tmp_path / "some.json.prov.json"
    fake.write_text('{"x": 1}\n')
    for arg in (some, fake):
        proc = exonu("provenance", arg, cwd=tmp_path)
        one_error_line(proc, str(fake), "not a provenance record")
        assert "None" not in proc.stdout
    fake.write_text("[1, 2]\n")
    one_error_line(exonu("provenance", some, cwd=tmp_path), str(fake), "not a provenance record")


def test_provenance_of_a_missing_file_or_a_directory(tmp_path):
    one_error_line(exonu("provenance", tmp_path / "nothing.json"), "nothing.json", "no such file")
    one_error_line(exonu("provenance", ".", cwd=tmp_path), "is a directory")


# --------------------------------------------------------------------------- 7: metadata

BAD_META = {
    "livetime_nan": ({"livetime_s": float("nan")}, "exonu_meta.livetime_s", "finite"),
    "livetime_inf": ({"livetime_s": float("inf")}, "exonu_meta.livetime_s", "finite"),
    "livetime_zero": ({"livetime_s": 0.0}, "exonu_meta.livetime_s", "> 0"),
    "livetime_negative": ({"livetime_s": -10.0}, "exonu_meta.livetime_s", ">= 0"),
    "n_generated_zero": ({"n_generated": 0}, "exonu_meta.n_generated", ">= 1"),
    "n_generated_negative": ({"n_generated": -3}, "exonu_meta.n_generated", ">= 1"),
    "activity_nan": ({"activity_bq": float("nan")}, "exonu_meta.activity_bq", "finite"),
    "activity_negative": ({"activity_bq": -1.0}, "exonu_meta.activity_bq", ">= 0"),
    "mc_livetime_nan": (
        {"kind": "background", "livetime_s": float("nan")},
        "exonu_meta.livetime_s",
        "finite",
    ),
    "mc_activity_inf": (
        {"kind": "background", "activity_bq": float("inf")},
        "exonu_meta.activity_bq",
        "finite",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_META))
def test_inspect_refuses_bad_metadata_numbers(tmp_path, case):
    values, key, expected = BAD_META[case]
    path = event_file(tmp_path / f"{case}.root", **values)
    proc = exonu("inspect", path)
    line = one_error_line(proc, f"{case}.root", key, expected)
    assert line.startswith("exonu inspect: ")
    proc = exonu("inspect", "--json", path)
    one_error_line(proc, f"{case}.root", key)


def test_check_inputs_refuses_bad_metadata_numbers(tmp_path):
    """The workflow's check_inputs rule reads the same metadata (in-process here)."""
    from exonu.io.inputs import check_sample_files

    path = event_file(tmp_path / "data_000.root", livetime_s=float("nan"))
    with pytest.raises(EventFileError, match=r"data_000\.root: exonu_meta\.livetime_s is nan"):
        check_sample_files("data", "data", [str(path)])


def test_inspect_accepts_zero_activity_and_live_time_of_signal_monte_carlo(tmp_path):
    # the simulation writes its signal Monte Carlo so: normalised by the physics instead
    path = event_file(tmp_path / "signal.root", kind="signal", livetime_s=0.0, activity_bq=0.0)
    proc = exonu("inspect", "--json", path)
    assert proc.returncode == 0, proc.stderr
    assert strict_json(proc.stdout)[0]["meta"]["kind"] == "signal"


# --------------------------------------------------------------------------- 10: other mistakes


def test_inspect_bad_branch_option_and_directory(tmp_path):
    path = event_file(tmp_path / "ok.root")
    proc = exonu("inspect", "--branch", "npe", path)
    line = one_error_line(proc, "--branch", "CANONICAL=NAME", "'npe'")
    assert proc.returncode == 2 and line.startswith("exonu inspect: ")
    one_error_line(exonu("inspect", "--branch", "energy=E", path), "energy", "npe")
    one_error_line(exonu("inspect", tmp_path), str(tmp_path), "is a directory")
    one_error_line(exonu("inspect", tmp_path / "gone.root"), "gone.root", "does not exist")


RATE_MISTAKES = {
    "param_without_value": (("magnetic_moment", "--param", "mu_nu"), ("--param", "NAME=VALUE")),
    "param_not_a_number": (("magnetic_moment", "--param", "mu_nu=big"), ("mu_nu", "number")),
    "param_of_another_model": (("magnetic_moment", "--param", "q=1"), ("--param", "mu_nu")),
    "unknown_model": (("magnetic_monopole",), ("magnetic_monopole", "invalid choice")),
    "energies_not_numbers": (("magnetic_moment", "--energies-kev=a,b"), ("--energies-kev",)),
    "energies_negative": (("magnetic_moment", "--energies-kev=-1,2"), ("energy",)),
    "energies_too_many": (("magnetic_moment", "--energies-kev", "1:1e9:1e-9"), ("at most",)),
    "energies_empty_range": (("magnetic_moment", "--energies-kev", "5:1:1"), ("start:stop",)),
}


@pytest.mark.parametrize("case", sorted(RATE_MISTAKES))
def test_rate_argument_mistakes(case, tmp_path):
    args, names = RATE_MISTAKES[case]
    proc = exonu("rate", *args, cwd=tmp_path)
    one_error_line(proc, *names)
    assert proc.returncode == 2 and proc.stdout == ""
    assert not list(tmp_path.iterdir())


def test_rate_rrpa_table_that_is_not_text(tmp_path):
    table = _binary_file(tmp_path)
    proc = exonu("rate", "magnetic_moment", "--atomic", "rrpa_table", "--rrpa-table", table)
    one_error_line(proc, "rrpa_table", table.name, "not a text file")


def test_unknown_option_is_one_line():
    one_error_line(exonu("--no-such-option"), "--no-such-option")
    one_error_line(exonu("inspect"), "FILE.root")


def test_no_partial_files_left_by_failing_commands(tmp_path):
    """The failing commands above write nothing where they run."""
    before = files_under(tmp_path)
    exonu(*RATE, "--plot", "x.nope", cwd=tmp_path)
    exonu("provenance", "x.json", cwd=tmp_path)
    exonu("workspace", "x.json", cwd=tmp_path)
    assert files_under(tmp_path) == before
