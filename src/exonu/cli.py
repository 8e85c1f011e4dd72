"""The ``exonu`` command line.

Subcommands (``exonu <command> --help`` for each):

* ``inspect FILE.root ...`` — what an event file is: kind, sample, entries,
  generator and seed, branches with types; checks it against the contract.
* ``rate MODEL ...`` — differential rates of the physics models (no detector).
* ``config [FILE]`` — validate a configuration and print it with defaults.
* ``workspace FILE.json`` — summary of a workspace.
* ``provenance PRODUCT`` — the chain of inputs of a product back to the event files.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence

from exonu import __version__

#: Modules that add subcommands through ``register(subparsers)``.
PLUGIN_MODULES = ("exonu.physics.cli",)


def _inspect(args: argparse.Namespace) -> int:
    from exonu.io.root import EventFileError, expected_branches, inspect_file

    bmap = dict(kv.split("=", 1) for kv in args.branch or [])
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
        print(json.dumps(docs, indent=1))
    return status


def _config(args: argparse.Namespace) -> int:
    import yaml

    from exonu.config import ConfigError, load_config

    try:
        cfg = load_config(args.file, args.schema)
    except ConfigError as err:
        print(f"exonu config: {err}", file=sys.stderr)
        return 1
    print(yaml.safe_dump(cfg, sort_keys=False), end="")
    return 0


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
    from exonu.products.provenance import format_chain, provenance_chain, read_sidecar

    if read_sidecar(args.product) is None:
        print(
            f"exonu provenance: {args.product}: no provenance sidecar (.prov.json)", file=sys.stderr
        )
        return 1
    chain = provenance_chain(args.product)
    if args.json:
        print(
            json.dumps(
                [{"depth": d, "path": p, "provenance": doc} for d, p, doc in chain], indent=1
            )
        )
    else:
        print(format_chain(chain))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
        "config", help="validate a configuration and print it with defaults filled in"
    )
    p.add_argument("file", nargs="?", default="config/config.yaml")
    p.add_argument("--schema", default=None, help="schema file (default: the workflow's)")
    p.set_defaults(func=_config)

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
