"""Signal efficiency versus energy, like the bottom panel of Fig. 3 of XMASS-I.

The efficiency of a fit window is the probability that an event of true
deposited energy T passes all cuts with a reconstructed energy inside the window,
sum over E_rec in the window of S(T, E_rec) (XMASS eq. 3). One curve per distinct
fit window of the configured signals, with the statistical uncertainty of the
signal Monte Carlo (line width) and the systematic uncertainty (band; the
selection-time energy-scale and fiducial-volume shifts and the variation samples,
added in quadrature -- the green band of the paper).

Only reads the response written by :func:`exonu.detector.folding.write_response`;
matplotlib is imported inside the functions (Agg backend, mplhep style).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from exonu.products.style import save_figure


def efficiency_curves(
    response_path: str | Path, windows: Sequence[Sequence[float]]
) -> list[dict[str, Any]]:
    """Efficiency, statistical and systematic uncertainty per window (computation only)."""
    from exonu.detector.folding import read_response

    resp = read_response(response_path)
    out = []
    for w in windows:
        eff, var, sys = resp.window_efficiency(w)
        syst = np.sqrt(np.sum([s**2 for s in sys.values()], axis=0)) if sys else np.zeros_like(eff)
        out.append(
            {
                "window_kev": [float(w[0]), float(w[1])],
                "true_edges_kev": resp.true_edges,
                "efficiency": eff,
                "stat": np.sqrt(var),
                "syst": syst,
            }
        )
    return out


def efficiency_figure(
    response_path: str | Path,
    windows: Sequence[Sequence[float]],
    outputs: Sequence[str | Path],
    plots: Mapping[str, Any],
) -> None:
    """Draw efficiency vs true energy for every distinct window in ``windows``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    plt.style.use(getattr(mplhep.style, plots.get("style", "ATLAS")))
    unique = sorted({(float(a), float(b)) for a, b in windows})
    curves = efficiency_curves(response_path, unique)
    narrow = min(w[1] for w in unique)
    # a zoom on the low-energy window (e.g. 2-15 keV of the millicharge fit), as in XMASS Fig. 3
    zoom = narrow <= 50.0 and len(unique) > 1
    fig, axes = plt.subplots(1, 2 if zoom else 1, figsize=(12 if zoom else 8, 5), squeeze=False)
    t_max = float(curves[0]["true_edges_kev"][-1])
    ranges = [(0.0, min(t_max, 1.25 * max(w[1] for w in unique)))]
    if zoom:
        ranges.append((0.0, min(t_max, 2.0 * narrow)))
    colors = ["tab:blue", "tab:orange", "tab:purple", "tab:brown"]
    for ax, (x_lo, x_hi) in zip(axes[0], ranges, strict=True):
        for k, c in enumerate(curves):
            t = c["true_edges_kev"]
            eff, st, sy = c["efficiency"], c["stat"], c["syst"]
            col = colors[k % len(colors)]
            ax.stairs(
                np.clip(eff + sy, 0, None),
                t,
                baseline=np.clip(eff - sy, 0, None),
                fill=True,
                color="tab:green",
                alpha=0.35,
                label="systematic uncertainty" if k == 0 else None,
            )
            lo, hi = c["window_kev"]
            ax.stairs(eff, t, color=col, lw=1.5, label=f"E_rec in {lo:g}-{hi:g} keV")
            centres = 0.5 * (t[1:] + t[:-1])
            ax.errorbar(centres, eff, yerr=st, fmt="none", color=col, lw=0.6)
        ax.set_xlim(x_lo, x_hi)
        top = max(float(np.max(c["efficiency"] + c["syst"])) for c in curves)
        ax.set_ylim(0.0, 1.05 * max(0.05, top))
        ax.set_xlabel("deposited energy T [keV]")
        ax.set_ylabel("signal efficiency")
        ax.legend(fontsize=9, loc="upper right" if ax is axes[0][0] else "upper left")
    fig.tight_layout()
    save_figure(fig, outputs)
