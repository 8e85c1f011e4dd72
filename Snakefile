"""exonu: exotic neutrino-electron interactions of solar neutrinos in liquid xenon.

Validates the configuration (defaults filled in by the schema) and includes one
rule file per stage; all logic lives in the ``exonu`` package.
"""

from exonu.config import (
    CHANNEL_KEY,
    SOURCES_KEY,
    ConfigError,
    ResolvedConfig,
    resolve_config,
)


report: "workflow/report/workflow.rst"


# The configuration is exactly what the user named: the --configfile files (or the embedded
# default exonu:default, package data, when none is given), each with the bases it names by
# `extends:`, then the --config overrides as typed YAML; the packaged schema fills in the rest.
# Snakemake's own merge of the files is discarded (exonu.config.resolve_config). A channel of
# a combined run (a module declared by workflow/rules/combined.smk) arrives with its config
# resolved and validated by the combined run (exonu.config.combination_channels).
if not config.get(CHANNEL_KEY):
    try:
        _resolved = resolve_config(
            [str(f) for f in workflow.config_settings.configfiles],
            list(workflow.config_settings.config_args or []),
        )
    except ConfigError as err:
        raise SystemExit(f"exonu: invalid configuration: {err}")
    config.clear()
    config.update(_resolved.config)
    # where the configuration came from (files, overrides), recorded in every provenance sidecar
    config[SOURCES_KEY] = _resolved.provenance()
else:
    _resolved = ResolvedConfig(
        dict(config),
        tuple(config[SOURCES_KEY]["files"]),
        tuple(config[SOURCES_KEY]["overrides"]),
        {},
    )


if config["mode"] == "combined":

    # one module per channel (this Snakefile with the channel's config) -> the joint fit
    include: "workflow/rules/combined.smk"

    # the combined limits, their tables and figure (COMBINED_PRODUCTS of combined.smk)
    rule all:
        default_target: True
        input:
            COMBINED_PRODUCTS,

else:

    include: "workflow/rules/common.smk"

    if config["mode"] == "events":

        # event files -> selection -> templates -> workspace
        include: "workflow/rules/simulate.smk"
        include: "workflow/rules/select.smk"
        include: "workflow/rules/templates.smk"

    else:

        # a published release (binned data, background model, efficiency) -> workspace
        include: "workflow/rules/external.smk"
    include: "workflow/rules/signal.smk"
    include: "workflow/rules/fit.smk"
    include: "workflow/rules/products.smk"

    # every product of the analysis: limits, figures, cut flow (all_products of common.smk)
    rule all:
        default_target: True
        input:
            all_products(),
