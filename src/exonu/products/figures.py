"""Figures. Matplotlib is imported only here, with the Agg backend and mplhep style.

Computation stays in the other modules; these functions only read results and draw.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Background components grouped by origin for stacked plots (XMASS Fig. 2).
GROUPS = {
    "detector surface (PMTs, copper, inner surface)": ("pmt_", "cu_", "surface_"),
    "dissolved in xenon": ("xe_",),
    "solar neutrinos (SM)": ("solar_nu",),
}


def _pyplot(style: str) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    plt.style.use(getattr(mplhep.style, style))
    return plt


def _group_of(name: str) -> str:
    for group, prefixes in GROUPS.items():
        if name.startswith(prefixes):
            return group
    return "other"


def fit_figure(
    workspace_path: str,
    limit_path: str,
    signal: str,
    outputs: Sequence[str],
    plots: Mapping[str, Any],
) -> None:
    """Data, background model (stacked by origin) and the signal at the upper limit.

    The background components are scaled by the best-fit activity scales p_j when
    the limit result carries them (``best_fit_parameters``), else drawn at p_j = 1.
    """
    from exonu.stats.workspace import load_workspace

    ws = load_workspace(workspace_path)
    result = json.loads(Path(limit_path).read_text())
    sig = ws.signal(signal)
    edges = np.asarray(ws.edges_kev)
    pars = result.get("best_fit_parameters") or {}
    stacks: dict[str, np.ndarray] = {}
    for bkg in ws.backgrounds:
        scale = float(pars.get(f"p_{bkg.name}", 1.0))
        group = _group_of(bkg.name)
        stacks[group] = stacks.get(group, 0.0) + scale * np.asarray(bkg.expected)
    total = sum(stacks.values())
    limit = result.get("upper_limit")
    plt = _pyplot(plots.get("style", "ATLAS"))
    fig, ax = plt.subplots(figsize=(8, 6))
    bottom = np.zeros(len(edges) - 1)
    for group, values in stacks.items():
        ax.stairs(bottom + values, edges, baseline=bottom, fill=True, alpha=0.6, label=group)
        bottom = bottom + values
    ax.stairs(total, edges, color="tab:blue", lw=1.5, label="background model")
    observed = np.asarray(ws.observed, dtype=float)
    centres = 0.5 * (edges[1:] + edges[:-1])
    ax.errorbar(centres, observed, yerr=np.sqrt(observed), fmt="ko", ms=2.5, lw=0.8, label="data")
    if limit is not None and limit > 0:
        s = sig.expected(limit / sig.scale)
        ax.stairs(
            total + s,
            edges,
            color="tab:red",
            ls="--",
            lw=1.5,
            label=f"+ {sig.parameter} = {limit:.2g} {sig.unit} (90% CL limit)",
        )
    ax.set_yscale("log")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(bottom=max(0.3, 0.3 * observed[observed > 0].min()) if observed.any() else 0.3)
    ax.set_xlabel("reconstructed energy [keV]")
    ax.set_ylabel(f"events / {np.diff(edges)[0]:g} keV")
    ax.set_title(f"{ws.analysis}: {signal}", fontsize=12, loc="left")
    ax.legend(fontsize=9, loc="upper right")
    fig.tight_layout()
    for out in outputs:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=120)
    plt.close(fig)
