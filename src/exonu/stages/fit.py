"""Fits of the configured signals: the limit of each (with its expected limit from the
background-only toys) and the shards of toys (``workflow/rules/fit.smk``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from exonu.stages.runtime import record_seed, write_json

__all__ = ["expected_shard", "limit"]

log = logging.getLogger("exonu")


def limit(
    params: Mapping[str, Any],
    workspace_path: str,
    signal: str,
    output: str,
    expected_paths: Sequence[str] = (),
    strict: bool = False,
) -> None:
    """Fit and 90 % CL limit of one signal (``params``: ``fit`` block).

    With ``expected_paths`` (shards of background-only toy limits), the result also
    carries the expected limit: median and ±1σ/±2σ quantiles. The result carries its
    plausibility ``warnings`` (:func:`exonu.stats.plausibility.checked_limit`, with the
    one-bin window check); with ``strict`` a warning stops the job (nothing is written).
    """
    from exonu.stats.expected import ExpectedLimits, combine_expected
    from exonu.stats.plausibility import checked_limit, enforce_strict
    from exonu.stats.workspace import load_workspace

    ws = load_workspace(workspace_path)
    result = checked_limit(ws, signal, params["fit"], window_check=True)
    for w in result.warnings:
        log.warning("%s: %s", signal, w)
    enforce_strict(result.warnings, strict, signal)
    if expected_paths:
        parts = [ExpectedLimits.from_dict(json.loads(Path(p).read_text())) for p in expected_paths]
        exp = combine_expected(parts)
        record_seed(exp.seed)
        result = result.with_expected(exp.summary())
        log.info(
            "%s: expected %.3g (+1σ %.3g, -1σ %.3g)", signal, exp.median, exp.plus1, exp.minus1
        )
    doc = result.to_dict()
    write_json(doc, output)
    log.info("%s: 90%% CL upper limit %s", signal, doc["upper_limit"])


def expected_shard(
    params: Mapping[str, Any], workspace_path: str, signal: str, shard: int, output: str
) -> None:
    """Background-only toy limits of one shard of toys (seed derived from names)."""
    from exonu.stats.expected import expected_limits
    from exonu.stats.toys import seed_from_name
    from exonu.stats.workspace import load_workspace

    fit = params["fit"]
    seed = seed_from_name(params["analysis"], signal, "expected", str(params["seed"]))
    record_seed(seed)
    exp = expected_limits(
        load_workspace(workspace_path),
        signal,
        int(fit["expected_toys"]),
        seed,
        method=fit["method"],
        cl=float(fit["cl"]),
        likelihood=fit["likelihood"],
        shard=(shard, int(fit["expected_shards"])),
    )
    write_json(exp.to_dict(), output)
    log.info(
        "%s: %d toy limits (shard %d), %d failed", signal, len(exp.limits), shard, exp.n_failed
    )
