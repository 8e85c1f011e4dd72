"""The release workspace: background counts, SM replacement, signals."""

from __future__ import annotations

import numpy as np
import pytest

from exonu.external import ReleaseError

from .conftest import MU_SPEC, build_workspace

EDGES = np.arange(1.0, 30.01, 1.0)


def test_background_counts_are_the_exact_integral(make_release):
    d = make_release(level=10.0)
    rel, ws, _, _ = build_workspace(d, EDGES)
    b0 = ws.backgrounds[0]
    assert b0.name == "b0" and b0.relative_uncertainty is None
    centres = np.arange(0.05, 30.0, 0.1)
    rate = np.loadtxt(d / "bkg_model.txt")[:, 1]
    inside = (centres > 1.0) & (centres < 30.0)
    assert float(np.sum(b0.expected)) == pytest.approx(rate[inside].sum() * 0.1 * 1.0)
    assert int(ws.observed.sum()) == rel.n_events
    assert ws.metadata["mode"] == "external"
    sig = ws.signal("magnetic_moment")
    assert sig.x_bounds == (0.0, None) and sig.powers == (2,)
    assert np.all(sig.terms[0].values > 0)


def test_solar_nu_replacement_keeps_the_published_total(make_release):
    d = make_release()
    _, plain, _, _ = build_workspace(d, EDGES)
    _, repl, _, _ = build_workspace(
        d, EDGES, solar_nu={"replace": True, "relative_uncertainty": 0.04}
    )
    assert repl.background_names == ("b0", "solar_nu_sm")
    total = sum(np.asarray(b.expected) for b in repl.backgrounds)
    assert total == pytest.approx(np.asarray(plain.backgrounds[0].expected), rel=1e-9)
    assert repl.backgrounds[1].relative_uncertainty == 0.04
    assert float(np.sum(repl.backgrounds[1].expected)) > 10.0  # ~2.5/(t*yr*keV) x 0.8
    assert repl.metadata["clipped_bins"] == {"b0": 0}


def test_solar_nu_reference_from_a_file(make_release):
    d = make_release()
    (d / "solar.txt").write_text("0 1.0\n40 1.0\n")
    _, ws, _, _ = build_workspace(
        d,
        EDGES,
        solar_nu={"replace": True, "subtract": "file", "file": "solar.txt"},
    )
    _, plain, _, _ = build_workspace(d, EDGES)
    # the remainder is the published model minus 1/(t*yr*keV) x 1 t*yr x 1 keV per bin
    assert np.asarray(ws.backgrounds[0].expected) == pytest.approx(
        np.asarray(plain.backgrounds[0].expected) - 1.0
    )


def test_unknown_free_background_is_an_error(make_release):
    d = make_release()
    bad = {**MU_SPEC, "free_backgrounds": ["solar_nu_sm"]}
    with pytest.raises(ReleaseError, match=r"free_backgrounds \['solar_nu_sm'\]"):
        build_workspace(d, EDGES, [bad])
