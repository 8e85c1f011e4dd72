"""Synthetic workspaces for tests and benchmarks.

:func:`make_synthetic_workspace` builds an XMASS-I-like binned model of any size — smooth and
peaked background components with RI-activity constraints, background systematic shifts that
distort shapes, finite Monte-Carlo statistics — plus a few signal bases that exercise every
feature of the model: a pure :math:`x^2` signal (magnetic-moment-like, falling like
:math:`1/T`), a mixed :math:`x^2 + x^4` signal (B−L-like with interference), a steep low-energy
:math:`x^2` signal with a narrow fit window (millicharge-like) and a sign-dependent
:math:`x + x^2` signal (charge-radius-like, two-sided). The signal normalisations are chosen so
that the sensitivity is at :math:`x \\sim 1` (:math:`\\sum_i T_{2,i}^2 / B_i = 1`).

None of this is physics: the shapes are only plausible. Use :mod:`exonu.physics` and the
template stage for real signals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exonu.stats.workspace import FORMAT_NAME, FORMAT_VERSION, Workspace

__all__ = ["SYNTHETIC_SIGNALS", "make_synthetic_workspace"]

#: Names of the signals :func:`make_synthetic_workspace` can add.
SYNTHETIC_SIGNALS = ("magnetic_moment", "dark_photon", "millicharge", "charge_radius")


def _normalise(shape: np.ndarray, background: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Scale ``shape`` so that sum_i shape_i^2 / B_i = 1 over ``mask``."""
    norm = np.sqrt(np.sum(shape[mask] ** 2 / np.maximum(background[mask], 1.0)))
    return shape / norm if norm > 0 else shape


