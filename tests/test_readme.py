"""The README's commands, exactly as written, from the root of a fresh copy of the working tree.

Every command of a ```sh block of README.md (and every inline code span that starts like a
command) is run from the root of a copy of the repository's files (``git ls-files``: what a
clone has), with ``.venv`` pointing at the environment running the tests and ``../shared``
beside it as on a developer's machine:

* ``exonu run`` commands first as dry runs: the configuration must resolve and validate, and the
  analysis name and number of jobs must be those stated in the command's comment
  (``# analysis "tiny", 63 jobs``);
* the tiny command, every release command (XENONnT, XENON1T, LZ WS2022/WS2024, PandaX-4T) and
  the combination of them all then really run, and every path their README section lists must
  exist afterwards (the binned releases write no ``limits_unbinned/``);
* the other commands (inspection, rates, config) run as written and must succeed;
* ``make run`` runs as a dry run (``ARGS=-n``), ``make test`` as ``make -n`` (it is this suite),
  ``pip install`` with ``--dry-run``.

When the README changes, this test follows it: a command it cannot classify fails the test.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import pytest
from wfhelpers import REPO

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

README = REPO / "README.md"
VENV = Path(sys.prefix)
#: inline code spans starting so are commands (a bare program name like `exonu run` is not)
COMMAND_PREFIXES = ("make ", ".venv/bin/", "pip ", "./")
EXPECT = re.compile(r'analysis "([A-Za-z0-9_-]+)", (\d+) jobs')
#: analyses whose README command is really run (the issue: "run from the repository root and
#: produce what their README sections describe")
RELEASE_SECTION = "## Analysing a published release"
#: the binned releases (config/xenon1t.yaml, lz_ws2022.yaml, lz_ws2024.yaml, pandax4t.yaml)
BINNED_RELEASES = ("xenon1t_sr1", "lz_ws2022", "lz_ws2024", "pandax4t_run1")
REAL_RUNS = {
    "tiny": "## Set up and run",
    "xenonnt_sr0": RELEASE_SECTION,
    **{name: RELEASE_SECTION for name in BINNED_RELEASES},
    "combined": "## Combining analyses",
}
#: the README section whose product table applies to each real run
TABLE_SECTION = {"tiny": "## What the main job produces", "combined": "## Combining analyses"} | {
    name: RELEASE_SECTION for name in ("xenonnt_sr0", *BINNED_RELEASES)
}
#: product-table paths a real run does not write (limits_unbinned: unbinned data only)
_XENON1T_ONLY = ("tables/khan_comparison.", "tables/significance.")
NOT_WRITTEN = {
    name: ("limits_unbinned/",) + (() if name == "xenon1t_sr1" else _XENON1T_ONLY)
    for name in BINNED_RELEASES
} | {"xenonnt_sr0": _XENON1T_ONLY}


@dataclass(frozen=True)
class Command:
    text: str  # as written
    comment: str  # the shell comment after it, if any
    section: str  # the README section (## heading) it is in
    inline: bool = False  # an inline code span in the prose (no comment to state jobs)
    inline: bool = False  # an inline code span in the prose (no comment to state jobs)

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.text)

    @property
    def expected(self) -> tuple[str, int] | None:
        m = EXPECT.search(self.comment)
        return (m.group(1), int(m.group(2))) if m else None

    @property
    def is_run(self) -> bool:
        a = self.argv
        return (a[0].endswith("exonu") and a[1:2] == ["run"]) or a[0].endswith("snakemake")


def _split_comment(line: str) -> tuple[str, str]:
    """``cmd  # comment`` -> (cmd, comment); a '#' inside quotes is not a comment."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].strip(), line[i + 1 :].strip()
    return line.strip(), ""


