"""Fused Numba event loop: event selection, cut flow and histogram fills.

One pass over the events applies the XMASS-I selection (PLB 809 (2020) 135741,
§3.2), in this order, counting the survivors of each step (the cut flow):

0. valid values: finite photoelectrons and vertices, ``npe >= 0`` and a
   reconstructed radius inside the detector (invalid events are counted, not
   silently dropped);
1. no outer-detector trigger in coincidence;
2. no after-pulse or Cherenkov tag;
3. R(Timing) < ``r_timing_max_cm`` (38 cm);
4. R(PE) < ``r_pe_max_cm`` (20 cm), the fiducial volume;
5. reconstructed energy inside the analysis window (2–200 keV).

Survivors fill the energy histogram, the dead-PMT distance histogram (energy
region x distance between the vertex projected onto the detector surface and the
nearest dead PMT) and, for Monte Carlo with truth, the response matrix
(true energy x reconstructed energy) of XMASS eq. (3).

The loop exits early at the first failed cut; the dead-PMT distance is computed
only for survivors, in cosine space against precomputed bin edges (no arccos in
the loop; ``../shared/notes/event-loop-performance.md``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

CUT_NAMES = (
    "read",
    "valid",
    "od_veto",
    "afterpulse_cherenkov_veto",
    "r_timing",
    "r_pe_fiducial",
    "energy_window",
)
N_CUTS = len(CUT_NAMES)


@njit(cache=True, nogil=True, inline="always")
def _find_bin(value, edges, uniform, lo, inv_width):
    """Bin index of ``value`` in ``edges`` (-1 if outside). Right edge exclusive."""
    n = edges.shape[0] - 1
    if value < edges[0] or value >= edges[n]:
        return -1
    if uniform:
        b = int((value - lo) * inv_width)
        if b >= n:
            b = n - 1
        return b
    low, high = 0, n
    while high - low > 1:
        mid = (low + high) // 2
        if value >= edges[mid]:
            low = mid
        else:
            high = mid
    return low


@njit(cache=True, nogil=True)
def select_and_fill(
    npe,
    r_timing,
    r_pe,
    x_pe,
    y_pe,
    z_pe,
    od_trigger,
    afterpulse,
    cherenkov,
    true_energy,
    params,
    energy_edges,
    true_edges,
    dead_dirs,
    cos_edges,
    region_edges,
    energy_hist,
    response_hist,
    dead_hist,
    cutflow,
):
    """Apply the selection and fill histograms in place.

    Parameters
    ----------
    npe, r_timing, r_pe, x_pe, y_pe, z_pe : float arrays (PE, cm).
    od_trigger, afterpulse, cherenkov : bool arrays.
    true_energy : float array of true deposited energies (keV), or length 0.
    params : float64 array ``[pe_per_kev, r_timing_max_cm, r_pe_max_cm,
        e_min_kev, e_max_kev, detector_radius_cm, use_od, use_ap_ck]``.
    energy_edges : reconstructed-energy bin edges, keV (increasing).
    true_edges : true-energy bin edges of the response, keV.
    dead_dirs : (n_dead, 3) unit vectors of dead PMTs (may be empty).
    cos_edges : cosine edges of the dead-PMT angular distance bins, decreasing
        (i.e. increasing distance), length n_dist + 1.
    region_edges : energy-region edges for the dead-PMT study, keV.
    energy_hist : int64 (n_energy,) counts, filled.
    response_hist : int64 (n_true, n_energy) counts, filled if truth is given.
    dead_hist : int64 (n_regions, n_dist) counts, filled.
    cutflow : int64 (N_CUTS,) survivors after each step, filled.
    """
    pe_per_kev = params[0]
    r_t_max = params[1]
    r_pe_max = params[2]
    e_min = params[3]
    e_max = params[4]
    r_det = params[5]
    use_od = params[6] != 0.0
    use_apck = params[7] != 0.0
    n_e = energy_edges.shape[0] - 1
    e_lo = energy_edges[0]
    e_inv = n_e / (energy_edges[n_e] - energy_edges[0])
    e_uniform = True
    for k in range(1, n_e + 1):
        if abs(energy_edges[k] - (e_lo + k / e_inv)) > 1e-9 * (1.0 + abs(energy_edges[k])):
            e_uniform = False
    n_t = true_edges.shape[0] - 1
    t_lo = true_edges[0]
    t_inv = n_t / (true_edges[n_t] - true_edges[0])
    t_uniform = True
    for k in range(1, n_t + 1):
        if abs(true_edges[k] - (t_lo + k / t_inv)) > 1e-9 * (1.0 + abs(true_edges[k])):
            t_uniform = False
    has_truth = true_energy.shape[0] == npe.shape[0]
    n_dead = dead_dirs.shape[0]
    n_dist = cos_edges.shape[0] - 1
    n_reg = region_edges.shape[0] - 1
    n = npe.shape[0]
    cutflow[0] += n
    for i in range(n):
        q = npe[i]
        rt = r_timing[i]
        rp = r_pe[i]
        x = x_pe[i]
        y = y_pe[i]
        z = z_pe[i]
        if not (
            np.isfinite(q)
            and np.isfinite(rt)
            and np.isfinite(rp)
            and np.isfinite(x)
            and np.isfinite(y)
            and np.isfinite(z)
        ):
            continue
        if q < 0.0 or rt < 0.0 or rp < 0.0 or rp > r_det or rt > r_det:
            continue
        cutflow[1] += 1
        if use_od and od_trigger[i]:
            continue
        cutflow[2] += 1
        if use_apck and (afterpulse[i] or cherenkov[i]):
            continue
        cutflow[3] += 1
        if rt >= r_t_max:
            continue
        cutflow[4] += 1
        if rp >= r_pe_max:
            continue
        cutflow[5] += 1
        e = q / pe_per_kev
        if e < e_min or e >= e_max:
            continue
        cutflow[6] += 1
        b = _find_bin(e, energy_edges, e_uniform, e_lo, e_inv)
        if b >= 0:
            energy_hist[b] += 1
            if has_truth:
                t = _find_bin(true_energy[i], true_edges, t_uniform, t_lo, t_inv)
                if t >= 0:
                    response_hist[t, b] += 1
        if n_dead > 0 and n_reg > 0:
            reg = _find_bin(e, region_edges, False, 0.0, 1.0)
            r2 = x * x + y * y + z * z
            if reg >= 0 and r2 > 0.0:
                inv_r = 1.0 / np.sqrt(r2)
                best = -2.0
                for d in range(n_dead):
                    c = (x * dead_dirs[d, 0] + y * dead_dirs[d, 1] + z * dead_dirs[d, 2]) * inv_r
                    if c > best:
                        best = c
                # cos_edges decrease; find k with cos_edges[k] >= best > cos_edges[k+1]
                if best <= cos_edges[0] and best > cos_edges[n_dist]:
                    low, high = 0, n_dist
                    while high - low > 1:
                        mid = (low + high) // 2
                        if best <= cos_edges[mid]:
                            low = mid
                        else:
                            high = mid
                    dead_hist[reg, low] += 1


def reference_selection(
    arrays: dict[str, np.ndarray], params: np.ndarray, energy_edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Plain NumPy implementation of the cuts (energy histogram and cut flow).

    The independent reference the Numba kernel is tested against.
    """
    pe_per_kev, r_t_max, r_pe_max, e_min, e_max, r_det, use_od, use_apck = params
    cols = [arrays[k] for k in ("npe", "r_timing_cm", "r_pe_cm", "x_pe_cm", "y_pe_cm", "z_pe_cm")]
    with np.errstate(invalid="ignore"):
        valid = np.logical_and.reduce([np.isfinite(c) for c in cols])
        valid &= (arrays["npe"] >= 0) & (arrays["r_timing_cm"] >= 0) & (arrays["r_pe_cm"] >= 0)
        valid &= (arrays["r_pe_cm"] <= r_det) & (arrays["r_timing_cm"] <= r_det)
    steps = [np.ones(len(cols[0]), bool), valid]
    steps.append(steps[-1] & ~(arrays["od_trigger"] & bool(use_od)))
    steps.append(steps[-1] & ~((arrays["afterpulse"] | arrays["cherenkov"]) & bool(use_apck)))
    steps.append(steps[-1] & (arrays["r_timing_cm"] < r_t_max))
    steps.append(steps[-1] & (arrays["r_pe_cm"] < r_pe_max))
    energy = arrays["npe"].astype(np.float64) / pe_per_kev
    steps.append(steps[-1] & (energy >= e_min) & (energy < e_max))
    cutflow = np.array([s.sum() for s in steps], dtype=np.int64)
    hist, _ = np.histogram(energy[steps[-1]], bins=energy_edges)
    return hist.astype(np.int64), cutflow