def make_synthetic_workspace(
    n_bins: int = 100,
    n_backgrounds: int = 15,
    n_systematics: int = 10,
    seed: int = 0,
    *,
    signals: tuple[str, ...] = SYNTHETIC_SIGNALS,
    counts_per_bin: float = 1000.0,
    mc_weight: float = 0.1,
    n_free: int = 2,
    signal_systematics: int = 2,
    inject: dict[str, float] | None = None,
    bin_width_kev: float = 2.0,
    low_edge_kev: float = 2.0,
) -> Workspace:
    """Build a random but reproducible workspace.

    Parameters
    ----------
    n_bins, n_backgrounds, n_systematics : int
        Size of the model: bins, background components, background systematics.
    seed : int
        Seed of the numpy ``Generator``; equal seeds give identical workspaces.
    signals : tuple of str
        Which of :data:`SYNTHETIC_SIGNALS` to include.
    counts_per_bin : float
        Mean total background per bin (the first bin holds ~2x, the last ~0.5x).
    mc_weight : float
        Monte-Carlo weight per simulated event: ``mc_variance = mc_weight * expected``
        (0.1 = ten times the data statistics).
    n_free : int
        Number of backgrounds (the first ones) listed as ``free_backgrounds`` of the
        ``magnetic_moment`` and ``dark_photon`` signals (XMASS section 4.1: their RI
        constraint is not applied in those fits; the other fits keep it).
    signal_systematics : int
        Number of relative signal systematics per signal (shared names across signals).
    inject : dict, optional
        ``{signal: x}``; the observed counts are drawn from background + these signals.
    bin_width_kev, low_edge_kev : float
        Binning (default 2-keV bins from 2 keV, like the XMASS fit).

    Returns
    -------
    Workspace
        Validated workspace; ``analysis`` is ``"synthetic"``.
    """
    rng = np.random.default_rng(seed)
    edges = low_edge_kev + bin_width_kev * np.arange(n_bins + 1)
    centre = 0.5 * (edges[:-1] + edges[1:])
    width = edges[-1] - edges[0]
    u = (centre - edges[0]) / width  # 0..1 across the range

    # Background shapes: slopes, flat, and peaks at random positions.
    shapes = []
    for j in range(n_backgrounds):
        kind = j % 3
        if kind == 0:
            s = np.exp(-rng.uniform(0.5, 4.0) * u)
        elif kind == 1:
            s = 1.0 + rng.uniform(-0.5, 0.5) * (u - 0.5)
        else:
            mu, sig = rng.uniform(0.1, 0.9), rng.uniform(0.03, 0.15)
            s = 0.2 + np.exp(-0.5 * ((u - mu) / sig) ** 2)
        shapes.append(s / s.mean())
    fractions = rng.dirichlet(np.full(n_backgrounds, 2.0))
    envelope = 2.0 * np.exp(-np.log(4.0) * u)  # 2x at the low end, 0.5x at the high end
    expected = [counts_per_bin * f * s * envelope for f, s in zip(fractions, shapes, strict=True)]
    total_b = np.sum(expected, axis=0)

    names = [f"bkg_{j:02d}" for j in range(n_backgrounds)]
    backgrounds: list[dict[str, Any]] = []
    for j, name in enumerate(names):
        backgrounds.append(
            {
                "name": name,
                "expected": expected[j].tolist(),
                "mc_variance": (mc_weight * expected[j]).tolist(),
                "relative_uncertainty": float(rng.uniform(0.05, 0.3)),
            }
        )

    # Systematics: smooth relative distortions (tilts and wiggles) of 1-5 components.
    systematics: list[dict[str, Any]] = []
    for k in range(n_systematics):
        affected = rng.choice(n_backgrounds, size=min(n_backgrounds, 1 + k % 5), replace=False)
        shifts = {}
        for j in sorted(int(a) for a in affected):
            amp = rng.uniform(0.01, 0.05)
            phase = rng.uniform(0, 2 * np.pi)
            rel = amp * np.sin(np.pi * (k % 3 + 1) * u + phase)
            shifts[names[j]] = (rel * expected[j]).tolist()
        systematics.append({"name": f"sys_{k:02d}", "shifts": shifts})

    full = np.ones(n_bins, dtype=bool)
    free = names[: min(n_free, n_backgrounds)]
    sig_syst_names = [f"sig_sys_{l_i}" for l_i in range(signal_systematics)]

    def sig_systs() -> list[dict[str, Any]]:
        return [
            {"name": n, "relative_shifts": (rng.uniform(0.02, 0.08) * (1 + 0.5 * u)).tolist()}
            for n in sig_syst_names
        ]

    def base(name: str, **kw: Any) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": name,
            "model": name,
            "flavour": "all",
            "parameter": name,
            "unit": "1",
            "mediator_mass_mev": None,
            "treatment": None,
            "atomic_model": "stepping",
            "scale": 1.0,
            "x_bounds": [0.0, None],
            "variance_terms": [],
            "systematics": sig_systs(),
            "fit_window_kev": [float(edges[0]), float(edges[-1])],
            "free_backgrounds": [],
        }
        d.update(kw)
        return d

    sig_docs: list[dict[str, Any]] = []
    for name in signals:
        if name == "magnetic_moment":
            t2 = _normalise(1.0 / centre - 1.0 / (edges[-1] * 1.5), total_b, full)
            sig_docs.append(
                base(
                    name,
                    parameter="mu_nu",
                    unit="mu_B",
                    scale=1e-10,
                    terms=[{"power": 2, "expected": t2.tolist()}],
                    variance_terms=[{"power": 4, "values": (1e-3 * t2**2).tolist()}],
                    free_backgrounds=free,
                )
            )
        elif name == "dark_photon":
            pure = _normalise(1.0 / centre**1.5, total_b, full)
            interference = -0.3 * _normalise(1.0 / centre, total_b, full)
            sig_docs.append(
                base(
                    name,
                    model="dark_photon",
                    parameter="g_BL",
                    unit="1",
                    mediator_mass_mev=1e-3,
                    scale=1e-6,
                    terms=[
                        {"power": 2, "expected": interference.tolist()},
                        {"power": 4, "expected": pure.tolist()},
                    ],
                    free_backgrounds=free,
                )
            )
        elif name == "millicharge":
            hi = float(edges[min(n_bins, max(1, round(13.0 / bin_width_kev)))])
            mask = edges[1:] <= hi
            t2 = _normalise(np.where(mask, 1.0 / centre**2, 0.0), total_b, mask)
            sig_docs.append(
                base(
                    name,
                    parameter="q_nu",
                    unit="e",
                    scale=1e-12,
                    atomic_model="rrpa",
                    terms=[{"power": 2, "expected": t2.tolist()}],
                    fit_window_kev=[float(edges[0]), hi],
                )
            )
        elif name == "charge_radius":
            t2 = _normalise(np.exp(-3 * u), total_b, full)
            sig_docs.append(
                base(
                    name,
                    flavour="e",
                    parameter="r2_nu",
                    unit="cm2",
                    scale=1e-32,
                    x_bounds=[None, None],
                    terms=[
                        {"power": 1, "expected": (0.8 * t2).tolist()},
                        {"power": 2, "expected": (0.3 * t2).tolist()},
                    ],
                )
            )
        else:
            raise ValueError(
                f"unknown synthetic signal {name!r}, expected one of {', '.join(SYNTHETIC_SIGNALS)}"
            )

    mean = total_b.copy()
    for doc in sig_docs:
        x = (inject or {}).get(doc["name"], 0.0)
        for t in doc["terms"]:
            mean = mean + x ** t["power"] * np.asarray(t["expected"])
    observed = rng.poisson(np.maximum(mean, 0.0))

    doc = {
        "schema": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "analysis": "synthetic",
        "metadata": {
            "generator": "exonu.stats.synthetic.make_synthetic_workspace",
            "seed": seed,
            "n_bins": n_bins,
            "n_backgrounds": n_backgrounds,
            "n_systematics": n_systematics,
            "inject": dict(inject or {}),
        },
        "binning": {"edges_kev": edges.tolist()},
        "observed": observed.tolist(),
        "exposure": {"livetime_s": 6.14e7, "fiducial_mass_kg": 97.0},
        "backgrounds": backgrounds,
        "background_systematics": systematics,
        "signals": sig_docs,
    }
    return Workspace.from_dict(doc, source=f"<synthetic seed={seed}>")
