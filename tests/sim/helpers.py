"""Helpers for the tests of exonu.sim."""

from __future__ import annotations

import numpy as np

from exonu.io.root import expected_branches, read_events, read_meta


def read_all(path) -> dict[str, np.ndarray]:
    """Every canonical branch of an event file."""
    return read_events(path, list(expected_branches(read_meta(path).kind)))
