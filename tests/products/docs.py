"""Fixed synthetic documents of the product rules (no fits): inputs of the figure, table and
HEPData tests and of the reference images (make_reference_images.py).

Deterministic closed-form numbers, so the reference images do not change when the
statistics or physics code changes; only a change of the drawing code changes a figure.
"""

from __future__ import annotations

import numpy as np

ANALYSIS = "synthetic"


def _result(
    hyp,
    model,
    parameter,
    unit,
    flavour,
    upper,
    *,
    best=0.0,
    mass=None,
    lower=None,
    expected=None,
    valid=True,
):
    return {
        "analysis": ANALYSIS,
        "hypothesis": hyp,
        "signal": hyp,
        "model": model,
        "parameter": parameter,
        "unit": unit,
        "flavour": flavour,
        "mediator_mass_mev": mass,
        "method": "bayesian",
        "cl": 0.9,
        "best_fit": best,
        "upper_limit": upper,
        "lower_limit": lower,
        "chi2_best": 85.3,
        "chi2_zero": 88.2,
        "ndof": 98,
        "valid": valid,
        "fit_valid": valid,
        "expected": expected,
    }


def spectrum_doc() -> dict:
    """A fit_spectrum document: 2-200 keV in 4-keV bins, XMASS-like shape with a 164 keV line."""
    edges = np.arange(2.0, 202.0, 4.0)
    c = 0.5 * (edges[1:] + edges[:-1])
    surface = 400 * np.exp(-c / 12.0)
    xenon = 120 + 25 * np.exp(-0.5 * ((c - 164) / 6) ** 2) * 10
    solar = np.full(c.size, 8.0)
    total = surface + xenon + solar
    observed = np.rint(total * (1 + 0.05 * np.sin(c / 7.0))).astype(int)
    signal_limit = 60.0 / c
    return {
        "analysis": ANALYSIS,
        "signal": "magnetic_moment",
        "model": "magnetic_moment",
        "parameter": "mu_nu",
        "unit": "mu_B",
        "flavour": "all",
        "mediator_mass_mev": None,
        "fit_window_kev": [2.0, 198.0],
        "likelihood": "chi2",
        "edges_kev": edges.tolist(),
        "observed": observed.tolist(),
        "backgrounds": {
            "pmt_u238": surface.tolist(),
            "xe_c14": xenon.tolist(),
            "solar_nu": solar.tolist(),
        },
        "background_groups": {
            "pmt_u238": "detector surface (PMTs, copper, inner surface)",
            "xe_c14": "dissolved in xenon",
            "solar_nu": "solar neutrinos (SM)",
        },
        "background": total.tolist(),
        "signal_best": (0.3 * signal_limit).tolist(),
        "total_best": (total + 0.3 * signal_limit).tolist(),
        "total_sigma": (0.03 * total + 2).tolist(),
        "signal_at_limit": signal_limit.tolist(),
        "best_fit": 1.3e-10,
        "best_fit_error": 0.6e-10,
        "best_fit_parameters": {},
        "chi2_best": 85.9,
        "ndof": 98,
        "fit_valid": True,
        "limit": {
            "upper_limit": 1.8e-10,
            "lower_limit": None,
            "best_fit": 1.3e-10,
            "chi2_best": 85.9,
            "chi2_zero": 88.2,
            "ndof": 98,
            "cl": 0.9,
            "method": "bayesian",
        },
        "workspace_digest": "0" * 64,
    }


def model_spectra_doc() -> dict:
    e = np.geomspace(1.0, 1000.0, 80)
    sm = np.where(e < 660, 3.0 * np.exp(-e / 300.0), 0.0)
    return {
        "energy_kev": e.tolist(),
        "standard_model": sm.tolist(),
        "atomic_model": "stepping",
        "units": "events/(tonne*year*keV)",
        "benchmarks": [
            {
                "model": "millicharge",
                "parameter": "q_nu",
                "unit": "e",
                "value": 1.5e-12,
                "flavour": "all",
                "mediator_mass_mev": None,
                "treatment": "pure",
                "atomic_model": "stepping",
                "powers": [2],
                "excess": (200 / e**2).tolist(),
            },
            {
                "model": "magnetic_moment",
                "parameter": "mu_nu",
                "unit": "mu_B",
                "value": 1e-10,
                "flavour": "all",
                "mediator_mass_mev": None,
                "treatment": None,
                "atomic_model": "stepping",
                "powers": [2],
                "excess": (900 / e).tolist(),
            },
            {
                "model": "dark_photon_bl",
                "parameter": "g_bl",
                "unit": "1",
                "value": 1e-4,
                "flavour": "all",
                "mediator_mass_mev": 10.0,
                "treatment": None,
                "atomic_model": "stepping",
                "powers": [2, 4],
                "excess": (150 * np.cos(np.log(e))).tolist(),
            },
        ],
    }


