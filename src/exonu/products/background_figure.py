"""The background model figure, like Fig. 2 of XMASS-I (PLB 809 (2020) 135741).

Top panel: the energy distribution of the background simulation after event
selection, the components stacked (and the data, when given). Bottom panel: the
cumulative systematic uncertainty of the model as a band around 1, with an inset
of the dead-PMT correction per energy region and its uncertainty (masking and
statistical in quadrature; the statistical part as inner error bars).

Only reads the background-model document of
:func:`exonu.templates.build.build_background_model`; matplotlib is imported
inside the functions (Agg backend, mplhep style).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from exonu.products.style import save_figure


def _pyplot(style: str) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    plt.style.use(getattr(mplhep.style, style))
    return plt


def systematic_band(model: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Total expected counts and their 1-sigma systematic uncertainty per bin.

    A systematic k shifts every component coherently (one pull q_k in XMASS eq. 5),
    so shifts are summed over components first and sources added in quadrature.
    """
    total = np.sum([np.asarray(c["expected"]) for c in model["components"]], axis=0)
    var = np.zeros_like(total)
    for s in model["systematics"]:
        shift = np.sum([np.asarray(v) for v in s["shifts"].values()], axis=0)
        var += shift**2
    return total, np.sqrt(var)


def background_figure(
    model_path: str | Path,
    outputs: Sequence[str | Path],
    plots: Mapping[str, Any],
    data_counts: Sequence[float] | None = None,
) -> None:
    """Draw the background model (see module docstring) to every path in ``outputs``."""
    model = json.loads(Path(model_path).read_text())
    edges = np.asarray(model["edges_kev"], float)
    comps = sorted(model["components"], key=lambda c: float(np.sum(c["expected"])))
    total, sigma = systematic_band(model)
    plt = _pyplot(plots.get("style", "ATLAS"))
    fig, (ax, rax) = plt.subplots(
        2, 1, figsize=(8, 9), sharex=True, gridspec_kw={"height_ratios": [3, 1.6], "hspace": 0.05}
    )
    cmap = plt.get_cmap("tab20")
    bottom = np.zeros(len(edges) - 1)
    for k, c in enumerate(comps):
        values = np.asarray(c["expected"], float)
        ax.stairs(
            bottom + values,
            edges,
            baseline=bottom,
            fill=True,
            color=cmap(k % 20),
            alpha=0.85,
            label=c["name"],
        )
        bottom = bottom + values
    ax.stairs(total, edges, color="black", lw=1.2, label="total background MC")
    if data_counts is not None:
        d = np.asarray(data_counts, float)
        centres = 0.5 * (edges[1:] + edges[:-1])
        ax.errorbar(centres, d, yerr=np.sqrt(d), fmt="ko", ms=2.0, lw=0.7, label="data")
    ax.set_yscale("log")
    positive = total[total > 0]
    ax.set_ylim(bottom=max(0.1, 0.3 * positive.min()) if positive.size else 0.1)
    ax.set_ylabel(f"events / {np.diff(edges)[0]:g} keV")
    ax.legend(fontsize=7, ncol=3, loc="upper right")
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(total > 0, sigma / total, 0.0)
    rax.stairs(1 + rel, edges, baseline=1 - rel, fill=True, color="tab:red", alpha=0.5)
    rax.axhline(1.0, color="black", lw=0.8)
    m = max(0.3, 1.2 * float(rel.max()))
    rax.set_ylim(1 - m, 1 + 3.2 * m)  # room above the band for the inset
    rax.set_xlim(edges[0], edges[-1])
    rax.set_xlabel("reconstructed energy [keV]")
    rax.set_ylabel("1 ± syst. / total", fontsize=10)
    corr = model.get("dead_pmt_correction")
    if corr:
        _dead_pmt_inset(rax, corr)
    fig.subplots_adjust(left=0.16, right=0.97, top=0.97, bottom=0.1)
    save_figure(fig, outputs)


def _dead_pmt_inset(rax: Any, corr: Mapping[str, Any]) -> None:
    e = np.asarray(corr["region_edges_kev"], float)
    centres = 0.5 * (e[1:] + e[:-1])
    half = 0.5 * np.diff(e)
    c = 100 * (np.asarray(corr["factor"]) - 1)
    total = 100 * np.asarray(corr["total"])
    stat = 100 * np.asarray(corr["stat"])
    inset = rax.inset_axes([0.55, 0.5, 0.43, 0.45])
    inset.errorbar(centres, c, xerr=half, yerr=total, fmt="o", color="tab:blue", ms=3, lw=1)
    inset.errorbar(centres, c, yerr=stat, fmt="none", color="black", lw=2, capsize=0)
    inset.axhline(0, color="gray", lw=0.6)
    inset.set_xlim(e[0] - 1, e[-1] + 1)
    inset.tick_params(labelsize=7)
    inset.set_xlabel("energy [keV]", fontsize=7, labelpad=1)
    inset.set_ylabel("dead-PMT corr. [%]", fontsize=7, labelpad=1)
    inset.xaxis.set_label_position("top")
    inset.xaxis.tick_top()
