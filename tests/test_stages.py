"""The stages package: atomic outputs, and scans that take the limit of a configured signal
from its fit instead of fitting it again."""

from __future__ import annotations

import json

import pytest

from exonu.stages.runtime import atomic_output, write_json, write_text
from exonu.stages.scans import scan_gather, scan_shard
from exonu.templates.hypotheses import ScanError, fitted_signals, hypotheses, same_signal

PHYSICS = {"flux_set": "xmass", "atomic_model": "stepping", "flavour_composition": "xmass"}


# --------------------------------------------------------------------------- atomic outputs


def test_atomic_output_renames_on_success(tmp_path):
    out = tmp_path / "sub" / "out.txt"
    with atomic_output(out) as tmp:
        assert tmp.parent == out.parent and tmp.name.endswith(".tmp") and not out.exists()
        tmp.write_text("done")
    assert out.read_text() == "done"
    assert [p.name for p in out.parent.iterdir()] == ["out.txt"]


def test_atomic_output_keeps_the_old_file_on_failure(tmp_path):
    out = tmp_path / "out.json"
    write_json({"b": [1, 2], "a": 1}, out)
    assert out.read_text() == '{\n "a": 1,\n "b": [\n  1,\n  2\n ]\n}\n'
    with pytest.raises(RuntimeError, match="writer failed"):
        with atomic_output(out) as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer failed")
    assert json.loads(out.read_text()) == {"a": 1, "b": [1, 2]}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_write_json_layouts(tmp_path):
    write_json({"x": [1.5, 2.0], "n": {"k": "v"}}, tmp_path / "a.json", one_line_arrays=True)
    assert (tmp_path / "a.json").read_text() == '{\n "n": {\n  "k": "v"\n },\n "x": [1.5, 2.0]\n}\n'
    write_text("é\n", tmp_path / "t.txt")
    assert (tmp_path / "t.txt").read_bytes() == "é\n".encode()


# --------------------------------------------------------------------------- same signal

SIGNAL = {
    "name": "millicharge",
    "model": "millicharge",
    "flavour": "all",
    "treatment": "pure",
    "atomic_model": "epa",
    "scale": 1.0e-12,
    "fit_window_kev": [2.0, 16.0],
    "free_backgrounds": [],
}
SCAN = {
    "model": "millicharge",
    "treatment": "pure",
    "atomic_model": "epa",
    "flavours": ["all", "e"],
    "fit_window_kev": [2.0, 16.0],
    "free_backgrounds": [],
    "scale": "auto",
    "n_shards": 1,
}


def test_a_hypothesis_is_the_signal_whatever_its_name_and_scale():
    hyp_all, hyp_e = hypotheses("millicharge", SCAN)
    assert same_signal(hyp_all, SIGNAL, PHYSICS)
    assert not same_signal(hyp_e, SIGNAL, PHYSICS)  # another flavour
    assert fitted_signals("millicharge", SCAN, [SIGNAL], PHYSICS) == {"millicharge": "millicharge"}


@pytest.mark.parametrize(
    "change",
    [
        {"fit_window_kev": [2.0, 20.0]},
        {"free_backgrounds": ["xe_c14"]},
        {"treatment": "full"},
        {"atomic_model": "stepping"},
        {"flavour_composition": "msw"},
        {"mediator_mass_mev": 1.0},
        {"model": "magnetic_moment"},
    ],
)
def test_any_other_difference_is_another_signal(change):
    (hyp, _) = hypotheses("millicharge", SCAN)
    assert not same_signal(hyp, {**SIGNAL, **change}, PHYSICS)


def test_defaults_are_compared_after_they_are_filled_in():
    """No atomic model in the scan, the physics block's one in the signal; the model's default
    treatment given on one side only; free backgrounds in another order."""
    scan = {**SCAN, "model": "magnetic_moment", "free_backgrounds": ["a", "b"], "flavours": ["all"]}
    del scan["atomic_model"], scan["treatment"]
    signal = {
        **SIGNAL,
        "name": "mm",
        "model": "magnetic_moment",
        "atomic_model": "stepping",
        "free_backgrounds": ["b", "a"],
    }
    del signal["treatment"]
    assert fitted_signals("magnetic_moment", scan, [signal], PHYSICS) == {"magnetic_moment": "mm"}
    assert not fitted_signals("magnetic_moment", scan, [signal], {**PHYSICS, "atomic_model": "epa"})
    assert not fitted_signals("magnetic_moment", scan, [{**signal, "atomic_model": "epa"}], PHYSICS)
    millicharge = {**SCAN}
    del millicharge["treatment"]  # the model's default treatment (full), not pure
    assert not fitted_signals("millicharge", millicharge, [SIGNAL], PHYSICS)
    assert fitted_signals("millicharge", millicharge, [{**SIGNAL, "treatment": "full"}], PHYSICS)


# --------------------------------------------------------------------------- scan stages


def _result(name: str, limit: float) -> dict:
    return {
        "hypothesis": name,
        "scan": "millicharge",
        "model": "millicharge",
        "flavour": "e",
        "parameter": "q_nu",
        "unit": "e",
        "upper_limit": limit,
        "warnings": [],
    }


def test_a_shard_does_not_fit_the_hypotheses_of_configured_signals(tmp_path):
    """Every hypothesis of the shard is a configured signal: nothing is fitted, nothing read."""
    out = tmp_path / "shard_000.json"
    params = {"scan_name": "millicharge", "scan": {**SCAN, "flavours": ["all"]}}
    params["fitted"] = {"millicharge": "millicharge"}
    scan_shard(params, str(tmp_path / "missing.json"), str(tmp_path / "missing.root"), 0, str(out))
    assert json.loads(out.read_text()) == {"scan": "millicharge", "shard": 0, "results": []}


def test_the_gather_takes_the_fit_of_a_configured_signal(tmp_path):
    fit = {**_result("x", 3.5e-12), "flavour": "all", "expected": {"median": 4e-12}}
    del fit["hypothesis"], fit["scan"]
    fit_path = tmp_path / "fits" / "millicharge.json"
    write_json(fit, fit_path)
    shard = tmp_path / "shard_000.json"
    write_json(
        {"scan": "millicharge", "shard": 0, "results": [_result("millicharge_e", 7e-12)]}, shard
    )
    params = {"scan_name": "millicharge", "scan": SCAN, "fitted": {"millicharge": "millicharge"}}
    outs = {k: str(tmp_path / f"millicharge.{k}") for k in ("json", "csv", "md", "tex")}
    limits = [str(tmp_path / "limits" / f"{h}.json") for h in ("millicharge", "millicharge_e")]
    scan_gather(
        params,
        [str(shard)],
        outs["json"],
        outs["csv"],
        outs["md"],
        outs["tex"],
        limits,
        [str(fit_path)],
    )
    reused = json.loads((tmp_path / "limits" / "millicharge.json").read_text())
    assert reused == {**fit, "hypothesis": "millicharge", "scan": "millicharge"}
    merged = json.loads((tmp_path / "millicharge.json").read_text())["results"]
    assert [r["upper_limit"] for r in merged] == [3.5e-12, 7e-12]
    assert "3.5e-12" in (tmp_path / "millicharge.csv").read_text()
    with pytest.raises(ScanError, match="needs the fit of 'millicharge'"):
        scan_gather(
            params, [str(shard)], outs["json"], outs["csv"], outs["md"], outs["tex"], limits
        )
