"""Data-driven dead-PMT correction of the background model (XMASS-I, PLB 809 (2020) 135741, §3.3).

XMASS: "We applied a data-driven correction to the simulated BG spectrum for
E_recon < 40 keV in order to take into account the systematic difference in the
mis-reconstruction rate caused by dead PMTs [...] in each of the energy regions
2-5, 5-15, 15-20, 20-30 and 30-40 keV. These correction factors were estimated
by comparing the distance between the projection of the reconstructed vertex
onto the detector surface and the dead-PMT position between data and BG MC in
the fiducial volume. There are two systematic uncertainties associated with this
correction factor": the difference obtained "by deliberately masking normal
PMTs", and "the statistical uncertainty of the correction-factor estimate".

Estimator (per energy region r). Events reconstructed in the fiducial volume are
split into *near* (distance to the nearest dead PMT < ``near_distance_cm``) and
*far*. Far from dead PMTs the background model describes the data up to its
normalisation; the mis-reconstruction difference adds events near them. With D
the data counts and M the Monte-Carlo expectation (sum of the components'
templates),

    c_r = (D_near + D_far) / D_far  x  M_far / (M_near + M_far)
        = (1 + D_near / D_far) / (1 + M_near / M_far),

the factor by which the data exceed the model in the region for the same far
rate; it does not depend on the normalisation of the model (fitted separately,
XMASS eq. 5). The statistical uncertainty propagates Poisson errors of D and the
Monte-Carlo variance of M. The same estimator around each set of masked normal
PMTs must give 1; the root mean square of (c_r^(m) - 1) over the sets is the
masking uncertainty. Both add in quadrature; the result enters the fit as one
background systematic per region (:meth:`DeadPmtCorrection.systematic_shifts`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from exonu.selection.run import SelectionResult
from exonu.templates.build import TemplateError


@dataclass(frozen=True)
class DeadPmtCorrection:
    """Correction factors per energy region with their two uncertainties.

    Attributes
    ----------
    region_edges_kev : (n_reg + 1,) energy regions.
    near_distance_cm : near/far boundary of the distance to the nearest dead PMT.
    factor : c_r, multiplies the background templates in region r.
    stat : statistical 1-sigma uncertainty of c_r.
    masking : uncertainty from masking normal PMTs (RMS of c_r^(m) - 1).
    masked_factors : (n_masked, n_reg) c_r^(m) around each masked PMT set.
    data_near, data_far, mc_near, mc_far : counts entering c_r (dead PMTs).
    distance_edges_cm : edges of the distance bins.
    ratio_by_distance : (n_reg, n_dist) data / MC per distance bin, both normalised
        to their far counts (a diagnostic: 1 far from dead PMTs, c-like near them;
        ``near_distance_cm`` should contain the whole excess); 0 where the MC
        has no events.
    """

    region_edges_kev: np.ndarray
    near_distance_cm: float
    factor: np.ndarray
    stat: np.ndarray
    masking: np.ndarray
    masked_factors: np.ndarray
    data_near: np.ndarray
    data_far: np.ndarray
    mc_near: np.ndarray
    mc_far: np.ndarray
    distance_edges_cm: np.ndarray | None = None
    ratio_by_distance: np.ndarray | None = None

    @property
    def total(self) -> np.ndarray:
        """Total 1-sigma uncertainty of c_r (masking and statistical in quadrature)."""
        return np.hypot(self.stat, self.masking)

    @property
    def region_names(self) -> list[str]:
        """Systematic names ``dead_pmt_<lo>_<hi>kev`` of the regions."""
        e = self.region_edges_kev
        return [f"dead_pmt_{_fmt(lo)}_{_fmt(hi)}kev" for lo, hi in itertools.pairwise(e)]

    def bin_region(self, energy_edges: np.ndarray) -> np.ndarray:
        """Region index of each energy bin (by bin centre), -1 outside all regions."""
        edges = np.asarray(energy_edges, float)
        centres = 0.5 * (edges[1:] + edges[:-1])
        r = np.searchsorted(self.region_edges_kev, centres, side="right") - 1
        return np.where((r >= 0) & (r < len(self.factor)), r, -1)

    def factor_per_bin(self, energy_edges: np.ndarray) -> np.ndarray:
        """c_r of the region of each energy bin (1 outside the regions)."""
        r = self.bin_region(energy_edges)
        return np.where(r >= 0, self.factor[np.maximum(r, 0)], 1.0)

    def systematic_shifts(
        self, energy_edges: np.ndarray, expected_uncorrected: np.ndarray
    ) -> dict[str, np.ndarray]:
        """sigma(Bsys)_ij of each region: sigma(c_r) x B_ij in the region's bins, else 0."""
        r = self.bin_region(energy_edges)
        out = {}
        for k, name in enumerate(self.region_names):
            out[name] = np.where(r == k, self.total[k] * np.asarray(expected_uncorrected), 0.0)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "region_edges_kev": self.region_edges_kev.tolist(),
            "near_distance_cm": self.near_distance_cm,
            "factor": self.factor.tolist(),
            "stat": self.stat.tolist(),
            "masking": self.masking.tolist(),
            "total": self.total.tolist(),
            "masked_factors": self.masked_factors.tolist(),
            "data_near": self.data_near.tolist(),
            "data_far": self.data_far.tolist(),
            "mc_near": self.mc_near.tolist(),
            "mc_far": self.mc_far.tolist(),
            "distance_edges_cm": None
            if self.distance_edges_cm is None
            else self.distance_edges_cm.tolist(),
            "ratio_by_distance": None
            if self.ratio_by_distance is None
            else self.ratio_by_distance.tolist(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DeadPmtCorrection:
        n_reg = len(d["region_edges_kev"]) - 1
        return cls(
            region_edges_kev=np.asarray(d["region_edges_kev"], float),
            near_distance_cm=float(d["near_distance_cm"]),
            factor=np.asarray(d["factor"], float),
            stat=np.asarray(d["stat"], float),
            masking=np.asarray(d["masking"], float),
            masked_factors=np.asarray(d["masked_factors"], float).reshape(-1, n_reg),
            data_near=np.asarray(d["data_near"], float),
            data_far=np.asarray(d["data_far"], float),
            mc_near=np.asarray(d["mc_near"], float),
            mc_far=np.asarray(d["mc_far"], float),
            distance_edges_cm=None
            if d.get("distance_edges_cm") is None
            else np.asarray(d["distance_edges_cm"], float),
            ratio_by_distance=None
            if d.get("ratio_by_distance") is None
            else np.asarray(d["ratio_by_distance"], float),
        )


def _fmt(v: float) -> str:
    return f"{v:g}".replace(".", "p")


def correction_factor(
    d_near: np.ndarray,
    d_far: np.ndarray,
    m_near: np.ndarray,
    m_far: np.ndarray,
    v_near: np.ndarray,
    v_far: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """c = (1 + Dn/Df) / (1 + Mn/Mf) and its statistical uncertainty (module docstring).

    Data counts are Poisson (variance = counts), Monte-Carlo expectations have the
    variances ``v_near``, ``v_far``. Where ``d_far`` or ``m_far`` is 0 the factor is
    undefined: c = 1 with uncertainty 1 (100 %) is returned.
    """
    d_near, d_far, m_near, m_far = (np.asarray(a, float) for a in (d_near, d_far, m_near, m_far))
    ok = (d_far > 0) & (m_far > 0)
    dn, df = np.where(ok, d_near, 0.0), np.where(ok, d_far, 1.0)
    mn, mf = np.where(ok, m_near, 0.0), np.where(ok, m_far, 1.0)
    d_tot, m_tot = dn + df, mn + mf
    c = (d_tot / df) * (mf / m_tot)
    # partial derivatives of c with respect to Dn, Df, Mn, Mf
    var = (
        (c / d_tot) ** 2 * dn
        + (c * dn / (df * d_tot)) ** 2 * df
        + (c / m_tot) ** 2 * np.asarray(v_near, float)
        + (c * mn / (mf * m_tot)) ** 2 * np.asarray(v_far, float)
    )
    return np.where(ok, c, 1.0), np.where(ok, np.sqrt(var), 1.0)


def _near_far(hists: np.ndarray, distance_edges: np.ndarray, near_cm: float) -> tuple:
    k = int(np.searchsorted(distance_edges, near_cm))
    if k >= len(distance_edges) or not np.isclose(distance_edges[k], near_cm) or k == 0:
        raise TemplateError(
            f"backgrounds.dead_pmt_correction.near_distance_cm = {near_cm:g} must be an inner "
            f"edge of selection.dead_pmt.distance_edges_cm {distance_edges.tolist()}"
        )
    return hists[..., :k].sum(axis=-1), hists[..., k:].sum(axis=-1)


def estimate_dead_pmt_correction(
    data: SelectionResult,
    backgrounds: Sequence[SelectionResult],
    near_distance_cm: float,
) -> DeadPmtCorrection:
    """Compare data and background Monte Carlo around dead and masked PMTs (XMASS §3.3).

    The Monte-Carlo expectation is the sum of the components weighted as in their
    templates (activity x data live time / generated); its variance the sum of
    weight^2 x counts.
    """
    if data.kind != "data":
        raise TemplateError(f"sample {data.sample!r} is {data.kind}, expected data")
    if not backgrounds:
        raise TemplateError("dead-PMT correction: no background samples")
    shape = data.dead_pmt_by_set.shape
    mc = np.zeros(shape)
    mc_var = np.zeros(shape)
    for b in backgrounds:
        if b.dead_pmt_by_set.shape != shape or b.masked_pmts != data.masked_pmts:
            raise TemplateError(
                f"sample {b.sample!r}: dead-PMT histograms differ from the data's "
                "(selected with another selection.dead_pmt configuration)"
            )
        if not np.array_equal(b.region_edges_kev, data.region_edges_kev):
            raise TemplateError(f"sample {b.sample!r}: dead-PMT energy regions differ")
        if b.n_generated <= 0:
            raise TemplateError(f"sample {b.sample!r}: n_generated is {b.n_generated}")
        w = b.activity_bq * data.livetime_s / b.n_generated
        mc += w * b.dead_pmt_by_set
        mc_var += w * w * b.dead_pmt_by_set
    edges = data.distance_edges_cm
    dn, df = _near_far(data.dead_pmt_by_set.astype(float), edges, near_distance_cm)
    mn, mf = _near_far(mc, edges, near_distance_cm)
    vn, vf = _near_far(mc_var, edges, near_distance_cm)
    c, stat = correction_factor(dn, df, mn, mf, vn, vf)  # shape (n_sets, n_reg)
    masked = c[1:]
    masking = np.sqrt(np.mean((masked - 1.0) ** 2, axis=0)) if len(masked) else np.zeros(c.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        d_norm = data.dead_pmt_by_set[0] / df[0][:, None]
        m_norm = mc[0] / mf[0][:, None]
        ratio = np.where(m_norm > 0, d_norm / m_norm, np.nan)
    return DeadPmtCorrection(
        region_edges_kev=np.asarray(data.region_edges_kev, float),
        near_distance_cm=float(near_distance_cm),
        factor=c[0],
        stat=stat[0],
        masking=masking,
        masked_factors=masked,
        data_near=dn[0],
        data_far=df[0],
        mc_near=mn[0],
        mc_far=mf[0],
        distance_edges_cm=np.asarray(edges, float),
        ratio_by_distance=np.where(np.isfinite(ratio), ratio, 0.0),
    )


#: Key of the data file metadata (``extra``) under which a simulation may record the true
#: correction factor per region that it injected (for the closure test on simulated data).
TRUTH_KEY = "dead_pmt_true_factor"


def closure(corr: DeadPmtCorrection, truth: Sequence[float]) -> dict[str, Any]:
    """Compare estimated and injected correction factors (closure test).

    Returns the truth, the pulls (estimate - truth) / stat and whether every
    |pull| < 3.
    """
    t = np.asarray(truth, float)
    if t.shape != corr.factor.shape:
        raise TemplateError(
            f"data metadata extra.{TRUTH_KEY} has {t.size} regions, the correction "
            f"{corr.factor.size}"
        )
    pulls = (corr.factor - t) / corr.stat
    return {"truth": t.tolist(), "pulls": pulls.tolist(), "closes": bool(np.all(np.abs(pulls) < 3))}
