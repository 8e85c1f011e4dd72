"""Numba kernels of the synthetic detector Monte Carlo: one event per loop iteration.

Random numbers are *counter based*: draw ``k`` of event ``j`` of a sample is a pure
function of (sample seed, ``j``, ``k``) -- a SplitMix64 stream (Steele, Lea & Flood,
OOPSLA 2014) started from a hash of the sample seed and the event index. Hence

* an event does not depend on which chunk (file) generates it, nor on how many
  events came before it: chunking cannot change the union of the events;
* a systematic-variation sample re-uses the random numbers of its nominal sample
  event by event (same true energies and vertices, same fluctuations), so the
  difference between the two is the variation and not Monte-Carlo noise;
* a draw that is skipped (e.g. the mis-reconstruction of an event deep in the
  volume) does not shift any other draw.

Speed (``benchmarks/bench_sim.py``): one loop iteration per event, no allocation;
normal deviates by inverting the CDF (a 32 kB table in the centre, Wichura's AS 241
in the tails, so that one uniform gives one normal), and tables instead of libm calls
for the azimuth, exp(-x), -ln(u), the light yield and the per-photoelectron factors
(libm calls cost 15-60 ns each here, the whole event ~120-170 ns). Tables are passed as
arguments: global arrays would be frozen into the compiled code and slow down
compiling and loading the cache.

The helpers are inlined into :func:`generate_events` at the Numba IR level
(``inline="always"``) and the kernel is compiled without the Numba runtime
(``_nrt=False``; it allocates nothing). With the runtime, every table passed to a helper
cost an atomic reference-count increment and decrement per call, about 30 % of the
event time as measured with ``perf`` (benchmarks/records/sim.md).

The physics of each step is described in :mod:`exonu.sim.generate` and
:mod:`exonu.detector.response`; the layout of the parameter arrays is fixed by the
``C_*`` / ``K_*`` constants below and the ``P_*`` / ``T_*`` constants of
:mod:`exonu.detector.layout` (the detector arrays, filled by :mod:`exonu.detector.response`).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from numba import njit

from exonu.detector.layout import (
    P_AP_MEAN_PE,
    P_CK_MEAN_PE,
    P_DEAD_BOOST,
    P_DEAD_RANGE,
    P_MIS_ANGLE,
    P_MIS_DEPTH,
    P_MIS_P5,
    P_MIS_POWER,
    P_MIS_RT_SIGMA5,
    P_NL_E0,
    P_NL_NORM,
    P_NL_POWER,
    P_PE_PER_KEV,
    P_RADIUS,
    P_RES_CONST,
    P_RPE_SCALE,
    P_RPE_SIGMA5,
    P_RT_SIGMA5,
    P_TAG_NPE,
    P_TAG_POWER,
    P_THRESHOLD,
    P_TRIGGER_PE,
    T_MIS,
    T_SCALE,
    T_TAG,
)

# --------------------------------------------------------------------------- layouts

#: component parameter array (float64)
C_VERTEX = 0  # 0: uniform in the volume, 1: at the wall (depth per channel)
C_OD_PROB = 1
C_AP_PROB = 2
C_CK_PROB = 3
C_REGION_BOOST = 4  # 1: multiply the dead-PMT boost by the per-region factors (data)
N_COMP_PARAMS = 5

#: channel kinds
K_SCINT = 0  # an energy deposit in the xenon (scintillation)
K_CHERENKOV = 1  # Cherenkov light of a beta in a PMT window (no deposit in the xenon)
K_MUON = 2  # a muon-induced event in coincidence with the outer detector
K_AFTERPULSE = 3  # an after-pulse train recorded as an event

#: rows of the float output block
F_NPE, F_RT, F_RPE, F_X, F_Y, F_Z, F_TE, F_TX, F_TY, F_TZ, F_TIME = range(11)
N_FLOAT_OUT = 11
#: rows of the flag output block
B_OD, B_AP, B_CK = range(3)
N_BOOL_OUT = 3

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV_2_53 = 1.0 / 9007199254740992.0

# draw indices (fixed, so that variations and skipped draws never shift others)
D_TIME = 0
D_CHANNEL = 1
D_QUANTILE = 2
D_COS = 4
D_PHI = 5
D_RADIUS = 6  # 6-8
D_GAIN = 9
D_POISSON = 10
D_RPE = 11  # 11-13
D_RT = 14  # 14-15
D_MIS = 17
D_MIS_RADIUS = 18  # 18-20
D_MIS_ANGLE = 21  # 21-23
D_OD = 24
D_AP = 25
D_CK = 26
D_TAG = 27
D_SPECIAL = 28  # 28-29


@njit(cache=True, nogil=True, inline="always")
def _mix(z):
    """SplitMix64 output function (uint64 -> uint64)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, nogil=True, inline="always")
