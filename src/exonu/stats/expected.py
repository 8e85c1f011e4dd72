"""Expected limits: median and ±1σ/±2σ bands from background-only toys, shardable.

:func:`expected_limits` fits the observed data with the coupling fixed at zero, draws toys from
that background-only best fit (:func:`exonu.stats.toys.sample_toy`: Poisson counts and
fluctuated global observables) and computes the limit of every toy with the chosen method.
Toy i always uses the generator ``toy_generator(seed, i)`` and starts its fits from scratch, so
its limit does not depend on which shard computes it: ``shard=(k, n)`` takes the contiguous
block of toy indices ``[k·N/n, (k+1)·N/n)`` and :func:`combine_expected` concatenates shards
into exactly the unsharded result.

The Neyman method builds one belt (:func:`exonu.stats.limits.neyman_belt`) with the nuisances
of the background-only fit and applies it to every toy; pass ``belt_seed`` so all shards build
the same belt.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from exonu.stats.errors import LimitError
from exonu.stats.fit import Fitter
from exonu.stats.likelihood import LikelihoodModel
from exonu.stats.limits import (
    Method,
    NeymanBelt,
    Profile,
    compute_limit,
    default_neyman_grid,
    neyman_belt,
)
from exonu.stats.model import BinnedModel, Likelihood
from exonu.stats.toys import sample_toy, toy_generator
from exonu.stats.workspace import Workspace

__all__ = ["ExpectedLimits", "combine_expected", "expected_limits"]

#: Quantiles of the bands: Φ(−2), Φ(−1), 0.5, Φ(1), Φ(2).
BAND_QUANTILES = tuple(float(stats.norm.cdf(z)) for z in (-2, -1, 0, 1, 2))


@dataclass(frozen=True)
class ExpectedLimits:
    """Toy limits of one signal and their quantiles (physical units).

    ``limits`` holds the upper limit of toys ``first_toy … first_toy + len(limits) − 1``
    (NaN where the limit failed; ``valid`` says which). The band fields are quantiles of the
    valid limits of *this* object: for shards, combine first.
    """

    signal: str
    parameter: str
    unit: str
    method: str
    cl: float
    likelihood: str
    seed: int
    n_toys: int
    first_toy: int
    limits: tuple[float, ...]
    valid: tuple[bool, ...]
    median: float
    minus1: float
    plus1: float
    minus2: float
    plus2: float
    n_failed: int
    workspace_digest: str
    options: dict[str, Any]

    @property
    def complete(self) -> bool:
        """True if this object holds all ``n_toys`` toys."""
        return self.first_toy == 0 and len(self.limits) == self.n_toys

    def summary(self) -> dict[str, Any]:
        """The part of the result that goes into a limit JSON (``LimitResult.expected``)."""
        return {
            "median": self.median,
            "minus1": self.minus1,
            "plus1": self.plus1,
            "minus2": self.minus2,
            "plus2": self.plus2,
            "n_toys": self.n_toys,
            "n_failed": self.n_failed,
            "seed": self.seed,
            "method": self.method,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation (NaN limits become ``None``)."""
        d = asdict(self)
        d["limits"] = [None if math.isnan(v) else v for v in self.limits]
        for k in ("median", "minus1", "plus1", "minus2", "plus2"):
            d[k] = None if math.isnan(d[k]) else d[k]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExpectedLimits:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        d["limits"] = tuple(math.nan if v is None else float(v) for v in d["limits"])
        d["valid"] = tuple(bool(v) for v in d["valid"])
        for k in ("median", "minus1", "plus1", "minus2", "plus2"):
            d[k] = math.nan if d[k] is None else float(d[k])
        return cls(**d)


def _bands(limits: Sequence[float], valid: Sequence[bool]) -> tuple[float, ...]:
    good = np.array([v for v, ok in zip(limits, valid, strict=True) if ok and math.isfinite(v)])
    if good.size == 0:
        return (math.nan,) * 5
    return tuple(float(q) for q in np.quantile(good, BAND_QUANTILES))


