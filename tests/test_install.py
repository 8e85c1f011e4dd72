"""exonu installed from the repository as a user would install it (``pip install <repo>``).

The package is built and installed with ``pip install --no-deps`` into a fresh virtual
environment in a temporary directory outside the repository. Its dependencies come from the
environment running the tests: a ``.pth`` file in the fresh site-packages appends the test
environment's site-packages to ``sys.path`` (after the fresh one, so ``exonu`` itself is the
installed copy and not the editable source tree). From a temporary working directory the
installed ``exonu`` then resolves the embedded default configuration and computes a rate: both
need the files the package carries (the config schema, the default configuration), so a wheel
without them fails here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from wfhelpers import REPO

pytestmark = pytest.mark.slow


def _run(argv: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment with exonu installed from the repository; returns its prefix."""
    top = tmp_path_factory.mktemp("install")
    assert not top.resolve().is_relative_to(REPO.resolve()), "the environment must be outside"
    prefix = top / "env"
    venv.create(prefix, with_pip=False, symlinks=True)
    python = prefix / "bin" / "python"
    fresh_site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            top,
        ).stdout.strip()
    )
    # the dependencies: the test environment's site-packages, searched after the fresh one
    (fresh_site / "zz_test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # build in the fresh environment with the build backend it sees (no download); without
    # hatchling in the test environment pip fetches it for an isolated build
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    proc = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            *isolation,
            str(REPO),
        ],
        top,
    )
    assert proc.returncode == 0, f"pip install:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return prefix


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    assert not tmp_path.resolve().is_relative_to(REPO.resolve())
    return tmp_path


def test_exonu_is_imported_from_the_fresh_environment(installed: Path, workdir: Path):
    proc = _run(
        [str(installed / "bin" / "python"), "-c", "import exonu; print(exonu.__file__)"], workdir
    )
    assert proc.returncode == 0, proc.stderr
    where = Path(proc.stdout.strip()).resolve()
    assert where.is_relative_to(installed.resolve()), where
    assert not where.is_relative_to(REPO.resolve()), where


def test_installed_exonu_config_resolves_the_embedded_default(installed: Path, workdir: Path):
    proc = _run([str(installed / "bin" / "exonu"), "config"], workdir)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("# exonu configuration, resolved\n")
    assert "#   files (base first): exonu:default\n" in out
    assert "\nanalysis: default\n" in out
    assert "\nsignals:\n- name: millicharge\n  model: millicharge\n" in out
    # a file built on the packaged default by `extends:` resolves from any directory
    (workdir / "mine.yaml").write_text("extends: exonu:default\nanalysis: mine\n")
    proc = _run([str(installed / "bin" / "exonu"), "config", "mine.yaml"], workdir)
    assert proc.returncode == 0, proc.stderr
    assert "#   files (base first): exonu:default, mine.yaml\n" in proc.stdout
    assert "\nanalysis: mine\n" in proc.stdout


def test_installed_exonu_rate_computes_a_rate(installed: Path, workdir: Path):
    # the README's rate command
    argv = ["rate", "magnetic_moment", "--param", "mu_nu=1e-10", "--energies-kev", "1,2,5,10"]
    proc = _run([str(installed / "bin" / "exonu"), *argv, "--json"], workdir)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["model"] == "magnetic_moment" and doc["unit"] == "mu_B"
    assert doc["energy_kev"] == [1.0, 2.0, 5.0, 10.0]
    assert all(s > 0 for s in doc["sm"]) and all(x > 0 for x in doc["exotic_excess"])
    # μ_ν excess falls like 1/T at low energy
    assert doc["exotic_excess"][0] > doc["exotic_excess"][-1]
