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
masking uncertainty.

The method itself adds a third uncertainty (``method``), the quadrature sum of

* distance binning: the largest change of c_r when the near/far boundary moves to
  the neighbouring distance edges (an excess that leaks past the boundary, or a
  boundary that dilutes it, changes the estimate);
* the background sample: the change of c_r when the Monte-Carlo near/far ratio is
  taken from the dominant background component alone instead of the sum of all
  components (the dead-PMT response of the model is what the MC says for the
  surface events that dominate below 30 keV; the other components' geometry differs);
* the dead-PMT model: the change of c_r when a component is replaced by its
  systematic-variation samples (e.g. ``optical``: the mis-reconstruction probability,
  which the dead PMTs boost, ±1σ), normalised to the nominal component so that only the
  near/far shape changes; per source the larger of up and down, sources in quadrature.

XMASS quotes 0 ± 10, 12 ± 14, 14 ± 19, 17 ± 28 and 46 ± 34 % in 2-5, 5-15, 15-20,
20-30 and 30-40 keV (§3.3): uncertainties as large as the corrections, which only the
statistical and masking terms do not reach. The three terms add in quadrature; the
result enters the fit as one background systematic per region
(:meth:`DeadPmtCorrection.systematic_shifts`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from exonu.errors import TemplateError
from exonu.selection.run import SelectionResult
from exonu.templates.systematics import group_variations


def _optional_array(doc: Mapping[str, Any], key: str) -> np.ndarray | None:
    """``doc[key]`` as a float array, or None where it is absent or null."""
    value = doc.get(key)
    return None if value is None else np.asarray(value, float)


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
    method_binning: np.ndarray | None = None
    method_sample: np.ndarray | None = None
    method_model: np.ndarray | None = None

    @property
    def method(self) -> np.ndarray:
        """Systematic of the method (distance binning, sample and dead-PMT model in
        quadrature; a term not computed counts 0)."""
        terms = [self.method_binning, self.method_sample, self.method_model]
        return np.sqrt(sum((t**2 for t in terms if t is not None), np.zeros_like(self.factor)))

    @property
    def total(self) -> np.ndarray:
        """Total 1-sigma uncertainty of c_r (statistical, masking, method in quadrature)."""
        return np.sqrt(self.stat**2 + self.masking**2 + self.method**2)

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
            "method": self.method.tolist(),
            "method_binning": None if self.method_binning is None else self.method_binning.tolist(),
            "method_sample": None if self.method_sample is None else self.method_sample.tolist(),
            "method_model": None if self.method_model is None else self.method_model.tolist(),
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
            distance_edges_cm=_optional_array(d, "distance_edges_cm"),
            ratio_by_distance=_optional_array(d, "ratio_by_distance"),
            method_binning=_optional_array(d, "method_binning"),
            method_sample=_optional_array(d, "method_sample"),
            method_model=_optional_array(d, "method_model"),
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
    variations: Sequence[SelectionResult] = (),
) -> DeadPmtCorrection:
    """Compare data and background Monte Carlo around dead and masked PMTs (XMASS §3.3).

    The Monte-Carlo expectation is the sum of the components weighted as in their
    templates (activity x data live time / generated); its variance the sum of
    weight^2 x counts. ``variations``: systematic-variation samples of the components
    (metadata ``extra``: variation, nominal), for the dead-PMT model term of ``method``.
    """
    if data.kind != "data":
        raise TemplateError(f"sample {data.sample!r} is {data.kind}, expected data")
    if not backgrounds:
        raise TemplateError("dead-PMT correction: no background samples")
    shape = data.dead_pmt_by_set.shape
    mc = np.zeros(shape)
    mc_var = np.zeros(shape)
    components = []
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
        components.append((w * b.dead_pmt_by_set, w * w * b.dead_pmt_by_set))
    edges = data.distance_edges_cm
    dn, df = _near_far(data.dead_pmt_by_set.astype(float), edges, near_distance_cm)
    mn, mf = _near_far(mc, edges, near_distance_cm)
    vn, vf = _near_far(mc_var, edges, near_distance_cm)
    c, stat = correction_factor(dn, df, mn, mf, vn, vf)  # shape (n_sets, n_reg)
    binning, sample = _method_systematics(
        data.dead_pmt_by_set[0].astype(float), mc[0], mc_var[0], components, edges, near_distance_cm
    )
    model = _model_systematic(
        data.dead_pmt_by_set[0].astype(float),
        backgrounds,
        components,
        variations,
        edges,
        near_distance_cm,
        c[0],
    )
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
        method_binning=binning,
        method_sample=sample,
        method_model=model,
    )


