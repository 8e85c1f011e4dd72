"""Provenance sidecars: ``<output>.prov.json`` for every file a rule writes.

Each sidecar records what is needed to reproduce and trust a product: the git
commit of the code and whether the work tree was dirty, the exonu version, the
sha256 of the config subtree the rule depends on (its ``params``), the sha256 of
every input, the random seeds that went into it (its own and those of all its
inputs), versions of the key dependencies, the rule and its wildcards, host and
UTC time. :func:`provenance_chain` follows the ``inputs`` back through their own
sidecars to the event files (what ``exonu provenance PRODUCT`` prints).

Paths are recorded as the rule saw them: relative to the workflow's working directory
(``product`` is the output's own path so). The chain finds that directory again from where
the product is now (:func:`workflow_dir`), so it can be followed from any directory and
after the whole work directory was moved.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import socket
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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


class ProvenanceError(ValueError):
    """A product cannot be traced (no, corrupt or foreign sidecar); one line naming the file."""


#: Keys every sidecar has (:func:`build_record`); a JSON file without them is not a sidecar.
RECORD_KEYS = ("product", "rule", "inputs")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_sidecar(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The sidecar of ``path``; ``None`` if there is none.

    Raises :class:`ProvenanceError` naming the sidecar if it cannot be read, is not strict
    JSON (a file cut short, edited by hand) or is not a provenance record.
    """
    side = sidecar_path(path)
    try:
        text = side.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise ProvenanceError(f"{side}: corrupt provenance sidecar (not UTF-8 text)") from None
    except OSError as err:
        raise ProvenanceError(f"{side}: cannot read provenance sidecar ({err.strerror})") from None
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise ProvenanceError(
            f"{side}: corrupt provenance sidecar (not valid JSON: {err.msg} at line "
            f"{err.lineno}, column {err.colno})"
        ) from None
    except ValueError as err:
        raise ProvenanceError(f"{side}: corrupt provenance sidecar ({err})") from None
    check_record(doc, str(side))
    return doc


def check_record(doc: Any, source: str) -> None:
    """Raise :class:`ProvenanceError` unless ``doc`` is a provenance record."""
    want = f"expected a JSON object with keys {', '.join(RECORD_KEYS)} written by exonu"
    if not isinstance(doc, dict):
        raise ProvenanceError(
            f"{source}: not a provenance record (a JSON {type(doc).__name__}; {want})"
        )
    missing = [k for k in RECORD_KEYS if k not in doc]
    if missing:
        raise ProvenanceError(
            f"{source}: not a provenance record (lacks {', '.join(missing)}; {want})"
        )
    inputs = doc["inputs"]
    if not isinstance(inputs, list) or not all(
        isinstance(e, dict) and isinstance(e.get("path"), str) for e in inputs
    ):
        raise ProvenanceError(
            f"{source}: corrupt provenance sidecar (inputs must be a list of objects with a "
            "'path' string)"
        )
    if not isinstance(doc["rule"], str) or not isinstance(doc["product"], str):
        raise ProvenanceError(
            f"{source}: corrupt provenance sidecar (rule and product must be strings)"
        )


