"""Tests of exonu.stats.expected: toy bands and shard independence."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from exonu.stats.errors import LimitError
from exonu.stats.expected import ExpectedLimits, combine_expected, expected_limits
from exonu.stats.limits import upper_limit
from exonu.stats.workspace import Workspace


@pytest.fixture(scope="module")
def unsharded(small_ws: Workspace) -> ExpectedLimits:
    return expected_limits(small_ws, "magnetic_moment", 24, 99, "profile")


def test_bands_are_ordered_quantiles(unsharded: ExpectedLimits) -> None:
    e = unsharded
    assert e.complete and len(e.limits) == 24 and e.n_failed == 0
    assert e.minus2 <= e.minus1 <= e.median <= e.plus1 <= e.plus2
    assert e.median == pytest.approx(float(np.median(e.limits)))


@pytest.mark.parametrize("n_shards", [1, 4, 5])
def test_shards_concatenate_to_the_unsharded_result(
    small_ws: Workspace, unsharded: ExpectedLimits, n_shards: int
) -> None:
    parts = [
        expected_limits(small_ws, "magnetic_moment", 24, 99, "profile", shard=(k, n_shards))
        for k in range(n_shards)
    ]
    assert sum(len(p.limits) for p in parts) == 24
    merged = combine_expected(parts[::-1])  # order of the shards does not matter
    assert merged.to_dict() == unsharded.to_dict()


def test_json_round_trip(unsharded: ExpectedLimits) -> None:
    d = json.loads(json.dumps(unsharded.to_dict()))
    assert ExpectedLimits.from_dict(d) == unsharded
    s = unsharded.summary()
    assert set(s) >= {"median", "minus1", "plus1", "minus2", "plus2", "n_toys", "seed"}


def test_combine_rejects_mismatches(small_ws: Workspace) -> None:
    a = expected_limits(small_ws, "magnetic_moment", 6, 1, "profile", shard=(0, 3))
    c = expected_limits(small_ws, "magnetic_moment", 6, 1, "profile", shard=(2, 3))
    with pytest.raises(LimitError, match="gap or overlap"):
        combine_expected([a, c])
    other = expected_limits(small_ws, "magnetic_moment", 6, 2, "profile", shard=(1, 3))
    with pytest.raises(LimitError, match="shards differ in seed"):
        combine_expected([a, other])
    with pytest.raises(LimitError, match="shard is"):
        expected_limits(small_ws, "magnetic_moment", 6, 1, shard=(3, 3))


def test_expected_attaches_to_observed(small_ws: Workspace, unsharded: ExpectedLimits) -> None:
    obs = upper_limit(small_ws, "magnetic_moment", "profile")
    full = obs.with_expected(unsharded.summary())
    assert full.expected is not None and full.expected["median"] == unsharded.median
    assert math.isfinite(json.loads(json.dumps(full.to_dict()))["expected"]["plus2"])


def test_bayesian_and_neyman_expected(small_ws: Workspace) -> None:
    bay = expected_limits(small_ws, "magnetic_moment", 4, 5, "bayesian")
    assert bay.n_failed == 0 and bay.options == {"prior_power": None}
    ney = expected_limits(
        small_ws, "magnetic_moment", 4, 5, "neyman", belt_toys=30, belt_seed=8, n_grid=8
    )
    assert ney.n_failed == 0 and ney.options["belt_seed"] == 8
    with pytest.raises(LimitError, match="belt_seed"):
        expected_limits(small_ws, "magnetic_moment", 4, 5, "neyman")