def readme_commands(text: str) -> list[Command]:
    """The commands of the ```sh blocks, and inline code spans that look like commands."""
    commands: list[Command] = []
    section = ""
    in_sh = False
    seen: set[str] = set()
    for line in text.splitlines():
        if line.startswith("## "):
            section = line.strip()
        if line.startswith("```"):
            in_sh = line.strip() in ("```sh", "```bash", "```shell", "```console") and not in_sh
            continue
        if in_sh:
            cmd, comment = _split_comment(line)
            if cmd:
                commands.append(Command(cmd, comment, section))
                seen.add(cmd)
            continue
        for span in re.findall(r"`([^`]+)`", line):
            if span.startswith(COMMAND_PREFIXES) and span not in seen:
                commands.append(Command(span, "", section, inline=True))
                seen.add(span)
    return commands


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the working tree's files (tracked and new, not ignored) with mtimes kept."""
    top = tmp_path_factory.mktemp("readme")
    root = top / "exonu"
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        src = REPO / os.fsdecode(name)
        if src.is_file():
            dst = root / os.fsdecode(name)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    (root / ".venv").symlink_to(VENV, target_is_directory=True)
    shared = REPO.parent / "shared"
    if shared.is_dir():
        (top / "shared").symlink_to(shared, target_is_directory=True)
    # the clone must not reinstall exonu into the running environment (make's stamp)
    stale = subprocess.run(
        ["make", "-q", ".venv/.exonu-installed"], cwd=root, capture_output=True
    ).returncode
    if stale:
        pytest.skip(
            "the test environment was not installed by `make` (or pyproject.toml is newer than "
            "its stamp): run `make test` so that `make run` in the copy does not reinstall"
        )
    return root


