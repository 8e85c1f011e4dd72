"""Fused Numba event loop: event selection, cut flow and histogram fills.

One pass over the events applies the XMASS-I selection (PLB 809 (2020) 135741,
§3.2), in this order, counting the survivors of each step (the cut flow,
:data:`CUT_NAMES`):

0. valid values: finite photoelectrons, radii and vertex (and true energy for
   Monte Carlo), ``npe >= 0`` and radii inside the detector. Invalid events are
   counted per reason (:data:`INVALID_REASONS`), never silently dropped;
1. no outer-detector trigger in coincidence;
2. no after-pulse or Cherenkov tag;
3. R(Timing) < ``r_timing_max_cm`` (38 cm);
4. R(PE) < ``r_pe_max_cm`` (20 cm), the fiducial volume;
5. reconstructed energy E = npe / (PE per keV) inside the analysis window
   (2–200 keV; 2–15 keV fits use a sub-window of the same histogram).

Survivors fill

* the energy histogram, once per *variant*: variant 0 is the nominal selection;
  the others apply, at selection time, a shift of the energy scale
  E -> E (1 + s_v sigma(E)) (the scintillation-efficiency / non-linearity
  uncertainty of the energy calibration, XMASS §3.1) and/or a scale of the
  reconstructed radius R(PE) -> f_v R(PE) (the fiducial-volume uncertainty,
  XMASS §3.3). The systematic shapes sigma(Bsys)_ijk and sigma(Ssys)_il of
  XMASS eqs. 5-6 are differences of these histograms;
* the response matrix (true energy x reconstructed energy, XMASS eq. 3) per
  variant, for Monte Carlo with truth;
* for the nominal variant, the dead-PMT study of XMASS §3.3: per energy region,
  the distance between the projection of the reconstructed vertex onto the
  detector surface and the nearest PMT of each PMT set (set 0: the dead PMTs;
  further sets: normal PMTs masked as if dead, for the systematic uncertainty).

Performance (``benchmarks/records/selection.md``): cuts with data-dependent outcomes are
branch mispredictions when written as early exits (~12 ns/event measured here),
so the cheap cuts are evaluated branch-free in a first pass that vectorises and
streams at memory speed; only the few events surviving the R(Timing) cut and a
loose R(PE) cut (and invalid events) are revisited. The dead-PMT distance is
computed only for survivors inside the dead-PMT energy regions, as cosines
against precomputed edges (no arccos in the loop).
"""

from __future__ import annotations

from collections.abc import Mapping

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

#: Why an event was counted invalid (the first reason that applies).
INVALID_REASONS = (
    "npe_not_finite",
    "r_timing_not_finite",
    "r_pe_not_finite",
    "vertex_not_finite",
    "true_energy_not_finite",
    "npe_negative",
    "radius_outside_detector",
)
N_INVALID = len(INVALID_REASONS)

# count of trailing zeros of a 64-bit word: table[(lowest set bit * constant) >> 58]
_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_DEBRUIJN_TABLE = np.zeros(64, np.int64)
for _bit in range(64):
    _DEBRUIJN_TABLE[(((1 << _bit) * 0x03F79D71B4CB0A89) % 2**64) >> 58] = _bit

#: Events per tile of the two passes (a multiple of 8; ~0.5 MB of branches).
TILE = 16384


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
        # guard against rounding at an edge: keep edges[b] <= value < edges[b + 1]
        if value < edges[b]:
            b -= 1
        elif value >= edges[b + 1]:
            b += 1
        return b
    low, high = 0, n
    while high - low > 1:
        mid = (low + high) // 2
        if value >= edges[mid]:
            low = mid
        else:
            high = mid
    return low


