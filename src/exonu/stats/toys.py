"""Pseudo-experiments (toys) and their seeds.

Randomness in :mod:`exonu.stats` is explicit: every function that draws random numbers takes an
integer ``seed`` and records it in its result. Seeds of named tasks are derived by hashing
(:func:`seed_from_name`, e.g. ``seed_from_name("default", "magnetic_moment", "expected")``), and
every toy gets its own generator from ``(seed, toy index)`` (:func:`toy_generator`), so toy i is
the same whichever shard computes it — sharded results concatenate to the unsharded one.

A toy (:func:`sample_toy`) fluctuates the observed counts, :math:`D_i \\sim
\\mathrm{Poisson}(\\mu_i(\\theta))`, and the global observables of the pull terms (the
"unconditional ensemble"): :math:`a_j \\sim N(p_j, \\sigma_j)` for constrained activity scales
and :math:`b_k \\sim N(q_k, 1)`, :math:`c_l \\sim N(r_l, 1)` for the systematic pulls. The
Monte-Carlo templates themselves are not fluctuated.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

from exonu.stats.likelihood import LikelihoodModel
from exonu.stats.model import BinnedModel

__all__ = ["sample_toy", "seed_from_name", "toy_generator"]

FloatArray = npt.NDArray[np.float64]


def seed_from_name(*parts: str) -> int:
    """Deterministic 63-bit seed from names (SHA-256 of the parts joined by U+001F).

    Examples
    --------
    >>> seed_from_name("default", "magnetic_moment", "expected")  # doctest: +SKIP
    4861...
    """
    if not parts:
        raise ValueError("seed_from_name needs at least one part")
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def toy_generator(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """Independent generator of toy ``index`` of the task seeded with ``seed``.

    ``stream`` separates uses of the same toy index (e.g. the grid points of a Neyman
    construction).
    """
    if seed < 0 or index < 0 or stream < 0:
        raise ValueError(f"seed, index and stream must be >= 0, got {seed}, {index}, {stream}")
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stream, index)))
    )


def sample_toy(
    model: BinnedModel | LikelihoodModel,
    theta: npt.ArrayLike,
    rng: np.random.Generator,
    *,
    fluctuate_aux: bool = True,
) -> tuple[FloatArray, FloatArray]:
    """Draw one pseudo-experiment of ``model`` at parameters ``theta``.

    Returns
    -------
    observed, aux : ndarray
        Counts in the fit-window bins and global observables, ready for
        :meth:`BinnedModel.copy_with_data`. A model with its own ``sample_toy`` (a
        :class:`~exonu.stats.combined.CombinedModel`) draws them itself.
    """
    if not isinstance(model, BinnedModel) and hasattr(model, "sample_toy"):
        # a model that draws its own toys (exonu.stats.combined.CombinedModel)
        out: tuple[FloatArray, FloatArray] = model.sample_toy(
            theta, rng, fluctuate_aux=fluctuate_aux
        )
        return out
    if not isinstance(model, BinnedModel):
        raise TypeError(f"{type(model).__name__} cannot draw toys")
    t = np.asarray(theta, dtype=np.float64)
    mu = np.clip(model.expected_counts(t), 0.0, None)
    observed = rng.poisson(mu).astype(np.float64)
    aux = model.aux_nominal.copy()
    if fluctuate_aux:
        nuis = t[model.n_poi :]
        width = np.array(
            [p.sigma if p.sigma is not None else 0.0 for p in model.parameters[model.n_poi :]]
        )
        fixed = np.array([p.fixed for p in model.parameters[model.n_poi :]])
        live = (width > 0) & ~fixed
        aux = np.where(live, nuis + width * rng.standard_normal(nuis.size), aux)
    return observed, aux
