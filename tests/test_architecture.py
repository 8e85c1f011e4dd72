"""The layering of the package: floors, no upward imports, no import cycles.

The floors are :data:`FLOORS` of ``benchmarks/structure.py`` (the one statement of the table,
described in docs/architecture.md); the modules are read with :mod:`ast`, not imported, and
imports inside function bodies count like module-level ones.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
from wfhelpers import REPO


def _structure():
    name = "exonu_structure"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / "structure.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


structure = _structure()


@pytest.fixture(scope="module")
def modules():
    return structure.read_package(REPO)


def test_the_package_is_read(modules):
    assert "exonu.physics.rates" in modules
    assert "exonu.templates.build" in modules
    # imports inside a function body are seen, and flagged as such
    imports = [i for m in modules.values() for i in m.imports]
    assert any(i.local for i in imports) and any(not i.local for i in imports)


def test_every_module_has_a_floor(modules):
    missing = structure.unplaced(modules)
    assert not missing, f"modules on no floor (add their package to FLOORS): {missing}"


def test_no_import_goes_up_a_floor(modules):
    upward = [
        f"{i.importer} (floor {here}) imports {i.target} (floor {there}) at line {i.line}"
        + (" inside a function" if i.local else "")
        for i, here, there in structure.upward_imports(modules)
    ]
    assert not upward, "imports up the floors:\n" + "\n".join(upward)


def test_no_import_cycles(modules):
    cycles = [
        ", ".join(comp)
        + ": "
        + "; ".join(
            f"{i.importer} -> {i.target} (line {i.line})"
            for i in structure.cycle_edges(modules, comp)
        )
        for comp in structure.import_cycles(modules)
    ]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_checks_detect_violations(tmp_path):
    """A made-up package with an upward import, a cycle and an unplaced module."""
    pkg = tmp_path / "src" / "exonu"
    for sub in ("physics", "stats", "templates", "mystery"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "physics" / "a.py").write_text("def f():\n    from exonu.templates import b\n")
    (pkg / "templates" / "b.py").write_text("from exonu.templates.c import x\n")
    (pkg / "templates" / "c.py").write_text("from . import b\nx = 1\n")
    (pkg / "stats" / "d.py").write_text("import exonu.physics.a\n")
    mods = structure.read_package(tmp_path)
    assert structure.unplaced(mods) == ["exonu.mystery"]
    [(imp, here, there)] = structure.upward_imports(mods)
    assert (imp.importer, imp.target, imp.local, here, there) == (
        "exonu.physics.a",
        "exonu.templates.b",
        True,
        0,
        3,
    )
    assert structure.import_cycles(mods) == [["exonu.templates.b", "exonu.templates.c"]]
    assert mods["exonu.physics.a"].local_imports == 1