def event_state(seed, index):
    """Start of the random stream of event ``index`` of the sample with ``seed``."""
    return _mix(seed ^ _mix(np.uint64(index) * _GOLDEN + _GOLDEN))


@njit(cache=True, nogil=True, inline="always")
def uniform(state, k):
    """Draw ``k`` of an event stream: uniform in the open interval (0, 1)."""
    z = _mix(state + np.uint64(k + 1) * _GOLDEN)
    # 53 bits fit an int64: a signed conversion is one instruction, an unsigned one is not
    return (float(np.int64(z >> _S11)) + 0.5) * _INV_2_53


# Wichura's algorithm AS 241 (PPND16), Applied Statistics 37 (1988) 477: the inverse of the
# standard normal CDF to ~1e-16 relative precision; the central branch (85 % of draws) is a
# rational function without transcendental calls.
_A = np.array(
    [
        3.387132872796366608,
        133.14166789178437745,
        1971.5909503065514427,
        13731.693765509461125,
        45921.953931549871457,
        67265.770927008700853,
        33430.575583588128105,
        2509.0809287301226727,
    ]
)
_B = np.array(
    [
        1.0,
        42.313330701600911252,
        687.1870074920579083,
        5394.1960214247511077,
        21213.794301586595867,
        39307.89580009271061,
        28729.085735721942674,
        5226.495278852545925,
    ]
)
_C = np.array(
    [
        1.42343711074968357734,
        4.6303378461565452959,
        5.7694972214606914055,
        3.64784832476320460504,
        1.27045825245236838258,
        0.24178072517745061177,
        0.0227238449892691845833,
        7.7454501427834140764e-4,
    ]
)
_D = np.array(
    [
        1.0,
        2.05319162663775882187,
        1.6763848301838038494,
        0.68976733498510000455,
        0.14810397642748007459,
        0.0151986665636164571966,
        5.475938084995344946e-4,
        1.05075007164441684324e-9,
    ]
)
_E = np.array(
    [
        6.6579046435011037772,
        5.4637849111641143699,
        1.7848265399172913358,
        0.29656057182850489123,
        0.026532189526576123093,
        0.0012426609473880784386,
        2.71155556874348757815e-5,
        2.01033439929228813265e-7,
    ]
)
_F = np.array(
    [
        1.0,
        0.59983220655588793769,
        0.13692988092273580531,
        0.0148753612908506148525,
        7.868691311456132591e-4,
        1.8463183175100546818e-5,
        1.4215117583164458887e-7,
        2.04426310338993978564e-15,
    ]
)


@njit(cache=True, nogil=True, inline="always")
def _poly(c, x):
    return (
        (((((c[7] * x + c[6]) * x + c[5]) * x + c[4]) * x + c[3]) * x + c[2]) * x + c[1]
    ) * x + c[0]


@njit(cache=True, nogil=True, inline="always")
def normal_from_uniform(u):
    """Standard normal deviate Phi^-1(u) (AS 241)."""
    q = u - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _poly(_A, r) / _poly(_B, r)
    r = u if q < 0.0 else 1.0 - u
    r = np.sqrt(-np.log(r))
    if r <= 5.0:
        r -= 1.6
        v = _poly(_C, r) / _poly(_D, r)
    else:
        r -= 5.0
        v = _poly(_E, r) / _poly(_F, r)
    return -v if q < 0.0 else v


