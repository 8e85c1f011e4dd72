"""Exceptions of :mod:`exonu.stats`.

Every error is a :class:`StatsError` (itself a :class:`ValueError`), so callers can catch
the whole family at once; messages are one line and name the offending key, signal or
parameter and what was expected.
"""

from __future__ import annotations

__all__ = ["LimitError", "ModelError", "StatsError", "WorkspaceError"]


class StatsError(ValueError):
    """Base class of all errors raised by :mod:`exonu.stats`."""


class WorkspaceError(StatsError):
    """A workspace document is malformed (schema or semantic check failed)."""


class ModelError(StatsError):
    """A model cannot be built from the workspace as requested (unknown signal, ...)."""


class LimitError(StatsError):
    """A limit or interval cannot be computed (e.g. no crossing inside the allowed range)."""