@njit(cache=True, nogil=True, inline="always")
def _interp(x, xp, fp):
    """Linear interpolation, constant beyond the ends (``np.interp`` for a scalar).

    The interval is found by counting knots (no data-dependent branches).
    """
    n = xp.shape[0]
    if x <= xp[0]:
        return fp[0]
    if x >= xp[n - 1]:
        return fp[n - 1]
    low = 0
    for k in range(1, n - 1):
        low += x >= xp[k]
    return (fp[low + 1] - fp[low]) / (xp[low + 1] - xp[low]) * (x - xp[low]) + fp[low]


def _interp_reference(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """NumPy version of :func:`_interp` with the same arithmetic."""
    xp, fp = np.asarray(xp, np.float64), np.asarray(fp, np.float64)
    if len(xp) == 1:
        return np.full_like(x, fp[0])
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    inner = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]) * (x - xp[j]) + fp[j]
    return np.where(x <= xp[0], fp[0], np.where(x >= xp[-1], fp[-1], inner))


@njit(cache=True, nogil=True)
def _is_uniform(edges):
    n = edges.shape[0] - 1
    lo = edges[0]
    inv = n / (edges[n] - edges[0])
    for k in range(1, n + 1):
        if abs(edges[k] - (lo + k / inv)) > 1e-9 * (1.0 + abs(edges[k])):
            return False, lo, inv
    return True, lo, inv


@njit(cache=True, nogil=True)
def _invalid_reason(q, rt, rp, x, y, z, t, check_truth, r_det):
    if not np.isfinite(q):
        return 0
    if not np.isfinite(rt):
        return 1
    if not np.isfinite(rp):
        return 2
    if not (np.isfinite(x) and np.isfinite(y) and np.isfinite(z)):
        return 3
    if check_truth and not np.isfinite(t):
        return 4
    if q < 0.0:
        return 5
    if rt < 0.0 or rp < 0.0 or rp > r_det or rt > r_det:
        return 6
    return -1


@njit(cache=True, nogil=True)
def _pass1(
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
    check_truth,
    use_od,
    use_apck,
    r_det,
    r_t_max,
    r_loose,
    mask,
):
    """Branch-free cuts of a tile: survivor counts and the byte mask.

    A flat loop over ``range(len)`` of array views without branches on the data,
    so that LLVM vectorises it (a loop over ``range(start, stop)`` is not: Numba
    cannot prove the index non-negative and keeps the wrap-around selects).
    """
    c_valid = 0
    c_od = 0
    c_apck = 0
    c_rt = 0
    for i in range(npe.shape[0]):
        q = np.float64(npe[i])
        rt = np.float64(r_timing[i])
        rp = np.float64(r_pe[i])
        ok = (
            (q >= 0.0)
            & (q < np.inf)
            & (rt >= 0.0)
            & (rt <= r_det)
            & (rp >= 0.0)
            & (rp <= r_det)
            & (np.abs(np.float64(x_pe[i])) < np.inf)
            & (np.abs(np.float64(y_pe[i])) < np.inf)
            & (np.abs(np.float64(z_pe[i])) < np.inf)
        )
        if check_truth:
            ok = ok & (np.abs(np.float64(true_energy[i])) < np.inf)
        ok_od = ok & ~(use_od & od_trigger[i])
        ok_apck = ok_od & ~(use_apck & (afterpulse[i] | cherenkov[i]))
        ok_rt = ok_apck & (rt < r_t_max)
        c_valid += ok
        c_od += ok_od
        c_apck += ok_apck
        c_rt += ok_rt
        mask[i] = np.uint8(ok_rt & (rp < r_loose)) | (np.uint8(not ok) << np.uint8(1))
    return c_valid, c_od, c_apck, c_rt


