"""Plot style shared by every exonu figure: mplhep style applied globally, Agg backend.

Matplotlib is imported only inside these functions, so importing :mod:`exonu.products` costs
nothing for the computation modules. Figures are written with fixed metadata (no creation
date), so the same inputs give the same PDF and PNG bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "LINESTYLES",
    "format_value",
    "model_title",
    "parameter_label",
    "pyplot",
    "save_figure",
    "unit_label",
    "warning_note",
]

#: Line styles by position (XMASS-I Fig. 1 uses solid, dashed, dash-dotted, dotted).
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)))

_NU = {"all": r"\nu", "e": r"\nu_e", "mu": r"\nu_\mu", "tau": r"\nu_\tau"}


def pyplot(style: str = "ATLAS") -> Any:
    """``matplotlib.pyplot`` with the Agg backend and the mplhep ``style`` applied globally.

    Parameters
    ----------
    style : str
        Name of an ``mplhep.style`` (config ``plots.style``: ATLAS, CMS, LHCb2, ALICE, ROOT).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    plt.style.use(getattr(mplhep.style, style))
    return plt


def save_figure(
    fig: Any, outputs: Sequence[str | Path], dpi: int = 120, bbox_inches: str | None = None
) -> None:
    """Write ``fig`` to every path (format from the suffix) and close it.

    PDF and PNG are written without creation dates so that reruns are byte-stable.
    """
    import matplotlib.pyplot as plt

    for out in outputs:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta: Mapping[str, Any] | None = None
        if path.suffix == ".pdf":
            meta = {"CreationDate": None, "Producer": None}
        elif path.suffix == ".png":
            meta = {"Software": None}
        elif path.suffix == ".svg":
            meta = {"Date": None}
        fig.savefig(path, dpi=dpi, metadata=meta, bbox_inches=bbox_inches)
    plt.close(fig)


def unit_label(unit: str) -> str:
    """Axis-label form of a unit (``"mu_B"`` -> ``$\\mu_B$``; dimensionless -> ``""``), from
    :data:`exonu.physics.UNITS`."""
    from exonu.physics.models import unit_labels

    return unit_labels(unit).mathtext


def parameter_label(model: str, flavour: str = "all", parameter: str | None = None) -> str:
    r"""Axis-label form of a model's parameter for one flavour (``millicharge``, ``e`` ->
    ``$q_{\nu_e}$``), from the symbol of the model registry (:data:`exonu.physics.MODELS`).

    Symbols without a neutrino index (couplings) get the flavour in parentheses; a model the
    registry does not know is labelled by ``parameter`` (or its name).
    """
    from exonu.physics.models import MODELS, NU_TOKEN

    nu = _NU.get(flavour, flavour)
    info = MODELS.get(model)
    template = info.symbol.mathtext if info is not None else ""
    if not template:
        name = parameter or model
        return name if flavour == "all" else f"{name} (${nu}$)"
    if NU_TOKEN in template:
        return template.replace(NU_TOKEN, "{" + nu + "}")
    return template if flavour == "all" else f"{template} (${nu}$)"


def model_title(model: str) -> str:
    """What a model is, for a figure (``"neutrino millicharge"``; unknown: its name)."""
    from exonu.physics.models import MODELS

    info = MODELS.get(model)
    return info.title if info is not None and info.title else model


def format_value(value: float | None, digits: int = 2) -> str:
    """``1.3e-10`` -> ``1.3\\times10^{-10}`` in math text (``None`` -> ``"–"``)."""
    if value is None:
        return "–"
    if value == 0:
        return "$0$"
    mant, _, exp = f"{value:.{digits - 1}e}".partition("e")
    e = int(exp)
    return f"${mant}$" if e == 0 else rf"${mant}\times10^{{{e}}}$"


def warning_note(
    fig: Any, warnings: Sequence[str], title: str = "WARNING", max_lines: int = 6
) -> None:
    """Add a red note listing plausibility ``warnings`` above the axes of ``fig``.

    The figure grows by the height of the note and the axes keep their size, so nothing is
    hidden; call it after the layout is final (``tight_layout``). No-op without warnings.
    """
    import textwrap

    if not warnings:
        return
    lines: list[str] = []
    for w in warnings:
        lines += textwrap.wrap(f"- {w}", width=110, subsequent_indent="  ")
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], f"  ... ({len(warnings)} warnings in all, see the JSON)"]
    text = f"{title}: {len(warnings)} plausibility warning(s)\n" + "\n".join(lines)
    text = text.replace("$", r"\$")
    height = fig.get_figheight()
    extra = 0.135 * (len(lines) + 1) + 0.15
    scale = height / (height + extra)
    for ax in fig.axes:
        pos = ax.get_position()
        ax.set_position([pos.x0, pos.y0 * scale, pos.width, pos.height * scale])
    fig.set_figheight(height + extra)
    fig.text(
        0.01,
        1.0 - 0.04 / (height + extra),
        text,
        ha="left",
        va="top",
        color="darkred",
        fontsize=8,
        bbox={"facecolor": "#fff0f0", "edgecolor": "darkred", "boxstyle": "round,pad=0.3"},
    )
