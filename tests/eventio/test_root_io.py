"""The ROOT event-file contract: writing, validation with one-line errors, chunked reading."""

from __future__ import annotations

import numpy as np
import pytest
import uproot

from exonu.io.root import (
    EventFileError,
    EventFileMeta,
    inspect_file,
    iterate_events,
    read_events,
    read_meta,
    write_events,
)
from exonu.selection.testing import exponential_spectrum, make_events


def _raw_write(path, arrays, meta: EventFileMeta) -> None:
    """A file written without :func:`write_events` (e.g. by another program)."""
    with uproot.recreate(path) as fout:
        fout["exonu_meta"] = meta.to_json()
        fout.mktree("events", {k: v.dtype for k, v in arrays.items()})
        fout["events"].extend(dict(arrays))


def _meta(kind: str = "background", n: int = 1000, **extra) -> EventFileMeta:
    return EventFileMeta(
        kind=kind,
        sample="pmt_u238" if kind != "data" else "data",
        n_generated=n,
        livetime_s=100.0,
        activity_bq=0.5 if kind == "background" else 0.0,
        seed=3,
        extra=extra,
    )


@pytest.fixture(scope="module")
def events() -> dict[str, np.ndarray]:
    return make_events(1000, np.random.default_rng(1), exponential_spectrum(30.0))


def test_round_trip_and_inspect(tmp_path, events):
    path = write_events(tmp_path / "a.root", events, _meta(), basket_entries=300)
    info = inspect_file(path, expected_kind="background")
    assert info.num_entries == 1000 and info.meta == _meta()
    assert info.compression == "ZSTD"
    back = read_events(path)
    for k in ("npe", "x_pe_cm", "od_trigger", "true_energy_kev"):
        np.testing.assert_array_equal(back[k], events[k].astype(back[k].dtype))
    assert not list(tmp_path.glob("*.tmp"))


def test_iterate_blocks_cover_every_entry_once(tmp_path, events):
    path = write_events(tmp_path / "a.root", events, _meta())
    ranges = [(a, b) for a, b, _ in iterate_events(path, ["npe", "r_pe_cm"], step_size=300)]
    assert ranges == [(0, 300), (300, 600), (600, 900), (900, 1000)]
    blocks = [blk for *_, blk in iterate_events(path, ["npe"], step_size=300)]
    assert set(blocks[0]) == {"npe"}
    np.testing.assert_array_equal(np.concatenate([b["npe"] for b in blocks]), events["npe"])


def test_branch_map_reads_other_names(tmp_path, events):
    path = tmp_path / "real.root"
    renamed = {("nPE" if k == "npe" else k): v for k, v in events.items()}
    _raw_write(path, renamed, _meta())
    with pytest.raises(EventFileError, match=r"real\.root: branch 'npe' missing"):
        inspect_file(path)
    info = inspect_file(path, branch_map={"npe": "nPE"})
    assert info.num_entries == 1000
    (_, _, block), *_ = iterate_events(path, ["npe"], branch_map={"npe": "nPE"})
    np.testing.assert_array_equal(block["npe"], events["npe"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda ev: ev.pop("r_timing_cm"), r"branch 'r_timing_cm' missing in tree 'events'"),
        (
            lambda ev: ev.update(npe=ev["npe"].astype(np.int32)),
            r"branch 'npe' has type int32_t, expected a floating-point number",
        ),
        (
            lambda ev: ev.update(od_trigger=ev["od_trigger"].astype(np.float32)),
            r"branch 'od_trigger' has type float, expected a boolean or integer flag",
        ),
    ],
    ids=["missing", "int-npe", "float-flag"],
)
def test_bad_branches_name_file_and_branch(tmp_path, events, edit, message):
    bad = {k: v.copy() for k, v in events.items()}
    edit(bad)
    path = tmp_path / "bad.root"
    _raw_write(path, bad, _meta())
    with pytest.raises(EventFileError, match=r"bad\.root: " + message):
        inspect_file(path)


def test_wrong_kind_and_metadata(tmp_path, events):
    path = write_events(tmp_path / "a.root", events, _meta())
    with pytest.raises(
        EventFileError, match=r"a\.root: file is kind 'background'.*expected 'data'"
    ):
        inspect_file(path, expected_kind="data")
    junk = tmp_path / "junk.root"
    junk.write_bytes(b"not root at all")
    with pytest.raises(EventFileError, match=r"junk\.root: not a readable ROOT file"):
        inspect_file(junk)
    nometa = tmp_path / "nometa.root"
    with uproot.recreate(nometa) as fout:
        fout["other"] = "x"
    with pytest.raises(EventFileError, match="no 'exonu_meta'"):
        read_meta(nometa)
    ntuple = tmp_path / "rntuple.root"
    with uproot.recreate(ntuple) as fout:
        fout["exonu_meta"] = _meta().to_json()
        fout["events"] = {"npe": events["npe"]}  # uproot writes an RNTuple here
    with pytest.raises(EventFileError, match="'events' is a ROOT::RNTuple, expected a TTree"):
        inspect_file(ntuple)
    with pytest.raises(EventFileError, match="n_generated = 10"):
        inspect_file(write_events(tmp_path / "few.root", events, _meta(n=10)))


def test_variation_files_say_what_they_vary(tmp_path, events):
    with pytest.raises(EventFileError, match=r"lacks extra\.variation"):
        write_events(tmp_path / "v.root", events, _meta("variation"))
    assert not (tmp_path / "v.root").exists()
    meta = _meta("variation", variation="optical", nominal="pmt_u238", shift_sigma=1)
    path = write_events(tmp_path / "v.root", events, meta)
    info = inspect_file(path, expected_kind="variation")
    assert info.meta.variation == ("optical", "pmt_u238", 1.0)
    with pytest.raises(EventFileError, match="shift_sigma must be a non-zero number"):
        EventFileMeta.from_json(
            _meta("variation", variation="o", nominal="n", shift_sigma=0).to_json()
        )


def test_write_refuses_incomplete_input_and_leaves_nothing(tmp_path, events):
    partial = {k: v for k, v in events.items() if k != "cherenkov"}
    with pytest.raises(EventFileError, match="missing branch"):
        write_events(tmp_path / "x.root", partial, _meta())
    assert list(tmp_path.iterdir()) == []


def test_truncated_and_corrupt_files_are_named(tmp_path, events):
    good = write_events(tmp_path / "good.root", events, _meta(), basket_entries=200)
    data = good.read_bytes()
    cut = tmp_path / "cut.root"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(EventFileError, match=r"cut\.root: truncated ROOT file"):
        inspect_file(cut)
    # same length, baskets overwritten (a disk or transfer error): found when reading
    bad = bytearray(data)
    mid = len(bad) // 2
    bad[mid : mid + 4000] = b"\x00" * 4000
    corrupt = tmp_path / "corrupt.root"
    corrupt.write_bytes(bytes(bad))
    inspect_file(corrupt)  # the directory and metadata are intact
    with pytest.raises(EventFileError, match=r"corrupt\.root: cannot read tree 'events'"):
        read_events(corrupt)


def test_empty_tree_is_refused(tmp_path, events):
    path = tmp_path / "empty.root"
    _raw_write(path, {k: v[:0] for k, v in events.items()}, _meta())
    with pytest.raises(EventFileError, match=r"empty\.root: tree 'events' has no entries"):
        inspect_file(path)
