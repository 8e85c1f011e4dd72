"""The ``exonu`` command line.

Subcommands (``exonu <command> --help`` for each):

* ``inspect FILE.root ...`` — what an event file is: kind, sample, entries,
  generator and seed, branches with types; checks it against the contract.
* ``rate MODEL ...`` — differential rates of the physics models (no detector).
* ``config [FILE ...]`` — resolve and validate a configuration; print it with the origin
  of each top-level block.
* ``run [SNAKEMAKE OPTIONS]`` — check the configuration, then run the workflow.
* ``workspace FILE.json`` — summary of a workspace.
* ``provenance PRODUCT`` — the chain of inputs of a product back to the event files.

A user's mistake (a missing or wrong file, a bad argument) ends in one line on stderr,
``exonu <command>: <file or argument>: <what was expected>``, and a non-zero exit status
(2 for bad arguments, 1 for bad files); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence

from exonu import __version__

#: Modules that add subcommands through ``register(subparsers)``.
PLUGIN_MODULES = ("exonu.rate_cli",)

#: The exceptions that report a user's mistake, by module: a message naming the file or
#: key and what was expected. Looked up in ``sys.modules`` (an error of a module that was
#: never imported cannot occur), so that this list imports nothing.
USER_ERRORS = (
    ("exonu.io.root", "EventFileError"),
    ("exonu.stats.errors", "StatsError"),
    ("exonu.physics.errors", "PhysicsError"),
    ("exonu.products.provenance", "ProvenanceError"),
    ("exonu.errors", "ConfigError"),
)


class UsageError(ValueError):
    """A bad command-line argument (exit status 2); the message names the argument."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: ``exonu rate: error: <message>``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _branch_map(items: Sequence[str] | None) -> dict[str, str]:
    """``--branch CANONICAL=NAME`` options as a mapping."""
    from exonu.io.root import MC_BRANCHES, REQUIRED_BRANCHES

    known = {**REQUIRED_BRANCHES, **MC_BRANCHES}
    bmap: dict[str, str] = {}
    for item in items or []:
        canon, sep, name = (part.strip() for part in item.partition("="))
        if not sep or not canon or not name:
            raise UsageError(f"--branch: expected CANONICAL=NAME, got {item!r}")
        if canon not in known:
            raise UsageError(
                f"--branch {item}: {canon!r} is not a branch exonu reads "
                f"(expected one of {', '.join(known)})"
            )
        bmap[canon] = name
    return bmap


def _inspect(args: argparse.Namespace) -> int:
    from exonu.io.root import EventFileError, expected_branches, inspect_file

    bmap = _branch_map(args.branch)
    status = 0
    docs = []
    for path in args.files:
        try:
            info = inspect_file(path, branch_map=bmap)
        except EventFileError as err:
            print(f"exonu inspect: {err}", file=sys.stderr)
            status = 1
            continue
        meta = info.meta
        if args.json:
            docs.append(
                {
                    "path": info.path,
                    "entries": info.num_entries,
                    "compression": info.compression,
                    "branches": info.branches,
                    "meta": json.loads(meta.to_json()),
                }
            )
            continue
        known = expected_branches(meta.kind)
        print(f"{info.path}")
        print(f"  kind        {meta.kind}")
        print(f"  sample      {meta.sample} (chunk {meta.chunk + 1} of {meta.n_chunks})")
        print(f"  entries     {info.num_entries}")
        print(f"  generated   {meta.n_generated}")
        if meta.kind == "data":
            print(f"  live time   {meta.livetime_s / 86400:.4g} d")
        else:
            print(
                f"  activity    {meta.activity_bq:.4g} Bq (live-time equivalent "
                f"{meta.livetime_s / 86400:.4g} d)"
            )
        print(f"  generator   {meta.generator} {meta.version}, seed {meta.seed}")
        print(f"  compression {info.compression}")
        print("  branches")
        inverse = {bmap.get(k, k): k for k in known}
        for name, typ in info.branches.items():
            canon = inverse.get(name)
            note = known[canon][1] if canon else "(not used by exonu)"
            print(f"    {name:<18} {typ:<8} {note}")
        if meta.extra:
            print(f"  extra       {json.dumps(meta.extra, sort_keys=True)}")
    if args.json:
        print(json.dumps(docs, indent=1, allow_nan=False))
    return status


