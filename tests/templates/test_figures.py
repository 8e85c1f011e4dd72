"""The background-model and efficiency figures are drawn from the stored products."""

from __future__ import annotations

import json

import numpy as np

from exonu.detector.folding import write_response
from exonu.products.background_figure import background_figure, systematic_band
from exonu.products.response_figure import efficiency_curves, efficiency_figure
from exonu.templates.build import build_background_model
from exonu.templates.dead_pmt import estimate_dead_pmt_correction
from exonu.templates.signals import response_from_signal_mc

REGIONS = [2, 5, 10, 15, 20, 30, 40, 60, 100, 150, 200]


def test_background_figure(samples, tmp_path):
    corr = estimate_dead_pmt_correction(samples.data, samples.backgrounds, 10.0)
    model = build_background_model(
        samples.data,
        samples.backgrounds,
        samples.variations,
        {b.sample: 0.2 for b in samples.backgrounds},
        REGIONS,
        corr.to_dict(),
    )
    path = tmp_path / "backgrounds.json"
    path.write_text(json.dumps(model))
    total, sigma = systematic_band(model)
    assert np.all(sigma >= 0) and np.all(sigma[total > 0] < total[total > 0])
    out = tmp_path / "fig" / "backgrounds.png"
    background_figure(path, [out], {"style": "ATLAS"}, samples.data.energy)
    assert out.stat().st_size > 20_000


def test_efficiency_figure(samples, tmp_path):
    write_response(response_from_signal_mc(samples.signal, samples.variations), tmp_path / "r.root")
    curves = efficiency_curves(tmp_path / "r.root", [[2.0, 15.0], [2.0, 200.0]])
    low, full = curves
    assert np.all(low["efficiency"] <= full["efficiency"] + 1e-12)
    assert np.all(full["syst"] > 0) or full["syst"].max() > 0
    out = tmp_path / "efficiency.png"
    efficiency_figure(tmp_path / "r.root", [[2.0, 15.0], [2.0, 200.0], [2.0, 15.0]], [out], {})
    assert out.stat().st_size > 20_000
