"""Summary table of limits and best fits across the configured fits and the scans.

The numbers XMASS-I quotes in §4 (PLB 809 (2020) 135741) for each hypothesis: best fit,
χ²/dof at the best fit and at zero coupling, and the 90 % CL limit (or interval), here with
the XMASS-I value next to it where XMASS-I quoted one (:mod:`exonu.products.published`).

Rows: every configured signal (``fits/<signal>.json``) and every hypothesis of every scan
(``scans/<scan>.json``), except scans over a log-spaced mass grid, which are summarised by
their exclusion curve (figure and HEPData table) instead. Written as CSV (full precision),
Markdown and LaTeX.

Entries with plausibility warnings (``warnings`` of the limit results, see
:mod:`exonu.stats.plausibility`) are marked: the CSV has their number (``warnings``) and texts
(``warning_messages``), Markdown and LaTeX a dagger †k on the hypothesis and the list of
warnings under the table.

The tables of one scan (``tables/<scan>.{csv,md,tex}``: :func:`scan_rows`, :func:`scan_csv`,
:func:`scan_markdown`, :func:`scan_latex`) are written here too, and every table of the
package (also those of :mod:`exonu.products.external_tables`) goes through the one CSV,
Markdown and LaTeX writer of this module: :func:`csv_table`, :func:`markdown_table` (with
:func:`markdown_notes`) and :func:`latex_table` (with :func:`latex_notes`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from exonu.products.published import published_result

__all__ = [
    "SCAN_COLUMNS",
    "SUMMARY_COLUMNS",
    "csv_table",
    "escape_outside_math",
    "latex_notes",
    "latex_table",
    "markdown_notes",
    "markdown_table",
    "scan_csv",
    "scan_latex",
    "scan_markdown",
    "scan_rows",
    "summary_csv",
    "summary_latex",
    "summary_markdown",
    "summary_rows",
    "warning_notes",
]

#: Columns of the summary table, in order.
SUMMARY_COLUMNS = (
    "source",
    "hypothesis",
    "model",
    "parameter",
    "unit",
    "flavour",
    "mediator_mass_mev",
    "method",
    "cl",
    "best_fit",
    "chi2_best",
    "chi2_zero",
    "ndof",
    "lower_limit",
    "upper_limit",
    "valid",
    "warnings",
    "xmass_best_fit",
    "xmass_upper_limit",
    "warning_messages",
)


def _row(source: str, name: str, r: Mapping[str, Any]) -> dict[str, Any]:
    pub = published_result(r["model"], r["flavour"], r.get("mediator_mass_mev")) or {}
    return {
        "source": source,
        "hypothesis": name,
        "model": r["model"],
        "parameter": r["parameter"],
        "unit": r["unit"],
        "flavour": r["flavour"],
        "mediator_mass_mev": r.get("mediator_mass_mev"),
        "method": r.get("method"),
        "cl": r.get("cl"),
        "best_fit": r.get("best_fit"),
        "chi2_best": r.get("chi2_best"),
        "chi2_zero": r.get("chi2_zero"),
        "ndof": r.get("ndof"),
        "lower_limit": r.get("lower_limit"),
        "upper_limit": r.get("upper_limit"),
        "valid": r.get("valid", r.get("fit_valid")),
        "warnings": len(r.get("warnings") or []),
        "xmass_best_fit": pub.get("best_fit"),
        "xmass_upper_limit": pub.get("upper_limit"),
        "warning_messages": list(r.get("warnings") or []),
    }


def summary_rows(
    fits: Mapping[str, Mapping[str, Any]],
    scans: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Rows of the summary table.

    Parameters
    ----------
    fits : mapping
        ``{signal name: limit result dict}`` of the configured signals.
    scans : sequence of mapping
        Merged scan documents (``{"scan", "config", "results"}``).
    """
    rows = [_row("fit", name, r) for name, r in fits.items()]
    for doc in scans:
        grid = doc.get("config", {}).get("masses_mev")
        if isinstance(grid, Mapping):
            continue  # a mass grid: see the exclusion curve
        rows += [_row(f"scan {doc['scan']}", r["hypothesis"], r) for r in doc["results"]]
    return rows


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.{digits}g}"
    return str(value)


