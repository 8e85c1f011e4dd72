"""Scan bookkeeping: hypotheses, names, shards."""

from __future__ import annotations

import pytest

from exonu.stages.scans import shard_of
from exonu.templates.hypotheses import ScanError, hypotheses, mass_grid


def test_mass_grid_log_spaced():
    grid = mass_grid({"log10_min": -3, "log10_max": 3, "n": 61})
    assert len(grid) == 61 and grid[0] == pytest.approx(1e-3) and grid[-1] == pytest.approx(1e3)
    assert grid[30] == pytest.approx(1.0)
    assert mass_grid(None) == [None]


def test_hypothesis_names_and_order():
    scan = {
        "model": "vector",
        "flavours": ["all", "e"],
        "masses_mev": [0.0, 0.01],
        "fit_window_kev": [2, 200],
    }
    names = [h.name for h in hypotheses("vector", scan)]
    assert names == ["vector_m0MeV", "vector_m0.01MeV", "vector_e_m0MeV", "vector_e_m0.01MeV"]


@pytest.mark.parametrize("n_shards", [1, 2, 3, 4, 7, 61, 100])
def test_shards_partition_the_hypotheses(n_shards):
    items = list(range(61))
    shards = [shard_of(items, i, n_shards) for i in range(n_shards)]
    assert sorted(x for s in shards for x in s) == items
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_bad_shard_is_an_error():
    with pytest.raises(ScanError, match="shard 4 of 4"):
        shard_of([1, 2], 4, 4)
