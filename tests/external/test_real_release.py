"""The XENONnT SR0 release itself (skipped where it is not available).

The release is never copied into the project; this test reads it in place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .conftest import REAL_RELEASE_NAME, real_release


@pytest.fixture
def release_dir() -> Path:
    """The XENONnT SR0 release (skipped, saying where it looked, when it is absent)."""
    return real_release(REAL_RELEASE_NAME)


def test_real_release_limits(release_dir):
    import yaml
    from wfhelpers import REPO

    from exonu.config import validate_config
    from exonu.external.checks import check_external_config
    from exonu.external.unbinned import unbinned_limit, unbinned_model
    from exonu.external.workspace import (
        external_workspace,
        response_for,
        spectrum_document,
        standard_model_true,
    )
    from exonu.selection.run import edges_from_spec
    from exonu.stats.limits import upper_limit
    from exonu.stats.workspace import Workspace

    cfg = yaml.safe_load((REPO / "config" / "xenonnt.yaml").read_text())
    cfg["release_dir"] = str(release_dir)
    cfg = validate_config(cfg)
    rel = check_external_config(cfg)
    assert rel.n_events == 433  # PRL 129 (2022) 161805
    assert rel.exposure_tonne_year == pytest.approx(1.16, abs=0.01)
    edges = edges_from_spec(cfg["binning"]["energy_kev"], "e")
    t = edges_from_spec(cfg["binning"]["true_energy_kev"], "t")
    resp = response_for(rel, t, edges)
    sm = standard_model_true(cfg["physics"], t)
    spec = next(s for s in cfg["signals"] if s["name"] == "magnetic_moment")
    spectrum = spectrum_document(spec, cfg["physics"], cfg["binning"]["true_energy_kev"])
    ws = Workspace.from_dict(external_workspace("x", rel, edges, resp, [(spec, spectrum)], sm))
    # the published background model describes the data: 15.8 events/(t*yr*keV) in 1-30 keV
    total = sum(float(np.sum(b.expected)) for b in ws.backgrounds)
    assert total == pytest.approx(433, rel=0.05)
    binned = upper_limit(ws, "magnetic_moment", method="profile", likelihood="poisson")
    unbinned = unbinned_limit(unbinned_model(rel, spec, spectrum, (1.0, 30.0), sm), "profile")
    # XENONnT's own limit is 6.4e-12 mu_B (PRL 129 (2022) 161805)
    for res in (binned, unbinned):
        assert res.valid and 4e-12 < res.upper_limit < 1.2e-11