def summary_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV with full precision (``repr`` of floats), empty cells for missing values."""

    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return repr(v)
        if isinstance(v, list):
            return " | ".join(str(x) for x in v)
        return str(v)

    return csv_table(SUMMARY_COLUMNS, [[cell(r[c]) for c in SUMMARY_COLUMNS] for r in rows])


def _chi2(r: Mapping[str, Any], key: str) -> str:
    v, ndof = r.get(key), r.get("ndof")
    if v is None:
        return ""
    return f"{v:.1f}/{ndof}" if ndof is not None else f"{v:.1f}"


def _limit_text(r: Mapping[str, Any], fmt: Any, less: str = "< ") -> str:
    lo, hi = r.get("lower_limit"), r.get("upper_limit")
    if lo is not None and hi is not None:
        return f"[{fmt(lo)}, {fmt(hi)}]"
    return f"{less}{fmt(hi)}" if hi is not None else ""


def _mass(r: Mapping[str, Any]) -> str:
    m = r.get("mediator_mass_mev")
    return "" if m is None else _num(float(m), 3)


def _marks(rows: Sequence[Mapping[str, Any]]) -> list[int | None]:
    """Footnote number k of every row with warnings (None without)."""
    out: list[int | None] = []
    k = 0
    for r in rows:
        if r.get("warning_messages"):
            k += 1
            out.append(k)
        else:
            out.append(None)
    return out


def warning_notes(rows: Sequence[Mapping[str, Any]], dagger: str = "†") -> list[str]:
    """``†k <hypothesis>: <warning>; <warning>`` for every row with warnings, in order."""
    return [
        f"{dagger}{k} {r['hypothesis']}: " + "; ".join(r["warning_messages"])
        for r, k in zip(rows, _marks(rows), strict=True)
        if k is not None
    ]


def summary_markdown(rows: Sequence[Mapping[str, Any]], cl: float | None = None) -> str:
    """Markdown table: one row per hypothesis, χ² as χ²/dof like XMASS-I §4; rows with
    plausibility warnings are marked †k and the warnings listed under the table."""
    level = f"{100 * cl:g} % CL " if cl else ""
    head = [
        "hypothesis",
        "parameter",
        "flavour",
        "M [MeV]",
        "best fit",
        "χ²/dof (best)",
        "χ²/dof (0)",
        f"{level}limit",
        "XMASS-I limit",
        "source",
        "warnings",
    ]
    body = []
    for r, k in zip(rows, _marks(rows), strict=True):
        unit = "" if r["unit"] in ("1", "") else f" {r['unit']}"
        cells = [
            r["hypothesis"]
            + ("" if r.get("valid", True) else " (fit not valid)")
            + ("" if k is None else f" †{k}"),
            f"{r['parameter']}{unit}",
            r["flavour"],
            _mass(r),
            _num(r.get("best_fit")),
            _chi2(r, "chi2_best"),
            _chi2(r, "chi2_zero"),
            _limit_text(r, _num),
            _num(r.get("xmass_upper_limit")),
            r["source"],
            str(r.get("warnings") or 0),
        ]
        body.append(cells)
    return (
        "# Limits and best fits\n\n"
        + markdown_table(head, body)
        + markdown_notes(warning_notes(rows), NOTES_HEADING)
    )


def _tex(value: Any) -> str:
    if value is None:
        return "--"
    v = float(value)
    if v == 0:
        return "$0$"
    mant, _, exp = f"{v:.2e}".partition("e")
    e = int(exp)
    return f"${mant}$" if e == 0 else f"${mant}\\times10^{{{e}}}$"


def _tex_text(text: str) -> str:
    return str(text).replace("_", "\\_")


def summary_latex(rows: Sequence[Mapping[str, Any]], caption: str) -> str:
    """LaTeX ``table`` with a ``tabular`` of the summary (numbers in math mode)."""
    head = [
        "hypothesis",
        "best fit",
        r"$\chi^2_\mathrm{best}$/dof",
        r"$\chi^2_0$/dof",
        "limit",
        "XMASS-I",
    ]
    body = []
    for r, k in zip(rows, _marks(rows), strict=True):
        cells = [
            _tex_text(r["hypothesis"]) + ("" if k is None else rf"$^{{\dagger{k}}}$"),
            _tex(r.get("best_fit")),
            _chi2(r, "chi2_best"),
            _chi2(r, "chi2_zero"),
            _limit_text(r, _tex, "$<$ "),
            _tex(r.get("xmass_upper_limit")),
        ]
        body.append(cells)
    return latex_table(head, body, caption, latex_notes(warning_notes(rows, "")))


def latex_notes(notes: Sequence[str]) -> list[str]:
    """LaTeX lines for the warning notes ``k <hypothesis>: <text>`` under a table."""
    out = []
    for n in notes:
        k, _, text = n.partition(" ")
        text = (
            text.replace("\\", r"\textbackslash{}")
            .replace("_", r"\_")
            .replace("%", r"\%")
            .replace("&", r"\&")
            .replace("#", r"\#")
            .replace("σ", r"$\sigma$")
            .replace("μ", r"$\mu$")
        )
        out.append(rf"\par\footnotesize $^{{\dagger{k}}}$ {text}")
    return out


def escape_outside_math(text: str) -> str:
    """``%`` and ``<`` escaped outside math mode (the even pieces between ``$`` signs)."""
    parts = text.split("$")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("%", r"\%").replace("<", r"$<$")
    return "$".join(parts)


def latex_table(
    head: Sequence[str],
    body: Sequence[Sequence[str]],
    caption: str,
    notes: Sequence[str] = (),
    *,
    align: str = "r",
    placement: str = "htb",
    caption_below: bool = False,
    escape: Callable[[str], str] | None = None,
) -> str:
    """A ``table`` float with a ``tabular``: first column left-aligned, the others ``align``;
    ``notes`` (LaTeX lines, e.g. :func:`latex_notes`) go under the tabular, the caption above
    it (or with ``caption_below`` under the notes). ``escape`` (e.g.
    :func:`escape_outside_math`) is applied to the header, the cells and the caption."""
    esc = escape or (lambda text: text)
    cap = [rf"\caption{{{esc(caption)}}}"]
    lines = [
        rf"\begin{{table}}[{placement}]",
        r"\centering",
        *([] if caption_below else cap),
        r"\begin{tabular}{l" + align * (len(head) - 1) + "}",
        r"\hline",
        " & ".join(esc(h) for h in head) + r" \\",
        r"\hline",
    ]
    lines += [" & ".join(esc(c) for c in cells) + r" \\" for cells in body]
    lines += [r"\hline", r"\end{tabular}", *notes, *(cap if caption_below else [])]
    lines += [r"\end{table}", ""]
    return "\n".join(lines)


def markdown_table(head: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """A Markdown table (header, separator, one line per row), ending in a newline."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines) + "\n"


