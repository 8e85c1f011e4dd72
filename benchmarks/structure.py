"""Structure of the exonu package, measured from its source with :mod:`ast`.

Run as ``python benchmarks/structure.py [--repo DIR] [--output benchmarks/records/structure.md]``.
Reads every module under ``src/exonu`` of the checkout ``--repo`` (default: this one) without
importing it and records: the largest modules (lines), the import cycles between modules
(strongly connected components of the import graph), the imports that go up the floors of
:data:`FLOORS`, and the imports made inside a function body.

:data:`FLOORS` is the one statement of the layering; ``tests/test_architecture.py`` enforces
it with the functions of this file. An import may go to the same floor (without forming a
cycle) or down, never up; module-level and function-local imports count alike.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import shlex
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "exonu"

#: Floor of every part of the package, bottom (0) to top (7). A module takes the floor of
#: the longest entry that is the module itself or one of its parent packages (``exonu``
#: itself places only the package root).
FLOORS: dict[str, int] = {
    "exonu": 0,  # the package root: only __version__
    "exonu.errors": 0,
    "exonu.physics": 0,
    "exonu.stats": 0,
    "exonu.detector": 0,
    "exonu.resources": 0,  # package data files (importlib.resources), no imports
    "exonu.sim": 1,
    "exonu.io": 1,
    "exonu.selection": 2,
    "exonu.templates": 3,
    "exonu.external": 3,
    "exonu.products": 4,
    "exonu.config": 5,
    "exonu.stages": 6,
    "exonu.cli": 7,
    "exonu.rate_cli": 7,
}

FLOOR_NAMES = {
    0: "foundation",
    1: "sim, io",
    2: "selection",
    3: "templates, external",
    4: "products",
    5: "config",
    6: "stages",
    7: "command line",
}

#: Before ``exonu.stages`` existed the workflow stages lived in these modules
#: (``--pre-stages``: measure such a checkout with them on the stages floor).
PRE_STAGES: dict[str, int] = {
    "exonu.pipeline": 6,
    "exonu.scans": 6,
    "exonu.products.steps": 6,
    "exonu.external.stages": 6,
}


@dataclass(frozen=True)
class Import:
    """One import of a module of the package by another."""

    importer: str
    target: str
    line: int
    local: bool  # inside a function body


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    lines: int
    imports: tuple[Import, ...]
    local_imports: int  # every import statement inside a function body, of any package


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, importer: str, is_package: bool) -> str | None:
    if not node.level:
        return node.module
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(tree: ast.Module, importer: str, is_package: bool, known: set[str]):
    """(target module, line, local) of every import of a package module, and the local count."""
    found: list[tuple[str, int, bool]] = []
    n_local = 0

    def visit(node: ast.AST, local: bool) -> None:
        nonlocal n_local
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import | ast.ImportFrom):
                n_local += local
                if isinstance(child, ast.Import):
                    targets = [a.name for a in child.names]
                else:
                    base = _resolve(child, importer, is_package)
                    if base is None:
                        continue
                    # ``from pkg import sub`` imports the module pkg.sub when it is one
                    targets = [
                        f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                        for a in child.names
                    ]
                for t in dict.fromkeys(targets):
                    if t == PACKAGE or t.startswith(PACKAGE + "."):
                        found.append((t, child.lineno, local))
            visit(child, inner)

    visit(tree, False)
    return found, n_local


def read_package(repo: Path) -> dict[str, Module]:
    """Every module of ``src/exonu`` of ``repo`` with its imports of the package."""
    src = repo / "src"
    paths = sorted((src / PACKAGE).rglob("*.py"))
    known = {module_name(p, src) for p in paths}
    out = {}
    for path in paths:
        name = module_name(path, src)
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        found, n_local = _imports(tree, name, path.name == "__init__.py", known)
        imports = []
        for target, line, local in found:
            # an import of a missing name resolves to its nearest existing parent package
            while target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target != name:
                imports.append(Import(name, target, line, local))
        out[name] = Module(name, path, len(text.splitlines()), tuple(imports), n_local)
    return out


def floor_of(module: str, floors: Mapping[str, int] = FLOORS) -> int | None:
    """Floor of ``module``: the entry of its longest matching prefix, None when unplaced."""
    if module == PACKAGE:  # the root entry places the root alone, not its sub-packages
        return floors.get(PACKAGE)
    parts = module.split(".")
    for k in range(len(parts), 1, -1):
        key = ".".join(parts[:k])
        if key in floors:
            return floors[key]
    return None


def unplaced(modules: Mapping[str, Module], floors: Mapping[str, int] = FLOORS) -> list[str]:
    return sorted(m for m in modules if floor_of(m, floors) is None)


def upward_imports(
    modules: Mapping[str, Module], floors: Mapping[str, int] = FLOORS
) -> list[tuple[Import, int, int]]:
    """(import, importer floor, target floor) of every import to a higher floor."""
    out = []
    for mod in modules.values():
        here = floor_of(mod.name, floors)
        for imp in mod.imports:
            there = floor_of(imp.target, floors)
            if here is not None and there is not None and there > here:
                out.append((imp, here, there))
    return out


def import_cycles(modules: Mapping[str, Module]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), largest first."""
    graph = {
        m: sorted({i.target for i in mod.imports if i.target in modules})
        for m, mod in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(sorted(comp))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for v in graph:
            if v not in index:
                strongconnect(v)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(components, key=lambda c: (-len(c), c))


def cycle_edges(modules: Mapping[str, Module], component: Iterable[str]) -> list[Import]:
    """The imports inside one strongly connected component."""
    comp = set(component)
    return [i for m in sorted(comp) for i in modules[m].imports if i.target in comp]


# --------------------------------------------------------------------------- record


def _short(module: str) -> str:
    return module.removeprefix(PACKAGE + ".")


def record(repo: Path, floors: Mapping[str, int], command: str) -> str:
    modules = read_package(repo)
    src = repo / "src" / PACKAGE
    total_lines = sum(m.lines for m in modules.values())
    largest = sorted(modules.values(), key=lambda m: (-m.lines, m.name))[:10]
    cycles = import_cycles(modules)
    upward = upward_imports(modules, floors)
    missing = unplaced(modules, floors)
    n_local = sum(m.local_imports for m in modules.values())
    lower = [m for m in modules.values() if (floor_of(m.name, floors) or 99) < 6]
    n_local_lower = sum(m.local_imports for m in lower)
    n_local_pkg = sum(i.local for m in modules.values() for i in m.imports)

    out = [
        "# Structure of the exonu package",
        "",
        f"Measured {datetime.date.today().isoformat()} from the source (`ast`, nothing imported)",
        f"of `src/exonu` of the checkout `{repo.name}` (commit {_commit(repo)}) by",
        "",
        "```sh",
        command,
        "```",
        "",
        "## Summary",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| modules | {len(modules)} |",
        f"| lines | {total_lines} |",
        f"| lines of the largest module | {largest[0].lines} (`{_short(largest[0].name)}`) |",
        f"| import cycles (strongly connected components) | {len(cycles)} |",
        f"| modules in a cycle | {sum(len(c) for c in cycles)} |",
        f"| upward imports (module-level + function-local) | {len(upward)} "
        f"({sum(not u[0].local for u in upward)} + {sum(u[0].local for u in upward)}) |",
        f"| modules without a floor | {len(missing)} |",
        f"| function-local imports (any package) | {n_local} |",
        f"| function-local imports of exonu modules | {n_local_pkg} |",
        f"| function-local imports in floors 0-5 (below stages) | {n_local_lower} |",
        "",
        "## Floors",
        "",
        "An import may go to the same floor (without a cycle) or down, never up.",
        "",
        "| floor | | prefixes | modules | lines | function-local imports |",
        "|---:|---|---|---:|---:|---:|",
    ]
    for f in sorted(set(floors.values())):
        mods = [m for m in modules.values() if floor_of(m.name, floors) == f]
        prefixes = ", ".join(f"`{k}`" for k, v in floors.items() if v == f)
        name = FLOOR_NAMES.get(f, "")
        lines, local = sum(m.lines for m in mods), sum(m.local_imports for m in mods)
        out.append(f"| {f} | {name} | {prefixes} | {len(mods)} | {lines} | {local} |")
    extra = {k: v for k, v in floors.items() if FLOORS.get(k) != v}
    if extra:
        out += [
            "",
            "Measured with these modules placed on the stages floor (they held the workflow "
            "stages before `exonu.stages`): " + ", ".join(f"`{k}`" for k in extra) + ".",
        ]

    out += ["", "## Largest modules", "", "| module | lines |", "|---|---:|"]
    out += [f"| `{m.path.relative_to(src.parent)}` | {m.lines} |" for m in largest]

    out += ["", "## Import cycles", ""]
    if not cycles:
        out.append("None.")
    for k, comp in enumerate(cycles, 1):
        out.append(f"{k}. {', '.join(f'`{_short(m)}`' for m in comp)}:")
        for i in cycle_edges(modules, comp):
            where = "function-local" if i.local else "module level"
            out.append(
                f"   - `{_short(i.importer)}` → `{_short(i.target)}` (line {i.line}, {where})"
            )

    out += ["", "## Upward imports", ""]
    if not upward:
        out.append("None.")
    else:
        out += [
            "| importer | floor | imports | floor | line | where |",
            "|---|---:|---|---:|---:|---|",
        ]
        for i, here, there in sorted(upward, key=lambda u: (u[0].importer, u[0].line)):
            where = "function-local" if i.local else "module level"
            cells = [f"`{_short(i.importer)}`", here, f"`{_short(i.target)}`", there, i.line, where]
            out.append("| " + " | ".join(str(c) for c in cells) + " |")

    out += ["", "## Modules without a floor", ""]
    out.append(", ".join(f"`{m}`" for m in missing) if missing else "None.")

    out += [
        "",
        "## Function-local imports per module",
        "",
        "Import statements inside a function body (of any package), per module that has any.",
        "",
        "| module | floor | function-local imports |",
        "|---|---:|---:|",
    ]
    for m in sorted(modules.values(), key=lambda m: (floor_of(m.name, floors) or 0, m.name)):
        if m.local_imports:
            out.append(f"| `{_short(m.name)}` | {floor_of(m.name, floors)} | {m.local_imports} |")
    return "\n".join(out) + "\n"


def _commit(repo: Path) -> str:
    # the benchmarks' shared helper (benchmarks/ is not a package; the test loads this file)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from benchinfo import git_commit

    return git_commit(repo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--output", type=Path, help="markdown record (default: stdout)")
    parser.add_argument(
        "--pre-stages",
        action="store_true",
        help="place the stage modules of a checkout before exonu.stages on the stages floor",
    )
    args = parser.parse_args(argv)
    floors = {**FLOORS, **PRE_STAGES} if args.pre_stages else dict(FLOORS)
    command = shlex.join(
        ["python", "benchmarks/structure.py", *(argv if argv is not None else sys.argv[1:])]
    )
    text = record(args.repo.resolve(), floors, command)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