def _config(args: argparse.Namespace) -> int:
    from exonu.config import ConfigError, format_resolved, resolve_config

    try:
        res = resolve_config(args.files, args.config or [], schema=args.schema)
    except ConfigError as err:
        print(f"exonu config: {err}", file=sys.stderr)
        return 1
    print(format_resolved(res), end="")
    return 0


def _snakemake_config_args(argv: Sequence[str]) -> tuple[list[str], list[str], bool]:
    """(config files, --config entries, whether a Snakefile was named) of snakemake options."""
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--configfile", "--configfiles", nargs="+", action="extend", default=[])
    pre.add_argument("--config", "-C", nargs="+", action="extend", default=[])
    pre.add_argument("--snakefile", "-s")
    known, _ = pre.parse_known_args(list(argv))
    return known.configfile, known.config, known.snakefile is not None


def _run(args: argparse.Namespace) -> int:
    import os
    import shutil
    from pathlib import Path

    from exonu.config import DEFAULT_CONFIG, ConfigError, resolve_config

    rest = list(args.snakemake_args)
    if rest[:1] == ["--"]:
        rest = rest[1:]
    files, overrides, named = _snakemake_config_args(rest)
    try:
        res = resolve_config(files, overrides)
    except ConfigError as err:
        print(f"exonu run: invalid configuration: {err}", file=sys.stderr)
        return 2
    if not files:
        print(f"exonu run: no --configfile, running the embedded default ({DEFAULT_CONFIG})")
    print(
        f"exonu run: analysis {res.config['analysis']!r} ({res.config['mode']} mode) from "
        f"{', '.join(res.files)}; outputs in results/{res.config['analysis']}/",
        flush=True,
    )
    exe = Path(sys.executable).with_name("snakemake")
    snakemake = str(exe) if exe.exists() else shutil.which("snakemake")
    if snakemake is None:
        print("exonu run: snakemake is not installed in this environment", file=sys.stderr)
        return 2
    cmd = [snakemake]
    if not named and not Path("Snakefile").is_file():
        # the workflow is in the repository, beside src/ of the checkout exonu runs from
        snakefile = Path(__file__).resolve().parents[2] / "Snakefile"
        if not snakefile.is_file():
            print(
                "exonu run: no Snakefile in this directory or beside the installed package; run "
                "from the root of the exonu repository or give --snakefile",
                file=sys.stderr,
            )
            return 2
        cmd += ["--snakefile", str(snakefile)]
    os.execv(snakemake, [*cmd, *rest])
    return 0  # not reached


def _workspace(args: argparse.Namespace) -> int:
    from exonu.stats.errors import WorkspaceError
    from exonu.stats.workspace import load_workspace

    try:
        ws = load_workspace(args.file)
    except WorkspaceError as err:
        print(f"exonu workspace: {err}", file=sys.stderr)
        return 1
    edges = ws.edges_kev
    print(f"{args.file}: analysis {ws.analysis!r}, digest {ws.digest()[:16]}")
    print(f"  {ws.n_bins} bins, {edges[0]:g}-{edges[-1]:g} keV; observed {int(ws.observed.sum())}")
    print(f"  {len(ws.backgrounds)} background components:")
    for b in ws.backgrounds:
        unc = "free" if b.relative_uncertainty is None else f"±{b.relative_uncertainty:.0%}"
        print(f"    {b.name:<16} {float(b.expected.sum()):10.1f} events  {unc}")
    print(f"  {len(ws.signals)} signal hypotheses:")
    for s in ws.signals:
        print(
            f"    {s.name:<24} {s.model} ({s.flavour}), {s.parameter} in {s.unit}, "
            f"powers {list(s.powers)}, window {list(s.fit_window_kev)} keV"
        )
    return 0


