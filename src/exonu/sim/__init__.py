"""Synthetic XMASS-like detector Monte Carlo: the embedded default data.

What to use when:

* :func:`simulate_chunk` -- write one chunk (ROOT event file) of one sample;
* :func:`sample_kinds`, :func:`variation_samples` -- the samples a configuration defines
  (data, one per background component, the flat signal MC, systematic variations);
* :func:`compile_kernels` -- compile the Numba kernel once before parallel jobs start;
* :mod:`exonu.sim.spectra` -- energy-deposit spectra and decay schemes;
* :mod:`exonu.detector.response` -- the detector response parameters.
"""

from __future__ import annotations

from exonu.sim.generate import SimulationError, derive_seed, simulate_chunk
from exonu.sim.samples import (
    DATA,
    SIGNAL_MC,
    VariationSample,
    sample_kinds,
    variation_samples,
)
from exonu.sim.warm import compile_kernels

__all__ = [
    "DATA",
    "SIGNAL_MC",
    "SimulationError",
    "VariationSample",
    "compile_kernels",
    "derive_seed",
    "sample_kinds",
    "simulate_chunk",
    "variation_samples",
]
