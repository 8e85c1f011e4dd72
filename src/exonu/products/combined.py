"""Products of a combined analysis (``mode: combined``): the limits of each signal per channel
and combined, with shared and per-channel solar fluxes, and the post-fit pulls of the
nuisances in the joint fit. Input: the ``fits/<signal>.json`` documents of
:func:`exonu.stages.combined.combined_limit`."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from exonu.products.style import parameter_label, pyplot, save_figure, unit_label

__all__ = ["limits_figure", "limits_rows", "limits_table", "pulls_table"]

COLUMNS = (
    "signal",
    "parameter",
    "unit",
    "channel",
    "analysis",
    "likelihood",
    "method",
    "cl",
    "upper_limit",
    "best_fit",
    "valid",
    "fluxes",
    "shift_vs_other_fluxes",
    "expected_median",
    "expected_minus1",
    "expected_plus1",
    "expected_minus2",
    "expected_plus2",
    "expected_toys",
)

_BANDS = ("median", "minus1", "plus1", "minus2", "plus2")


def _expected_cells(result: Mapping[str, Any] | None) -> dict[str, Any]:
    """The expected-limit columns of a limit result (None where it has no expected limit)."""
    exp = (result or {}).get("expected") or {}
    out: dict[str, Any] = {f"expected_{k}": exp.get(k) for k in _BANDS}
    out["expected_toys"] = exp.get("n_toys")
    return out


def limits_rows(docs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per signal and channel, then the combined row(s): shared fluxes (or per-channel,
    as configured) and the other setting when computed."""
    rows = []
    for d in docs:
        base = {"signal": d["signal"], "parameter": d["parameter"], "unit": d["unit"]}
        for name, ch in d["channels"].items():
            rows.append(
                {
                    **base,
                    "channel": name,
                    "analysis": ch["channel_analysis"],
                    "likelihood": ch["likelihood"],
                    "method": ch["method"],
                    "cl": ch["cl"],
                    "upper_limit": ch["upper_limit"],
                    "best_fit": ch["best_fit"],
                    "valid": ch["valid"],
                    "fluxes": "per channel",
                    "shift_vs_other_fluxes": None,
                    **_expected_cells(ch),
                }
            )
        corr = d["combination"]["correlate_fluxes"]
        alt = d.get("alternative")
        shift = None
        if alt is not None and alt["upper_limit"]:
            shift = d["upper_limit"] / alt["upper_limit"] - 1.0
        for res, shared, sh in ((d, corr, shift), (alt, not corr, None)):
            if res is None:
                continue
            rows.append(
                {
                    **base,
                    "channel": "combined",
                    "analysis": d["analysis"],
                    "likelihood": "+".join(
                        sorted({c["likelihood"] for c in d["combination"]["channels"]})
                    ),
                    "method": res["method"],
                    "cl": res["cl"],
                    "upper_limit": res["upper_limit"],
                    "best_fit": res["best_fit"],
                    "valid": res["valid"],
                    "fluxes": "shared" if shared else "per channel",
                    "shift_vs_other_fluxes": sh,
                    **_expected_cells(res),
                }
            )
    return rows


