"""exonu's release tables next to A. N. Khan's XENON1T bounds (``khan_comparison``).

Khan (arXiv:2006.12887) gives 90 % CL bounds from the XENON1T SR1 spectrum per flavour on the
magnetic moment, charge radius, millicharge and anapole (his Table I) and on flavour-universal
vector, axial-vector, scalar and pseudoscalar couplings at a 10-keV mediator (his Table II).
The release analysis computes the same model × flavour entries in its ``release.tables``
(``tables/<name>.json``, :mod:`exonu.external.survey`). This module puts each of Khan's numbers
next to exonu's entry of the same model, flavour, treatment (millicharge: ``full``, the shift of
g_V that Khan uses) and mediator mass, with the ratios exonu/Khan of the interval ends and the
reasons they differ. The anapole appears twice: Khan's printed numbers against exonu's
``khan_printed`` entries (his −a/18), and the same numbers converted to the Giunti–Studenikin
normalisation (÷ 36, from :data:`exonu.physics.cross_sections.ANAPOLE_CONVENTIONS`) against
exonu's ``giunti_studenikin`` entries. The published numbers, their citation, the note on his
method and the reasons come from the package data file ``exonu/resources/khan_published.yaml``,
never from code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from exonu.products.tables import csv_table, markdown_notes, markdown_table

__all__ = [
    "CSV_COLUMNS",
    "PUBLISHED_FILE",
    "anapole_factor",
    "khan_csv",
    "khan_document",
    "khan_markdown",
    "load_published",
]

#: The data file of Khan's numbers, inside the package (:mod:`exonu.resources`).
PUBLISHED_FILE = "khan_published.yaml"

CSV_COLUMNS = (
    "khan_table",
    "quantity",
    "model",
    "flavour",
    "convention",
    "unit",
    "khan_printed",
    "khan_lower",
    "khan_upper",
    "exonu_lower",
    "exonu_upper",
    "exonu_best_fit",
    "exonu_delta_chi2_zero",
    "ratio_lower",
    "ratio_upper",
    "exonu_entry",
    "why",
    "why_text",
)

_FLAVOUR_TEXT = {"e": "ν_e", "mu": "ν_μ", "tau": "ν_τ", "all": "all"}


def load_published() -> dict[str, Any]:
    """Khan's numbers, citation, method note and reasons (``khan_published.yaml``)."""
    import yaml

    from exonu import resources

    return dict(yaml.safe_load(resources.read_text(PUBLISHED_FILE)))


def anapole_factor(convention: str, printed: str = "khan_printed") -> float:
    """Factor turning an anapole in the ``printed`` convention into ``convention``.

    The shift of g_V is −k·a·√2πα/G_F with k of :data:`ANAPOLE_CONVENTIONS`; the same shift
    in two conventions means k₁a₁ = k₂a₂, so a₂ = a₁·k₁/k₂ (khan_printed → giunti_studenikin:
    (1/18)/2 = 1/36).
    """
    from exonu.physics.cross_sections import ANAPOLE_CONVENTIONS

    return ANAPOLE_CONVENTIONS[printed] / ANAPOLE_CONVENTIONS[convention]


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-6)


def _find(
    tables: Mapping[str, Mapping[str, Any]],
    model: str,
    flavour: str,
    treatment: str | None,
    mass: float | None,
) -> tuple[str, Mapping[str, Any]] | None:
    """The first table row (``<table>``, row) of that model, flavour, treatment and mass."""
    for name in sorted(tables):
        for r in tables[name].get("rows", []):
            if r.get("model") != model or r.get("flavour") != flavour:
                continue
            if treatment is not None and r.get("treatment") != treatment:
                continue
            if _same(r.get("mediator_mass_mev"), mass):
                return name, r
    return None


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return float(a) / float(b)


