"""Export of the binned model of one signal as a pyhf JSON workspace (HistFactory).

The exonu workspace (XMASS-I, PLB 809 (2020) 135741, eqs. 4-7) maps onto HistFactory
(Cranmer et al., CERN-OPEN-2012-016; pyhf, JOSS 6 (2021) 2823) as follows, one channel over
the bins of the signal's fit window:

==============================================  =============================================
exonu                                           pyhf
==============================================  =============================================
background j, expected B_ij                     sample ``<j>``
activity scale p_j, Gaussian σ(B_RI)_j (eq. 7)  ``normsys`` ``ri_<j>``, hi/lo = 1 ± σ
p_j unconstrained (``free_backgrounds``, null)  ``normfactor`` ``p_<j>``, bounds [0, 100]
p_j fixed (σ = 0)                               no modifier
MC variance V_ij (σ²(B_stat) in eq. 4)          ``staterror`` ``mcstat`` (Barlow–Beeston lite)
signal MC variance V_2p x^2p (σ²(S_stat))       ``shapesys`` ``mcstat_<signal>`` on the signal
systematic k, shifts σ(B_sys)_ijk (eq. 5)       ``histosys`` ``q_<k>``, hi/lo = B_ij ± σ_ijk
signal S = x^p T_i (one power p)                sample ``<signal>``, ``normfactor`` μ = x^p
signal systematic l, δ_il (eq. 6)               ``histosys`` ``r_<l>``, hi/lo = T_i (1 ± δ_il)
observed D_i                                    ``observations``
==============================================  =============================================

Approximations (the model is otherwise the same):

* **Likelihood.** pyhf's is Poisson; it corresponds to exonu's ``likelihood: poisson``
  (Baker–Cousins χ² with Barlow–Beeston lite), not to the Neyman-like χ² of XMASS eq. (4)
  (``likelihood: chi2``), which it approaches for large counts.
* **RI constraints.** ``normsys`` interpolates exponentially, p_j = (1 ± σ_j)^α, with a unit
  Gaussian on α; XMASS's constraint is Gaussian in p_j itself. They agree to first order in
  σ_j·α (pulls of a few tenths of σ move Δχ² by ≲ 0.1 for σ_j ≤ 0.3).
* **Order of modifiers.** HistFactory applies ``histosys`` additively before the
  multiplicative ``normsys``/``normfactor``: p_j·(B_ij + α_k σ_ijk) — the same as eq. (5).
  The ``normsys`` of a component and its ``histosys`` multiply the same way.
* **MC statistics.** ``staterror`` uses the nominal relative uncertainty
  √(Σ_j V_ij)/Σ_j B_ij per bin; exonu rescales V_ij with p_j². The signal's MC uncertainty
  has a relative size √V_2p/T_i independent of the coupling; it gets its own per-bin
  factors (``shapesys``, Poisson-constrained) where exonu adds it to the one combined
  Barlow–Beeston factor of the bin.
* **Signal.** Only signals with a single power (μ_ν², q² in the ``pure`` treatment, g⁴ of the
  scalar mediators) are expressible: a polynomial with interference (B−L, charge radius,
  full millicharge) is not a HistFactory sample with one normfactor —
  :class:`NotExpressible`. Upper limits in μ convert to the coupling as x = μ^(1/p), the
  physical value θ = x · ``scale`` (stored in the workspace's ``exonu`` metadata).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["NotExpressible", "expressible_powers", "pyhf_metadata", "pyhf_workspace"]

#: Upper bound of the free activity scales, as in exonu.stats.model.
_P_MAX_FREE = 100.0


class NotExpressible(ValueError):
    """The signal is not a single power of its coupling (no single HistFactory normfactor)."""


def expressible_powers(powers: tuple[int, ...] | list[int]) -> bool:
    """True if a signal with these powers of its coupling can be exported (one power)."""
    return len(set(powers)) == 1


def _channel_name(analysis: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in analysis) or "exonu"


def pyhf_workspace(ws: Any, signal: str, *, mu_max: float | None = None) -> dict[str, Any]:
    """The pyhf JSON workspace of ``signal`` in ``ws`` (see the module docstring).

    Parameters
    ----------
    ws : exonu.stats.Workspace
        The exonu workspace.
    signal : str
        Name of the signal (one power of its coupling).
    mu_max : float, optional
        Upper bound of the signal strength μ = x^p; default 10⁴ (the workspace's scale puts
        the sensitivity at x ~ 1).

    Returns
    -------
    dict
        A pyhf workspace specification (``channels``, ``observations``, ``measurements``,
        ``version``); the POI's meaning is in :func:`pyhf_metadata`.

    Raises
    ------
    NotExpressible
        If the signal has several powers.
    """
    sig = ws.signal(signal)
    powers = sig.powers
    if not expressible_powers(powers):
        raise NotExpressible(
            f"signal {signal!r} has powers {list(powers)} of its coupling; a HistFactory "
            "sample with one normfactor needs a single power"
        )
    power = powers[0]
    mask = np.asarray(sig.fit_mask)
    free = set(sig.free_backgrounds)
    channel = _channel_name(ws.analysis)
    samples = []
    for bkg in ws.backgrounds:
        nominal = np.asarray(bkg.expected)[mask]
        modifiers: list[dict[str, Any]] = []
        rel = bkg.relative_uncertainty
        if rel is None or bkg.name in free:
            modifiers.append({"name": f"p_{bkg.name}", "type": "normfactor", "data": None})
        elif rel > 0:
            modifiers.append(
                {
                    "name": f"ri_{bkg.name}",
                    "type": "normsys",
                    "data": {"hi": 1.0 + rel, "lo": max(1.0 - rel, 1e-6)},
                }
            )
        for bs in ws.background_systematics:
            if bkg.name not in bs.shifts:
                continue
            shift = np.asarray(bs.shifts[bkg.name])[mask]
            if not np.any(shift):
                continue
            modifiers.append(
                {
                    "name": f"q_{bs.name}",
                    "type": "histosys",
                    "data": {
                        "hi_data": (nominal + shift).tolist(),
                        "lo_data": (nominal - shift).tolist(),
                    },
                }
            )
        modifiers.append(
            {
                "name": "mcstat",
                "type": "staterror",
                "data": np.sqrt(np.asarray(bkg.mc_variance)[mask]).tolist(),
            }
        )
        samples.append({"name": bkg.name, "data": nominal.tolist(), "modifiers": modifiers})

    template = np.asarray(sig.expected(1.0))[mask]
    mu_name = f"mu_{signal}"
    sig_mods: list[dict[str, Any]] = [{"name": mu_name, "type": "normfactor", "data": None}]
    for ss in sig.systematics:
        delta = np.asarray(ss.relative_shifts)[mask]
        if not np.any(delta):
            continue
        sig_mods.append(
            {
                "name": f"r_{ss.name}",
                "type": "histosys",
                "data": {
                    "hi_data": (template * (1 + delta)).tolist(),
                    "lo_data": (template * (1 - delta)).tolist(),
                },
            }
        )
    # The signal MC variance of a single power p is V_2p x^2p: its relative size
    # sqrt(V_2p)/T does not depend on x, i.e. a per-bin multiplicative uncertainty (shapesys).
    var = {t.power: np.asarray(t.values)[mask] for t in sig.variance_terms}
    v2p = np.clip(var.get(2 * power, np.zeros_like(template)), 0.0, None)
    if np.any(v2p > 0):
        sig_mods.append(
            {"name": f"mcstat_{signal}", "type": "shapesys", "data": np.sqrt(v2p).tolist()}
        )
    samples.append({"name": signal, "data": template.tolist(), "modifiers": sig_mods})

    lo_x = sig.x_bounds[0]
    mu_lo = 0.0 if (lo_x is not None and lo_x >= 0) or power % 2 == 0 else -(mu_max or 1e4)
    parameters: list[dict[str, Any]] = [
        {"name": mu_name, "bounds": [[mu_lo, float(mu_max or 1e4)]], "inits": [0.0]}
    ]
    for bkg in ws.backgrounds:
        if bkg.relative_uncertainty is None or bkg.name in free:
            parameters.append(
                {"name": f"p_{bkg.name}", "bounds": [[0.0, _P_MAX_FREE]], "inits": [1.0]}
            )
    return {
        "version": "1.0.0",
        "channels": [{"name": channel, "samples": samples}],
        "observations": [
            {"name": channel, "data": [int(v) for v in np.asarray(ws.observed)[mask]]}
        ],
        "measurements": [
            {
                "name": signal,
                "config": {"poi": mu_name, "parameters": parameters},
            }
        ],
    }


def pyhf_metadata(ws: Any, signal: str) -> dict[str, Any]:
    """What the pyhf workspace of ``signal`` means in exonu terms (a sidecar document).

    pyhf's schema admits no extra keys, so the definition of the POI
    (μ = (θ/scale)^p), the binning and the digest of the source workspace go here.
    """
    sig = ws.signal(signal)
    power = sig.powers[0]
    mu_name = f"mu_{signal}"
    edges = np.asarray(ws.edges_kev)
    idx = np.flatnonzero(np.asarray(sig.fit_mask))
    return {
        "analysis": ws.analysis,
        "signal": sig.name,
        "model": sig.model,
        "parameter": sig.parameter,
        "unit": sig.unit,
        "flavour": sig.flavour,
        "mediator_mass_mev": sig.mediator_mass_mev,
        "treatment": sig.treatment,
        "poi": mu_name,
        "poi_definition": f"{mu_name} = ({sig.parameter} / {sig.scale:g} {sig.unit})^{power}",
        "power": power,
        "scale": sig.scale,
        "edges_kev": edges[idx[0] : idx[-1] + 2].tolist(),
        "workspace_digest": ws.digest(),
        "likelihood": "poisson (HistFactory); exonu likelihood 'poisson' is the same model",
    }
