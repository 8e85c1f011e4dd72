"""Exception raised by :mod:`exonu.physics` for invalid input."""

from __future__ import annotations

__all__ = ["PhysicsError"]


class PhysicsError(ValueError):
    """Invalid physics input: the message names the argument or model and what was expected."""