#: Heading of the warning notes under the Markdown tables.
NOTES_HEADING = "Warnings of the plausibility checks (exonu.stats.plausibility):"


def markdown_notes(notes: Sequence[str], heading: str = NOTES_HEADING) -> str:
    """The warning notes under a Markdown table: an empty line, ``heading``, an empty line and
    one ``- <note>`` per note; empty without notes."""
    if not notes:
        return ""
    return f"\n{heading}\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"


def csv_table(head: Sequence[str], body: Sequence[Sequence[Any]]) -> str:
    """CSV text (``\\n`` line ends; a cell is quoted when it holds a comma, a quote or a line
    break): the header line, then one line per row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    w.writerows(body)
    return buf.getvalue()


# --------------------------------------------------------------------------- scan tables

#: Columns of the limit tables of one scan, in order.
SCAN_COLUMNS = (
    "hypothesis",
    "model",
    "flavour",
    "mediator_mass_mev",
    "parameter",
    "unit",
    "method",
    "cl",
    "best_fit",
    "lower_limit",
    "upper_limit",
    "chi2_best",
    "chi2_zero",
    "ndof",
    "fit_valid",
    "warnings",
)


def scan_rows(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows of a scan table: the :data:`SCAN_COLUMNS` (``warnings`` = their number) and the
    warning texts under ``warning_messages``."""
    rows = []
    for r in results:
        row = {c: r.get(c) for c in SCAN_COLUMNS}
        messages = list(r.get("warnings") or [])
        row["warnings"] = len(messages)
        row["warning_messages"] = messages
        rows.append(row)
    return rows


def _scan_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}"
    return str(value)


def scan_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV of the :data:`SCAN_COLUMNS` and ``warning_messages`` (joined by `` | ``)."""
    body = [
        [*(_scan_cell(r[c]) for c in SCAN_COLUMNS), " | ".join(r.get("warning_messages") or [])]
        for r in rows
    ]
    return csv_table([*SCAN_COLUMNS, "warning_messages"], body)


def scan_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """Markdown table; a hypothesis with warnings is marked †k and listed below the table."""
    body = [
        [
            _scan_cell(r[c]) + ("" if k is None or c != "hypothesis" else f" †{k}")
            for c in SCAN_COLUMNS
        ]
        for r, k in zip(rows, _marks(rows), strict=True)
    ]
    notes = markdown_notes(
        warning_notes(rows), "Warnings (plausibility checks, exonu.stats.plausibility):"
    )
    return markdown_table(SCAN_COLUMNS, body) + notes


def _scan_tex(value: Any) -> str:
    if value is None:
        return "--"
    if isinstance(value, float):
        mant, _, exp = f"{value:.2e}".partition("e")
        exp_i = int(exp)
        return f"${mant}$" if exp_i == 0 else f"${mant}\\times10^{{{exp_i}}}$"
    return str(value).replace("_", "\\_")


def scan_latex(rows: Sequence[Mapping[str, Any]], caption: str) -> str:
    """LaTeX table of a scan: best fit, limit and χ² of every hypothesis (warnings marked)."""
    cols = ("hypothesis", "best_fit", "upper_limit", "chi2_best", "chi2_zero", "ndof")
    head = [
        "hypothesis",
        "best fit",
        "upper limit",
        r"$\chi^2_\mathrm{best}$",
        r"$\chi^2_0$",
        "ndof",
    ]
    body = []
    for r, k in zip(rows, _marks(rows), strict=True):
        cells = [_scan_tex(r[c]) if c != "ndof" else str(r[c]) for c in cols]
        if k is not None:
            cells[0] += rf"$^{{\dagger{k}}}$"
        body.append(cells)
    return latex_table(head, body, caption, latex_notes(warning_notes(rows, "")))
