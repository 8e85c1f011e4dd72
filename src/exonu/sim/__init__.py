"""Synthetic XMASS-like detector Monte Carlo: the embedded default data."""

from __future__ import annotations

from exonu.sim.generate import SimulationError, derive_seed, simulate_chunk

__all__ = ["SimulationError", "derive_seed", "simulate_chunk"]
