"""Δχ² curves and contours of folded hypotheses (exonu.products.curves)."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.products.curves import (
    contour_lines,
    flavour_contour,
    scan_curves,
    workspace_with_signals,
)
from exonu.templates.hypotheses import hypothesis_entry

MILLICHARGE = {
    "model": "millicharge",
    "treatment": "pure",
    "flavours": ["all", "e"],
    "fit_window_kev": [2.0, 16.0],
}


@pytest.fixture(scope="module")
def curves(small_workspace, response, physics):
    return scan_curves(small_workspace, response, physics, "millicharge", MILLICHARGE, n_points=21)


def test_one_curve_per_hypothesis(curves):
    assert [c["hypothesis"] for c in curves["curves"]] == ["millicharge", "millicharge_e"]
    assert curves["thresholds"] == pytest.approx([2.7055, 6.6349], abs=1e-3)
    for c in curves["curves"]:
        d = np.asarray(c["delta_chi2"])
        assert all(c["valid"])
        assert d.min() == pytest.approx(0.0, abs=1e-6)
        assert np.all(d >= -1e-6)
        # the range reaches 1.5 x the 99 % threshold on the open side
        assert d[-1] == pytest.approx(1.5 * curves["thresholds"][1], rel=0.05)
        assert c["values"][0] >= 0.0  # q^2 signal: physical range q >= 0


def test_curve_crosses_the_profile_limit(curves, small_workspace, response, physics):
    """Where the curve reaches Δχ² = 2.71 is the profile-likelihood 90 % CL upper limit."""
    from exonu.stats import upper_limit
    from exonu.templates.hypotheses import hypotheses

    hyp = hypotheses("millicharge", MILLICHARGE)[0]
    entry = hypothesis_entry(hyp.spec(), response, physics)
    ws = workspace_with_signals(small_workspace, [entry])
    limit = upper_limit(ws, hyp.name, method="profile").upper_limit
    c = curves["curves"][0]
    x, d = np.asarray(c["values"]), np.asarray(c["delta_chi2"])
    above = x > c["best_fit"]
    crossing = np.interp(2.7055, d[above], x[above])
    assert crossing == pytest.approx(limit, rel=0.03)


def test_flavour_contour(small_workspace, response, physics):
    spec = {
        "model": "millicharge",
        "treatment": "full",
        "flavours": ["e", "mu"],
        "fit_window_kev": [2.0, 16.0],
        "n_grid": 5,
    }
    doc = flavour_contour(small_workspace, response, physics, "q_e_mu", spec)
    z = np.asarray(doc["delta_chi2"])
    assert z.shape == (5, 5)
    assert doc["thresholds"] == pytest.approx([4.605, 9.210], abs=1e-3)
    assert list(doc["signals"]) == ["q_e_mu_e", "q_e_mu_mu"]
    assert doc["flavours"] == ["e", "mu"]
    assert doc["n_failed"] == 0
    assert np.nanmin(z) >= -1e-6
    assert len(doc["lines"]) == 2
    # 'full' millicharge: interference makes both signs physical
    assert min(doc["values_a"]) < 0 < max(doc["values_a"])
    with pytest.raises(ValueError, match="two different"):
        flavour_contour(small_workspace, response, physics, "x", {**spec, "flavours": ["e", "e"]})


def test_contour_lines_of_a_paraboloid():
    a = np.linspace(-3, 3, 61)
    b = np.linspace(-2, 2, 41)
    z = (a[:, None] / 1.0) ** 2 + (b[None, :] / 0.5) ** 2  # ellipse a² + 4 b² = r²
    (line,) = contour_lines(a, b, z, 4.0)
    pts = np.asarray(line)
    assert pts.shape[1] == 2
    r2 = pts[:, 0] ** 2 + (pts[:, 1] / 0.5) ** 2
    assert r2 == pytest.approx(4.0, rel=0.02)
    assert contour_lines(a, b, z, 1e6) == []