def _row(
    table: str,
    entry: Mapping[str, Any],
    khan: tuple[float | None, float | None],
    found: tuple[str, Mapping[str, Any]] | None,
    convention: str | None,
    reasons: Sequence[str],
    texts: Mapping[str, str],
    printed: str,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "khan_table": table,
        "quantity": entry["quantity"],
        "model": entry["model"],
        "flavour": entry["flavour"],
        "convention": convention,
        "treatment": entry.get("treatment") or convention,
        "unit": entry["unit"],
        "power": entry.get("power"),
        "khan_printed": printed,
        "khan_lower": khan[0],
        "khan_upper": khan[1],
        "why": list(reasons),
        "why_text": "; ".join(texts[k] for k in reasons),
    }
    if found is None:
        row.update(
            exonu_lower=None,
            exonu_upper=None,
            exonu_best_fit=None,
            exonu_delta_chi2_zero=None,
            exonu_entry=None,
            exonu_valid=None,
            exonu_warnings=[],
        )
    else:
        name, r = found
        row.update(
            exonu_lower=r.get("lower_limit"),
            exonu_upper=r.get("upper_limit"),
            exonu_best_fit=r.get("best_fit"),
            exonu_delta_chi2_zero=r.get("delta_chi2_zero"),
            exonu_entry=f"tables/{name}.json: {r.get('signal')}",
            exonu_valid=r.get("valid", True),
            exonu_warnings=list(r.get("warnings") or []),
        )
    # a one-sided exonu limit has no lower end to compare
    row["ratio_lower"] = _ratio(row["exonu_lower"], row["khan_lower"])
    row["ratio_upper"] = _ratio(row["exonu_upper"], row["khan_upper"])
    return row


def khan_document(
    tables: Mapping[str, Mapping[str, Any]],
    published: Mapping[str, Any] | None = None,
    conventions: Sequence[str] = ("khan_printed", "giunti_studenikin"),
) -> dict[str, Any]:
    """The comparison as one JSON-able document.

    Parameters
    ----------
    tables : mapping
        Table name -> its ``tables/<name>.json`` document (``release.tables``).
    published : mapping, optional
        Khan's numbers (default: :func:`load_published`).
    conventions : sequence of str
        Anapole conventions to compare in (each one row per flavour).
    """
    pub = dict(published or load_published())
    texts = dict(pub["reasons"])
    common = list(pub.get("common_reasons", []))
    rows = []
    for e in pub["table_1"]:
        lo, up = (float(v) for v in e["interval"])
        reasons = [*e.get("reasons", []), *common]
        if e["model"] != "anapole":
            found = _find(tables, e["model"], e["flavour"], e.get("treatment"), None)
            rows.append(_row("I", e, (lo, up), found, None, reasons, texts, e["printed"]))
            continue
        for conv in conventions:
            f = anapole_factor(conv)
            why = reasons
            printed = e["printed"]
            if conv != "khan_printed":
                why = [k for k in reasons if k != "anapole_normalisation"]
                why = ["anapole_converted", *why]
                printed = f"{printed} × {f:.4g}"
            found = _find(tables, "anapole", e["flavour"], conv, None)
            row = _row("I", e, (lo * f, up * f), found, conv, why, texts, printed)
            if conv != "khan_printed":
                row["power"] = _exp([lo * f, up * f])
            rows.append(row)
    t2 = pub["table_2"]
    mass = float(t2["mediator_mass_mev"])
    for e in t2["entries"]:
        reasons = [*e.get("reasons", []), *common]
        found = _find(tables, e["model"], e["flavour"], e.get("treatment"), mass)
        row = _row("II", e, (None, float(e["upper"])), found, None, reasons, texts, e["printed"])
        row["mediator_mass_mev"] = mass
        rows.append(row)
    docs = {n: tables[n] for n in sorted(tables)}
    return {
        "citation": pub["citation"],
        "cl": pub.get("cl", 0.9),
        "method": " ".join(str(pub.get("method", "")).split()),
        "anapole_normalisation": " ".join(str(pub.get("anapole_normalisation", "")).split()),
        "reasons": {k: " ".join(str(v).split()) for k, v in texts.items()},
        "common_reasons": common,
        "exonu": {
            n: {
                k: d.get(k)
                for k in (
                    "caption",
                    "method",
                    "likelihood",
                    "cl",
                    "fit_window_kev",
                    "workspace_digest",
                )
            }
            for n, d in docs.items()
        },
        "rows": rows,
    }


