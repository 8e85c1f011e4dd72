"""Tests of exonu.stats.curves: Δχ² curves and two-coupling surfaces."""

from __future__ import annotations

import json

import numpy as np
import pytest

from exonu.stats.curves import contour_2d, delta_chi2_curve
from exonu.stats.errors import LimitError
from exonu.stats.limits import upper_limit
from exonu.stats.workspace import Workspace


def test_delta_chi2_curve_matches_profile_limit(medium_ws: Workspace) -> None:
    lim = upper_limit(medium_ws, "dark_photon", "profile")
    values = np.array([0.0, 0.5, 1.0, 1.0 * lim.upper_limit / 1e-6, 2.0]) * 1e-6
    curve = delta_chi2_curve(medium_ws, "dark_photon", values)
    assert all(curve.valid)
    assert min(curve.delta_chi2) >= -1e-6
    assert curve.delta_chi2[3] == pytest.approx(2.7055, abs=2e-3)
    assert curve.delta_chi2[0] == pytest.approx(lim.chi2_zero - lim.chi2_best, abs=1e-4)
    assert curve.values == tuple(values)
    json.dumps(curve.to_dict())
    with pytest.raises(LimitError, match="outside the allowed range"):
        delta_chi2_curve(medium_ws, "dark_photon", [-1e-6])


def test_contour_2d(medium_ws: Workspace) -> None:
    c = contour_2d(medium_ws, ("magnetic_moment", "dark_photon"), n_grid=7)
    assert c.valid and c.n_failed == 0
    dchi2 = np.array(c.delta_chi2)
    assert dchi2.shape == (7, 7)
    assert dchi2.min() >= -1e-6
    assert c.thresholds == pytest.approx((4.605, 9.210), abs=1e-3)
    # the default grid reaches beyond the 99 % contour on the far side
    assert dchi2[-1, :].min() > c.thresholds[1] or dchi2[:, -1].min() > c.thresholds[1]
    json.dumps(c.to_dict())
    grid = ([0.0, 1e-10, 2e-10], [0.0, 1e-6])
    g = contour_2d(medium_ws, ("magnetic_moment", "dark_photon"), grid=grid)
    assert g.values_a == (0.0, 1e-10, 2e-10) and np.array(g.delta_chi2).shape == (3, 2)
