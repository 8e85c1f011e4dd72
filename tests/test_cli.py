"""The exonu command line: --version, inspect, config."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from exonu import __version__
from exonu.cli import main
from exonu.io.root import EventFileMeta, expected_branches, write_events

EXONU = str(Path(sys.executable).with_name("exonu"))


@pytest.fixture(scope="module")
def event_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "bkg.root"
    n = 1000
    rng = np.random.default_rng(1)
    arrays = {
        name: (rng.uniform(0, 30, n) if kind == "f" else rng.uniform(size=n) < 0.1)
        for name, (kind, _doc) in expected_branches("background").items()
    }
    meta = EventFileMeta(
        kind="background",
        sample="pmt_u238",
        n_generated=n,
        livetime_s=1e5,
        activity_bq=0.01,
        seed=42,
    )
    write_events(path, arrays, meta)
    return path


def test_version():
    proc = subprocess.run([EXONU, "--version"], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == f"exonu {__version__}"


def test_inspect_text(event_file, capsys):
    assert main(["inspect", str(event_file)]) == 0
    out = capsys.readouterr().out
    assert "background" in out and "pmt_u238" in out and "1000" in out
    assert "r_pe_cm" in out and "true_energy_kev" in out and "seed 42" in out


def test_inspect_json(event_file, capsys):
    assert main(["inspect", "--json", str(event_file)]) == 0
    doc = json.loads(capsys.readouterr().out)[0]
    assert doc["entries"] == 1000 and doc["meta"]["sample"] == "pmt_u238"
    assert doc["branches"]["od_trigger"] == "bool"


def test_inspect_rejects_non_root_file(tmp_path):
    junk = tmp_path / "junk.root"
    junk.write_text("this is not a ROOT file\n")
    proc = subprocess.run([EXONU, "inspect", str(junk)], capture_output=True, text=True)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "junk.root" in lines[0] and "not a readable ROOT file" in lines[0]


def test_config_prints_defaults(repo, capsys):
    assert main(["config", str(repo / "config" / "tiny.yaml")]) == 0
    assert "r_timing_max_cm: 38.0" in capsys.readouterr().out