def millicharge_scan_doc() -> dict:
    results = [
        _result("millicharge", "millicharge", "q_nu", "e", "all", 5.0e-12),
        _result("millicharge_e", "millicharge", "q_nu", "e", "e", 7.0e-12),
        _result("millicharge_mu", "millicharge", "q_nu", "e", "mu", 1.2e-11),
        _result("millicharge_tau", "millicharge", "q_nu", "e", "tau", 1.2e-11),
    ]
    return {
        "scan": "millicharge",
        "config": {"model": "millicharge", "flavours": ["all", "e", "mu", "tau"]},
        "results": results,
    }


def dark_photon_scan_doc(expected: bool = True) -> dict:
    masses = np.logspace(-3, 3, 13)
    ul = 1e-6 * np.sqrt(1 + (masses / 0.05) ** 2)
    results = []
    for m, u in zip(masses, ul, strict=True):
        exp = (
            {
                "median": 0.9 * u,
                "minus1": 0.7 * u,
                "plus1": 1.2 * u,
                "minus2": 0.55 * u,
                "plus2": 1.6 * u,
                "n_toys": 100,
                "n_failed": 0,
                "seed": 1,
                "method": "bayesian",
            }
            if expected
            else None
        )
        name = f"dark_photon_bl_m{m:.4g}MeV"
        results.append(
            _result(
                name,
                "dark_photon_bl",
                "g_bl",
                "1",
                "all",
                float(u),
                mass=float(m),
                expected=exp,
                valid=bool(m < 500),
            )
        )
    return {
        "scan": "dark_photon_bl",
        "config": {
            "model": "dark_photon_bl",
            "flavours": ["all"],
            "masses_mev": {"log10_min": -3, "log10_max": 3, "n": 13},
        },
        "results": results,
    }


def curves_doc() -> dict:
    curves = []
    for fl, best, width in (("e", 2.0e-12, 1.0e-12), ("mu", 0.0, 2.0e-12), ("tau", 0.0, 2.1e-12)):
        x = np.linspace(best - 3.5 * width, best + 3.5 * width, 41)
        d = ((x - best) / width) ** 2 * (1 + 0.05 * (x - best) / width)
        d = d - d.min()
        curves.append(
            {
                "signal": f"millicharge_{fl}",
                "hypothesis": f"millicharge_{fl}",
                "parameter": "q_nu",
                "unit": "e",
                "flavour": fl,
                "likelihood": "chi2",
                "values": x.tolist(),
                "chi2": (d + 80).tolist(),
                "delta_chi2": d.tolist(),
                "chi2_best": 80.0,
                "best_fit": best,
                "valid": [True] * x.size,
                "workspace_digest": "0" * 64,
                "model": "millicharge",
                "mediator_mass_mev": None,
                "treatment": "full",
                "scale": 1e-12,
                "fit_window_kev": [2.0, 15.0],
            }
        )
    return {
        "scan": "millicharge",
        "analysis": ANALYSIS,
        "likelihood": "chi2",
        "levels": [0.9, 0.99],
        "thresholds": [2.705543454095404, 6.634896601021213],
        "curves": curves,
    }


def contour_doc() -> dict:
    from exonu.products.curves import contour_lines

    a = np.linspace(-1.5e-12, 6.5e-12, 25)
    b = np.linspace(-6.0e-12, 6.0e-12, 25)
    za = (a[:, None] - 2.5e-12) / 0.8e-12
    zb = b[None, :] / 1.6e-12
    z = za**2 + zb**2 + 0.6 * za * zb
    thresholds = [4.605170185988092, 9.21034037197618]
    return {
        "name": "millicharge_e_mu",
        "analysis": ANALYSIS,
        "model": "millicharge",
        "flavours": ["e", "mu"],
        "signals": ["millicharge_e_mu_e", "millicharge_e_mu_mu"],
        "parameters": ["q_nu", "q_nu"],
        "units": ["e", "e"],
        "likelihood": "chi2",
        "values_a": a.tolist(),
        "values_b": b.tolist(),
        "delta_chi2": z.tolist(),
        "chi2_best": 80.0,
        "best_fit": [2.5e-12, 0.0],
        "levels": [0.9, 0.99],
        "thresholds": thresholds,
        "valid": True,
        "n_failed": 0,
        "workspace_digest": "0" * 64,
        "treatment": "full",
        "mediator_mass_mev": None,
        "fit_window_kev": [2.0, 15.0],
        "lines": [contour_lines(a, b, z, t) for t in thresholds],
    }
