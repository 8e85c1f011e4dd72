"""Computations behind the spectrum figures (no plotting here).

* :func:`model_spectra` — the recoil spectra of XMASS-I Fig. 1 (PLB 809 (2020) 135741): the
  Standard-Model rate and the exotic excess of benchmark hypotheses, from
  :mod:`exonu.physics` (no detector).
* :func:`fit_spectrum` — what XMASS-I Figs. 3 and 5 show for one signal: the data, the
  best-fit background (per component, with the pulls of XMASS eq. 5 applied), the best-fit
  signal, the best-fit total with its ±1σ band, and the signal at the 90 % CL limit, in the
  bins of the signal's fit window.

Both return JSON-ready dicts; :mod:`exonu.products.figures` draws them and
:mod:`exonu.products.hepdata` tabulates them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "BACKGROUND_GROUPS",
    "background_group",
    "band_sigma",
    "energy_grid",
    "fit_spectrum",
    "model_spectra",
]

log = logging.getLogger("exonu")

#: Background components grouped by origin (XMASS-I §3.4 and Fig. 2), by name prefix.
BACKGROUND_GROUPS = {
    "detector surface (PMTs, copper, inner surface)": ("pmt_", "cu_", "surface_"),
    "dissolved in xenon": ("xe_",),
    "solar neutrinos (SM)": ("solar_nu",),
}


def background_group(name: str) -> str:
    """Origin group of a background component (``"other"`` if no prefix matches)."""
    for group, prefixes in BACKGROUND_GROUPS.items():
        if name.startswith(prefixes):
            return group
    return "other"


# --------------------------------------------------------------------------- Fig. 1


def energy_grid(spec: Mapping[str, Any]) -> np.ndarray:
    """Log-spaced recoil energies [keV] from ``{min_kev, max_kev, n}``."""
    lo, hi, n = float(spec["min_kev"]), float(spec["max_kev"]), int(spec["n"])
    if not 0 < lo < hi or n < 2:
        raise ValueError(f"energy grid {dict(spec)}: need 0 < min_kev < max_kev and n >= 2")
    return np.geomspace(lo, hi, n)


def model_spectra(
    physics: Mapping[str, Any],
    benchmarks: Sequence[Mapping[str, Any]],
    energy_kev: npt.ArrayLike,
) -> dict[str, Any]:
    """SM rate and benchmark excesses on ``energy_kev`` (XMASS-I Fig. 1).

    Parameters
    ----------
    physics : mapping
        The ``physics`` config block (:class:`exonu.physics.PhysicsSettings`).
    benchmarks : sequence of mapping
        ``{model, value, flavour?, mediator_mass_mev?, treatment?, physics?}``; ``value`` in
        the model's unit, ``physics`` overrides settings for that curve only (XMASS used RRPA
        for the millicharge and the free-electron/stepping model for the others).
    energy_kev : array_like
        Recoil energies T [keV].

    Returns
    -------
    dict
        ``energy_kev``, ``standard_model`` and one entry per benchmark with its ``excess``
        (events/(tonne·year·keV); may be negative where interference is destructive).
    """
    from exonu.physics import PhysicsSettings, signal_basis, standard_model_rate

    energies = np.asarray(energy_kev, dtype=np.float64)
    settings = PhysicsSettings.from_mapping(physics)
    out: dict[str, Any] = {
        "energy_kev": energies.tolist(),
        "standard_model": standard_model_rate(energies, settings).tolist(),
        "atomic_model": settings.atomic_model,
        "units": "events/(tonne*year*keV)",
        "benchmarks": [],
    }
    for b in benchmarks:
        own = PhysicsSettings.from_mapping({**physics, **b.get("physics", {})})
        kwargs: dict[str, Any] = {"flavour": b.get("flavour", "all")}
        if b.get("mediator_mass_mev") is not None:
            kwargs["mediator_mass_mev"] = float(b["mediator_mass_mev"])
        if b.get("treatment") is not None:
            kwargs["treatment"] = b["treatment"]
        basis = signal_basis(b["model"], energies, own, **kwargs)
        value = float(b["value"])
        out["benchmarks"].append(
            {
                "model": b["model"],
                "parameter": basis.parameter,
                "unit": basis.unit,
                "value": value,
                "flavour": basis.flavour,
                "mediator_mass_mev": basis.mediator_mass_mev,
                "treatment": basis.treatment,
                "atomic_model": own.atomic_model,
                "powers": list(basis.powers),
                "excess": basis.excess(value).tolist(),
            }
        )
    return out


# --------------------------------------------------------------------------- Figs. 3 and 5


def _numeric_jacobian(func: Any, theta: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Central differences of ``func(theta) -> (m,)``: shape (m, n_par); 0 where step is 0."""
    base = np.asarray(func(theta))
    jac = np.zeros((base.size, theta.size))
    for i, h in enumerate(steps):
        if h <= 0:
            continue
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        jac[:, i] = (np.asarray(func(up)) - np.asarray(func(down))) / (2.0 * h)
    return jac


def band_sigma(jacobian: np.ndarray, covariance: np.ndarray, mc_variance: np.ndarray) -> np.ndarray:
    """±1σ of a prediction: linear propagation of the fit covariance plus MC statistics.

    :math:`\\sigma_i^2 = (J C J^T)_{ii} + V_i`, with J the Jacobian of the expected counts with
    respect to the fit parameters, C their covariance (HESSE) and V the Monte-Carlo
    statistical variance of the templates (XMASS eq. 4 denominators).
    """
    fit_var = np.einsum("ia,ab,ib->i", jacobian, covariance, jacobian)
    return np.sqrt(np.maximum(fit_var, 0.0) + np.maximum(mc_variance, 0.0))


