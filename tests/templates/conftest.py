"""Synthetic samples with known injected effects, selected once per session.

Two background components (surface events with mis-reconstruction, volume
events), "data" drawn from the same generators at a quarter of the Monte-Carlo
statistics plus events injected near the dead PMTs (the data/MC difference of
XMASS-I §3.3, with known size per energy region), a flat signal Monte Carlo, and
variation samples with a known efficiency change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from exonu.config import DEFAULT_CONFIG, load_config
from exonu.detector.geometry import dead_pmt_directions
from exonu.io.root import EventFileMeta
from exonu.selection.run import SelectionResult, select_arrays
from exonu.selection.testing import (
    concat,
    exponential_spectrum,
    flat_spectrum,
    make_events,
    near_pmt_events,
    selection_block,
)

LIVETIME_S = 1.0e6
#: Injected dead-PMT excess per region 2-5, 5-15, 15-20, 20-30, 30-40 keV (XMASS-like sizes).
INJECTED = np.array([0.0, 0.12, 0.14, 0.17, 0.46])
COMPONENTS = {
    # name: (surface?, slope keV, MC events, data/MC ratio)
    "surface_pb210": (True, 30.0, 500_000, 0.25),
    "xe_kr85": (False, 80.0, 240_000, 0.25),
}


@dataclass
class Samples:
    cfg: dict
    backgrounds: list[SelectionResult]
    data: SelectionResult
    data_uninjected: SelectionResult
    expected_in_region: np.ndarray  # data expected per region without injection (from MC)
    injected: np.ndarray  # injected events per region
    signal: SelectionResult
    variations: list[SelectionResult]


def _generate(name, n, rng):
    surface, slope, _, _ = COMPONENTS[name]
    return make_events(n, rng, exponential_spectrum(slope), surface=surface)


def _meta(kind, sample, n, seed, activity=0.0, **extra):
    return EventFileMeta(kind, sample, int(n), LIVETIME_S, activity, seed, extra=extra)


@pytest.fixture(scope="session")
def samples(repo) -> Samples:
    cfg = selection_block(load_config(DEFAULT_CONFIG))
    rng = np.random.default_rng(2020)
    backgrounds, data_blocks = [], []
    for k, (name, (_s, _sl, n_mc, ratio)) in enumerate(COMPONENTS.items()):
        activity = n_mc * ratio / LIVETIME_S  # data expectation = ratio x MC
        backgrounds.append(
            select_arrays(
                _generate(name, n_mc, rng), cfg, _meta("background", name, n_mc, k, activity)
            )
        )
        data_blocks.append(_generate(name, rng.poisson(n_mc * ratio), rng))
    data_plain = concat(data_blocks)
    regions = np.array(cfg["selection"]["dead_pmt"]["regions_kev"], float)
    expected = sum(
        COMPONENTS[b.sample][3] * b.dead_pmt.sum(axis=1) for b in backgrounds
    )  # FV events per region expected in data
    injected = np.rint(INJECTED * expected).astype(int)
    dead = dead_pmt_directions(642, cfg["detector"]["dead_pmts"])
    extra = [
        near_pmt_events(
            int(m),
            rng,
            flat_spectrum(lo, hi),
            dead,
            max_distance_cm=8.0,
            r_max_cm=cfg["selection"]["r_pe_max_cm"],
        )
        for m, lo, hi in zip(injected, regions[:-1], regions[1:], strict=True)
        if m > 0
    ]
    # the truth: injected events per region of *reconstructed* energy
    inj = concat(extra)
    inj_sel = select_arrays(inj, cfg, _meta("background", "injected", len(inj["npe"]), 97, 1.0))
    injected = inj_sel.dead_pmt.sum(axis=1)
    assert inj_sel.dead_pmt[:, 2:].sum() == 0  # all of them near a dead PMT (< 10 cm)
    data_events = concat([data_plain, inj])
    data_events = {k: v for k, v in data_events.items() if not k.startswith("true_")}
    n_data = len(data_events["npe"])
    data = select_arrays(data_events, cfg, _meta("data", "data", n_data, 99))
    plain = {k: v for k, v in data_plain.items() if not k.startswith("true_")}
    data_uninjected = select_arrays(plain, cfg, _meta("data", "data", len(plain["npe"]), 98))
    # flat signal MC and a variation of it (10 % of events lost: efficiency x 0.9)
    sig_range = [0.0, 250.0]
    sig_ev = make_events(300_000, rng, flat_spectrum(*sig_range))
    signal = select_arrays(
        sig_ev, cfg, _meta("signal", "signal_flat", 300_000, 7, energy_range_kev=sig_range)
    )
    variations = []
    for k, (nominal, gen) in enumerate(
        (
            ("signal_flat", lambda n: make_events(n, rng, flat_spectrum(*sig_range))),
            ("xe_kr85", lambda n: _generate("xe_kr85", n, rng)),
        )
    ):
        n = 300_000 if nominal == "signal_flat" else 240_000
        ev = gen(n)
        keep = rng.uniform(size=n) < 0.9
        ev = {b: v[keep] for b, v in ev.items()}
        activity = 0.0 if nominal == "signal_flat" else 0.25 * n / LIVETIME_S
        meta = _meta(
            "variation",
            f"{nominal}_optical_up",
            n,
            50 + k,
            activity,
            variation="optical",
            nominal=nominal,
            shift_sigma=1.0,
            energy_range_kev=sig_range,
        )
        variations.append(select_arrays(ev, cfg, meta))
    return Samples(cfg, backgrounds, data, data_uninjected, expected, injected, signal, variations)
