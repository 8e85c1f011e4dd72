"""Tables and figures of the external published-spectrum mode.

Reads the JSON documents of :mod:`exonu.external.survey` (``tables/<name>.json``,
``tables/comparison.json``) and the release workspace/response, and writes

* CSV (one row per limit, every number), Markdown and LaTeX tables — a table with several
  flavours is laid out like A. N. Khan's Table I (arXiv:2006.12887: rows = flavours, columns =
  quantities, 90 % CL intervals with one power of ten per column), a one-flavour table like his
  Table II (rows = couplings);
* figures: the intervals of a table, the binning/likelihood comparison, and an overview of
  the release (data, background model, detection probability of the response).

Entries with plausibility warnings (``warnings`` of the rows, :mod:`exonu.stats.plausibility`)
are marked: the CSV has their number (``warnings``) and texts (``warning_messages``), Markdown
and LaTeX a dagger †k on the entry and the list under the table, the figures a red note.

Matplotlib is imported only inside the figure functions (Agg backend, mplhep style).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from exonu.products.style import save_figure, warning_note
from exonu.products.tables import (
    csv_table,
    escape_outside_math,
    latex_notes,
    latex_table,
    markdown_notes,
    markdown_table,
)

__all__ = [
    "comparison_figure",
    "comparison_latex",
    "comparison_markdown",
    "overview_figure",
    "rows_csv",
    "table_figure",
    "table_latex",
    "table_markdown",
    "warning_notes",
]

_FLAVOUR_TEXT = {"e": "ν_e", "mu": "ν_μ", "tau": "ν_τ", "all": "all flavours"}
_FLAVOUR_TEX = {"e": r"$\nu_e$", "mu": r"$\nu_\mu$", "tau": r"$\nu_\tau$", "all": "all flavours"}
_LIK_TEXT = {"chi2": "χ²", "poisson": "Poisson", "unbinned": "unbinned"}

CSV_COLUMNS = (
    "table",
    "signal",
    "model",
    "parameter",
    "unit",
    "flavour",
    "treatment",
    "mediator_mass_mev",
    "binning",
    "bin_width_kev",
    "likelihood",
    "method",
    "cl",
    "lower_limit",
    "upper_limit",
    "best_fit",
    "delta_chi2_zero",
    "chi2_best",
    "fit_window_kev",
    "valid",
    "message",
    "warnings",
    "warning_messages",
)


# --------------------------------------------------------------------------- formatting


def _exponent(values: Sequence[float | None]) -> int:
    finite = [abs(v) for v in values if v is not None and math.isfinite(v) and v != 0]
    return math.floor(math.log10(max(finite))) if finite else 0


def _num(v: float) -> str:
    r = float(f"{v:.2g}")
    return f"{r:g}" if abs(r) < 1e4 else f"{r:.0f}"


def _warning_marks(rows: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """Footnote number k (1, 2, ...) of every row with warnings, keyed by ``id(row)``."""
    marks: dict[int, int] = {}
    for r in rows:
        if r.get("warnings"):
            marks[id(r)] = len(marks) + 1
    return marks


def _dagger(row: Mapping[str, Any], marks: Mapping[int, int] | None, tex: bool) -> str:
    k = (marks or {}).get(id(row))
    if k is None:
        return ""
    return rf"$^{{\dagger{k}}}$" if tex else f" †{k}"


def warning_notes(rows: Sequence[Mapping[str, Any]], tex: bool = False) -> list[str]:
    """``†k <signal> (<variant>): <warning>; ...`` for every row with warnings (Markdown), or
    LaTeX lines (``tex``)."""
    marks = _warning_marks(rows)
    notes = []
    for r in rows:
        k = marks.get(id(r))
        if k is None:
            continue
        what = str(r.get("signal"))
        if r.get("binning") is not None:  # a comparison row: which variant
            what += f" ({_variant(r)}, {r.get('method')})"
        notes.append(f"{'' if tex else '†'}{k} {what}: " + "; ".join(r["warnings"]))
    return latex_notes(notes) if tex else notes


def _notes_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    return markdown_notes(warning_notes(rows))


def _interval(
    row: Mapping[str, Any], exp: int, marks: Mapping[int, int] | None = None, tex: bool = False
) -> str:
    up = row["upper_limit"] / 10.0**exp
    flag = ("" if row.get("valid", True) else " (!)") + _dagger(row, marks, tex)
    if row.get("lower_limit") is None:
        return f"< {_num(up)}{flag}"
    return f"[{_num(row['lower_limit'] / 10.0**exp)}, {_num(up)}]{flag}"


def _column_label(row: Mapping[str, Any], multi_treatment: bool, tex: bool) -> str:
    """The model's symbol (registry :data:`exonu.physics.MODELS`; unknown: the parameter)."""
    from exonu.physics.models import MODELS

    info = MODELS.get(row["model"])
    if info is not None and info.symbol.text:
        par = f"${info.symbol.latex}$" if tex else info.symbol.text
    else:
        par = row["parameter"]
    if multi_treatment and row.get("treatment"):
        par += f" ({row['treatment']})"
    return par


