"""Figure of exotic spectra next to the Standard Model (like Fig. 1 of XMASS PLB 809 (2020)).

Plotting is kept apart from computation; matplotlib is imported only inside the function.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_rate_spectra"]


def plot_rate_spectra(
    path: str | Path,
    energy_kev: np.ndarray,
    sm: np.ndarray,
    excess: np.ndarray | None = None,
    label: str = "exotic",
    title: str | None = None,
    fmt: str | None = None,
) -> Path:
    """Draw the SM rate, SM + exotic and the exotic excess on log-log axes.

    Negative parts of the excess (destructive interference) are drawn as |excess|, dashed.

    Parameters
    ----------
    path : str or Path
        Output file, written in place (``exonu rate --plot`` gives a temporary path that is
        renamed when complete).
    energy_kev : numpy.ndarray
        Recoil energies [keV].
    sm, excess : numpy.ndarray
        Rates [events/(tonne·year·keV)]; ``excess`` may be ``None`` (SM only).
    label : str
        Legend label of the exotic model.
    title : str, optional
        Axes title.
    fmt : str, optional
        Figure format (``png``, ``pdf``, ...); default from the suffix of ``path``, PNG
        without one.

    Returns
    -------
    Path
        The written file.
    """
    # matplotlib (~1 s to import) only when a figure is drawn
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    energy = np.asarray(energy_kev, dtype=float)
    figure = Figure(figsize=(6.4, 4.8))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(energy, sm, color="black", label="Standard Model")
    if excess is not None:
        excess = np.asarray(excess, dtype=float)
        positive = np.where(excess > 0, excess, np.nan)
        negative = np.where(excess < 0, -excess, np.nan)
        axes.plot(energy, sm + excess, color="tab:blue", label=f"SM + {label}")
        axes.plot(energy, positive, color="tab:red", label=f"{label} excess")
        if np.any(excess < 0):
            axes.plot(energy, negative, color="tab:red", ls="--", label=f"|{label} excess| (< 0)")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("recoil energy T [keV]")
    axes.set_ylabel("rate [events/(tonne·year·keV)]")
    if title:
        axes.set_title(title, fontsize="small")
    axes.legend(fontsize="small")
    axes.grid(True, which="both", alpha=0.3)
    out = Path(path)
    fmt = fmt or out.suffix.lstrip(".").lower() or "png"
    figure.savefig(out, dpi=120, bbox_inches="tight", format=fmt)
    return out
