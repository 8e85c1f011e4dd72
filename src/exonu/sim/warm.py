"""Compile the simulation kernel once (filling Numba's cache) before jobs fan out.

Parallel jobs compiling the same cached kernel race to write Numba's cache; the
workflow runs :func:`compile_kernels` in one job that every simulation job waits for.
"""

from __future__ import annotations

import numpy as np

from exonu.detector.response import DetectorResponse
from exonu.sim import kernels as K


def compile_kernels() -> list[str]:
    """Run the generation kernel on a few events; returns the compiled signatures."""
    det = DetectorResponse.from_config({})
    ly, step = det.light_yield_table()
    out_f = np.zeros((K.N_FLOAT_OUT, 4), np.float32)
    out_b = np.zeros((K.N_BOOL_OUT, 4), np.bool_)
    K.generate_events(
        np.uint64(1),
        0,
        4,
        -1.0,
        1.0,
        np.zeros(K.N_COMP_PARAMS),
        np.ones(1),
        np.ones(1),
        np.full(1, -1, np.int64),
        np.ones(1),
        np.zeros(1, np.int64),
        np.zeros((1, 3)),
        det.kernel_parameters(),
        ly,
        float(step),
        det.npe_table(),
        det.dead_pmt_directions(),
        np.array([0.0, 1.0]),
        np.ones(1),
        K.NORMAL_TABLE,
        K.AZIMUTH_TABLE,
        K.FAST_TABLE,
        out_f,
        out_b,
    )
    return [str(s) for s in K.generate_events.signatures]
