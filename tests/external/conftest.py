"""Synthetic releases in the format of the XENONnT SR0 ER release (no real numbers).

The generator is deliberately independent of :mod:`exonu.external`: it smears the physics
spectrum by its own convolution on a fine grid and samples events by inverse CDF, so the
closure tests check the package's response and likelihoods rather than reuse them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

#: Environment variable naming the directory that holds the data-release folders.
RELEASE_ROOT_ENV = "EXONU_RELEASE_ROOT"


def release_root() -> Path:
    """Where the real releases are: ``$EXONU_RELEASE_ROOT``, else ``<repo>/../shared/data``."""
    env = os.environ.get(RELEASE_ROOT_ENV)
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def real_release(name: str, marker_file: str = "bkg_model.txt") -> Path:
    """The folder of the release ``name``; skips the test (saying where it looked and which
    variable to set) when it is not there."""
    folder = release_root() / name
    if not (folder / marker_file).is_file():
        pytest.skip(
            f"release {name!r} not found: no {folder / marker_file} (set {RELEASE_ROOT_ENV} "
            "to the directory holding the release folders)"
        )
    return folder


REAL_RELEASE_NAME = "xenonnt-sr0-er"

#: Physics of the tests: two sources and fixed flavours keep the signal stage fast.
PHYSICS = {"flux_set": "xmass", "flavour_composition": "xmass", "atomic_model": "stepping"}
TRUE_BINS = {"start": 0.0, "stop": 40.0, "width": 0.2}
MASS_KG = 1000.0
LIVETIME_DAYS = 365.25


def efficiency_curve(e: np.ndarray) -> np.ndarray:
    """A smooth threshold rising to 0.8 (shape only loosely like a real one)."""
    return 0.8 * (1.0 - np.exp(-((np.maximum(e, 0.0) / 1.5) ** 3)))


def background_rate(e: np.ndarray, level: float) -> np.ndarray:
    """Flat-ish background per reconstructed keV, efficiency applied [events/(t*yr*keV)]."""
    return level * (1.0 + 0.02 * e) * efficiency_curve(e)


def sigma_kev(t: np.ndarray) -> np.ndarray:
    return 0.3171 * np.sqrt(np.maximum(t, 0.0)) + 0.0015 * t


def signal_density_per_tyr(mu_nu: float, e: np.ndarray) -> np.ndarray:
    """μ_ν excess smeared (own convolution) × efficiency at the reconstructed energy."""
    from exonu.physics import PhysicsSettings, signal_basis

    settings = PhysicsSettings.from_mapping(PHYSICS)
    t = np.arange(0.0025, 40.0, 0.005)
    rate = signal_basis("magnetic_moment", t, settings).excess(mu_nu)
    s = sigma_kev(t)
    z = (e[:, None] - t[None, :]) / s[None, :]
    g = np.exp(-0.5 * z * z) / (math.sqrt(2 * math.pi) * s[None, :])
    return (g * rate[None, :]).sum(axis=1) * 0.005 * efficiency_curve(e)


def write_release(
    directory: Path,
    *,
    level: float = 10.0,
    mu_nu: float = 0.0,
    seed: int = 1,
    window: tuple[float, float] = (1.0, 30.0),
) -> Path:
    """Write data_unbinned_1to30kev.txt, bkg_model.txt and efficiency.txt into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ty = MASS_KG / 1000.0 * LIVETIME_DAYS / 365.25
    eff_e = np.geomspace(0.1, 29.9, 300)
    np.savetxt(directory / "efficiency.txt", np.column_stack([eff_e, efficiency_curve(eff_e)]))
    centres = np.arange(0.05, 30.0, 0.1)
    np.savetxt(
        directory / "bkg_model.txt", np.column_stack([centres, background_rate(centres, level)])
    )
    # sample events from the histogram background + smeared signal on a fine grid
    grid = np.linspace(window[0], window[1], 5801)
    mid = 0.5 * (grid[1:] + grid[:-1])
    bin_of = np.clip(np.floor(mid / 0.1).astype(int), 0, centres.size - 1)
    dens = background_rate(centres, level)[bin_of] * ty
    if mu_nu:
        dens = dens + signal_density_per_tyr(mu_nu, mid) * ty
    mass = dens * np.diff(grid)
    rng = np.random.default_rng(seed)
    n = rng.poisson(mass.sum())
    cdf = np.concatenate([[0.0], np.cumsum(mass)]) / mass.sum()
    events = np.interp(rng.uniform(size=n), cdf, grid)
    np.savetxt(directory / "data_unbinned_1to30kev.txt", np.sort(events))
    (directory / "readme.txt").write_text("synthetic release for exonu tests\n")
    return directory


def release_block(**over: Any) -> dict[str, Any]:
    """A ``release`` config block for a synthetic release."""
    block: dict[str, Any] = {
        "backgrounds": [{"name": "b0", "file": "bkg_model.txt", "tabulation": "histogram"}],
        "exposure": {"fiducial_mass_kg": MASS_KG, "livetime_days": LIVETIME_DAYS},
    }
    block.update(over)
    return block


@pytest.fixture
def make_release(tmp_path: Path) -> Callable[..., Path]:
    """``make_release(name, **kw)`` writes a synthetic release under tmp_path."""

    def make(name: str = "release", **kw: Any) -> Path:
        return write_release(tmp_path / name, **kw)

    return make


@pytest.fixture(scope="session")
def injected_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release with μ_ν = 3×10⁻¹¹ μ_B injected (shared by the closure tests)."""
    return write_release(tmp_path_factory.mktemp("injected"), mu_nu=3e-11, seed=11)


@pytest.fixture(scope="session")
def null_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A background-only release with a larger exposure-like background level."""
    return write_release(tmp_path_factory.mktemp("null"), level=15.0, seed=5)


MU_SPEC = {
    "name": "magnetic_moment",
    "model": "magnetic_moment",
    "flavour": "all",
    "scale": 1e-11,
    "fit_window_kev": [1.0, 30.0],
    "free_backgrounds": [],
}


def build_workspace(
    directory: Path,
    edges: np.ndarray,
    signals: list[dict[str, Any]] | None = None,
    **release_over: Any,
) -> tuple[Any, Any, list[tuple[dict[str, Any], dict[str, Any]]], np.ndarray | None]:
    """(release, Workspace, [(spec, spectrum)], SM true rate) of a synthetic release."""
    from exonu.external import ReleaseSettings, read_release
    from exonu.external.workspace import (
        external_workspace,
        response_for,
        spectrum_document,
        standard_model_true,
    )
    from exonu.selection.run import edges_from_spec
    from exonu.stats.workspace import Workspace

    settings = ReleaseSettings.from_config(release_block(**release_over), str(directory))
    rel = read_release(settings)
    t = edges_from_spec(TRUE_BINS, "true")
    resp = response_for(rel, t, edges)
    sm = standard_model_true(PHYSICS, t) if settings.solar_nu.replace else None
    sigs = [(s, spectrum_document(s, PHYSICS, TRUE_BINS)) for s in (signals or [MU_SPEC])]
    doc = external_workspace("test", rel, edges, resp, sigs, sm)
    return rel, Workspace.from_dict(doc), sigs, sm