# Central part of Phi^-1 as a table on a uniform grid of u (32 kB, so that it stays in
# the L1/L2 cache; linear-interpolation error < 6e-6); the tails (4 % of the draws) use
# AS 241 directly.
_TAIL = 0.02
_N_TABLE = 4096
NORMAL_TABLE = np.array(
    [NormalDist().inv_cdf(u) for u in np.linspace(_TAIL, 1.0 - _TAIL, _N_TABLE + 1)]
)
_TABLE_SCALE = _N_TABLE / (1.0 - 2.0 * _TAIL)
# cos and sin of the azimuth on a grid of 1024 steps (16 kB; interpolation error < 5e-6)
_N_PHI = 1024
#: rows: cos and sin of 2 pi i / _N_PHI
AZIMUTH_TABLE = np.ascontiguousarray(
    np.array(
        [
            np.cos(np.linspace(0.0, 2.0 * np.pi, _N_PHI + 1)),
            np.sin(np.linspace(0.0, 2.0 * np.pi, _N_PHI + 1)),
        ]
    )
)


@njit(cache=True, nogil=True, inline="always")
def normal(state, k, table):
    """Draw ``k`` of an event stream as a standard normal deviate, Phi^-1(u).

    ``table`` is :data:`NORMAL_TABLE` (passed as an argument: large global arrays
    would be frozen into the compiled code and slow down compilation and loading).
    """
    u = uniform(state, k)
    if u <= _TAIL or u >= 1.0 - _TAIL:
        return normal_from_uniform(u)
    x = (u - _TAIL) * _TABLE_SCALE
    i = int(x)
    if i >= _N_TABLE:
        i = _N_TABLE - 1
    f = x - i
    return table[i] + f * (table[i + 1] - table[i])


# exp(-x) on [0, 20] and -ln(u) on [0.02, 1] as tables (libm calls cost 15-30 ns here;
# linear-interpolation errors < 3e-6 and < 2e-5 absolute): rows of FAST_TABLE
_N_FAST = 4096
_EXP_MAX = 20.0
_LOG_MIN = 0.02
FAST_TABLE = np.ascontiguousarray(
    np.array(
        [
            np.exp(-np.linspace(0.0, _EXP_MAX, _N_FAST + 1)),
            -np.log(np.linspace(_LOG_MIN, 1.0, _N_FAST + 1)),
        ]
    )
)


@njit(cache=True, nogil=True, inline="always")
def exp_neg(x, table):
    """exp(-x) for x >= 0 from :data:`FAST_TABLE` (0 beyond 20)."""
    if x >= _EXP_MAX:
        return 0.0
    y = x * (_N_FAST / _EXP_MAX)
    i = int(y)
    f = y - i
    return table[0, i] + f * (table[0, i + 1] - table[0, i])


@njit(cache=True, nogil=True, inline="always")
def exponential(u, table):
    """-ln(u) for u in (0, 1): an exponential deviate (table above 0.02, libm below)."""
    if u < _LOG_MIN:
        return -np.log(u)
    y = (u - _LOG_MIN) * (_N_FAST / (1.0 - _LOG_MIN))
    i = int(y)
    if i >= _N_FAST:
        i = _N_FAST - 1
    f = y - i
    return table[1, i] + f * (table[1, i + 1] - table[1, i])


@njit(cache=True, nogil=True, inline="always")
def azimuth(u, table):
    """(cos, sin) of the angle 2 pi u from :data:`AZIMUTH_TABLE`."""
    x = u * _N_PHI
    i = int(x)
    if i >= _N_PHI:
        i = _N_PHI - 1
    f = x - i
    c = table[0, i] + f * (table[0, i + 1] - table[0, i])
    s = table[1, i] + f * (table[1, i + 1] - table[1, i])
    return c, s


@njit(cache=True, nogil=True, inline="always")
def cube_root_uniform(state, k):
    """A deviate distributed as u^(1/3): the largest of draws k, k+1, k+2."""
    return max(uniform(state, k), max(uniform(state, k + 1), uniform(state, k + 2)))


@njit(cache=True, nogil=True, inline="always")
def poisson(mean, u, z):
    """Poisson deviate: inversion of the CDF with ``u`` below a mean of 30, else the
    normal approximation with ``z`` (relative error of the variance < 2 %)."""
    if mean <= 0.0:
        return 0.0
    if mean < 30.0:
        p = np.exp(-mean)
        cdf = p
        k = 0
        while u > cdf and k < 200:
            k += 1
            p *= mean / k
            cdf += p
        return float(k)
    v = np.floor(mean + np.sqrt(mean) * z + 0.5)
    return v if v > 0.0 else 0.0