def _unit(row: Mapping[str, Any], exp: int, tex: bool) -> str:
    from exonu.physics.models import unit_labels

    labels = unit_labels(row["unit"])
    unit = labels.latex if tex else labels.text
    if tex:
        return f"[$10^{{{exp}}}\\,{unit}$]" if unit else f"[$10^{{{exp}}}$]"
    return f"[10^{exp} {unit}]".replace(" ]", "]")


def _model_key(row: Mapping[str, Any]) -> tuple[str, str]:
    return (row["model"], row.get("treatment") or "")


def _layout(doc: Mapping[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
    rows = doc["rows"]
    flavours = list(dict.fromkeys(r["flavour"] for r in rows))
    models = list(dict.fromkeys(_model_key(r) for r in rows))
    return flavours, models


def _grid(doc: Mapping[str, Any], tex: bool) -> tuple[list[str], list[list[str]]]:
    """Header and body of a table document (Khan's Table I / II layout)."""
    rows = doc["rows"]
    marks = _warning_marks(rows)
    flavours, models = _layout(doc)
    by_key = {(_model_key(r), r["flavour"]): r for r in rows}
    multi = len({m for m, _ in models}) < len(models)
    flav = _FLAVOUR_TEX if tex else _FLAVOUR_TEXT
    cl = f"{100 * float(doc.get('cl', 0.9)):g} % CL"
    if len(flavours) > 1:
        header = ["flavour"]
        exps = {}
        for mk in models:
            sample = next(r for r in rows if _model_key(r) == mk)
            col = [by_key[(mk, f)] for f in flavours if (mk, f) in by_key]
            exps[mk] = _exponent([v for r in col for v in (r["lower_limit"], r["upper_limit"])])
            header.append(f"{_column_label(sample, multi, tex)} {_unit(sample, exps[mk], tex)}")
        body = []
        for f in flavours:
            line = [flav.get(f, f)]
            for mk in models:
                r = by_key.get((mk, f))
                line.append(_interval(r, exps[mk], marks, tex) if r else "–")
            body.append(line)
        return header, body
    header = ["coupling", f"{cl} limit", "best fit", "Δχ²(0)"]
    if tex:
        header[3] = r"$\Delta\chi^2(0)$"
    body = []
    for mk in models:
        r = by_key[(mk, flavours[0])]
        exp = _exponent([r["lower_limit"], r["upper_limit"]])
        label = _column_label(r, multi, tex)
        unit = _unit(r, exp, tex)
        body.append(
            [
                f"{label} {unit}",
                _interval(r, exp, marks, tex),
                _num(r["best_fit"] / 10.0**exp),
                f"{r['delta_chi2_zero']:.2f}",
            ]
        )
    return header, body


def _latex(
    header: Sequence[str],
    body: Sequence[Sequence[str]],
    caption: str,
    notes: Sequence[str] = (),
) -> str:
    """:func:`exonu.products.tables.latex_table` in the layout of these tables: centred columns,
    the caption under the table, ``%`` and ``<`` escaped outside math mode."""
    return latex_table(
        header,
        body,
        caption,
        notes,
        align="c",
        placement="htbp",
        caption_below=True,
        escape=escape_outside_math,
    )


def _caption(doc: Mapping[str, Any]) -> str:
    cap = doc.get("caption") or ""
    lik = _LIK_TEXT.get(doc.get("likelihood", ""), doc.get("likelihood", ""))
    extra = (
        f"{100 * float(doc['cl']):g} % CL, method {doc['method']}, likelihood {lik}, fit window "
        f"{doc['fit_window_kev'][0]:g}–{doc['fit_window_kev'][1]:g} keV"
    )
    if doc.get("mediator_mass_mev") is not None:
        extra += f", mediator mass {1e3 * float(doc['mediator_mass_mev']):g} keV"
    return f"{cap} ({extra})" if cap else extra


def table_markdown(doc: Mapping[str, Any]) -> str:
    """Markdown table of a ``tables/<name>.json`` document, with its caption."""
    header, body = _grid(doc, tex=False)
    flagged = any(not r.get("valid", True) for r in doc["rows"])
    note = "\n(!) = a fit did not converge; see the CSV/JSON message.\n" if flagged else ""
    note += _notes_markdown(doc["rows"])
    return f"**{doc['table']}** — {_caption(doc)}\n\n" + markdown_table(header, body) + note


def table_latex(doc: Mapping[str, Any]) -> str:
    """LaTeX ``table`` environment of a ``tables/<name>.json`` document."""
    header, body = _grid(doc, tex=True)
    return _latex(header, body, _caption(doc), warning_notes(doc["rows"], tex=True))


def rows_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV text, one line per limit (columns :data:`CSV_COLUMNS`)."""
    body = []
    for r in rows:
        d = {k: r.get(k) for k in CSV_COLUMNS}
        d["signal"] = r.get("signal")
        messages = list(r.get("warnings") or [])
        d["warnings"] = len(messages)
        d["warning_messages"] = " | ".join(messages)
        if isinstance(d["fit_window_kev"], list):
            d["fit_window_kev"] = "-".join(f"{v:g}" for v in d["fit_window_kev"])
        body.append(["" if d[k] is None else d[k] for k in CSV_COLUMNS])
    return csv_table(CSV_COLUMNS, body)


# --------------------------------------------------------------------------- comparison


def _variant(row: Mapping[str, Any]) -> str:
    lik = _LIK_TEXT.get(row["likelihood"], row["likelihood"])
    if row.get("binning") in (None, "unbinned"):
        return lik
    w = row.get("bin_width_kev")
    width = f"{w:g} keV" if isinstance(w, float | int) else str(row["binning"])
    return f"{width} {lik}"


def _comparison_grid(doc: Mapping[str, Any], tex: bool) -> tuple[list[str], list[list[str]]]:
    rows = doc["rows"]
    marks = _warning_marks(rows)
    variants = list(dict.fromkeys(_variant(r) for r in rows))
    keys = list(dict.fromkeys((r["signal"], r["method"]) for r in rows))
    header = ["signal", "method", *variants]
    body = []
    for sig, method in keys:
        sel = {_variant(r): r for r in rows if r["signal"] == sig and r["method"] == method}
        first = next(iter(sel.values()))
        exp = _exponent([v for r in sel.values() for v in (r["lower_limit"], r["upper_limit"])])
        label = f"{sig} {_unit(first, exp, tex)}"
        body.append(
            [
                label,
                method,
                *[_interval(sel[v], exp, marks, tex) if v in sel else "–" for v in variants],
            ]
        )
    return header, body


def comparison_markdown(doc: Mapping[str, Any]) -> str:
    """Markdown table of ``tables/comparison.json``: limits per binning and likelihood."""
    header, body = _comparison_grid(doc, tex=False)
    cap = (
        f"**comparison** — {100 * float(doc['cl']):g} % CL limits of the same signals with "
        "different binnings and likelihoods (χ² = XMASS eq. 4, Poisson = Baker–Cousins, "
        "unbinned = extended likelihood)\n\n"
    )
    return cap + markdown_table(header, body) + _notes_markdown(doc["rows"])


def comparison_latex(doc: Mapping[str, Any]) -> str:
    """LaTeX version of :func:`comparison_markdown`."""
    header, body = _comparison_grid(doc, tex=True)
    return _latex(
        header,
        body,
        f"{100 * float(doc['cl']):g} % CL limits per binning and likelihood",
        warning_notes(doc["rows"], tex=True),
    )


# --------------------------------------------------------------------------- figures


def _pyplot(style: str) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    plt.style.use(getattr(mplhep.style, style))
    return plt


def _row_warnings(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Distinct ``<signal>: <warning>`` of the rows (the figure note)."""
    return list(
        dict.fromkeys(f"{r.get('signal')}: {w}" for r in rows for w in r.get("warnings") or [])
    )


def _save(fig: Any, outputs: Sequence[str]) -> None:
    save_figure(fig, outputs, bbox_inches="tight")


def _draw_intervals(
    ax: Any, rows: Sequence[Mapping[str, Any]], labels: Sequence[str], exp: int
) -> None:
    s = 10.0**exp
    for k, r in enumerate(rows):
        up = r["upper_limit"] / s
        lo = 0.0 if r["lower_limit"] is None else r["lower_limit"] / s
        color = "tab:blue" if r["lower_limit"] is not None else "tab:red"
        ax.plot([lo, up], [k, k], color=color, lw=6, solid_capstyle="butt", alpha=0.7)
        ax.plot([r["best_fit"] / s], [k], "k|", ms=14)
    ax.axvline(0.0, color="grey", lw=0.8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels)
    ax.set_ylim(-0.7, len(rows) - 0.3)


def table_figure(doc: Mapping[str, Any], outputs: Sequence[str], plots: Mapping[str, Any]) -> None:
    """Intervals of one table: a panel per quantity with a bar per flavour (one-sided limits
    drawn from 0, best fit marked), or for a one-flavour table of upper limits one log panel."""
    plt = _pyplot(plots.get("style", "ATLAS"))
    rows = doc["rows"]
    flavours, models = _layout(doc)
    multi = len({m for m, _ in models}) < len(models)
    cl = f"{100 * float(doc['cl']):g} % CL"
    if len(flavours) == 1 and all(r["lower_limit"] is None for r in rows):
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.8 * len(rows)))
        labels = [_column_label(r, multi, tex=True) for r in rows]
        ups = [r["upper_limit"] for r in rows]
        ax.barh(range(len(rows)), ups, color="tab:red", alpha=0.7)
        ax.set_xscale("log")
        ax.set_xlim(min(ups) / 5.0, max(ups) * 3.0)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(labels)
        ax.set_xlabel(f"{cl} upper limit on the coupling")
        title = doc["table"]
        if doc.get("mediator_mass_mev") is not None:
            title += f", $m$ = {1e3 * float(doc['mediator_mass_mev']):g} keV"
        ax.set_title(title, fontsize=12)
        warning_note(fig, _row_warnings(rows))
        _save(fig, outputs)
        plt.close(fig)
        return
    fig, axes = plt.subplots(
        1, len(models), figsize=(4.2 * len(models), 1.5 + 0.7 * len(flavours)), squeeze=False
    )
    for ax, mk in zip(axes[0], models, strict=True):
        sel = [r for r in rows if _model_key(r) == mk]
        exp = _exponent([v for r in sel for v in (r["lower_limit"], r["upper_limit"])])
        _draw_intervals(ax, sel, [_FLAVOUR_TEX.get(r["flavour"], r["flavour"]) for r in sel], exp)
        ax.set_xlabel(f"{_column_label(sel[0], multi, True)} {_unit(sel[0], exp, True)}")
    axes[0][0].set_title(f"{doc['table']} ({cl})", fontsize=12, loc="left")
    fig.tight_layout()
    warning_note(fig, _row_warnings(rows))
    _save(fig, outputs)
    plt.close(fig)