def _covariance(res: Any) -> np.ndarray:
    """Full covariance (fixed parameters and those on a bound: zero rows) of a FitResult."""
    n = len(res.values)
    err = np.asarray(res.errors, dtype=np.float64)
    free = [i for i in range(n) if not res.fixed[i]]
    cov = np.zeros((n, n))
    if res.correlation is not None and len(res.correlation) == len(free):
        corr = np.asarray(res.correlation, dtype=np.float64)
        sub = corr * np.outer(err[free], err[free])
        cov[np.ix_(free, free)] = sub
    else:
        cov[free, free] = err[free] ** 2
    return cov


def fit_spectrum(
    ws: Any,
    signal: str,
    limit: Mapping[str, Any] | None = None,
    likelihood: str = "chi2",
) -> dict[str, Any]:
    """Best fit of ``signal`` and the spectra of XMASS-I Figs. 3 and 5, in its fit window.

    Parameters
    ----------
    ws : exonu.stats.Workspace
        The workspace.
    signal : str
        Name of the signal.
    limit : mapping, optional
        The signal's limit result (``fits/<signal>.json``); its ``upper_limit`` gives the
        signal drawn at the limit, its other numbers are copied.
    likelihood : {"chi2", "poisson"}
        Cost function (config ``fit.likelihood``).

    Returns
    -------
    dict
        Edges and, per bin: ``observed``, ``backgrounds`` (best-fit counts per component, with
        activity scales p_j and systematic pulls q_k applied), ``background`` (their sum),
        ``signal_best`` (best-fit signal with pulls r_l), ``total_best`` and ``total_sigma``
        (±1σ, :func:`band_sigma`), ``signal_at_limit`` (nominal signal at the upper limit, no
        pulls); plus the fit parameters, χ², ndof, the limit numbers and the plausibility
        ``warnings`` of the limit (of the workspace without a limit).
    """
    from exonu.stats import BinnedModel, fit

    model = BinnedModel(ws, signal, likelihood)
    sig = model.signals[0]
    res = fit(model, errors=True)
    if not res.valid:
        log.warning("%s: best fit not valid (%s); drawing it anyway", signal, res.message)
    theta = res.array
    mask = np.asarray(sig.fit_mask)
    idx = np.flatnonzero(mask)
    all_edges = np.asarray(ws.edges_kev)
    edges = all_edges[idx[0] : idx[-1] + 2]

    values = dict(zip(res.parameters, res.values, strict=True))
    components: dict[str, list[float]] = {}
    for bkg in ws.backgrounds:
        counts = np.asarray(bkg.expected)[mask].copy()
        for bs in ws.background_systematics:
            if bkg.name in bs.shifts:
                counts = counts + values[f"q_{bs.name}"] * np.asarray(bs.shifts[bkg.name])[mask]
        components[bkg.name] = (values[f"p_{bkg.name}"] * counts).tolist()
    background = np.sum([np.asarray(v) for v in components.values()], axis=0)

    total = model.expected_counts(theta)
    signal_best = model.signal_counts(theta)
    err = np.asarray(res.errors, dtype=np.float64)
    steps = np.where(np.asarray(res.fixed), 0.0, np.maximum(1e-3 * err, 1e-9))
    jac = _numeric_jacobian(model.expected_counts, theta, steps)
    sigma = band_sigma(jac, _covariance(res), model.mc_variance(theta))

    limit = dict(limit or {})
    upper = limit.get("upper_limit")
    at_limit = None
    if upper is not None and math.isfinite(float(upper)):
        at_limit = np.asarray(sig.expected(float(upper) / sig.scale))[mask]
    best_phys = float(values[signal] * sig.scale)
    if limit.get("best_fit") is not None:
        ref = float(limit["best_fit"])
        tol = 0.05 * max(abs(ref), abs(best_phys), float(err[0] * sig.scale))
        if abs(ref - best_phys) > tol:
            log.warning(
                "%s: best fit %.4g differs from the limit file's %.4g", signal, best_phys, ref
            )
    return {
        "analysis": ws.analysis,
        "signal": signal,
        "model": sig.model,
        "parameter": sig.parameter,
        "unit": sig.unit,
        "flavour": sig.flavour,
        "mediator_mass_mev": sig.mediator_mass_mev,
        "fit_window_kev": list(sig.fit_window_kev),
        "likelihood": likelihood,
        "edges_kev": edges.tolist(),
        "observed": [int(v) for v in np.asarray(ws.observed)[mask]],
        "backgrounds": components,
        "background_groups": {name: background_group(name) for name in components},
        "background": background.tolist(),
        "signal_best": signal_best.tolist(),
        "total_best": total.tolist(),
        "total_sigma": sigma.tolist(),
        "signal_at_limit": None if at_limit is None else at_limit.tolist(),
        "best_fit": best_phys,
        "best_fit_error": float(err[0] * sig.scale),
        "best_fit_parameters": values,
        "chi2_best": float(res.chi2),
        "ndof": int(res.ndof),
        "fit_valid": bool(res.valid),
        "limit": {
            k: limit.get(k)
            for k in (
                "upper_limit",
                "lower_limit",
                "best_fit",
                "chi2_best",
                "chi2_zero",
                "ndof",
                "cl",
                "method",
            )
        },
        "workspace_digest": ws.digest(),
        "warnings": list(limit.get("warnings") or ws.warnings),
    }
