"""Data files the package carries, found with :mod:`importlib.resources` (wheel or checkout).

* ``config.schema.yaml`` — the JSON Schema (draft 7) of an analysis configuration
  (:func:`exonu.config.load_schema` adds the model names of :data:`exonu.physics.MODELS`);
* ``default.yaml`` — the embedded default analysis, named ``exonu:default`` in ``extends:``,
  ``exonu config`` and :func:`exonu.config.resolve_config`;
* ``workspace.schema.json`` — the JSON Schema of the workspace format
  (:func:`exonu.stats.workspace.workspace_schema`);
* ``xmass_published.yaml`` — the published XMASS-I numbers the comparison product reads
  (:mod:`exonu.products.comparison`).

Nothing here imports another exonu module (any floor may read a resource).
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

__all__ = [
    "CONFIG_SCHEMA",
    "DEFAULT_CONFIG",
    "PUBLISHED_XMASS",
    "WORKSPACE_SCHEMA",
    "path",
    "read_text",
]

CONFIG_SCHEMA = "config.schema.yaml"
DEFAULT_CONFIG = "default.yaml"
WORKSPACE_SCHEMA = "workspace.schema.json"
PUBLISHED_XMASS = "xmass_published.yaml"


def path(name: str) -> Traversable:
    """The resource ``name`` (a :class:`~importlib.resources.abc.Traversable`)."""
    return resources.files(__name__).joinpath(name)


def read_text(name: str) -> str:
    """The text of the resource ``name`` (UTF-8)."""
    return path(name).read_text(encoding="utf-8")
