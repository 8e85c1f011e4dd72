"""Configuration layering, typed overrides and inputs that could hurt the machine.

A config file is the whole configuration (schema defaults for what it omits); ``extends`` is the
only way to build on another file; ``--config`` values are typed YAML; YAML with duplicate keys
or alias bombs and sizes that would exhaust memory are refused with one line before anything
big is allocated. The workflow-level cases run the real ``exonu run`` / ``snakemake``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from wfhelpers import REPO, SNAKEMAKE

from exonu.config import (
    DEFAULT_CONFIG,
    MAX_YAML_NODES,
    ConfigError,
    format_resolved,
    load_yaml,
    parse_override,
    resolve_config,
)

EXONU = str(Path(sys.executable).with_name("exonu"))
TINY = REPO / "config" / "tiny.yaml"
DEFAULT = DEFAULT_CONFIG  # the embedded default, package data


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def _minimal(tmp_path: Path, name: str = "mini.yaml", extra: str = "") -> Path:
    """The tiny config with something appended (a standalone file)."""
    return _write(tmp_path / name, TINY.read_text() + extra)


# --------------------------------------------------------------------------- layering


def test_a_config_file_is_the_whole_configuration() -> None:
    tiny = resolve_config([TINY]).config
    default = resolve_config([DEFAULT]).config
    raw_tiny = yaml.safe_load(TINY.read_text())
    assert tiny["analysis"] == "tiny"
    assert sorted(tiny["simulation"]["backgrounds"]) == sorted(
        raw_tiny["simulation"]["backgrounds"]
    )
    assert len(tiny["simulation"]["backgrounds"]) == 4
    assert len(default["simulation"]["backgrounds"]) > 4
    # keys tiny.yaml leaves out take the schema's defaults, not the embedded default's values
    assert "scans" in raw_tiny and set(tiny["scans"]) == set(raw_tiny["scans"])
    assert set(default["scans"]) - set(tiny["scans"]), "the default has scans tiny has not"
    assert tiny["fit"]["method"] == raw_tiny["fit"].get("method", "bayesian")


def test_no_file_means_the_embedded_default() -> None:
    res = resolve_config([], default=DEFAULT)
    assert res.config["analysis"] == "default"
    assert res.files == (os.path.relpath(DEFAULT),) or res.files[0].endswith("config.yaml")


def test_extends_is_relative_to_the_file_and_merges_key_by_key(tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    base = _minimal(tmp_path, "base.yaml")
    child = _write(
        sub / "child.yaml",
        """\
        extends: ../base.yaml
        analysis: child
        fit: {cl: 0.95}
        """,
    )
    res = resolve_config([child])
    cfg = res.config
    base_cfg = resolve_config([base]).config
    assert cfg["analysis"] == "child"
    assert cfg["fit"]["cl"] == 0.95
    # the rest of fit and every other block from the base
    assert cfg["fit"]["likelihood"] == base_cfg["fit"]["likelihood"]
    assert cfg["simulation"] == base_cfg["simulation"]
    assert [Path(f).name for f in res.files] == ["base.yaml", "child.yaml"]
    assert "base.yaml + " in res.origin["fit"] and res.origin["fit"].endswith("child.yaml")
    assert res.origin["simulation"].endswith("base.yaml")
    text = format_resolved(res)
    assert "# fit: from " in text and "# detector: from schema default" in text
    assert yaml.safe_load(text)["analysis"] == "child"


def test_full_yaml_extends_the_default() -> None:
    res = resolve_config([REPO / "config" / "full.yaml"])
    default = resolve_config([DEFAULT]).config
    assert res.config["analysis"] == "full"
    assert res.config["simulation"]["n_chunks"] == 20
    assert res.config["detector"] == default["detector"]  # not in full.yaml: from the base
    assert set(res.config["scans"]) == set(default["scans"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("extends: nothere.yaml\n", "nothere.yaml"),
        ("extends: 3\n", "'extends' must be a file name"),
    ],
)
def test_bad_extends(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path / "c.yaml", text)
    with pytest.raises(ConfigError, match=message) as err:
        resolve_config([path])
    assert "\n" not in str(err.value)


def test_extends_cycle(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", "extends: b.yaml\n")
    _write(tmp_path / "b.yaml", "extends: a.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        resolve_config([tmp_path / "a.yaml"])


# --------------------------------------------------------------------------- overrides


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("fit={cl: 0.95}", {"fit": {"cl": 0.95}}),
        ("fit.cl=0.95", {"fit": {"cl": 0.95}}),
        ("strict=true", {"strict": True}),
        ("release_dir=../shared/data/x", {"release_dir": "../shared/data/x"}),
        ("release_dir=", {"release_dir": None}),
        ("simulation.n_chunks=3", {"simulation": {"n_chunks": 3}}),
    ],
)
def test_overrides_are_typed_yaml(entry: str, expected: dict) -> None:
    assert parse_override(entry) == expected


def test_override_applies_and_is_recorded() -> None:
    res = resolve_config([TINY], ["fit={cl: 0.95}"])
    assert res.config["fit"]["cl"] == 0.95
    assert res.config["fit"]["likelihood"] == resolve_config([TINY]).config["fit"]["likelihood"]
    assert res.provenance() == {"files": list(res.files), "overrides": ["fit={cl: 0.95}"]}
    with pytest.raises(ConfigError, match=r"fit\.cl"):
        resolve_config([TINY], ["fit={cl: 1.5}"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_override("fit")


# --------------------------------------------------------------------------- YAML safety


def test_duplicate_keys_name_the_key_and_both_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "dup.yaml", "analysis: a\nfit:\n  cl: 0.9\n  cl: 0.95\n")
    with pytest.raises(ConfigError) as err:
        resolve_config([path])
    msg = str(err.value)
    assert "duplicate key 'cl'" in msg and "line 4" in msg and "line 3" in msg
    assert str(path) in msg


def test_alias_bomb_is_refused_before_expansion(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    path = _write(tmp_path / "bomb.yaml", "\n".join(lines) + "\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=r"expands to 1\.23e\+09 nodes"):
        resolve_config([path])
    assert time.perf_counter() - t0 < 5.0
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, f"memory grew by {grown_mb:.0f} MB"
    # small, honest aliases are fine
    assert load_yaml("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}
    assert MAX_YAML_NODES >= 10_000


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(ConfigError, match="refers to itself"):
        load_yaml("a: &x [1, *x]\n", "rec.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fit: {cl: 0.9\n", "line 2"),
        ("- a\n- b\n", "expected a mapping"),
        ("a: b: c\n", "line 1"),
    ],
)
def test_yaml_errors_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path / "bad.yaml", text)
    with pytest.raises(ConfigError, match=message) as err:
        resolve_config([path])
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_missing_and_directory_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_config([tmp_path / "nope.yaml"])
    with pytest.raises(ConfigError, match="is a directory"):
        resolve_config([tmp_path])


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("simulation.n_chunks=1000000", "simulation.n_chunks"),
        ("scans={millicharge: {model: millicharge, n_shards: 100000}}", "n_shards"),
        ("fit.expected_shards=1000000", "fit.expected_shards"),
        ("simulation.n_chunks=30000", "simulation.n_chunks"),
        (
            "simulation.backgrounds.xe_kr85={rate_per_day: 10, n_mc: 1, vertex: volume, "
            "spectrum: {shape: beta, q_kev: 687}}",
            "simulation.backgrounds.xe_kr85.n_mc",
        ),
        ("simulation.signal_mc.n_events=900000000", "simulation.signal_mc.n_events"),
        ("binning.energy_kev={start: 2, stop: 200, width: 1.0e-9}", "binning.energy_kev"),
        ("binning.true_energy_kev={start: 0, stop: 250, width: 0.013}", "binning.true_energy_kev"),
        ('analysis="nl\\n"', "analysis"),
    ],
)
def test_sizes_and_names_are_bounded(override: str, key: str) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ConfigError) as err:
        resolve_config([TINY], [override])
    msg = str(err.value)
    assert key in msg, msg
    assert "\n" not in msg
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 200


# --------------------------------------------------------------------------- workflow level


def _exonu_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXONU, "run", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )


def _one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


@pytest.mark.workflow
@pytest.mark.parametrize(
    ("name", "text", "needles"),
    [
        ("missing.yaml", None, ("missing.yaml", "does not exist")),
        ("syntax.yaml", "analysis: x\nfit: {cl: 0.9\n", ("syntax.yaml", "line ", "not valid YAML")),
        ("dup.yaml", "analysis: a\nanalysis: b\n", ("dup.yaml", "duplicate key 'analysis'")),
    ],
)
def test_exonu_run_refuses_bad_config_files(
    tmp_path: Path, name: str, text: str | None, needles: tuple[str, ...]
) -> None:
    if text is not None:
        (tmp_path / name).write_text(text)
    proc = _exonu_run(tmp_path, "-n", "--configfile", name)
    _one_line_error(proc, *needles)
    assert not (tmp_path / "results").exists()


@pytest.mark.workflow
def test_snakemake_refuses_duplicates_and_bombs(tmp_path: Path) -> None:
    """Plain snakemake reads the file itself first; the Snakefile then refuses it."""
    (tmp_path / "dup.yaml").write_text(TINY.read_text() + "analysis: again\n")
    proc = subprocess.run(
        [SNAKEMAKE, "-n", "--snakefile", str(REPO / "Snakefile"), "--configfile", "dup.yaml"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert "duplicate key 'analysis'" in proc.stdout + proc.stderr


@pytest.mark.workflow
def test_nested_override_reaches_the_jobs_and_provenance(tiny_run: Path, tmp_path: Path) -> None:
    """--config fit='{cl: 0.95}' is accepted (typed), changes only the fits, and is recorded."""
    import shutil

    work = tmp_path / "w"
    shutil.copytree(tiny_run, work, symlinks=True)
    proc = subprocess.run(
        [
            SNAKEMAKE,
            "--snakefile",
            str(REPO / "Snakefile"),
            "--configfile",
            str(TINY),
            "--config",
            "fit={cl: 0.95}",
            "--cores",
            "2",
            "--",
            "results/tiny/fits/magnetic_moment.json",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=work,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    fit = json.loads((work / "results/tiny/fits/magnetic_moment.json").read_text())
    assert fit["cl"] == 0.95
    prov = json.loads((work / "results/tiny/fits/magnetic_moment.json.prov.json").read_text())
    assert prov["configuration"]["overrides"] == ["fit={cl: 0.95}"]
    assert prov["configuration"]["files"][-1].endswith("tiny.yaml")
    # the selection did not rerun for a fit setting
    assert "rule select" not in proc.stdout + proc.stderr
