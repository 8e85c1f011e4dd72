"""Exceptions of the external published-spectrum mode."""

from __future__ import annotations

__all__ = ["ReleaseError"]


class ReleaseError(ValueError):
    """A release directory, one of its files or the ``release`` config block is unusable.

    The message is one line naming the file (or config key) and what was expected.
    """
