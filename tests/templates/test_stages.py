"""The template stages of the workflow as functions of files (no Snakemake)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from exonu.selection.run import write_result
from exonu.stages import model
from exonu.stats.workspace import load_workspace
from exonu.templates.dead_pmt import TRUTH_KEY

REGIONS = [2, 5, 10, 15, 20, 30, 40, 60, 100, 150, 200]


def test_stages_from_histograms_to_workspace(samples, tmp_path):
    truth = 1.0 + samples.injected / samples.expected_in_region
    data = dataclasses.replace(samples.data, extra={TRUTH_KEY: truth.tolist()})
    paths = {}
    for res in [data, *samples.backgrounds, samples.signal, *samples.variations]:
        paths[res.sample] = str(tmp_path / "hists" / f"{res.sample}.root")
        write_result(res, paths[res.sample])
    bkg = [paths[b.sample] for b in samples.backgrounds]
    var = [paths[v.sample] for v in samples.variations]
    corr_path = tmp_path / "templates" / "dead_pmt_correction.json"
    model.dead_pmt_correction(
        {"dead_pmt_correction": {"near_distance_cm": 10.0, "apply": True}},
        paths["data"],
        bkg,
        str(corr_path),
    )
    corr = json.loads(corr_path.read_text())
    assert corr["closure"]["closes"], corr["closure"]
    model_path = tmp_path / "templates" / "backgrounds.json"
    model.background_model(
        {
            "backgrounds": {
                "relative_uncertainty": {"surface_pb210": 0.3, "xe_kr85": None},
                "dead_pmt_correction": {"near_distance_cm": 10.0, "apply": True},
            },
            "systematic_regions_kev": REGIONS,
        },
        paths["data"],
        bkg,
        var,
        str(corr_path),
        str(model_path),
    )
    response_path = tmp_path / "templates" / "response.root"
    model.response(paths["signal_flat"], var, str(response_path))
    t = np.linspace(0.0, 250.0, 251)
    centres = 0.5 * (t[1:] + t[:-1])
    spectrum = {
        "name": "magnetic_moment",
        "model": "magnetic_moment",
        "parameter": "mu_nu",
        "unit": "mu_B",
        "flavour": "all",
        "powers": [2],
        "true_edges_kev": t.tolist(),
        "coefficients": [(1e20 / np.maximum(centres, 1.0)).tolist()],
    }
    spec_path = tmp_path / "signals" / "magnetic_moment.json"
    spec_path.parent.mkdir()
    spec_path.write_text(json.dumps(spectrum))
    ws_path = tmp_path / "workspace.json"
    model.workspace(
        {
            "analysis": "synthetic",
            "signals": [
                {
                    "name": "magnetic_moment",
                    "scale": 1e-10,
                    "fit_window_kev": [2.0, 200.0],
                    "free_backgrounds": ["xe_kr85"],
                }
            ],
            "detector": {"radius_cm": 40.96},
            "r_pe_max_cm": 20.0,
            "systematic_regions_kev": REGIONS,
        },
        paths["data"],
        str(model_path),
        str(response_path),
        [str(spec_path)],
        str(ws_path),
    )
    ws = load_workspace(ws_path)
    assert ws.background_names == ("surface_pb210", "xe_kr85")
    assert [s.name for s in ws.signal("magnetic_moment").systematics] == [
        "energy_scale",
        "fiducial_volume",
        "optical",
    ]
    assert int(ws.observed.sum()) == int(samples.data.energy.sum())
    # no correction applied when switched off
    off = tmp_path / "templates" / "backgrounds_off.json"
    model.background_model(
        {
            "backgrounds": {
                "relative_uncertainty": {"surface_pb210": 0.3, "xe_kr85": None},
                "dead_pmt_correction": {"near_distance_cm": 10.0, "apply": False},
            },
            "systematic_regions_kev": REGIONS,
        },
        paths["data"],
        bkg,
        var,
        str(corr_path),
        str(off),
    )
    doc = json.loads(off.read_text())
    assert doc["dead_pmt_correction"] is None
    assert not [s for s in doc["systematics"] if s["name"].startswith("dead_pmt")]