def limits_table(rows: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """(Markdown, CSV) of :func:`limits_rows`."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if r[k] is None else r[k]) for k in COLUMNS})
    lines = [
        "# Combined limits",
        "",
        "Upper limits per channel (the channel's model in the combination, its flux nuisances "
        "its own) and combined; `shift` is the change of the combined limit from sharing the "
        "solar fluxes between channels (vs. one flux nuisance per channel). Expected: median "
        "[−1σ, +1σ] and [−2σ, +2σ] of the limits of background-only toys of the same model "
        "(the combination with the configured fluxes, each channel's model in it).",
        "",
        "| signal | channel | analysis | likelihood | method | CL | upper limit | best fit | "
        "valid | fluxes | shift | expected | ±1σ | ±2σ | toys |",
        "|---|---|---|---|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        shift = r["shift_vs_other_fluxes"]
        lines.append(
            f"| {r['signal']} | {r['channel']} | {r['analysis']} | {r['likelihood']} | "
            f"{r['method']} | {r['cl']:g} | {_num(r['upper_limit'])} {r['unit']} | "
            f"{_num(r['best_fit'])} | {'yes' if r['valid'] else 'NO'} | "
            f"{r['fluxes']} | {'' if shift is None else f'{100 * shift:+.2f} %'} | "
            f"{_num(r['expected_median']) if r['expected_median'] is not None else ''} | "
            f"{_interval(r['expected_minus1'], r['expected_plus1'])} | "
            f"{_interval(r['expected_minus2'], r['expected_plus2'])} | "
            f"{r['expected_toys'] or ''} |"
        )
    return "\n".join(lines) + "\n", out.getvalue()


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def _interval(lo: float | None, hi: float | None) -> str:
    return "" if lo is None or hi is None else f"[{lo:.3g}, {hi:.3g}]"


def pulls_table(pulls: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """Markdown: per signal, every constrained nuisance's post-fit pull in the joint fit."""
    lines = ["# Post-fit pulls in the combined fit", ""]
    for signal, table in pulls.items():
        lines += [
            f"## {signal}",
            "",
            "| channel | nuisance | value | pull | post-fit / pre-fit width |",
            "|---|---|---:|---:|---:|",
        ]
        for p in table.values():
            pull = p.get("pull")
            con = p.get("constraint")
            lines.append(
                f"| {p['channel']} | {p['parameter']} | {p['value']:.4g} | "
                f"{'' if pull is None else f'{pull:+.3f}'} | "
                f"{'' if con is None else f'{con:.3f}'} |"
            )
        lines.append("")
    return "\n".join(lines)


def limits_figure(
    docs: Sequence[Mapping[str, Any]], outputs: Sequence[str | Path], style: str = "ATLAS"
) -> None:
    """One panel per signal: the upper limit of each channel and of the combination (shared
    and per-channel fluxes), on a log axis, with the expected limit (median, dashed) and its
    ±1σ (green) and ±2σ (yellow) bands where computed."""
    plt = pyplot(style)
    n = max(len(docs), 1)
    # rows per panel: the channels, the combination and its other flux setting
    rows = max(
        (len(d["channels"]) + 1 + (d.get("alternative") is not None) for d in docs), default=2
    )
    fig, axes = plt.subplots(n, 1, figsize=(10, n * (1.4 + 0.42 * rows)), squeeze=False)
    for ax, d in zip(axes[:, 0], docs, strict=False):
        labels, values, colours, expected = [], [], [], []
        for name, ch in d["channels"].items():
            labels.append(name)
            values.append(ch["upper_limit"])
            colours.append("tab:blue")
            expected.append(ch.get("expected"))
        corr = d["combination"]["correlate_fluxes"]
        labels.append("combined" + (" (shared fluxes)" if corr else " (own fluxes)"))
        values.append(d["upper_limit"])
        colours.append("black")
        expected.append(d.get("expected"))
        alt = d.get("alternative")
        if alt is not None:
            labels.append("combined" + (" (own fluxes)" if corr else " (shared fluxes)"))
            values.append(alt["upper_limit"])
            colours.append("grey")
            expected.append(alt.get("expected"))
        ys = list(range(len(labels)))[::-1]
        drawn = False
        for y, exp in zip(ys, expected, strict=True):
            if not exp or not all(_positive(exp.get(k)) for k in _BANDS):
                continue
            ax.barh(
                y,
                exp["plus2"] - exp["minus2"],
                left=exp["minus2"],
                height=0.5,
                color="#ffcc00",
                zorder=1,
                label=None if drawn else "expected ±2σ",
            )
            ax.barh(
                y,
                exp["plus1"] - exp["minus1"],
                left=exp["minus1"],
                height=0.5,
                color="#00cc00",
                zorder=2,
                label=None if drawn else "expected ±1σ",
            )
            ax.plot(
                [exp["median"]] * 2,
                [y - 0.25, y + 0.25],
                ls="--",
                color="k",
                lw=1,
                zorder=3,
                label=None if drawn else "expected median",
            )
            drawn = True
        good = [v if (v and math.isfinite(v) and v > 0) else float("nan") for v in values]
        ax.scatter(good, ys, c=colours, marker="|", s=300, linewidths=3, zorder=4)
        if drawn:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        for y, v, exp in zip(ys, good, expected, strict=True):
            if math.isfinite(v):
                # right of the marker and of its expected band
                right = max([v, *(exp[k] for k in _BANDS if exp and _positive(exp.get(k)))])
                ax.annotate(
                    f"{v:.3g}",
                    (right, y),
                    xytext=(6, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize="small",
                )
        ax.set_yticks(ys, labels)
        ax.set_xscale("log")
        ax.set_ylim(-0.7, len(labels) - 0.3)
        ax.set_xlabel(
            f"{parameter_label(d['model'], d['flavour'], d['parameter'])} "
            f"{unit_label(d['unit'])}, {100 * d['cl']:g} % CL upper limit"
        )
    fig.tight_layout()
    save_figure(fig, outputs)


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0
