"""Event files: the ROOT contract of docs/architecture.md ("Data contracts between the stages").

An exonu event file is a ROOT file holding

* a TTree ``events`` with one row per triggered event and the branches of
  :data:`REQUIRED_BRANCHES` (plus :data:`MC_BRANCHES` for Monte Carlo), and
* a TObjString ``exonu_meta`` holding a JSON document that says what the file is
  (see :class:`EventFileMeta`).

Real files may use other branch names; every reader takes a ``branch_map``
(canonical name -> name in the file) so they can be read unchanged.

Writing goes through :func:`write_events`, to the path it is given (the workflow
stage hands it a temporary name and renames it when complete,
:func:`exonu.stages.runtime.atomic_output`, so a killed job never leaves a
half-written file under the final name). Baskets are written in blocks of
``basket_entries`` (large baskets read much faster than small ones; the
reading benchmark, ``benchmarks/records/selection.md``, uses baskets of 500k entries).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import uproot

TREE_NAME = "events"
META_NAME = "exonu_meta"
META_SCHEMA_VERSION = 1

#: Canonical branches of every event file, with their dtype kind and meaning.
REQUIRED_BRANCHES: dict[str, tuple[str, str]] = {
    "npe": ("f", "total photoelectrons of the inner detector"),
    "r_timing_cm": ("f", "radius of the timing-based vertex, cm"),
    "r_pe_cm": ("f", "radius of the photoelectron-based vertex, cm"),
    "x_pe_cm": ("f", "x of the photoelectron-based vertex, cm"),
    "y_pe_cm": ("f", "y of the photoelectron-based vertex, cm"),
    "z_pe_cm": ("f", "z of the photoelectron-based vertex, cm"),
    "od_trigger": ("b", "outer-detector (muon veto) trigger in coincidence"),
    "afterpulse": ("b", "event tagged as after-pulse"),
    "cherenkov": ("b", "event tagged as Cherenkov light (40K beta in PMT glass)"),
}
#: Extra branches of Monte-Carlo files (truth).
MC_BRANCHES: dict[str, tuple[str, str]] = {
    "true_energy_kev": ("f", "true deposited energy, keV"),
    "true_x_cm": ("f", "true vertex x, cm"),
    "true_y_cm": ("f", "true vertex y, cm"),
    "true_z_cm": ("f", "true vertex z, cm"),
}
DTYPES = {"f": np.float32, "b": np.bool_}

KINDS = ("data", "background", "signal", "variation")
MC_KINDS = ("background", "signal", "variation")

#: Keys of ``extra`` that every file of kind ``variation`` carries: a systematic
#: variation of a nominal Monte-Carlo sample (XMASS-I §3.3: optical parameters,
#: scintillation-decay time, reconstruction, energy scale).
VARIATION_KEYS: dict[str, str] = {
    "variation": "name of the systematic source, e.g. 'optical' or 'decay_time'",
    "nominal": "sample it varies: a background component or the signal Monte Carlo",
    "shift_sigma": "signed size of the variation in standard deviations, e.g. 1 or -1",
}


class EventFileError(ValueError):
    """An event file violates the contract; the message names file and item."""


@dataclass(frozen=True)
class EventFileMeta:
    """What an event file is (the ``exonu_meta`` JSON document).

    Attributes
    ----------
    kind : one of ``data``, ``background``, ``signal``, ``variation``.
    sample : sample name, e.g. ``pmt_u238``.
    n_generated : number of primary decays/interactions simulated for this file
        (Monte Carlo; for data the number of triggered events).
    livetime_s : live time the file represents, seconds (data; for Monte Carlo the
        live time its ``n_generated`` corresponds to at the nominal activity).
    activity_bq : activity the Monte Carlo was generated for, Bq (0 for data).
    seed : RNG seed of the generator.
    chunk, n_chunks : position of this file in its sample.
    generator, version : program that wrote the file.
    extra : free-form details (e.g. injected signal, variation parameters).
    """

    kind: str
    sample: str
    n_generated: int
    livetime_s: float
    activity_bq: float
    seed: int
    chunk: int = 0
    n_chunks: int = 1
    generator: str = "exonu"
    version: str = ""
    schema_version: int = META_SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_mc(self) -> bool:
        return self.kind in MC_KINDS

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str = "<string>") -> EventFileMeta:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as err:
            raise EventFileError(f"{source}: '{META_NAME}' is not valid JSON ({err.msg})") from None
        if not isinstance(doc, dict):
            raise EventFileError(f"{source}: '{META_NAME}' must be a JSON object")
        required = ("kind", "sample", "n_generated", "livetime_s", "activity_bq", "seed")
        missing = [k for k in required if k not in doc]
        if missing:
            raise EventFileError(f"{source}: '{META_NAME}' lacks key(s) {', '.join(missing)}")
        unknown = sorted(set(doc) - set(cls.__dataclass_fields__))
        if unknown:
            raise EventFileError(f"{source}: '{META_NAME}' has unknown key(s) {', '.join(unknown)}")
        if doc["kind"] not in KINDS:
            raise EventFileError(
                f"{source}: '{META_NAME}' kind is {doc['kind']!r}, expected one of {KINDS}"
            )
        _check_numbers(doc, source)
        meta = cls(**doc)
        meta.check(source)
        return meta

    def check(self, source: str = "<meta>") -> None:
        """Checks beyond types: a variation file says what it varies (:data:`VARIATION_KEYS`)."""
        if self.kind != "variation":
            return
        missing = [k for k in VARIATION_KEYS if k not in self.extra]
        if missing:
            want = "; ".join(f"{k}: {VARIATION_KEYS[k]}" for k in missing)
            raise EventFileError(
                f"{source}: '{META_NAME}' of a variation file lacks extra.{missing[0]} ({want})"
            )
        for key in ("variation", "nominal"):
            if not isinstance(self.extra[key], str) or not self.extra[key]:
                raise EventFileError(
                    f"{source}: '{META_NAME}' extra.{key} must be a non-empty string"
                )
        shift = self.extra["shift_sigma"]
        if isinstance(shift, bool) or not isinstance(shift, int | float) or shift == 0:
            raise EventFileError(
                f"{source}: '{META_NAME}' extra.shift_sigma must be a non-zero number, "
                f"got {shift!r}"
            )

    @property
    def variation(self) -> tuple[str, str, float] | None:
        """``(source, nominal sample, shift in sigma)`` of a variation file, else None."""
        if self.kind != "variation":
            return None
        e = self.extra
        return str(e["variation"]), str(e["nominal"]), float(e["shift_sigma"])


def _check_numbers(doc: Mapping[str, Any], source: str) -> None:
    """The counts and rates of a metadata document: ``n_generated`` an integer >= 1, live
    time and activity finite numbers >= 0, and a data file's live time > 0 (it normalises
    every Monte-Carlo sample). Monte Carlo may have zero activity (a background switched
    off) and zero live time (the signal Monte Carlo, normalised by the physics)."""

    def bad(key: str, expected: str) -> EventFileError:
        return EventFileError(f"{source}: {META_NAME}.{key} is {doc[key]!r}, expected {expected}")

    n = doc["n_generated"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise bad("n_generated", "an integer >= 1 (events generated or recorded)")
    for key, unit in (("livetime_s", "seconds"), ("activity_bq", "Bq")):
        v = doc[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise bad(key, f"a finite number of {unit}")
        if v < 0:
            raise bad(key, f"a number >= 0 {unit}")
    if doc["kind"] == "data" and not doc["livetime_s"] > 0:
        raise bad("livetime_s", "a number > 0 seconds (the live time of the data file)")


def expected_branches(kind: str) -> dict[str, tuple[str, str]]:
    """Canonical branches a file of ``kind`` must carry."""
    if kind in MC_KINDS:
        return {**REQUIRED_BRANCHES, **MC_BRANCHES}
    return dict(REQUIRED_BRANCHES)


def write_events(
    path: str | os.PathLike[str],
    arrays: Mapping[str, np.ndarray],
    meta: EventFileMeta,
    *,
    basket_entries: int = 500_000,
    compression: Any = None,
) -> Path:
    """Write an event file.

    Parameters
    ----------
    path : output file (written in place; see the module docstring for atomic outputs).
    arrays : canonical branch name -> 1-d array; all required branches of
        ``meta.kind`` must be present, all of the same length.
    meta : the file's metadata.
    basket_entries : entries per ``extend`` call (one basket per branch).
    compression : uproot compression; default ZSTD(1) (fast to write and read).
    """
    path = Path(path)
    meta.check(str(path))
    needed = expected_branches(meta.kind)
    missing = [b for b in needed if b not in arrays]
    if missing:
        raise EventFileError(f"{path}: cannot write, missing branch(es) {', '.join(missing)}")
    lengths = {len(arrays[b]) for b in needed}
    if len(lengths) != 1:
        raise EventFileError(f"{path}: cannot write, branches have different lengths {lengths}")
    n = lengths.pop()
    columns = {b: np.ascontiguousarray(arrays[b], dtype=DTYPES[needed[b][0]]) for b in needed}
    path.parent.mkdir(parents=True, exist_ok=True)
    comp = uproot.ZSTD(1) if compression is None else compression
    with uproot.recreate(path, compression=comp) as fout:
        fout[META_NAME] = meta.to_json()
        tree = fout.mktree(TREE_NAME, {b: c.dtype for b, c in columns.items()})
        step = max(1, int(basket_entries))
        for start in range(0, max(n, 1), step):
            block = {b: c[start : start + step] for b, c in columns.items()}
            if len(next(iter(block.values()))) or n == 0:
                tree.extend(block)
    return path


@dataclass(frozen=True)
class EventFileInfo:
    """Summary of a validated event file (what ``exonu inspect`` prints)."""

    path: str
    meta: EventFileMeta
    num_entries: int
    branches: dict[str, str]  # name in file -> ROOT type name
    compression: str


def _open(path: Path) -> uproot.ReadOnlyDirectory:
    if not path.exists():
        raise EventFileError(f"{path}: file does not exist")
    if path.is_dir():
        raise EventFileError(f"{path}: is a directory, expected a ROOT event file")
    try:
        fin = uproot.open(path)
    except Exception as err:  # uproot raises many kinds for corrupt input
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise EventFileError(f"{path}: not a readable ROOT file ({reason[:160]})") from None
    # the header records where the file ends: a copy or transfer cut short is shorter
    size = path.stat().st_size
    end = int(getattr(fin.file, "fEND", 0) or 0)
    if end > size:
        fin.close()
        raise EventFileError(
            f"{path}: truncated ROOT file ({size} bytes, its header says {end}); "
            "copy or regenerate it"
        )
    return fin


def read_meta(path: str | os.PathLike[str]) -> EventFileMeta:
    """Read and check the ``exonu_meta`` document of an event file."""
    path = Path(path)
    with _open(path) as fin:
        return _meta_of(fin, path)


def _meta_of(fin: uproot.ReadOnlyDirectory, path: Path) -> EventFileMeta:
    if META_NAME not in fin:
        raise EventFileError(f"{path}: no '{META_NAME}' metadata string (TObjString)")
    try:
        obj = fin[META_NAME]
    except Exception as err:
        raise EventFileError(f"{path}: cannot read '{META_NAME}' ({type(err).__name__})") from None
    if fin.classname_of(META_NAME) != "TObjString":
        raise EventFileError(
            f"{path}: '{META_NAME}' is a {fin.classname_of(META_NAME)}, expected TObjString"
        )
    return EventFileMeta.from_json(str(obj), source=str(path))


def inspect_file(
    path: str | os.PathLike[str],
    *,
    branch_map: Mapping[str, str] | None = None,
    expected_kind: str | tuple[str, ...] | None = None,
) -> EventFileInfo:
    """Open an event file and check it against the contract.

    Checks: the file is ROOT, has valid metadata of the expected kind, a tree
    ``events`` with every required branch (through ``branch_map``) of the right
    type, and no more entries than the metadata says were generated. Raises
    :class:`EventFileError` naming the file and the offending item.
    """
    path = Path(path)
    with _open(path) as fin:
        return _inspect(fin, path, dict(branch_map or {}), expected_kind)


def _inspect(
    fin: uproot.ReadOnlyDirectory,
    path: Path,
    bmap: Mapping[str, str],
    expected_kind: str | tuple[str, ...] | None,
) -> EventFileInfo:
    meta = _meta_of(fin, path)
    if expected_kind is not None:
        kinds = (expected_kind,) if isinstance(expected_kind, str) else tuple(expected_kind)
        if meta.kind not in kinds:
            raise EventFileError(
                f"{path}: file is kind {meta.kind!r} (sample {meta.sample!r}), "
                f"expected {' or '.join(repr(k) for k in kinds)}"
            )
    if TREE_NAME not in fin:
        raise EventFileError(f"{path}: no TTree '{TREE_NAME}'")
    if fin.classname_of(TREE_NAME) != "TTree":
        raise EventFileError(
            f"{path}: '{TREE_NAME}' is a {fin.classname_of(TREE_NAME)}, expected a TTree"
        )
    tree = fin[TREE_NAME]
    types = {name: tree[name].typename for name in tree.keys()}
    for canon, (kind, _doc) in expected_branches(meta.kind).items():
        name = bmap.get(canon, canon)
        label = f"branch '{name}'" + (f" (for '{canon}')" if name != canon else "")
        if name not in types:
            raise EventFileError(f"{path}: {label} missing in tree '{TREE_NAME}'")
        if not _type_ok(types[name], kind):
            want = "a floating-point number" if kind == "f" else "a boolean or integer flag"
            raise EventFileError(f"{path}: {label} has type {types[name]}, expected {want}")
    if tree.num_entries == 0:
        raise EventFileError(
            f"{path}: tree '{TREE_NAME}' has no entries ('{META_NAME}' n_generated = "
            f"{meta.n_generated}); an event file must hold at least one triggered event"
        )
    if tree.num_entries > meta.n_generated:
        raise EventFileError(
            f"{path}: tree '{TREE_NAME}' has {tree.num_entries} entries, more than "
            f"'{META_NAME}' n_generated = {meta.n_generated}"
        )
    comp = type(fin.file.compression).__name__ if fin.file.compression else "none"
    return EventFileInfo(str(path), meta, int(tree.num_entries), types, comp)


def _type_ok(typename: str, kind: str) -> bool:
    floats = {"float", "double", "Float_t", "Double_t"}
    ints = {"bool", "char", "unsigned char", "int8_t", "uint8_t", "int16_t", "uint16_t", "int32_t"}
    ints |= {"uint32_t", "int64_t", "uint64_t", "Bool_t", "Int_t", "UInt_t"}
    if kind == "f":
        return typename in floats
    return typename in ints


def iterate_events(
    path: str | os.PathLike[str],
    branches: list[str],
    *,
    branch_map: Mapping[str, str] | None = None,
    step_size: int = 1_000_000,
) -> Iterator[tuple[int, int, dict[str, np.ndarray]]]:
    """Yield ``(entry_start, entry_stop, arrays)`` blocks of canonical branches.

    Only the requested branches are read (through ``branch_map``), with
    ``uproot.iterate`` in blocks of ``step_size`` entries (1M, the default, is what
    ``benchmarks/records/selection.md`` measures). The file must have been
    validated with :func:`inspect_file`; :func:`open_events` does both at once.
    """
    path = Path(path)
    with _open(path) as fin:
        yield from _blocks(fin[TREE_NAME], branches, dict(branch_map or {}), step_size, path)


def _blocks(
    tree: Any, branches: list[str], bmap: Mapping[str, str], step_size: int, path: Path
) -> Iterator[tuple[int, int, dict[str, np.ndarray]]]:
    file_names = [bmap.get(b, b) for b in branches]
    rename = dict(zip(file_names, branches, strict=True))
    blocks = tree.iterate(file_names, step_size=int(step_size), library="np", report=True)
    start = 0
    while True:
        try:
            block, report = next(blocks)
        except StopIteration:
            return
        except Exception as err:  # corrupt baskets: uproot raises OSError, ValueError, ...
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise EventFileError(
                f"{path}: cannot read tree '{TREE_NAME}' from entry {start} "
                f"(corrupt or truncated file: {reason[:160]})"
            ) from None
        start = int(report.tree_entry_stop)
        yield (
            int(report.tree_entry_start),
            int(report.tree_entry_stop),
            {rename[k]: v for k, v in block.items()},
        )


@contextmanager
def open_events(
    path: str | os.PathLike[str],
    *,
    branch_map: Mapping[str, str] | None = None,
    expected_kind: str | tuple[str, ...] | None = None,
) -> Iterator[tuple[EventFileInfo, Callable[..., Iterator[tuple[int, int, dict]]]]]:
    """Validate an event file and read it, opening it once.

    Yields ``(info, blocks)``: the :class:`EventFileInfo` of :func:`inspect_file`
    (raises :class:`EventFileError` like it) and ``blocks(branches, step_size)``,
    which iterates like :func:`iterate_events`::

        with open_events(path, expected_kind="data") as (info, blocks):
            for start, stop, arrays in blocks(["npe", "r_pe_cm"], 1_000_000):
                ...
    """
    path = Path(path)
    bmap = dict(branch_map or {})
    with _open(path) as fin:
        info = _inspect(fin, path, bmap, expected_kind)
        tree = fin[TREE_NAME]

        def blocks(
            branches: list[str], step_size: int = 1_000_000
        ) -> Iterator[tuple[int, int, dict[str, np.ndarray]]]:
            return _blocks(tree, branches, bmap, step_size, path)

        yield info, blocks


def read_events(
    path: str | os.PathLike[str],
    branches: list[str] | None = None,
    *,
    branch_map: Mapping[str, str] | None = None,
) -> dict[str, np.ndarray]:
    """Read whole branches into memory (small files, tests)."""
    info = inspect_file(path, branch_map=branch_map)
    names = branches or list(expected_branches(info.meta.kind))
    out: dict[str, list[np.ndarray]] = {b: [] for b in names}
    for _a, _b, block in iterate_events(path, names, branch_map=branch_map, step_size=10**7):
        for b in names:
            out[b].append(block[b])
    return {
        b: (np.concatenate(v) if v else np.zeros(0, DTYPES[expected_branches("signal")[b][0]]))
        for b, v in out.items()
    }
