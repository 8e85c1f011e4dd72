"""Tests of exonu.stats.workspace: schema, semantic checks, round trips, digests."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from exonu.stats.errors import StatsError, WorkspaceError
from exonu.stats.synthetic import make_synthetic_workspace
from exonu.stats.workspace import (
    Workspace,
    dump_workspace,
    load_workspace,
    to_json_text,
    workspace_schema,
)


def small_doc() -> dict[str, Any]:
    """A hand-written 4-bin workspace document (the example of the format)."""
    return {
        "schema": "exonu-workspace",
        "version": "1.0.0",
        "analysis": "default",
        "binning": {"edges_kev": [2.0, 4.0, 6.0, 8.0, 10.0]},
        "observed": [12, 9, 7, 0],
        "exposure": {"livetime_s": 6.14e7, "fiducial_mass_kg": 97.0},
        "backgrounds": [
            {
                "name": "pmt_u238",
                "expected": [10.0, 8.0, 6.0, 4.0],
                "mc_variance": [1.0, 0.8, 0.6, 0.4],
                "relative_uncertainty": 0.1,
            },
            {
                "name": "xe_c14",
                "expected": [2.0, 1.0, 0.5, 0.0],
                "mc_variance": [0.2, 0.1, 0.05, 0.0],
                "relative_uncertainty": None,
            },
        ],
        "background_systematics": [
            {"name": "energy_scale", "shifts": {"pmt_u238": [0.5, 0.2, -0.2, -0.5]}}
        ],
        "signals": [
            {
                "name": "magnetic_moment",
                "model": "magnetic_moment",
                "flavour": "all",
                "parameter": "mu_nu",
                "unit": "mu_B",
                "mediator_mass_mev": None,
                "treatment": None,
                "atomic_model": "stepping",
                "scale": 1e-10,
                "x_bounds": [0.0, None],
                "terms": [{"power": 2, "expected": [3.0, 2.0, 1.0, 0.5]}],
                "variance_terms": [{"power": 4, "values": [0.01, 0.01, 0.01, 0.01]}],
                "systematics": [{"name": "flux_pp", "relative_shifts": [0.05, 0.05, 0.05, 0.05]}],
                "fit_window_kev": [2.0, 8.0],
                "free_backgrounds": ["xe_c14"],
            }
        ],
    }


def test_schema_is_valid_json_schema() -> None:
    import jsonschema

    schema = workspace_schema()
    jsonschema.validators.validator_for(schema).check_schema(schema)


def test_from_dict_builds_arrays_and_masks() -> None:
    ws = Workspace.from_dict(small_doc())
    assert ws.n_bins == 4
    assert ws.observed.dtype == np.int64
    sig = ws.signal("magnetic_moment")
    assert sig.fit_mask.tolist() == [True, True, True, False]
    assert sig.leading_power == 2 and not sig.two_sided
    np.testing.assert_allclose(sig.expected(2.0), [12.0, 8.0, 4.0, 2.0])
    with pytest.raises(ValueError):  # arrays are read-only
        ws.observed[0] = 3


def test_round_trip_file_and_digest(tmp_path: Path) -> None:
    ws = make_synthetic_workspace(n_bins=20, n_backgrounds=4, n_systematics=3, seed=3)
    path = tmp_path / "sub" / "ws.json"
    dump_workspace(ws, path)
    again = load_workspace(path)
    assert again.digest() == ws.digest()
    assert again.to_dict() == ws.to_dict()
    # deterministic bytes, no temporary files left, normal file mode
    text = path.read_text()
    dump_workspace(again, path)
    assert path.read_text() == text
    assert sorted(p.name for p in path.parent.iterdir()) == ["ws.json"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    # the digest changes with any content change
    d = ws.to_dict()
    d["observed"][0] += 1
    assert Workspace.from_dict(d).digest() != ws.digest()


def test_to_json_text_round_trips() -> None:
    obj = {"b": [1, 2.5, None], "a": {"z": [[1, 2], [3]], "y": "s"}, "c": []}
    assert json.loads(to_json_text(obj)) == obj


def test_synthetic_is_reproducible() -> None:
    a = make_synthetic_workspace(n_bins=10, n_backgrounds=3, n_systematics=2, seed=7)
    b = make_synthetic_workspace(n_bins=10, n_backgrounds=3, n_systematics=2, seed=7)
    c = make_synthetic_workspace(n_bins=10, n_backgrounds=3, n_systematics=2, seed=8)
    assert a.digest() == b.digest() != c.digest()


def _mutate(path: str, value: Any) -> dict[str, Any]:
    d = copy.deepcopy(small_doc())
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split("/")]
    node: Any = d
    for k in keys[:-1]:
        node = node[k]
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return d


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "backgrounds/0/expected",
            [1.0, 2.0, 3.0],
            "backgrounds[0].expected has 3 bins, binning has 4",
        ),
        ("observed", [1, 2, 3], "observed has 3 bins, binning has 4"),
        ("observed", [1, 2, -3, 0], "observed[2]: -3 is less than the minimum of 0"),
        ("binning/edges_kev", [2.0, 4.0, 4.0, 8.0, 10.0], "binning.edges_kev[2] is 4 after 4"),
        (
            "backgrounds/1/mc_variance",
            [0.1, -0.1, 0.0, 0.0],
            "backgrounds[1].mc_variance[1] is -0.1",
        ),
        ("backgrounds/1/name", "pmt_u238", "backgrounds[1].name 'pmt_u238' is not unique"),
        (
            "background_systematics/0/shifts",
            {"pmt_u235": [0.0, 0.0, 0.0, 0.0]},
            "background_systematics[0].shifts.pmt_u235 names no background component",
        ),
        (
            "signals/0/free_backgrounds",
            ["xe_ar39"],
            "signals[0].free_backgrounds[0] 'xe_ar39' names no background component",
        ),
        ("signals/0/fit_window_kev", [1.0, 8.0], "outside the binning [2, 10] keV"),
        ("signals/0/fit_window_kev", [2.5, 3.9], "contains no whole bin"),
        ("signals/0/x_bounds", [1.0, None], "must contain 0"),
        ("signals/0/flavour", "nu_e", "signals[0].flavour: 'nu_e' is not one of"),
        ("signals/0/terms/0/power", 0, "signals[0].terms[0].power: 0 is less than the minimum"),
        ("signals/0/scale", -1.0, "signals[0].scale"),
        ("signals/0/variance_terms/0/values", [0.1, -0.1, 0.0, 0.0], "variance_terms"),
        ("version", "2.0.0", "version: '2.0.0' does not match"),
        ("schema", "pyhf", "schema: 'exonu-workspace' was expected"),
        ("backgrounds/0/colour", "red", "Additional properties are not allowed"),
        ("exposure", _DELETE, "'exposure' is a required property"),
    ],
)
def test_errors_name_the_path(path: str, value: Any, message: str) -> None:
    d = _mutate(path, value)
    with pytest.raises(WorkspaceError) as info:
        Workspace.from_dict(d, source="x.json")
    text = str(info.value)
    assert text.startswith("workspace 'x.json': ")
    assert message in text, text
    assert "\n" not in text
    assert isinstance(info.value, StatsError) and isinstance(info.value, ValueError)


def test_duplicate_signal_powers_rejected() -> None:
    d = small_doc()
    d["signals"][0]["terms"].append({"power": 2, "expected": [0.0] * 4})
    with pytest.raises(WorkspaceError, match=r"terms\[1\]\.power 2 appears twice"):
        Workspace.from_dict(d)


def test_unknown_signal_lists_known() -> None:
    ws = Workspace.from_dict(small_doc(), source="w.json")
    with pytest.raises(WorkspaceError, match="no signal 'dark' \\(known: magnetic_moment\\)"):
        ws.signal("dark")


def test_load_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(WorkspaceError, match="not valid JSON"):
        load_workspace(bad)
    with pytest.raises(WorkspaceError, match="cannot read"):
        load_workspace(tmp_path / "missing.json")
    arr = tmp_path / "arr.json"
    arr.write_text("[]")
    with pytest.raises(WorkspaceError, match="expected a JSON object"):
        load_workspace(arr)


def test_with_observed() -> None:
    ws = Workspace.from_dict(small_doc())
    other = ws.with_observed([1, 2, 3, 4])
    assert other.observed.tolist() == [1, 2, 3, 4]
    assert other.digest() != ws.digest()
    with pytest.raises(WorkspaceError, match="observed has 2 bins"):
        ws.with_observed([1, 2])