def _model_systematic(
    data: np.ndarray,
    backgrounds: Sequence[SelectionResult],
    components: Sequence[tuple[np.ndarray, np.ndarray]],
    variations: Sequence[SelectionResult],
    edges: np.ndarray,
    near_cm: float,
    c0: np.ndarray,
) -> np.ndarray | None:
    """Dead-PMT model term of ``method`` (module docstring); None without variations."""
    if not variations:
        return None
    index = {b.sample: i for i, b in enumerate(backgrounds)}
    total = sum(h[0] for h, _ in components)
    total_var = sum(v[0] for _, v in components)
    dn, df = _near_far(data, edges, near_cm)
    out = np.zeros_like(c0)
    for nominal, sources in group_variations(variations).items():
        if nominal not in index:
            continue
        h_nom, v_nom = components[index[nominal]][0][0], components[index[nominal]][1][0]
        norm = h_nom.sum(axis=-1)  # per region
        for results in sources.values():
            worst = np.zeros_like(c0)
            for var in results:
                h = var.dead_pmt_by_set[0].astype(float)
                with np.errstate(invalid="ignore", divide="ignore"):
                    scale = np.where(h.sum(axis=-1) > 0, norm / h.sum(axis=-1), 0.0)
                mc = total - h_nom + h * scale[:, None]
                var_mc = total_var - v_nom + h * scale[:, None] ** 2
                mn, mf = _near_far(mc, edges, near_cm)
                vn, vf = _near_far(var_mc, edges, near_cm)
                c_var, _ = correction_factor(dn, df, mn, mf, vn, vf)
                worst = np.maximum(worst, np.abs(c_var - c0))
            out = np.hypot(out, worst)
    return out


def _method_systematics(
    data: np.ndarray,
    mc: np.ndarray,
    mc_var: np.ndarray,
    components: Sequence[tuple[np.ndarray, np.ndarray]],
    edges: np.ndarray,
    near_cm: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance-binning and sample systematics of c_r for the dead PMTs (module docstring).

    ``data``, ``mc``, ``mc_var``: (n_reg, n_dist) histograms of the dead-PMT set;
    ``components``: each background's (weighted histograms, variance) of all sets.
    """
    edges = np.asarray(edges, float)
    dn, df = _near_far(data, edges, near_cm)
    mn, mf = _near_far(mc, edges, near_cm)
    vn, vf = _near_far(mc_var, edges, near_cm)
    c0, _ = correction_factor(dn, df, mn, mf, vn, vf)
    k = int(np.searchsorted(edges, near_cm))
    binning = np.zeros_like(c0)
    for j in (k - 1, k + 1):  # the neighbouring inner edges
        if 0 < j < len(edges) - 1:
            a = (*_near_far(data, edges, edges[j]), *_near_far(mc, edges, edges[j]))
            v = _near_far(mc_var, edges, edges[j])
            c_alt, _ = correction_factor(*a, *v)
            binning = np.maximum(binning, np.abs(c_alt - c0))
    sample = np.zeros_like(c0)
    if len(components) > 1:
        # per region, the component with most events near + far around the dead PMTs
        totals = np.array([h[0].sum(axis=-1) for h, _ in components])  # (n_comp, n_reg)
        best = np.argmax(totals, axis=0)
        for r, i in enumerate(best):
            h, v = components[i][0][0][r], components[i][1][0][r]
            hn, hf = _near_far(h, edges, near_cm)
            hvn, hvf = _near_far(v, edges, near_cm)
            c_alt, _ = correction_factor(dn[r], df[r], hn, hf, hvn, hvf)
            sample[r] = abs(float(c_alt) - float(c0[r]))
    return binning, sample


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
