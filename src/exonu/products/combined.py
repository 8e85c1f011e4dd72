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
)


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
        "solar fluxes between channels (vs. one flux nuisance per channel).",
        "",
        "| signal | channel | analysis | likelihood | method | CL | upper limit | best fit | "
        "valid | fluxes | shift |",
        "|---|---|---|---|---|---:|---:|---:|---|---|---:|",
    ]
    for r in rows:
        shift = r["shift_vs_other_fluxes"]
        lines.append(
            f"| {r['signal']} | {r['channel']} | {r['analysis']} | {r['likelihood']} | "
            f"{r['method']} | {r['cl']:g} | {_num(r['upper_limit'])} {r['unit']} | "
            f"{_num(r['best_fit'])} | {'yes' if r['valid'] else 'NO'} | "
            f"{r['fluxes']} | {'' if shift is None else f'{100 * shift:+.2f} %'} |"
        )
    return "\n".join(lines) + "\n", out.getvalue()


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


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
    and per-channel fluxes), on a log axis."""
    plt = pyplot(style)
    n = max(len(docs), 1)
    fig, axes = plt.subplots(n, 1, figsize=(8, 2.2 + 1.6 * n), squeeze=False)
    for ax, d in zip(axes[:, 0], docs, strict=False):
        labels, values, colours = [], [], []
        for name, ch in d["channels"].items():
            labels.append(name)
            values.append(ch["upper_limit"])
            colours.append("tab:blue")
        corr = d["combination"]["correlate_fluxes"]
        labels.append("combined" + (" (shared fluxes)" if corr else " (own fluxes)"))
        values.append(d["upper_limit"])
        colours.append("black")
        alt = d.get("alternative")
        if alt is not None:
            labels.append("combined" + (" (own fluxes)" if corr else " (shared fluxes)"))
            values.append(alt["upper_limit"])
            colours.append("grey")
        ys = list(range(len(labels)))[::-1]
        good = [v if (v and math.isfinite(v) and v > 0) else float("nan") for v in values]
        ax.scatter(good, ys, c=colours, marker="|", s=300, linewidths=3)
        for y, v in zip(ys, good, strict=True):
            if math.isfinite(v):
                ax.annotate(f"{v:.3g}", (v, y), xytext=(6, 4), textcoords="offset points")
        ax.set_yticks(ys, labels)
        ax.set_xscale("log")
        ax.set_ylim(-0.7, len(labels) - 0.3)
        ax.set_xlabel(
            f"{parameter_label(d['model'], d['flavour'], d['parameter'])} "
            f"{unit_label(d['unit'])}, {100 * d['cl']:g} % CL upper limit"
        )
    fig.tight_layout()
    save_figure(fig, outputs)
