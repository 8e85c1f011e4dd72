"""Half-split closure of the background templates.

Templates built from one half of the Monte Carlo of a component must describe
the other half within statistics. With N_A, N_B selected events per bin from
n_A, n_B generated decays of the same sample, N_A given N_A + N_B is binomial
with p = n_A / (n_A + n_B) if both halves follow the same spectrum, whatever
that spectrum is. The test statistic is Pearson's chi^2 of that binomial over
bins merged (left to right) until each holds at least ``min_count`` events, so
the chi^2 distribution applies; its p-value tests the closure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from exonu.errors import TemplateError
from exonu.selection.run import SelectionResult, merge_results


def merge_groups(counts: np.ndarray, min_count: int) -> np.ndarray:
    """Group index per bin: consecutive bins merged until a group has ``min_count``.

    A final group short of ``min_count`` joins the previous one.
    """
    groups = np.zeros(len(counts), np.int64)
    g, acc = 0, 0.0
    for i, c in enumerate(counts):
        groups[i] = g
        acc += c
        if acc >= min_count:
            g, acc = g + 1, 0.0
    if acc < min_count and g > 0:
        groups[groups == g] = g - 1
    return groups


def half_split_chi2(
    half_a: SelectionResult, half_b: SelectionResult, min_count: int = 20
) -> dict[str, Any]:
    """Closure of one component: the template of half A against the counts of half B.

    Returns chi2, ndf, p_value, the number of selected events of each half and the
    ratio of the totals (B / expected from A).
    """
    if half_a.sample != half_b.sample:
        raise TemplateError(f"half-split of {half_a.sample!r} against {half_b.sample!r}")
    na, nb = half_a.energy.astype(float), half_b.energy.astype(float)
    ga, gb = half_a.n_generated, half_b.n_generated
    if ga <= 0 or gb <= 0:
        raise TemplateError(f"sample {half_a.sample!r}: a half has no generated events")
    p = ga / (ga + gb)
    groups = merge_groups(na + nb, min_count)
    sa = np.bincount(groups, weights=na)
    sn = np.bincount(groups, weights=na + nb)
    used = sn > 0
    chi2 = float(np.sum((sa[used] - sn[used] * p) ** 2 / (sn[used] * p * (1 - p))))
    ndf = int(used.sum())
    expected_b = na.sum() * gb / ga
    return {
        "sample": half_a.sample,
        "chi2": chi2,
        "ndf": ndf,
        "p_value": float(stats.chi2.sf(chi2, ndf)) if ndf else 1.0,
        "selected_a": int(na.sum()),
        "selected_b": int(nb.sum()),
        "ratio_b_to_template_a": float(nb.sum() / expected_b) if expected_b > 0 else float("nan"),
    }


def half_split_closure(chunks: Sequence[SelectionResult], min_count: int = 20) -> dict[str, Any]:
    """Closure of one component from its per-chunk selections: even vs odd chunks."""
    if len(chunks) < 2:
        raise TemplateError("half-split closure needs at least two chunks per sample")
    ordered = sorted(chunks, key=lambda r: r.files[0] if r.files else "")
    a = merge_results(ordered[0::2])
    b = merge_results(ordered[1::2])
    return half_split_chi2(a, b, min_count)


def closure_markdown(rows: Sequence[dict[str, Any]], alpha: float) -> str:
    """Markdown table of per-component closure tests."""
    lines = [
        "| component | selected (A) | selected (B) | B / template(A) | chi2 / ndf | p-value "
        "| closes |",
        "|---|---:|---:|---:|---:|---:|:-:|",
    ]
    for r in rows:
        ok = "yes" if r["p_value"] >= alpha else "**no**"
        lines.append(
            f"| {r['sample']} | {r['selected_a']} | {r['selected_b']} | "
            f"{r['ratio_b_to_template_a']:.3f} | {r['chi2']:.1f} / {r['ndf']} | "
            f"{r['p_value']:.3g} | {ok} |"
        )
    return "\n".join(lines) + "\n"
