"""Local significance of the headline signals under background variants (``significance``).

For each signal of ``release.significance.signals`` and each background variant — ``nominal``
(the config's ``release`` block) and every entry of ``release.background_variants`` (a
``normalisation`` mapping merged into the block, e.g. ``{tritium: free}``) — the release
workspace is rebuilt with that background model and the signal is fitted with the ``fit``
block's likelihood and method. The table gives the interval at the configured CL, the best
fit, χ²_min, χ²(x = 0) and the local significance

    Z = √(χ²(x = 0) − χ²_min),

both χ² profiled over the background normalisations (Wilks, one parameter; x = θ/scale).
x = 0 is an interior point of every headline parameter: the magnetic moment enters the rate
as x², the millicharge as x and x² (``full``) or x² (``pure``); where the rate is even in x, the
excess can only be fitted by adding events and half of the background-only experiments give
Δχ² = 0. The one-sided p-value p = Φ(−Z) is listed too. Where a published result of the same
model, flavour and background model exists (a package data file such as
``exonu/resources/xenon1t_published.yaml``, named by ``release.significance.published``), its
interval and significance are put next to exonu's.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

from exonu.products.tables import csv_table, markdown_notes, markdown_table

__all__ = [
    "CSV_COLUMNS",
    "NOMINAL",
    "load_published",
    "local_significance",
    "significance_csv",
    "significance_document",
    "significance_markdown",
    "significance_row",
    "variant_release_blocks",
]

#: Name of the background model of the config itself.
NOMINAL = "nominal"

CSV_COLUMNS = (
    "signal",
    "model",
    "parameter",
    "unit",
    "flavour",
    "treatment",
    "variant",
    "normalisation",
    "likelihood",
    "method",
    "cl",
    "lower_limit",
    "upper_limit",
    "best_fit",
    "chi2_best",
    "chi2_zero",
    "delta_chi2_zero",
    "z_local",
    "p_local",
    "valid",
    "message",
    "published_lower",
    "published_upper",
    "published_z_local",
    "published_background",
    "published_source",
)


def load_published(name: str) -> dict[str, Any]:
    """A package data file of published results (e.g. ``xenon1t_published.yaml``)."""
    import yaml

    from exonu import resources

    return dict(yaml.safe_load(resources.read_text(name)))


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def variant_release_blocks(
    release: Mapping[str, Any], variants: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, str, dict[str, Any]]]:
    """``(name, description, release block)`` of the nominal model and of every variant.

    A variant's keys other than ``description`` (today: ``normalisation``) are merged into a
    copy of ``release`` (mappings recursively). ``nominal`` may not be used as a variant name.
    """
    if NOMINAL in variants:
        raise ValueError(
            f"config key 'release.background_variants.{NOMINAL}': the name is reserved for the "
            "config's own background model"
        )
    out = [(NOMINAL, "the config's release block", copy.deepcopy(dict(release)))]
    for name, v in variants.items():
        over = {k: val for k, val in v.items() if k != "description"}
        desc = str(v.get("description") or ", ".join(f"{k}: {val}" for k, val in over.items()))
        out.append((str(name), desc, _merge(release, over)))
    return out


def local_significance(chi2_zero: float, chi2_best: float) -> float:
    """Z = √(χ²(0) − χ²_min), 0 when the best fit is at zero (or the difference is rounding)."""
    return math.sqrt(max(float(chi2_zero) - float(chi2_best), 0.0))


def _published_match(
    pub: Mapping[str, Any] | None, result: Mapping[str, Any], normalisation: Mapping[str, str]
) -> Mapping[str, Any] | None:
    for p in (pub or {}).get("results", []):
        if p.get("model") != result.get("model") or p.get("flavour") != result.get("flavour"):
            continue
        if p.get("treatment") not in (None, result.get("treatment")):
            continue
        want = dict(p.get("normalisation") or {})
        if all(str(normalisation.get(k, "constrained")) == str(v) for k, v in want.items()):
            return p
    return None


def significance_row(
    result: Mapping[str, Any],
    variant: str,
    normalisation: Mapping[str, str],
    published: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One table row from a limit result (``LimitResult.to_dict()``) of a variant."""
    from scipy.stats import norm

    z = local_significance(result["chi2_zero"], result["chi2_best"])
    row = {
        k: result.get(k)
        for k in (
            "signal",
            "model",
            "parameter",
            "unit",
            "flavour",
            "treatment",
            "likelihood",
            "method",
            "cl",
            "lower_limit",
            "upper_limit",
            "best_fit",
            "chi2_best",
            "chi2_zero",
            "valid",
            "message",
            "intervals",
        )
    }
    row.update(
        variant=variant,
        normalisation=dict(normalisation),
        delta_chi2_zero=float(result["chi2_zero"]) - float(result["chi2_best"]),
        z_local=z,
        p_local=float(norm.sf(z)),
        warnings=list(result.get("warnings") or []),
    )
    p = _published_match(published, result, normalisation)
    interval = (p or {}).get("interval") or [None, None]
    row.update(
        published_key=(p or {}).get("key"),
        published_lower=interval[0],
        published_upper=interval[1],
        published_z_local=(p or {}).get("local_significance"),
        published_background=(p or {}).get("background"),
        published_source=(p or {}).get("source"),
    )
    return row


