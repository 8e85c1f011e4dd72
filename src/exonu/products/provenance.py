"""Provenance sidecars: ``<output>.prov.json`` for every file a rule writes.

Each sidecar records what is needed to reproduce and trust a product: the git
commit of the code and whether the work tree was dirty, the exonu version, the
sha256 of the config subtree the rule depends on (its ``params``), the sha256 of
every input, the random seeds that went into it (its own and those of all its
inputs), versions of the key dependencies, the rule and its wildcards, host and
UTC time. :func:`provenance_chain` follows the ``inputs`` back through their own
sidecars to the event files (what ``exonu provenance PRODUCT`` prints).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import socket
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from exonu import __version__

SUFFIX = ".prov.json"
KEY_PACKAGES = (
    "snakemake",
    "uproot",
    "awkward",
    "numba",
    "numpy",
    "scipy",
    "iminuit",
    "hist",
    "matplotlib",
    "mplhep",
)
_REPO = Path(__file__).resolve().parents[3]


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    return path.with_name(path.name + SUFFIX)


def sha256_file(path: str | os.PathLike[str], block: int = 1 << 20) -> str:
    """sha256 of a file; a file unchanged since it was last hashed in this process (same
    size and modification time in ns) is not read again (a job with several outputs
    records its inputs once per output)."""
    st = os.stat(path)
    return _sha256_cached(os.path.abspath(path), st.st_size, st.st_mtime_ns, block)


@cache
def _sha256_cached(path: str, _size: int, _mtime_ns: int, block: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def config_digest(params: Any) -> str:
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@cache
def git_state() -> dict[str, Any]:
    """Commit and dirty flag of the exonu source tree (``None`` outside a checkout)."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(_REPO), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(_REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        return {"commit": commit, "dirty": bool(status.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


@cache
def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def read_sidecar(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    side = sidecar_path(path)
    if not side.exists():
        return None
    try:
        return json.loads(side.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def build_record(
    output: str | os.PathLike[str],
    *,
    rule: str,
    wildcards: Mapping[str, Any],
    params: Any,
    inputs: Sequence[str | os.PathLike[str]],
    seeds: Iterable[int] = (),
) -> dict[str, Any]:
    """The provenance document of one output file."""
    all_seeds = {int(s) for s in seeds}
    input_docs = []
    for path in inputs:
        p = Path(path)
        if not p.is_file():
            continue
        parent = read_sidecar(p)
        if parent:
            all_seeds.update(int(s) for s in parent.get("seeds", []))
        input_docs.append({"path": str(p), "sha256": sha256_file(p)})
    return {
        "product": str(output),
        "sha256": sha256_file(output) if Path(output).is_file() else None,
        "rule": rule,
        "wildcards": {k: str(v) for k, v in dict(wildcards).items()},
        "exonu_version": __version__,
        "git": git_state(),
        "config_digest": config_digest(params),
        "inputs": input_docs,
        "seeds": sorted(all_seeds),
        "versions": package_versions(),
        "host": socket.gethostname(),
        "time_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def write_sidecar(output: str | os.PathLike[str], record: Mapping[str, Any]) -> Path:
    side = sidecar_path(output)
    tmp = side.with_name(side.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, side)
    return side


def provenance_chain(
    product: str | os.PathLike[str], max_depth: int = 20
) -> list[tuple[int, str, dict[str, Any] | None]]:
    """(depth, path, sidecar or None) from the product back to its first inputs."""
    out: list[tuple[int, str, dict[str, Any] | None]] = []
    seen: set[str] = set()

    def walk(path: str, depth: int) -> None:
        doc = read_sidecar(path)
        out.append((depth, path, doc))
        if doc is None or depth >= max_depth or path in seen:
            return
        seen.add(path)
        for entry in doc.get("inputs", []):
            walk(entry["path"], depth + 1)

    walk(str(product), 0)
    return out


def _origin_of(path: str) -> str:
    """What a file without a sidecar is: an event file's own metadata, else unknown."""
    if path.endswith(".root"):
        from exonu.io.root import EventFileError, read_meta

        try:
            m = read_meta(path)
        except EventFileError:
            return "no provenance sidecar"
        return (
            f"event file, no sidecar: {m.kind} sample {m.sample!r} seed {m.seed}, "
            f"{m.n_generated} generated, written by {m.generator} {m.version}".rstrip()
        )
    return "no provenance sidecar"


def format_chain(chain: Sequence[tuple[int, str, dict[str, Any] | None]]) -> str:
    lines = []
    for depth, path, doc in chain:
        pad = "  " * depth
        if doc is None:
            lines.append(f"{pad}{path}  ({_origin_of(path)})")
            continue
        git = doc.get("git", {})
        commit = (git.get("commit") or "?")[:10] + ("+dirty" if git.get("dirty") else "")
        wild = ",".join(f"{k}={v}" for k, v in doc.get("wildcards", {}).items())
        seeds = doc.get("seeds", [])
        lines.append(
            f"{pad}{path}  [rule {doc.get('rule')}{' ' + wild if wild else ''}; "
            f"config {doc.get('config_digest', '')[:10]}; exonu {doc.get('exonu_version')} "
            f"@ {commit}; {len(seeds)} seed(s); {doc.get('time_utc')}]"
        )
    return "\n".join(lines)
