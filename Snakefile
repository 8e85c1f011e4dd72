"""exonu: exotic neutrino-electron interactions of solar neutrinos in liquid xenon.

Validates the configuration (defaults filled in by the schema) and includes one
rule file per stage; all logic lives in the ``exonu`` package.
"""

from exonu.config import ConfigError, validate_config


configfile: "config/config.yaml"
report: "workflow/report/workflow.rst"


try:
    config = validate_config(config, workflow.source_path("workflow/schemas/config.schema.yaml"))
except ConfigError as err:
    raise SystemExit(f"exonu: invalid configuration: {err}")


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


rule all:
    """Every product of the analysis: limits, figures, cut flow."""
    input:
        all_products(),
    default_target: True