# --------------------------------------------------------------------------- formatting


def _exp(values: Sequence[float | None]) -> int:
    finite = [abs(v) for v in values if v is not None and math.isfinite(v) and v != 0]
    return math.floor(math.log10(max(finite))) if finite else 0


def _n(v: float | None, exp: int, digits: int) -> str:
    if v is None:
        return "–"
    return f"{float(f'{v / 10.0**exp:.{digits}g}'):g}"


def _interval(lo: float | None, up: float | None, exp: int, digits: int = 2) -> str:
    if up is None:
        return "–"
    if lo is None:
        return f"< {_n(up, exp, digits)}"
    return f"[{_n(lo, exp, digits)}, {_n(up, exp, digits)}]"


def _unit(unit: str, exp: int) -> str:
    from exonu.physics.models import unit_labels

    text = unit_labels(unit).text
    return f"×10^{exp} {text}".rstrip() if exp else text


def _ratio_text(r: Mapping[str, Any]) -> str:
    parts = [f"{v:.2f}" if v is not None else "–" for v in (r["ratio_lower"], r["ratio_upper"])]
    if r["khan_lower"] is None:
        return parts[1]
    return f"{parts[0]}, {parts[1]}"


def _quantity(r: Mapping[str, Any]) -> str:
    q = str(r["quantity"])
    if r.get("convention"):
        q += f" ({r['convention']})"
    return q


def khan_markdown(doc: Mapping[str, Any]) -> str:
    """Markdown table of the comparison, with Khan's method and the reasons under it."""
    head = [
        "Khan table",
        "quantity",
        "flavour",
        "unit",
        "Khan (90 % CL)",
        "exonu (90 % CL)",
        "exonu/Khan (lower, upper)",
        "why they differ",
    ]
    body = []
    common = set(doc.get("common_reasons", []))
    for r in doc["rows"]:
        exp = r.get("power")
        if exp is None:
            exp = _exp([r["khan_lower"], r["khan_upper"]])
        exonu = _interval(r["exonu_lower"], r["exonu_upper"], exp)
        if r["exonu_entry"] is None:
            exonu = "not in release.tables"
        elif r.get("exonu_warnings"):
            exonu += " †"
        body.append(
            [
                r["khan_table"],
                _quantity(r),
                _FLAVOUR_TEXT.get(r["flavour"], r["flavour"]),
                _unit(r["unit"], exp),
                _interval(r["khan_lower"], r["khan_upper"], exp, digits=3),
                exonu,
                _ratio_text(r),
                ", ".join(k for k in r["why"] if k not in common),
            ]
        )
    cit = doc["citation"]
    title = (
        f"**khan_comparison** — A. N. Khan, arXiv:{cit['arxiv']} (Tables I and II, "
        f"{100 * float(doc['cl']):g} % CL) against exonu's release tables on the same data "
        "(Khan's Table II: 10-keV mediators, flavour-universal couplings; exonu's upper end "
        "where exonu finds an interval)\n\n"
    )
    exonu = "; ".join(
        f"tables/{n}.json: {d.get('likelihood')} likelihood, method {d.get('method')}"
        for n, d in doc["exonu"].items()
    )
    notes = [
        f"Khan's method: {doc['method']}",
        f"Anapole: {doc['anapole_normalisation']}",
        f"exonu: {exonu}.",
        "† exonu's entry has plausibility warnings (see its table).",
        "Reasons (every row also: " + ", ".join(doc.get("common_reasons", [])) + "):",
        *(f"{k}: {v}" for k, v in doc["reasons"].items()),
    ]
    return title + markdown_table(head, body) + markdown_notes(notes, heading="Notes:")


def khan_csv(doc: Mapping[str, Any]) -> str:
    """CSV of the comparison, one line per Khan number (columns :data:`CSV_COLUMNS`)."""
    body = []
    for r in doc["rows"]:
        d = {k: r.get(k) for k in CSV_COLUMNS}
        d["why"] = " ".join(r["why"])
        body.append(["" if d[k] is None else d[k] for k in CSV_COLUMNS])
    return csv_table(CSV_COLUMNS, body)
