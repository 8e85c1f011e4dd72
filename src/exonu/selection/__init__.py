"""Event selection: fused Numba kernels, per-file selection, cut flow, merging."""
