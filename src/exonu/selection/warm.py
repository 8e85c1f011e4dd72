"""Compile the Numba kernels once (and fill the on-disk cache) before jobs fan out.

Parallel jobs that compile the same cached kernel at the same time race to write
Numba's cache; the workflow therefore runs :func:`compile_kernels` in one job that
every selection job waits for.
"""

from __future__ import annotations

import numpy as np

from exonu.selection.kernels import N_CUTS, N_INVALID, fill_selection


def compile_kernels() -> list[str]:
    """Run the selection kernel on tiny inputs of every dtype event files use.

    Returns the compiled signatures (for the job's log).
    """
    edges = np.array([0.0, 1.0, 2.0])
    for ftype in (np.float32, np.float64):
        f = np.zeros(1, ftype)
        b = np.zeros(1, np.bool_)
        for truth, n_true in ((np.zeros(0, ftype), 0), (np.zeros(1, ftype), 2)):
            fill_selection(
                f,
                f,
                f,
                f,
                f,
                f,
                b,
                b,
                b,
                truth,
                np.array([1.0, 38.0, 20.0, 0.0, 2.0, 40.0, 1.0, 1.0]),
                edges,
                edges,
                np.zeros(1),
                np.ones(1),
                np.array([0.0, 1.0]),
                np.zeros(2),
                np.zeros((1, 1, 3)),
                np.array([2.0, -2.0]),
                edges,
                np.zeros((1, 2), np.int64),
                np.zeros((1, n_true, 2), np.int64),
                np.zeros((1, 2, 1), np.int64),
                np.zeros(N_CUTS, np.int64),
                np.zeros(N_INVALID, np.int64),
            )
    return [str(s) for s in fill_selection.signatures]