@njit(cache=True, nogil=True, inline="always")
def relative_light_yield(energy_kev, det):
    """Light per keV relative to the reference energy: 1 / (1 + (E0/E)^p), normalised."""
    return det[P_NL_NORM] / (1.0 + (det[P_NL_E0] / energy_kev) ** det[P_NL_POWER])


@njit(cache=True, nogil=True, inline="always")
def light_kev(energy_kev, det, ly_tab, inv_step):
    """Visible energy (keV at the reference light yield) of one deposit; 0 below threshold.

    ``ly_tab[i]`` is the relative light yield at ``i / inv_step`` keV (linear interpolation
    is much faster than the power law, to < 1e-4 relative); above the table, the formula.
    """
    if energy_kev < det[P_THRESHOLD]:
        return 0.0
    x = energy_kev * inv_step
    i = int(x)
    if i < ly_tab.shape[0] - 1:
        f = x - i
        return energy_kev * (ly_tab[i] + f * (ly_tab[i + 1] - ly_tab[i]))
    return energy_kev * relative_light_yield(energy_kev, det)


@njit(cache=True, nogil=True, inline="always")
def _quantile(tables, t, u):
    m = tables.shape[1] - 1
    x = u * m
    i = int(x)
    if i >= m:
        i = m - 1
    f = x - i
    return tables[t, i] + f * (tables[t, i + 1] - tables[t, i])


@njit(cache=True, nogil=True, inline="always")
def npe_factors(npe, npe_tab, det):
    """(resolution scale, mis-reconstruction energy factor, timing-tag probability)."""
    if npe < npe_tab.shape[0]:
        i = int(npe)
        return npe_tab[i, T_SCALE], npe_tab[i, T_MIS], npe_tab[i, T_TAG]
    e_vis = npe / det[P_PE_PER_KEV]
    scale = np.sqrt(5.0 / e_vis)
    mis = det[P_MIS_P5] * (5.0 / e_vis) ** det[P_MIS_POWER]
    tag = 0.0
    if det[P_TAG_NPE] > 0.0:
        tag = 1.0 / (1.0 + (npe / det[P_TAG_NPE]) ** det[P_TAG_POWER])
    return scale, mis, tag