def _provenance(args: argparse.Namespace) -> int:
    from exonu.products.provenance import format_chain, provenance_chain

    chain = provenance_chain(args.product)  # ProvenanceError: not a product with a sidecar
    if args.json:
        doc = [
            {"depth": c.depth, "path": c.path, "provenance": c.doc, "status": c.status}
            for c in chain
        ]
        print(json.dumps(doc, indent=1, allow_nan=False))
    else:
        print(format_chain(chain))
    problems = [c.problem for c in chain if c.problem]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        print(
            f"exonu provenance: {args.product}: chain incomplete: {problems[0]}{more}",
            file=sys.stderr,
        )
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="exonu",
        description="Exotic neutrino-electron interactions of solar neutrinos in liquid xenon.",
    )
    parser.add_argument("--version", action="version", version=f"exonu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "inspect",
        help="describe and check event files (kind, sample, entries, branches)",
        description="Describe ROOT event files and check them against exonu's data contract.",
    )
    p.add_argument("files", nargs="+", metavar="FILE.root")
    p.add_argument(
        "--branch",
        action="append",
        metavar="CANONICAL=NAME",
        help="branch-name mapping for files with other names (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_inspect)

    p = sub.add_parser(
        "config",
        help="resolve and validate a configuration; print it with the origin of each block",
        description=(
            "Resolve a configuration as the workflow does: the files in order (each with the "
            "bases it names by 'extends:'; none = the embedded default exonu:default, which "
            "a file may also name), "
            "then --config overrides (typed YAML values, dotted keys allowed: fit.cl=0.95); "
            "the schema fills in defaults. Prints it with where each top-level block came from."
        ),
    )
    p.add_argument("files", nargs="*", metavar="FILE")
    p.add_argument(
        "--config",
        nargs="+",
        action="extend",
        metavar="KEY=VALUE",
        help="overrides as on the snakemake command line, e.g. fit='{cl: 0.95}' or fit.cl=0.95",
    )
    p.add_argument("--schema", default=None, help="schema file (default: the packaged one)")
    p.set_defaults(func=_config)

    p = sub.add_parser(
        "run",
        help="check the configuration, then run the workflow with snakemake",
        description=(
            "Resolve and validate the configuration named by --configfile/--config (one-line "
            "messages for a missing file, YAML errors, duplicate keys, bad values), then run "
            "snakemake with exactly the given options (e.g. --cores 2, -n, --profile ...)."
        ),
        prefix_chars="+",  # every '-' option belongs to snakemake
    )
    p.add_argument("snakemake_args", nargs=argparse.REMAINDER, metavar="SNAKEMAKE_OPTION")
    p.set_defaults(func=_run)

    p = sub.add_parser("workspace", help="summarise a workspace JSON file")
    p.add_argument("file")
    p.set_defaults(func=_workspace)

    p = sub.add_parser(
        "provenance",
        help="print the chain of inputs of a product back to the event files",
        description="Follow <file>.prov.json sidecars from a product back to the event files.",
    )
    p.add_argument("product")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_provenance)

    for name in PLUGIN_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        module.register(sub)
    return parser


def user_error(err: BaseException) -> tuple[str, int] | None:
    """``(one-line message, exit status)`` if ``err`` is a user's mistake, else ``None``."""
    if isinstance(err, UsageError):
        return str(err), 2
    for module, name in USER_ERRORS:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and isinstance(err, cls):
            return str(err), 1
    if isinstance(err, OSError) and err.filename is not None:
        return f"{err.filename}: {err.strerror or type(err).__name__}", 1
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except BrokenPipeError:  # output piped into e.g. head: not an error of exonu
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as err:
        found = user_error(err)
        if found is None:
            raise  # a bug: keep the traceback
        message, status = found
        print(f"exonu {args.command}: {' '.join(message.splitlines())}", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