def significance_document(
    analysis: str,
    variants: Sequence[tuple[str, str, Mapping[str, str], Sequence[Mapping[str, Any]]]],
    published: Mapping[str, Any] | None = None,
    published_file: str | None = None,
) -> dict[str, Any]:
    """The table as one JSON-able document.

    ``variants``: ``(name, description, normalisation, results)`` per background model, the
    results being ``LimitResult.to_dict()`` of every signal fitted in that model.
    """
    rows = [
        significance_row(r, name, norm, published)
        for name, _, norm, results in variants
        for r in results
    ]
    order = {s: i for i, s in enumerate(dict.fromkeys(r["signal"] for r in rows))}
    rows.sort(key=lambda r: order[r["signal"]])  # stable: variants in their order per signal
    return {
        "analysis": analysis,
        "statistic": (
            "Z = sqrt(chi2(x=0) - chi2_min), both profiled over the background normalisations; "
            "p = Phi(-Z) one-sided; interval at the fit block's CL and method"
        ),
        "variants": [
            {"name": n, "description": d, "normalisation": dict(nm)} for n, d, nm, _ in variants
        ],
        "published_file": published_file,
        "published_citation": (published or {}).get("citation"),
        "rows": rows,
    }


# --------------------------------------------------------------------------- formatting


def _exp(values: Sequence[float | None]) -> int:
    finite = [abs(v) for v in values if v is not None and math.isfinite(v) and v != 0]
    return math.floor(math.log10(max(finite))) if finite else 0


def _n(v: float, exp: int) -> str:
    return f"{float(f'{v / 10.0**exp:.3g}'):g}"


def _interval(lo: float | None, up: float | None, exp: int) -> str:
    if up is None:
        return "–"
    if lo is None:
        return f"< {_n(up, exp)}"
    return f"({_n(lo, exp)}, {_n(up, exp)})"


def significance_markdown(doc: Mapping[str, Any]) -> str:
    """Markdown table: per signal and variant the interval, best fit, Δχ²(0), Z and the
    published numbers."""
    from exonu.physics.models import unit_labels

    rows = doc["rows"]
    cl = next((float(r["cl"]) for r in rows), 0.9)
    head = [
        "signal",
        "background",
        f"{100 * cl:g} % CL",
        "best fit",
        "χ²(0) − χ²_min",
        "Z (local)",
        "published",
        "published Z",
    ]
    body = []
    for r in rows:
        exp = _exp([r["lower_limit"], r["upper_limit"], r["published_lower"], r["published_upper"]])
        unit = unit_labels(r["unit"]).text
        scale = f"[10^{exp} {unit}]".replace(" ]", "]")
        pub = _interval(r["published_lower"], r["published_upper"], exp)
        pub_z = r["published_z_local"]
        body.append(
            [
                f"{r['signal']} {scale}",
                r["variant"],
                _interval(r["lower_limit"], r["upper_limit"], exp)
                + (" ‡" if len(r.get("intervals") or ()) > 1 else "")
                + ("" if r["valid"] else " (!)"),
                _n(r["best_fit"], exp),
                f"{r['delta_chi2_zero']:.2f}",
                f"{r['z_local']:.2f}σ",
                pub if r["published_upper"] is not None else "–",
                f"{pub_z:g}σ" if pub_z is not None else "–",
            ]
        )
    lik = next((r["likelihood"] for r in rows), "")
    method = next((r["method"] for r in rows), "")
    title = (
        f"**significance** — {doc['analysis']}: the headline signals under each background model "
        f"(likelihood {lik}, method {method})\n\n"
    )
    notes = [
        f"{v['name']}: {v['description']} (normalisation {v['normalisation']})"
        for v in doc["variants"]
    ]
    notes.append(
        "Z = √(χ²(x = 0) − χ²_min), both χ² profiled over the background normalisations "
        "(Wilks, one parameter; x = 0 is interior: μ_ν enters the rate as x²); p = Φ(−Z)."
    )
    cit = doc.get("published_citation")
    if cit:
        notes.append(
            f"published: {' '.join(str(cit['reference']).split())}, arXiv:{cit['arxiv']} "
            f"({doc['published_file']})"
        )
    if any(len(r.get("intervals") or ()) > 1 for r in rows):
        notes.append("‡ the allowed region is not connected: the hull is shown (JSON: intervals).")
    if any(not r["valid"] for r in rows):
        notes.append("(!) a fit did not converge; see the CSV/JSON message.")
    return title + markdown_table(head, body) + markdown_notes(notes, heading="Notes:")


def significance_csv(doc: Mapping[str, Any]) -> str:
    """CSV, one line per signal × variant (columns :data:`CSV_COLUMNS`)."""
    body = []
    for r in doc["rows"]:
        d = {k: r.get(k) for k in CSV_COLUMNS}
        d["normalisation"] = " ".join(f"{k}={v}" for k, v in r["normalisation"].items())
        body.append(["" if d[k] is None else d[k] for k in CSV_COLUMNS])
    return csv_table(CSV_COLUMNS, body)
