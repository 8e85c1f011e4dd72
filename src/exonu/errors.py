"""Exceptions shared across floors of the package.

An exception lives here when a module below the one that owns the concept has to raise
it: :class:`ConfigError` is the error of :mod:`exonu.config` that :mod:`exonu.io.inputs`
raises too, :class:`TemplateError` the error of :mod:`exonu.templates` that the folding
of :mod:`exonu.detector.folding` raises too. Both are :class:`ValueError`; messages are
one line naming the key, sample or file and what was expected.
"""

from __future__ import annotations

__all__ = ["ConfigError", "TemplateError"]


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key."""


class TemplateError(ValueError):
    """Inconsistent inputs for a template; the message names the sample or key."""