@njit(cache=True, nogil=True, _nrt=False)
def generate_events(
    seed,
    first,
    n,
    t_lo,
    t_hi,
    comp,
    ch_cum,
    ch_line,
    ch_table,
    ch_depth,
    ch_kind,
    tables,
    det,
    ly_tab,
    ly_step,
    npe_tab,
    dead_dirs,
    region_edges,
    region_boost,
    norm_tab,
    az_tab,
    fast_tab,
    out_f,
    out_b,
):
    """Generate events ``first .. first + n - 1`` of one component; keep the triggered ones.

    Parameters
    ----------
    seed : uint64 seed of the component's event streams.
    first, n : index of the first event and number of events to consider.
    t_lo, t_hi : keep only events whose time fraction (draw ``D_TIME``) lies in
        ``[t_lo, t_hi)``; ``t_lo < 0`` keeps all (Monte Carlo).
    comp : component parameters (``C_*``).
    ch_cum : cumulative channel probabilities (last = 1).
    ch_line : energy of the line deposit of each channel, keV (0: none).
    ch_table : row of ``tables`` of the continuum deposit (-1: none).
    ch_depth : mean depth below the wall of wall vertices, cm.
    ch_kind : ``K_*`` event class of each channel.
    tables : inverse cumulative distributions on a uniform quantile grid, keV.
    det : detector parameters (``P_*``).
    ly_tab, ly_step : relative light yield tabulated every ``ly_step`` keV from 0.
    npe_tab : (n_max, N_NPE_ROWS) factors per photoelectron count (columns ``T_*``).
    dead_dirs : (n_dead, 3) unit vectors of the dead PMTs.
    region_edges, region_boost : visible-energy regions (keV) and the factor on the
        dead-PMT boost in each (used if ``comp[C_REGION_BOOST]``).
    norm_tab, az_tab, fast_tab : :data:`NORMAL_TABLE`, :data:`AZIMUTH_TABLE`, :data:`FAST_TABLE`.
    out_f : float32 (N_FLOAT_OUT, >= n) output rows ``F_*`` (``F_TIME``: the time
        fraction of data events, 0 for Monte Carlo).
    out_b : bool (N_BOOL_OUT, >= n) output rows ``B_*``.

    Returns
    -------
    int : number of events written (triggered and inside the time window).
    """
    radius = det[P_RADIUS]
    inv_step = 1.0 / ly_step
    pe_per_kev = det[P_PE_PER_KEV]
    trig = det[P_TRIGGER_PE]
    res_c = det[P_RES_CONST]
    rpe_s5 = det[P_RPE_SIGMA5]
    rpe_scale = det[P_RPE_SCALE]
    rt_s5 = det[P_RT_SIGMA5]
    mis_on = det[P_MIS_P5] > 0.0
    mis_depth = det[P_MIS_DEPTH]
    inv_mis_depth = 1.0 / mis_depth
    mis_depth_max = 12.0 * mis_depth
    dead_boost = det[P_DEAD_BOOST]
    # exp(-d^2 / (2 range^2)) with the chord d^2 = 2 R^2 (1 - cos)
    kernel_k = radius * radius / det[P_DEAD_RANGE] ** 2
    mis_rt_s5 = det[P_MIS_RT_SIGMA5]
    mis_ang = det[P_MIS_ANGLE] / radius
    r_max = radius * (1.0 - 1e-6)
    vertex_wall = comp[C_VERTEX] > 0.5
    od_p = comp[C_OD_PROB]
    ap_p = comp[C_AP_PROB]
    ck_p = comp[C_CK_PROB]
    use_regions = comp[C_REGION_BOOST] > 0.5
    n_ch = ch_cum.shape[0]
    n_dead = dead_dirs.shape[0]
    n_reg = region_edges.shape[0] - 1
    useed = np.uint64(seed)
    m = 0
    for i in range(n):
        s = event_state(useed, first + i)
        t = 0.0
        if t_lo >= 0.0:
            t = uniform(s, D_TIME)
            if t < t_lo or t >= t_hi:
                continue
        # ---- channel and true energy
        u = uniform(s, D_CHANNEL)
        ch = 0
        while ch < n_ch - 1 and u >= ch_cum[ch]:
            ch += 1
        kind = ch_kind[ch]
        e_line = ch_line[ch]
        e_cont = 0.0
        if ch_table[ch] >= 0:
            e_cont = _quantile(tables, ch_table[ch], uniform(s, D_QUANTILE))
        e_true = e_line + e_cont
        # ---- true vertex
        cos_t = 2.0 * uniform(s, D_COS) - 1.0
        sin_t = np.sqrt(max(0.0, 1.0 - cos_t * cos_t))
        cp, sp = azimuth(uniform(s, D_PHI), az_tab)
        dx = sin_t * cp
        dy = sin_t * sp
        dz = cos_t
        if vertex_wall or kind == K_CHERENKOV:
            depth = ch_depth[ch] * exponential(uniform(s, D_RADIUS), fast_tab)
            if depth > radius:
                depth = radius
            r = radius - depth
        else:
            r = radius * cube_root_uniform(s, D_RADIUS)
            depth = radius - r
        tx = r * dx
        ty = r * dy
        tz = r * dz
        # ---- photoelectrons
        if kind == K_SCINT or kind == K_MUON:
            lk = light_kev(e_line, det, ly_tab, inv_step) + light_kev(e_cont, det, ly_tab, inv_step)
            mean = pe_per_kev * lk
            if mean <= 0.0:
                continue
            if mean < 30.0:
                # light-collection fluctuation, then Poisson statistics
                gain = 1.0 + res_c * normal(s, D_GAIN, norm_tab)
                npe = poisson(mean * max(gain, 0.0), uniform(s, D_POISSON), 0.0)
            else:
                # the same compound in the normal limit: variance mean + (c mean)^2
                rm = res_c * mean
                sd = np.sqrt(mean + rm * rm)
                npe = max(0.0, np.floor(mean + sd * normal(s, D_POISSON, norm_tab) + 0.5))
        elif kind == K_CHERENKOV:
            npe = 1.0 + np.floor(det[P_CK_MEAN_PE] * exponential(uniform(s, D_SPECIAL), fast_tab))
            e_true = 0.0
        else:
            npe = 1.0 + np.floor(det[P_AP_MEAN_PE] * exponential(uniform(s, D_SPECIAL), fast_tab))
            e_true = 0.0
        if npe < trig:
            continue
        scale, p_energy, p_tag = npe_factors(npe, npe_tab, det)
        # ---- mis-reconstruction of events near the wall (gaps, dead PMTs)
        mis = False
        if kind == K_SCINT and mis_on and depth < mis_depth_max:
            p = p_energy * exp_neg(depth * inv_mis_depth, fast_tab)
            if n_dead > 0 and dead_boost > 0.0:
                best = -2.0
                for d in range(n_dead):  # branch-free maximum (no mispredictions)
                    best = max(
                        best, dx * dead_dirs[d, 0] + dy * dead_dirs[d, 1] + dz * dead_dirs[d, 2]
                    )
                arg = kernel_k * (1.0 - best)
                if arg < 20.0:  # exp(-20) = 2e-9: no effect
                    boost = dead_boost
                    if use_regions:
                        e_vis = npe / pe_per_kev
                        for k in range(n_reg):
                            if e_vis >= region_edges[k] and e_vis < region_edges[k + 1]:
                                boost *= region_boost[k]
                    p *= 1.0 + boost * exp_neg(arg, fast_tab)
            mis = uniform(s, D_MIS) < p
        if kind == K_AFTERPULSE:
            # a random hit pattern: both vertices anywhere in the volume
            rr = radius * cube_root_uniform(s, D_MIS_RADIUS)
            x = rr * dx
            y = rr * dy
            z = rr * dz
            r_t = radius * uniform(s, D_SPECIAL + 1)
        else:
            if mis:
                ex = dx + mis_ang * normal(s, D_MIS_ANGLE, norm_tab)
                ey = dy + mis_ang * normal(s, D_MIS_ANGLE + 1, norm_tab)
                ez = dz + mis_ang * normal(s, D_MIS_ANGLE + 2, norm_tab)
                rr = (
                    radius
                    * cube_root_uniform(s, D_MIS_RADIUS)
                    / np.sqrt(ex * ex + ey * ey + ez * ez)
                )
                x = rr * ex
                y = rr * ey
                z = rr * ez
                st = mis_rt_s5 * scale
            else:
                sp = rpe_s5 * scale
                x = tx + sp * normal(s, D_RPE, norm_tab)
                y = ty + sp * normal(s, D_RPE + 1, norm_tab)
                z = tz + sp * normal(s, D_RPE + 2, norm_tab)
                st = rt_s5 * scale
            # |r + st n| for a 3-d standard normal n: the component along r is normal,
            # the squared transverse part is chi^2 with 2 d.o.f. = 2 x exponential
            along = r + st * normal(s, D_RT, norm_tab)
            r_t = np.sqrt(
                along * along + 2.0 * st * st * exponential(uniform(s, D_RT + 1), fast_tab)
            )
            if r_t > r_max:
                r_t = r_max
        x *= rpe_scale
        y *= rpe_scale
        z *= rpe_scale
        r_pe = np.sqrt(x * x + y * y + z * z)
        if r_pe > r_max:
            f = r_max / r_pe
            x *= f
            y *= f
            z *= f
            r_pe = r_max
        # ---- flags
        # (a draw is not needed when its probability is 0: uniform() > 0 always)
        od = kind == K_MUON or (od_p > 0.0 and uniform(s, D_OD) < od_p)
        ap = kind == K_AFTERPULSE or (ap_p > 0.0 and uniform(s, D_AP) < ap_p)
        if kind == K_SCINT and p_tag > 0.0 and uniform(s, D_TAG) < p_tag:
            ap = True  # hit-timing tag of a low-PE scintillation event
        ck = kind == K_CHERENKOV or (ck_p > 0.0 and uniform(s, D_CK) < ck_p)
        out_f[F_NPE, m] = npe
        out_f[F_RT, m] = r_t
        out_f[F_RPE, m] = r_pe
        out_f[F_X, m] = x
        out_f[F_Y, m] = y
        out_f[F_Z, m] = z
        out_f[F_TE, m] = e_true
        out_f[F_TX, m] = tx
        out_f[F_TY, m] = ty
        out_f[F_TZ, m] = tz
        out_f[F_TIME, m] = t
        out_b[B_OD, m] = od
        out_b[B_AP, m] = ap
        out_b[B_CK, m] = ck
        m += 1
    return m