@njit(cache=True, nogil=True)
def fill_selection(
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
    variant_sign,
    variant_radius_scale,
    scale_knots_kev,
    scale_sigma,
    pmt_sets,
    cos_edges,
    region_edges,
    energy_hist,
    response_hist,
    dead_hist,
    cutflow,
    invalid,
):
    """Apply the selection to a block of events and fill histograms in place.

    Two passes over the block. The first evaluates the cheap cuts without
    branches (so that it vectorises and runs at the memory-streaming speed),
    counts the survivors of each step and marks survivors of the (loosest)
    fiducial cut and invalid events in a byte mask; the second visits only the
    marked events, eight mask bytes at a time, and does the rest: the reason of
    an invalid event, the exact fiducial cut and energy window of each variant,
    the histogram fills and the dead-PMT distances.

    Parameters
    ----------
    npe, r_timing, r_pe, x_pe, y_pe, z_pe : float arrays (PE, cm).
    od_trigger, afterpulse, cherenkov : bool arrays.
    true_energy : float array of true deposited energies (keV), or length 0
        (data). With truth, non-finite true energies make an event invalid.
    params : float64 array ``[pe_per_kev, r_timing_max_cm, r_pe_max_cm,
        e_min_kev, e_max_kev, detector_radius_cm, use_od, use_ap_ck,
        cos_exclude]``; the last (optional) is the cosine of the angular
        distance to the dead PMTs within which events are left out of the
        masked-set histograms (the masked sets must see no dead-PMT effect).
    energy_edges : reconstructed-energy bin edges, keV (increasing).
    true_edges : true-energy bin edges of the response, keV.
    variant_sign : (n_var,) energy-scale shift of each variant in units of
        sigma(E); variant 0 must be the nominal selection (0).
    variant_radius_scale : (n_var,) factor applied to R(PE) before the
        fiducial cut; 1 for variant 0.
    scale_knots_kev, scale_sigma : relative 1-sigma uncertainty of the energy
        scale, linearly interpolated in E (constant beyond the knots).
    pmt_sets : (n_sets, n_per_set, 3) unit vectors; set 0 the dead PMTs.
    cos_edges : cosines of the angular-distance bin edges, decreasing (i.e.
        increasing distance), length n_dist + 1, covering [-1, 1].
    region_edges : energy-region edges for the dead-PMT study, keV.
    energy_hist : int64 (n_var, n_energy), filled.
    response_hist : int64 (n_var, n_true, n_energy), filled when truth is given
        and ``n_true > 0``.
    dead_hist : int64 (n_sets, n_regions, n_dist), filled (nominal variant); for
        the masked sets (s >= 1) only with events away from the dead PMTs. A
        vertex exactly at the centre has no projection on the surface and is left
        out of it (it counts everywhere else).
    cutflow : int64 (N_CUTS,) nominal survivors after each step, filled.
    invalid : int64 (N_INVALID,) invalid events per reason, filled.
    """
    pe_per_kev = params[0]
    r_t_max = params[1]
    r_pe_max = params[2]
    e_min = params[3]
    e_max = params[4]
    r_det = params[5]
    use_od = params[6] != 0.0
    use_apck = params[7] != 0.0
    cos_exclude = params[8] if params.shape[0] > 8 else 2.0
    n = npe.shape[0]
    check_truth = true_energy.shape[0] == n
    n_var = variant_sign.shape[0]
    r_min_scale = variant_radius_scale[0]
    for v in range(n_var):
        r_min_scale = min(r_min_scale, variant_radius_scale[v])
    r_loose = r_pe_max / r_min_scale
    # ---- set-up
    e_uniform, e_lo, e_inv = _is_uniform(energy_edges)
    t_uniform, t_lo, t_inv = _is_uniform(true_edges)
    has_truth = check_truth and response_hist.shape[1] > 0
    any_shift = False
    for v in range(n_var):
        if variant_sign[v] != 0.0:
            any_shift = True
    n_sets = pmt_sets.shape[0]
    n_per_set = pmt_sets.shape[1]
    n_pmt = n_sets * n_per_set
    px = np.empty(n_pmt)
    py = np.empty(n_pmt)
    pz = np.empty(n_pmt)
    for s in range(n_sets):
        for d in range(n_per_set):
            px[s * n_per_set + d] = pmt_sets[s, d, 0]
            py[s * n_per_set + d] = pmt_sets[s, d, 1]
            pz[s * n_per_set + d] = pmt_sets[s, d, 2]
    dots = np.empty(n_pmt)
    n_dist = cos_edges.shape[0] - 1
    n_reg = region_edges.shape[0] - 1
    do_dead = n_pmt > 0 and n_reg > 0
    n_words = (n + 7) // 8
    mask64 = np.zeros(n_words, np.uint64)
    mask = mask64.view(np.uint8)
    c_valid = 0
    c_od = 0
    c_apck = 0
    c_rt = 0
    # tiles small enough that pass 2 finds the events of pass 1 in the cache
    for start in range(0, n, TILE):
        stop = min(start + TILE, n)
        # ---- pass 1: branch-free cuts, counts, and a byte mask (1 survivor, 2 invalid)
        cv, co, ca, cr = _pass1(
            npe[start:stop],
            r_timing[start:stop],
            r_pe[start:stop],
            x_pe[start:stop],
            y_pe[start:stop],
            z_pe[start:stop],
            od_trigger[start:stop],
            afterpulse[start:stop],
            cherenkov[start:stop],
            true_energy[start:stop] if check_truth else true_energy,
            check_truth,
            use_od,
            use_apck,
            r_det,
            r_t_max,
            r_loose,
            mask[start:stop],
        )
        c_valid += cv
        c_od += co
        c_apck += ca
        c_rt += cr
        # ---- pass 2: the marked events of the tile
        for w in range(start // 8, (stop + 7) // 8):
            word = mask64[w]
            while word != 0:
                # lowest marked byte of the word (de Bruijn count of trailing zeros)
                low = word & (~word + np.uint64(1))
                j = _DEBRUIJN_TABLE[(low * _DEBRUIJN) >> np.uint64(58)] >> 3
                word &= ~(np.uint64(0xFF) << np.uint64(8 * j))
                i = 8 * w + j
                code = mask[i]
                q = np.float64(npe[i])
                rp = np.float64(r_pe[i])
                t = np.float64(true_energy[i]) if check_truth else 0.0
                if code & 2:
                    rt = np.float64(r_timing[i])
                    x = np.float64(x_pe[i])
                    y = np.float64(y_pe[i])
                    z = np.float64(z_pe[i])
                    invalid[_invalid_reason(q, rt, rp, x, y, z, t, check_truth, r_det)] += 1
                    continue
                e = q / pe_per_kev
                sigma = _interp(e, scale_knots_kev, scale_sigma) if any_shift else 0.0
                tb = _find_bin(t, true_edges, t_uniform, t_lo, t_inv) if has_truth else -1
                for v in range(n_var):
                    if rp * variant_radius_scale[v] >= r_pe_max:
                        continue
                    if v == 0:
                        cutflow[5] += 1
                    ev = e * (1.0 + variant_sign[v] * sigma)
                    if ev < e_min or ev >= e_max:
                        continue
                    b = _find_bin(ev, energy_edges, e_uniform, e_lo, e_inv)
                    if b >= 0:
                        energy_hist[v, b] += 1
                        if tb >= 0:
                            response_hist[v, tb, b] += 1
                    if v != 0:
                        continue
                    cutflow[6] += 1
                    if not do_dead:
                        continue
                    # region of the energy, counted without branches
                    reg = -1
                    for j in range(n_reg + 1):
                        reg += e >= region_edges[j]
                    if reg >= n_reg:
                        reg = -1
                    x = np.float64(x_pe[i])
                    y = np.float64(y_pe[i])
                    z = np.float64(z_pe[i])
                    r2 = x * x + y * y + z * z
                    if reg < 0 or r2 <= 0.0:
                        continue
                    inv_r = 1.0 / np.sqrt(r2)
                    for k in range(n_pmt):
                        dots[k] = x * px[k] + y * py[k] + z * pz[k]
                    best_dead = 2.0
                    for s in range(n_sets):
                        best = -2.0
                        for d in range(s * n_per_set, (s + 1) * n_per_set):
                            best = max(best, dots[d])
                        best *= inv_r
                        if s == 0:
                            best_dead = best
                        elif best_dead > cos_exclude:
                            continue  # masked sets: not near a dead PMT
                        # cos_edges decrease; bin k has cos_edges[k] >= best > cos_edges[k + 1].
                        # Counted without branches (a binary search mispredicts ~3 times).
                        k = -1
                        for j in range(n_dist + 1):
                            k += cos_edges[j] >= best
                        if k >= 0 and k < n_dist:
                            dead_hist[s, reg, k] += 1
    cutflow[0] += n
    cutflow[1] += c_valid
    cutflow[2] += c_od
    cutflow[3] += c_apck
    cutflow[4] += c_rt


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
    """Nominal selection only (one variant, one PMT set): :func:`fill_selection`.

    The single-variant interface of the foundation: 1-d ``energy_hist``, 2-d
    ``response_hist`` and ``dead_hist``, ``dead_dirs`` of shape (n_dead, 3).
    Invalid events are counted in the cut flow only.
    """
    fill_selection(
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
        np.asarray(params, dtype=np.float64),
        energy_edges,
        true_edges,
        np.zeros(1),
        np.ones(1),
        np.array([0.0, 1.0]),
        np.zeros(2),
        np.ascontiguousarray(dead_dirs, dtype=np.float64).reshape(1, -1, 3),
        cos_edges,
        region_edges,
        energy_hist[None, :],
        response_hist[None, :, :],
        dead_hist[None, :, :],
        cutflow,
        np.zeros(N_INVALID, np.int64),
    )


# --------------------------------------------------------------------------- reference


def reference_fill(
    arrays: Mapping[str, np.ndarray],
    params: np.ndarray,
    energy_edges: np.ndarray,
    *,
    true_edges: np.ndarray | None = None,
    variant_sign: np.ndarray | None = None,
    variant_radius_scale: np.ndarray | None = None,
    scale_knots_kev: np.ndarray | None = None,
    scale_sigma: np.ndarray | None = None,
    pmt_sets: np.ndarray | None = None,
    cos_edges: np.ndarray | None = None,
    region_edges: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Plain NumPy implementation of :func:`fill_selection` (masks + histograms).

    The independent reference the Numba kernel is tested against. ``arrays``
    holds the canonical branches (``true_energy_kev`` optional). Returns
    ``energy`` (n_var, n_e), ``response`` (n_var, n_t, n_e), ``dead_pmt``
    (n_sets, n_reg, n_dist), ``cutflow`` and ``invalid``.
    """
    pe_per_kev, r_t_max, r_pe_max, e_min, e_max, r_det, use_od, use_apck = (
        float(v) for v in params[:8]
    )
    cos_exclude = float(params[8]) if len(params) > 8 else 2.0
    sign = np.zeros(1) if variant_sign is None else np.asarray(variant_sign, np.float64)
    rscale = np.ones(1) if variant_radius_scale is None else np.asarray(variant_radius_scale)
    knots = np.array([0.0, 1.0]) if scale_knots_kev is None else np.asarray(scale_knots_kev)
    sig = np.zeros(2) if scale_sigma is None else np.asarray(scale_sigma)
    f = {k: np.asarray(arrays[k], np.float64) for k in ("npe", "r_timing_cm", "r_pe_cm")}
    x, y, z = (np.asarray(arrays[k], np.float64) for k in ("x_pe_cm", "y_pe_cm", "z_pe_cm"))
    q, rt, rp = f["npe"], f["r_timing_cm"], f["r_pe_cm"]
    n = len(q)
    truth = arrays.get("true_energy_kev")
    t = np.zeros(n) if truth is None else np.asarray(truth, np.float64)
    reasons = [
        ~np.isfinite(q),
        ~np.isfinite(rt),
        ~np.isfinite(rp),
        ~(np.isfinite(x) & np.isfinite(y) & np.isfinite(z)),
        ~np.isfinite(t),
    ]
    with np.errstate(invalid="ignore"):
        reasons.append(q < 0)
        reasons.append((rt < 0) | (rp < 0) | (rp > r_det) | (rt > r_det))
    first = np.full(n, -1)
    for k in reversed(range(len(reasons))):
        first[reasons[k]] = k
    invalid = np.bincount(first[first >= 0], minlength=N_INVALID).astype(np.int64)
    steps = [np.ones(n, bool), first < 0]
    od = np.asarray(arrays["od_trigger"], bool)
    apck = np.asarray(arrays["afterpulse"], bool) | np.asarray(arrays["cherenkov"], bool)
    steps.append(steps[-1] & ~(od & bool(use_od)))
    steps.append(steps[-1] & ~(apck & bool(use_apck)))
    with np.errstate(invalid="ignore"):
        steps.append(steps[-1] & (rt < r_t_max))
    base = steps[-1]
    energy = q / pe_per_kev
    with np.errstate(invalid="ignore"):
        s_of_e = _interp_reference(np.where(base, energy, 0.0), knots, sig)
    n_e = len(energy_edges) - 1
    t_edges = np.array([0.0, 1.0]) if true_edges is None else np.asarray(true_edges)
    n_t = len(t_edges) - 1
    e_hist = np.zeros((len(sign), n_e), np.int64)
    resp = np.zeros((len(sign), n_t, n_e), np.int64)
    final = None
    for v in range(len(sign)):
        with np.errstate(invalid="ignore"):
            fid = base & (rp * rscale[v] < r_pe_max)
            ev = energy * (1.0 + sign[v] * s_of_e)
            win = fid & (ev >= e_min) & (ev < e_max)
            # np.histogram closes the last bin; the kernel's bins are all half-open
            fill = win & (ev < energy_edges[-1])
        e_hist[v] = np.histogram(ev[fill], bins=energy_edges)[0]
        if truth is not None and true_edges is not None:
            tf = fill & (t < t_edges[-1])
            resp[v] = np.histogram2d(t[tf], ev[tf], bins=[t_edges, energy_edges])[0]
        if v == 0:
            steps.append(fid)
            steps.append(win)
            final = win
    cutflow = np.array([s.sum() for s in steps], dtype=np.int64)
    out = {"energy": e_hist, "response": resp, "cutflow": cutflow, "invalid": invalid}
    if pmt_sets is not None and region_edges is not None and cos_edges is not None:
        sets = np.asarray(pmt_sets, np.float64)
        n_dist = len(cos_edges) - 1
        dead = np.zeros((sets.shape[0], len(region_edges) - 1, n_dist), np.int64)
        sel = final & (x * x + y * y + z * z > 0)
        reg = np.searchsorted(region_edges, energy[sel], side="right") - 1
        in_reg = (reg >= 0) & (reg < len(region_edges) - 1)
        xs, ys, zs = x[sel][in_reg], y[sel][in_reg], z[sel][in_reg]
        inv_r = 1.0 / np.sqrt(xs * xs + ys * ys + zs * zs)
        best_dead = np.full(len(xs), 2.0)
        for s in range(sets.shape[0]):
            if sets.shape[1] == 0:
                continue
            p = sets[s]
            dots = xs[:, None] * p[None, :, 0] + ys[:, None] * p[None, :, 1]
            dots = dots + zs[:, None] * p[None, :, 2]
            best = dots.max(axis=1) * inv_r
            if s == 0:
                best_dead = best
            # bin k: cos_edges[k] >= best > cos_edges[k + 1]
            k = np.searchsorted(-np.asarray(cos_edges), -best, side="right") - 1
            ok = (k >= 0) & (k < n_dist) & ((s == 0) | (best_dead <= cos_exclude))
            np.add.at(dead[s], (reg[in_reg][ok], k[ok]), 1)
        out["dead_pmt"] = dead
    return out