def read_sidecar(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The sidecar of ``path``, or ``None`` if there is none or it is not a valid record."""
    try:
        return load_sidecar(path)
    except ProvenanceError:
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
    """Write ``record`` as the sidecar of ``output`` (in place; the jobs of the workflow write
    theirs atomically, :mod:`exonu.stages.runtime`)."""
    side = sidecar_path(output)
    side.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return side


@dataclass(frozen=True)
class Link:
    """One file of a provenance chain.

    ``path`` is how it is shown (relative to the current directory when inside it),
    ``file`` where it was looked for, ``doc`` its sidecar (``None``: none); ``status`` is
    ``ok``, ``missing`` (not found) or ``corrupt`` (its sidecar), ``problem`` then a
    one-line message naming the file.
    """

    depth: int
    path: str
    file: Path
    doc: dict[str, Any] | None
    status: str = "ok"
    problem: str | None = None


def workflow_dir(product: str | os.PathLike[str], recorded: str) -> Path | None:
    """The directory a workflow ran in, from where its product is now and the product path
    its sidecar records (relative to that directory): ``/x/w/results/a.json`` recorded as
    ``results/a.json`` ran in ``/x/w``. ``None`` if the recorded path is absolute or is not
    the end of the product's path (the file was renamed)."""
    rec = Path(recorded)
    if rec.is_absolute() or ".." in rec.parts or not rec.parts:
        return None
    n = len(rec.parts)
    for full in (Path(os.path.abspath(product)), Path(product).resolve()):
        if len(full.parts) > n and full.parts[-n:] == rec.parts:
            return Path(*full.parts[:-n])
    return None


def _shown(file: Path) -> str:
    full = Path(os.path.abspath(file))
    cwd = Path.cwd()
    return str(full.relative_to(cwd)) if full.is_relative_to(cwd) else str(full)


def provenance_chain(product: str | os.PathLike[str], max_depth: int = 20) -> list[Link]:
    """The chain of files from ``product`` back to its first inputs (depth first).

    The inputs a sidecar records relative to the workflow's working directory are looked
    for in the directory the product came from (:func:`workflow_dir`), so the chain can be
    followed from any directory. Raises :class:`ProvenanceError` (one line naming the file)
    if ``product`` is not a product with a valid sidecar; problems further up the chain
    (an input not found, a corrupt sidecar) are reported in :attr:`Link.problem`.
    """
    root = Path(product)
    # the sidecar itself given: trace its product
    if root.name.endswith(SUFFIX) and root.is_file() and not sidecar_path(root).exists():
        root = root.with_name(root.name[: -len(SUFFIX)])
        product = str(root)
    if root.is_dir():
        raise ProvenanceError(f"{product}: is a directory, expected a product file")
    doc = load_sidecar(root)
    if doc is None:
        if not root.exists():
            raise ProvenanceError(f"{product}: no such file")
        raise ProvenanceError(
            f"{product}: no provenance sidecar {sidecar_path(root).name} (expected a product "
            "of the exonu workflow, or its .prov.json sidecar)"
        )

    out: list[Link] = [Link(0, str(product), root, doc)]
    seen: set[str] = set()

    def expand(file: Path, doc: dict[str, Any], depth: int, base: Path | None) -> None:
        key = os.path.abspath(file)
        if depth >= max_depth or key in seen:
            return
        seen.add(key)
        base = workflow_dir(file, doc["product"]) or base
        for entry in doc["inputs"]:
            recorded = Path(entry["path"])
            f = recorded if recorded.is_absolute() or base is None else base / recorded
            shown = _shown(f)
            try:
                parent = load_sidecar(f)
            except ProvenanceError as err:
                out.append(Link(depth + 1, shown, f, None, "corrupt", str(err)))
                continue
            if parent is None and not f.exists():
                where = f" in the workflow directory {base}" if base else ""
                problem = f"{shown}: input not found (recorded as {entry['path']}{where})"
                out.append(Link(depth + 1, shown, f, None, "missing", problem))
                continue
            if parent is None:
                out.append(Link(depth + 1, shown, f, None))
                continue
            out.append(Link(depth + 1, shown, f, parent))
            expand(f, parent, depth + 1, base)

    expand(root, doc, 0, None)
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


def format_chain(chain: Sequence[Link]) -> str:
    lines = []
    for link in chain:
        depth, path, doc = link.depth, link.path, link.doc
        pad = "  " * depth
        if link.status != "ok":
            what = "corrupt provenance sidecar" if link.status == "corrupt" else "not found"
            lines.append(f"{pad}{path}  ({what})")
            continue
        if doc is None:
            lines.append(f"{pad}{path}  ({_origin_of(str(link.file))})")
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
