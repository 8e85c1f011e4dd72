"""What every job of the workflow shares: atomic outputs, logging, seeds, provenance.

:func:`atomic_output` is the one way an output of the workflow is written: the writer gets a
temporary path in the output's directory, which is renamed over the output when the writer
succeeds and removed when it fails, so a reader (or a rerun after a crash) never sees a
half-written file. :func:`write_json` and :func:`write_text` are built on it.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import resource
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "FAIL_ONCE_ENV",
    "InjectedFault",
    "atomic_output",
    "job_usage",
    "record_seed",
    "setup_script_logging",
    "write_json",
    "write_text",
]

log = logging.getLogger("exonu")


# --------------------------------------------------------------------------- atomic outputs


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path next to ``path`` for the body of the ``with`` block to write.

    When the block succeeds the temporary file is renamed over ``path`` (its contents flushed
    to disk first); when it raises the temporary file is removed and ``path`` is left as it
    was. The directory of ``path`` is created if needed. The temporary name is hidden and ends
    in ``.tmp`` (``.<name>.<random>.tmp``).
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(text: str, path: str | os.PathLike[str]) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (:func:`atomic_output`)."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(obj: Any, path: str | os.PathLike[str], *, one_line_arrays: bool = False) -> None:
    """Write ``obj`` as JSON with sorted keys to ``path`` atomically.

    The layout is ``json.dumps(indent=1)``, or with ``one_line_arrays`` the one of
    :func:`exonu.stats.workspace.to_json_text` (each array of numbers on one line: workspaces,
    response matrices, tables), both ending in a newline.
    """
    if one_line_arrays:
        from exonu.stats.workspace import to_json_text

        text = to_json_text(obj)
    else:
        text = json.dumps(obj, indent=1, sort_keys=True) + "\n"
    write_text(text, path)


# --------------------------------------------------------------------------- seeds

#: Seeds used by the current job, recorded in the provenance sidecars of its outputs.
_SEEDS: list[int] = []


def record_seed(seed: int) -> None:
    """Record a random seed used by this job (goes into every ``.prov.json`` it writes)."""
    _SEEDS.append(int(seed))


# --------------------------------------------------------------------------- scripts


def setup_script_logging(smk: Any) -> None:
    """Send the ``exonu`` logger of a rule script to the rule's log file and stderr."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if smk.log:
        Path(smk.log[0]).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(smk.log[0], mode="w"))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for h in handlers:
        h.setFormatter(fmt)
        log.addHandler(h)
    log.setLevel(logging.INFO)
    log.info("rule %s, wildcards %s", smk.rule, dict(smk.wildcards))
    _inject_fault(smk)

    # import now: modules cannot be imported safely from an atexit hook (threading shutdown)
    import exonu.io.root
    import exonu.products.provenance  # noqa: F401

    failed = []

    def excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        # one clear line in the rule's log; the traceback stays on stderr
        failed.append(kind)
        log.error("%s: %s", kind.__name__, value)
        sys.__excepthook__(kind, value, tb)

    sys.excepthook = excepthook

    def write_provenance() -> None:
        if not failed:
            _write_provenance(smk)

    atexit.register(write_provenance)


#: Fault injection for the fault-tolerance tests: ``EXONU_FAIL_ONCE=<rule>:<marker dir>``
#: makes the first attempt of every job of ``<rule>`` fail (a transient failure that
#: ``snakemake --retries 1`` must recover from). Unset in normal use.
FAIL_ONCE_ENV = "EXONU_FAIL_ONCE"


class InjectedFault(RuntimeError):
    """A deliberate, transient failure (see :data:`FAIL_ONCE_ENV`)."""


def _inject_fault(smk: Any) -> None:
    spec = os.environ.get(FAIL_ONCE_ENV)
    if not spec or ":" not in spec:
        return
    rule, marker_dir = spec.split(":", 1)
    if rule != smk.rule:
        return
    tag = "_".join(f"{k}-{v}" for k, v in sorted(dict(smk.wildcards).items())) or "job"
    marker = Path(marker_dir) / f"{rule}__{tag}"
    if marker.exists():
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    raise InjectedFault(f"injected transient failure of rule {rule} ({tag}); retry succeeds")


def job_usage() -> dict[str, float]:
    """Peak resident memory (MB) and CPU seconds of this job's process so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "max_rss_mb": round(own.ru_maxrss / 1024.0, 1),  # Linux reports kB
        "cpu_s": round(own.ru_utime + own.ru_stime, 3),
    }


def _write_provenance(smk: Any) -> None:
    """``<output>.prov.json`` for every output of a successful job."""
    from exonu.io.root import EventFileError, read_meta
    from exonu.products.provenance import build_record, sidecar_path

    inputs = [str(p) for p in smk.input]
    params = {k: v for k, v in dict(smk.params).items()}
    # seeds of the event files read (the user's files carry no sidecar of their own)
    input_seeds = []
    for p in inputs:
        if p.endswith(".root") and Path(p).is_file():
            try:
                input_seeds.append(read_meta(p).seed)
            except EventFileError:
                pass  # a histogram file
    for out in smk.output:
        path = Path(out)
        if not path.is_file():
            continue
        seeds = list(_SEEDS) + [s for s in input_seeds if s not in _SEEDS]
        if path.suffix == ".root":
            try:
                seeds.append(read_meta(path).seed)
            except EventFileError:
                pass  # a histogram file, not an event file
        record = build_record(
            path,
            rule=smk.rule,
            wildcards=dict(smk.wildcards),
            params=params,
            inputs=inputs,
            seeds=seeds,
        )
        record["job"] = job_usage()
        # the config files (base first) and --config overrides of the run (Snakefile)
        record["configuration"] = dict(smk.config).get("_sources")
        write_json(record, sidecar_path(path))