def comparison_figure(
    doc: Mapping[str, Any], outputs: Sequence[str], plots: Mapping[str, Any]
) -> None:
    """Limits of each compared signal per binning × likelihood × method."""
    plt = _pyplot(plots.get("style", "ATLAS"))
    rows = doc["rows"]
    signals = list(dict.fromkeys(r["signal"] for r in rows))
    n_var = max(1, len(rows) // max(1, len(signals)))
    fig, axes = plt.subplots(
        1, len(signals), figsize=(5.5 * len(signals), 1.5 + 0.45 * n_var), squeeze=False
    )
    for ax, sig in zip(axes[0], signals, strict=True):
        sel = [r for r in rows if r["signal"] == sig]
        exp = _exponent([v for r in sel for v in (r["lower_limit"], r["upper_limit"])])
        _draw_intervals(ax, sel, [f"{_variant(r)}, {r['method']}" for r in sel], exp)
        ax.set_xlabel(f"{sig} {_unit(sel[0], exp, True)}")
        ax.tick_params(axis="y", labelsize=9)
    fig.tight_layout()
    warning_note(fig, _row_warnings(rows))
    _save(fig, outputs)
    plt.close(fig)


def overview_figure(
    workspace_path: str, response_path: str, outputs: Sequence[str], plots: Mapping[str, Any]
) -> None:
    """The release in exonu's binning: data and background components (top), and the
    probability that an event of true energy T is detected inside the binning (bottom)."""
    import json

    from exonu.stats.workspace import load_workspace

    ws = load_workspace(workspace_path)
    resp = json.loads(Path(response_path).read_text())
    plt = _pyplot(plots.get("style", "ATLAS"))
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(8, 8), height_ratios=[2, 1])
    edges = np.asarray(ws.edges_kev)
    width = np.diff(edges)
    bottom = np.zeros(edges.size - 1)
    for b in ws.backgrounds:
        v = np.asarray(b.expected) / width
        ax.stairs(bottom + v, edges, baseline=bottom, fill=True, alpha=0.5, label=b.name)
        bottom = bottom + v
    centres = 0.5 * (edges[1:] + edges[:-1])
    obs = np.asarray(ws.observed, dtype=float)
    ax.errorbar(centres, obs / width, yerr=np.sqrt(obs) / width, fmt="ko", ms=3, label="data")
    ax.set_ylabel("events / keV")
    ax.set_xlim(edges[0], edges[-1])
    ax.legend(fontsize=10)
    t = np.asarray(resp["true_edges_kev"])
    det = np.asarray(resp["matrix"]).sum(axis=1)
    ax2.stairs(det, t, color="tab:green")
    ax2.set_xlabel("energy [keV]")
    ax2.set_ylabel("P(detected in binning | T)")
    ax2.set_xlim(0.0, max(edges[-1], 1.0) * 1.2)
    _save(fig, outputs)
    plt.close(fig)