def _shard_range(n_toys: int, shard: tuple[int, int]) -> range:
    k, n = shard
    if n < 1 or not 0 <= k < n:
        raise LimitError(f"shard is {shard}, expected (k, n) with 0 <= k < n")
    return range(k * n_toys // n, (k + 1) * n_toys // n)


def expected_limits(
    ws: Workspace | LikelihoodModel,
    signal: str,
    n_toys: int,
    seed: int,
    method: Method = "profile",
    cl: float = 0.9,
    likelihood: Likelihood = "chi2",
    *,
    shard: tuple[int, int] = (0, 1),
    threshold: str = "two_sided",
    prior_power: int | None = None,
    belt_toys: int = 300,
    belt_seed: int | None = None,
    n_grid: int = 24,
    data_variance_floor: float = 1.0,
) -> ExpectedLimits:
    """Expected upper limits from background-only toys.

    Parameters
    ----------
    ws : Workspace or LikelihoodModel
        The workspace (its observed data fix the nuisances of the toys), or a model that
        draws toys (a :class:`~exonu.stats.model.BinnedModel` or a
        :class:`~exonu.stats.combined.CombinedModel` of binned channels; ``likelihood`` and
        ``data_variance_floor`` are then the model's).
    signal : str
        Signal name.
    n_toys : int
        Total number of toys (over all shards).
    seed : int
        Seed of the toys (e.g. ``seed_from_name(analysis, signal, "expected")``).
    method, cl, likelihood, threshold, prior_power
        As in :func:`exonu.stats.limits.upper_limit`.
    shard : (k, n)
        Compute only the k-th of n contiguous blocks of toys.
    belt_toys, belt_seed, n_grid
        Neyman method only: toys per grid point, seed and size of the shared belt.
    data_variance_floor : float
        See :class:`~exonu.stats.model.BinnedModel`.

    Returns
    -------
    ExpectedLimits
    """
    if n_toys < 1:
        raise LimitError(f"n_toys is {n_toys}, expected >= 1")
    model: Any
    if isinstance(ws, Workspace):
        model = BinnedModel(ws, signal, likelihood, data_variance_floor=data_variance_floor)
    else:
        model = ws
        likelihood = model.likelihood  # type: ignore[assignment]
    sig = model.signals[model.poi_index(signal)]
    bkg_only = Fitter(model).fit({signal: 0.0})
    if not bkg_only.valid:
        raise LimitError(f"signal {signal!r}: background-only fit failed: {bkg_only.message}")
    theta0 = bkg_only.array
    belt: NeymanBelt | None = None
    options: dict[str, Any] = {"threshold": threshold} if method == "profile" else {}
    if method == "bayesian":
        options = {"prior_power": prior_power}
    if method == "neyman":
        if belt_seed is None:
            raise LimitError("method 'neyman' needs belt_seed (the same for every shard)")
        # Toys fluctuate: the grid must reach well beyond the observed limit.
        grid = default_neyman_grid(Profile(model, signal), cl, n_grid, span=8.0)
        belt = neyman_belt(
            model,
            signal,
            grid,
            n_toys=belt_toys,
            seed=belt_seed,
            cl=cl,
            nuisances=lambda x: np.concatenate([[x], theta0[1:]]),
        )
        options = {"belt_toys": belt_toys, "belt_seed": belt_seed, "grid": list(grid)}
    limits: list[float] = []
    valid: list[bool] = []
    indices = _shard_range(n_toys, shard)
    for i in indices:
        obs, aux = sample_toy(model, theta0, toy_generator(seed, i))
        toy = model.copy_with_data(obs, aux)
        try:
            res = compute_limit(
                toy, signal, method, cl, threshold=threshold, prior_power=prior_power, belt=belt
            )
            limits.append(res.upper_limit)
            valid.append(res.valid)
        except LimitError:
            limits.append(math.nan)
            valid.append(False)
    bands = _bands(limits, valid)
    return ExpectedLimits(
        signal=signal,
        parameter=sig.parameter,
        unit=sig.unit,
        method=method,
        cl=cl,
        likelihood=likelihood,
        seed=seed,
        n_toys=n_toys,
        first_toy=indices.start,
        limits=tuple(limits),
        valid=tuple(valid),
        median=bands[2],
        minus1=bands[1],
        plus1=bands[3],
        minus2=bands[0],
        plus2=bands[4],
        n_failed=sum(not v for v in valid),
        workspace_digest=ws.digest() if isinstance(ws, Workspace) else model.digest(),
        options=options,
    )


def combine_expected(parts: Sequence[ExpectedLimits]) -> ExpectedLimits:
    """Concatenate shards (in any order) into one result and recompute the bands.

    Raises
    ------
    LimitError
        If the shards belong to different tasks, overlap or leave gaps.
    """
    if not parts:
        raise LimitError("combine_expected needs at least one shard")
    ordered = sorted(parts, key=lambda p: p.first_toy)
    ref = ordered[0]
    keys = ("signal", "method", "cl", "likelihood", "seed", "n_toys", "workspace_digest")
    for p in ordered[1:]:
        for k in keys:
            if getattr(p, k) != getattr(ref, k):
                raise LimitError(f"shards differ in {k}: {getattr(ref, k)!r} and {getattr(p, k)!r}")
    nxt = ref.first_toy
    for p in ordered:
        if p.first_toy != nxt:
            raise LimitError(
                f"shards leave a gap or overlap at toy {nxt} (next starts at {p.first_toy})"
            )
        nxt += len(p.limits)
    limits = tuple(v for p in ordered for v in p.limits)
    valid = tuple(v for p in ordered for v in p.valid)
    bands = _bands(limits, valid)
    return ExpectedLimits(
        **{
            **asdict(ref),
            "first_toy": ref.first_toy,
            "limits": limits,
            "valid": valid,
            "median": bands[2],
            "minus1": bands[1],
            "plus1": bands[3],
            "minus2": bands[0],
            "plus2": bands[4],
            "n_failed": sum(not v for v in valid),
        }
    )
