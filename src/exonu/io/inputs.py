"""The user's own event files: ``inputs.event_files`` in the configuration.

By default every sample of an events-mode analysis is simulated (:mod:`exonu.sim`). A
sample listed under ``inputs.event_files`` is read from the listed ROOT files instead --
real data, a collaboration's Monte Carlo, or files from an earlier production::

    inputs:
      event_files:
        data: [/store/xmass/run*/data_*.root]      # glob patterns, sorted, one chunk each
        cu_pb210: [/store/mc/cu_pb210_000.root, /store/mc/cu_pb210_001.root]

Two levels of checks, so that bad input stops the analysis before a histogram is made:

* :func:`resolve_event_files` (when the workflow is parsed, no file is opened): the
  sample names are samples of the analysis, every pattern matches at least one file,
  and no file is listed twice;
* :func:`check_sample_files` (one job per sample, before its files are selected): each
  file is a readable, complete ROOT file whose ``exonu_meta`` says it is the listed
  sample of the expected kind, and no two files share a seed (the same events twice).
  The selection job then inspects the tree (branches, types, entries) and counts
  invalid values (:func:`exonu.selection.run.select_file`).

Every error is one line naming the file or the config key and what was expected.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from exonu.errors import ConfigError
from exonu.io.root import EventFileError, read_meta
from exonu.sim.samples import sample_kinds

KEY = "inputs.event_files"


def resolve_event_files(
    cfg: Mapping[str, Any], base_dir: str | os.PathLike[str] = "."
) -> dict[str, list[str]]:
    """``inputs.event_files`` as sample -> sorted absolute file paths (one chunk each).

    Relative paths and patterns are taken from ``base_dir`` (the workflow's working
    directory). Raises :class:`~exonu.errors.ConfigError` naming the key.
    """
    listed = (cfg.get("inputs") or {}).get("event_files") or {}
    if not listed:
        return {}
    kinds = sample_kinds(cfg["simulation"])
    out: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for sample, patterns in listed.items():
        key = f"{KEY}.{sample}"
        if sample not in kinds:
            raise ConfigError(
                f"config key '{key}': {sample!r} is not a sample of this analysis "
                f"(expected one of {', '.join(sorted(kinds))})"
            )
        files: list[str] = []
        for pattern in patterns:
            full = os.path.join(os.fspath(base_dir), os.path.expanduser(pattern))
            matches = sorted(glob.glob(full)) if glob.has_magic(full) else [full]
            matches = [m for m in matches if os.path.isfile(m)]
            if not matches:
                raise ConfigError(f"config key '{key}': no file matches {pattern!r}")
            files.extend(os.path.abspath(m) for m in matches)
        for f in files:
            if f in owner:
                where = "twice" if owner[f] == sample else f"also under {KEY}.{owner[f]}"
                raise ConfigError(f"config key '{key}': file {f} is listed {where}")
            owner[f] = sample
        out[sample] = sorted(files)
    return out


def check_sample_files(sample: str, kind: str, paths: Sequence[str]) -> dict[str, Any]:
    """Read and check the metadata of a sample's files; the manifest of the sample.

    Raises :class:`~exonu.io.root.EventFileError` (one line naming the file) if a file
    is not readable or complete ROOT, lacks or has malformed ``exonu_meta``, is of
    another kind (e.g. data listed as Monte Carlo) or another sample, or repeats the
    seed of another file of the sample.
    """
    seen: dict[int, str] = {}
    files = []
    for path in paths:
        meta = read_meta(path)
        if meta.kind != kind:
            what = "Monte Carlo" if kind != "data" else "data"
            raise EventFileError(
                f"{path}: file is kind {meta.kind!r} (sample {meta.sample!r}) but is listed "
                f"as {what} under {KEY}.{sample}, which expects kind {kind!r}"
            )
        if meta.sample != sample:
            raise EventFileError(
                f"{path}: file is sample {meta.sample!r}, listed under {KEY}.{sample}"
            )
        if meta.seed in seen:
            raise EventFileError(
                f"{path}: same sample {sample!r} and seed {meta.seed} as {seen[meta.seed]} "
                "(the same events twice?); every file of a sample needs its own seed"
            )
        seen[meta.seed] = path
        files.append(
            {
                "path": str(path),
                "bytes": Path(path).stat().st_size,
                "seed": meta.seed,
                "n_generated": meta.n_generated,
            }
        )
    return {"sample": sample, "kind": kind, "files": files}
