"""PMT sets and distance bins of the dead-PMT study (XMASS-I, PLB 809 (2020) 135741, §3.3).

XMASS compares data and background Monte Carlo in the distribution of the
distance between the projection of the reconstructed vertex onto the detector
surface and the nearest dead PMT. The selection kernel histograms that distance
for several PMT sets at once:

* set 0: the dead PMTs of the detector;
* sets 1..M: *masked* sets of normal PMTs treated as if they were dead. XMASS
  estimates the first systematic uncertainty of the correction "by deliberately
  masking normal PMTs": the same estimator applied around PMTs that work must
  give no correction, and the spread of what it gives is the uncertainty.

Masked sets are the dead-PMT pattern under random rotations, each rotated dead
PMT replaced by the nearest normal PMT at least ``min_separation_cm`` (arc length
on the surface) from every dead PMT. The kernel fills the masked-set histograms
only with events farther than half that separation from every dead PMT, so the
real effect leaks neither into the masked "near" nor into their "far" regions.
The sets depend only on the geometry and a seed, hence are identical for data and
Monte Carlo.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from exonu.detector.geometry import pmt_directions


class PmtSetError(ValueError):
    """Masked PMT sets cannot be built; the message names the config key."""


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation matrix drawn uniformly from SO(3) (QR of a Gaussian matrix)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def masked_pmt_sets(
    n_pmts: int,
    dead: Sequence[int],
    n_sets: int,
    seed: int,
    min_separation_cm: float,
    radius_cm: float,
) -> np.ndarray:
    """Indices of ``n_sets`` sets of normal PMTs arranged like the dead ones.

    Returns
    -------
    int64 array (n_sets, len(dead)).
    """
    dead = [int(d) for d in dead]
    if n_sets == 0 or not dead:
        return np.zeros((n_sets, len(dead)), np.int64)
    dirs = pmt_directions(int(n_pmts))
    dead_dirs = dirs[dead]
    cos_sep = np.cos(min(float(min_separation_cm) / float(radius_cm), np.pi))
    allowed = np.all(dirs @ dead_dirs.T < cos_sep, axis=1)
    allowed[dead] = False
    if allowed.sum() < len(dead):
        raise PmtSetError(
            f"selection.dead_pmt.mask_min_separation_cm = {min_separation_cm}: only "
            f"{int(allowed.sum())} normal PMTs are that far from every dead PMT, need {len(dead)}"
        )
    rng = np.random.default_rng(int(seed))
    out = np.empty((n_sets, len(dead)), np.int64)
    for m in range(n_sets):
        targets = dead_dirs @ random_rotation(rng).T
        free = allowed.copy()
        for k, target in enumerate(targets):
            score = np.where(free, dirs @ target, -np.inf)
            idx = int(np.argmax(score))
            out[m, k] = idx
            free[idx] = False
    return out


def pmt_set_directions(n_pmts: int, sets: np.ndarray) -> np.ndarray:
    """Unit vectors of PMT index sets, shape (n_sets, n_per_set, 3), C-contiguous."""
    dirs = pmt_directions(int(n_pmts))
    return np.ascontiguousarray(dirs[np.asarray(sets, np.int64)].reshape(*np.shape(sets), 3))


def distance_cos_edges(distance_edges_cm: np.ndarray, radius_cm: float) -> np.ndarray:
    """Cosine edges of arc-length distance bins on the sphere of ``radius_cm``.

    The distance bins must start at 0 and reach the largest distance on the
    surface (pi R), so every vertex falls in a bin; the outer edges are opened
    (2, -2) to absorb rounding of the cosine.
    """
    d = np.asarray(distance_edges_cm, np.float64)
    if d[0] != 0.0 or d[-1] < np.pi * radius_cm * (1 - 1e-9):
        raise PmtSetError(
            "selection.dead_pmt.distance_edges_cm: must start at 0 and reach pi * R = "
            f"{np.pi * radius_cm:.1f} cm (largest distance on the surface), got "
            f"[{d[0]:g}, ..., {d[-1]:g}]"
        )
    c = np.cos(np.clip(d / radius_cm, 0.0, np.pi))
    c[0], c[-1] = 2.0, -2.0
    return c