def _run(argv: list[str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    env.pop("SNAKEMAKE_PROFILE", None)
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def _check(proc: subprocess.CompletedProcess[str], cmd: str) -> str:
    assert proc.returncode == 0, (
        f"README command failed (exit {proc.returncode}): {cmd}\n"
        f"{proc.stdout[-3000:]}\n{proc.stderr[-4000:]}"
    )
    return proc.stdout + proc.stderr


def _job_total(out: str) -> int | None:
    m = re.search(r"^total\s+(\d+)\s*$", out, re.MULTILINE)
    return int(m.group(1)) if m else None


def _dry_run(cmd: Command, root: Path) -> subprocess.CompletedProcess[str]:
    argv = cmd.argv
    if "-n" not in argv and "--dry-run" not in argv:
        argv = [*argv, "-n"]
    return _run(argv, root)


def _assert_dry(cmd: Command, proc: subprocess.CompletedProcess[str]) -> None:
    out = _check(proc, cmd.text)
    exp = cmd.expected
    if cmd.inline:
        assert "analysis '" in out or "Nothing to be done" in out, out[-2000:]
        return
    assert exp is not None, f"README run command without '# analysis \"NAME\", N jobs': {cmd.text}"
    name, jobs = exp
    assert f"analysis {name!r}" in out, f"{cmd.text}: expected analysis {name!r}\n{out[-2000:]}"
    assert _job_total(out) == jobs, (
        f"{cmd.text}: the README says {jobs} jobs, the dry run has {_job_total(out)}"
    )


def _product_globs(text: str, section: str) -> list[str]:
    """The paths of the first table of a README section, as glob patterns."""
    body = text.split(section, 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in body.splitlines() if ln.startswith("| `")]
    globs = []
    for row in rows:
        first_cell = row.split("|")[1]
        for path in re.findall(r"`([^`]+)`", first_cell):
            alts = re.findall(r"\{([^}]*)\}", path)
            pattern = re.sub(r"\{[^}]*\}", "{}", path)
            pattern = re.sub(r"<[^>]+>", "*", pattern).replace("NNN", "[0-9][0-9][0-9]")
            for choice in product(*[a.split(",") for a in alts]):
                globs.append(pattern.format(*choice))
    assert globs, f"no product table found in README section {section!r}"
    return globs


def _make(cmd: Command, root: Path) -> None:
    argv = cmd.argv
    assert argv[0] == "make", cmd.text
    if argv[1:] == ["test"]:
        out = _check(_run(["make", "-n", "test"], root), cmd.text)
        assert "-m pytest" in out, out
    elif argv[1:] == ["run"]:
        proc = _run(["make", "run", "ARGS=-n"], root)
        _assert_dry(cmd, proc)
    else:
        pytest.fail(f"README shows a make target this test does not know: {cmd.text}")


def test_readme_commands_from_a_fresh_clone(clone: Path) -> None:
    text = README.read_text()
    commands = readme_commands(text)
    assert any(c.text == "make run" for c in commands) and any(
        c.text == "make test" for c in commands
    ), "the README must show the two set-up commands `make run` and `make test`"
    setup = [c.text for c in commands if c.section.startswith("## Set up") and c.argv[0] == "make"]
    assert setup == ["make run", "make test"], f"set-up commands: {setup}"
    release = clone.parent / "shared" / "data" / "xenonnt-sr0-er"
    have_release = (release / "bkg_model.txt").is_file()

    def release_missing(cmd: Command) -> bool:
        """A command reading a release directory of ../shared/data that is not here."""
        m = re.search(r"release_dir=\.\./shared/data/([A-Za-z0-9_.-]+)", cmd.text)
        if m:
            return not (clone.parent / "shared" / "data" / m.group(1)).is_dir()
        if "release_root=../shared/data" in cmd.text:  # the combination reads every release
            data = clone.parent / "shared" / "data"
            dirs = ("xenonnt-sr0-er", "xenon1t-sr1-er", "lz-ws2022-er", "lz-ws2024-er")
            return not all((data / d).is_dir() for d in (*dirs, "pandax4t-run1-er"))
        return False

    runs = [c for c in commands if c.is_run]
    others = [c for c in commands if not c.is_run]
    deferred: list[Command] = []
    real: dict[str, Command] = {}
    # 1. every run command as a dry run, before anything was produced
    for cmd in runs:
        if release_missing(cmd):
            continue
        proc = _dry_run(cmd, clone)
        if proc.returncode != 0 and "no file matches" in proc.stdout + proc.stderr:
            deferred.append(cmd)  # reads files an earlier command makes
            continue
        _assert_dry(cmd, proc)
        if cmd.inline:
            continue
        name = cmd.expected[0]  # type: ignore[index]
        if name in REAL_RUNS and "-n" not in cmd.argv and "--profile" not in cmd.text:
            real.setdefault(name, cmd)
    for cmd in others:
        if cmd.argv[0] == "make":
            _make(cmd, clone)
    # 2. the tiny and release commands really run, and write what their sections list
    assert "tiny" in real, "the README must show the command that runs the tiny analysis"
    if have_release:
        assert "xenonnt_sr0" in real, "the README must show the XENONnT command"
    for name, cmd in real.items():
        _check(_run(cmd.argv, clone, timeout=1500), cmd.text)
        results = clone / "results" / name
        for pattern in _product_globs(text, TABLE_SECTION[name]):
            if pattern.startswith(NOT_WRITTEN.get(name, ())):
                continue
            assert list(results.glob(pattern)), f"{cmd.text}: no {pattern} in results/{name}"
        fits = [f for f in sorted((results / "fits").glob("*.json")) if ".prov" not in f.name]
        assert fits, f"{cmd.text}: no fits"
        for f in fits:
            assert "warnings" in json.loads(f.read_text()), f"{f.name} has no warnings list"
    # 3. the deferred dry runs and every other command, as written
    for cmd in deferred:
        _assert_dry(cmd, _dry_run(cmd, clone))
    for cmd in others:
        argv = cmd.argv
        if argv[0] == "make":
            continue
        if argv[0].endswith("pip"):
            assert argv[1] == "install", cmd.text
            out = _check(_run([argv[0], "install", "--dry-run", *argv[2:]], clone), cmd.text)
            assert "Would install" in out or "already satisfied" in out, out[-2000:]
            continue
        assert argv[0].startswith(".venv/bin/"), f"README command not run from .venv: {cmd.text}"
        out = _check(_run(argv, clone), cmd.text)
        if "--json" in argv:
            json.loads(_run(argv, clone).stdout)  # valid JSON on stdout


def test_readme_commands_are_classified() -> None:
    """The parser finds the commands this suite promises to run (a README edit that hides
    them, e.g. by dropping the ```sh fence, fails here)."""
    commands = readme_commands(README.read_text())
    texts = [c.text for c in commands]
    assert "make run" in texts and "make test" in texts
    runs = [c for c in commands if c.is_run]
    assert len(runs) >= 5
    for c in runs:
        if c.inline:
            continue
        assert c.expected is not None, f"no '# analysis \"NAME\", N jobs' comment: {c.text}"
    # inline spans that look like commands are collected too
    assert any(c.text.startswith(".venv/bin/exonu run --cores") for c in commands)


def test_split_comment_keeps_quoted_hashes() -> None:
    assert _split_comment("a 'x # y' b  # c") == ("a 'x # y' b", "c")
    assert _split_comment("make run") == ("make run", "")
