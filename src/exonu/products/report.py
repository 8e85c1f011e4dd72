"""What the front page of ``snakemake --report`` says about the run, and report labels.

The front page (``workflow/report/workflow.rst``) is rendered by Snakemake with Jinja2, which
sees only the raw workflow config; :func:`front_matter` computes the git commit of the code,
the digest of the validated configuration and the versions, and the rule file
``products.smk`` puts them under the key :data:`REPORT_KEY` of the raw config (never of the
validated ``config`` that rule ``params`` come from, so no rule reruns because of it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["REPORT_KEY", "category_of_model", "front_matter"]

#: Key of the raw workflow config under which the front-page values are put.
REPORT_KEY = "_exonu_report"


def category_of_model(model: str) -> str:
    """Report category of a model (one per model, from the registry
    :data:`exonu.physics.MODELS`; subcategories say what); its name if unknown."""
    from exonu.physics.models import MODELS

    info = MODELS.get(model)
    return info.category if info is not None and info.category else model


def front_matter(config: Mapping[str, Any], configfiles: list[str] | None = None) -> dict[str, Any]:
    """Git commit, dirty flag, config digest and versions for the report's front page.

    Parameters
    ----------
    config : mapping
        The validated configuration (defaults filled in).
    configfiles : list of str, optional
        The config files the run was started with.

    Returns
    -------
    dict
        ``commit`` (``"unknown"`` outside a git checkout), ``dirty``, ``config_digest``
        (sha256 of the canonical JSON of ``config``, as in the provenance sidecars),
        ``exonu_version``, ``analysis``, ``configfiles``, ``versions``.
    """
    from exonu import __version__
    from exonu.products.provenance import config_digest, git_state, package_versions

    git = git_state()
    return {
        "commit": git.get("commit") or "unknown",
        "dirty": bool(git.get("dirty")),
        "config_digest": config_digest(dict(config)),
        "exonu_version": __version__,
        "analysis": str(config.get("analysis", "")),
        "configfiles": [str(f) for f in (configfiles or [])],
        "versions": {k: v for k, v in package_versions().items() if v},
    }
